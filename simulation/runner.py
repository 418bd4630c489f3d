"""The harness: prepares the database, starts, kills and restarts client
processes, gathers their reports and runs every workload's final check."""

import asyncio
import dataclasses
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from typing import Dict, List, Optional

import found
from simulation import faults, plants, report, workloads
from simulation.runlog import RunLog
from simulation.stats import WorkloadStats

UNBOUNDED = 10**12
STDERR_TAIL = 2000
#: A client reports every 0.2 s; this long without a word, it is hung.
SILENCE_LIMIT = 60.0
#: This long without finishing one operation, a client is livelocked (an
#: operation retried with found's backoff, at most 1 s, makes well over a
#: hundred attempts in this time).
STALL_LIMIT = 120.0
WATCHDOG_INTERVAL = 5.0


@dataclasses.dataclass
class Violation:
    """A broken invariant: the workload, what is wrong and where (client/task or "check")."""

    workload: str
    message: str
    where: str = ""


@dataclasses.dataclass
class Outcome:
    """What a run found: the summary prints it, the exit status follows it."""

    config: object
    violations: List[Violation] = dataclasses.field(default_factory=list)
    stats: Dict[str, WorkloadStats] = dataclasses.field(default_factory=dict)
    engine_faults: Optional[Dict[str, int]] = None
    operations: int = 0
    kills: int = 0
    elapsed: float = 0.0
    workdir: Optional[str] = None
    ops: list = dataclasses.field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self):
        """True when the run found no violation."""
        return not self.violations


class _Generation:
    """One process of one client slot (a kill starts the next generation)."""

    def __init__(self, number, budgets, process, stderr_path):
        self.number = number
        self.budgets = budgets
        self.process = process
        self.stderr_path = stderr_path
        self.done = 0
        self.done_by_task = [0] * len(budgets)
        self.stats = {}
        self.engine = None
        self.killed = False
        self.finished = False
        self.abandoned = False
        self.last_message = self.last_step = time.monotonic()


class _Slot:
    """A client index: its generations and when to kill it."""

    def __init__(self, index, budgets, kill_points):
        self.index = index
        self.budgets = budgets
        self.kill_points = list(kill_points)
        self.generations: List[_Generation] = []

    @property
    def current(self):
        return self.generations[-1]

    def done(self):
        return sum(g.done for g in self.generations)

    def remaining_budgets(self):
        spent = [sum(g.done_by_task[t] for g in self.generations) for t in range(len(self.budgets))]
        return [max(b - s, 0) for b, s in zip(self.budgets, spent)]


class Runner:
    """Runs one configuration; ``await Runner(config).run()`` returns an Outcome."""

    def __init__(self, config, progress=None, collect_ops=False):
        self.config = config
        self.outcome = Outcome(config, stats={name: WorkloadStats() for name in config.workloads})
        self.progress = progress or report.Progress(config, stream=None)
        self.collect_ops = collect_ops or bool(config.log)
        self.log = RunLog(config.log, config)
        self.slots: List[_Slot] = []
        self.started = None
        self.db = None
        self.database = None
        self.root = None

    # --- the run ------------------------------------------------------------

    async def run(self):
        """Run the configured simulation to its end and return its Outcome."""
        self.started = time.monotonic()
        self._check_plants()
        self._prepare_location()
        try:
            self.db = await found.open(self.database)
            await self._setup()
            if self.outcome.ok:
                await self._run_clients()
                await self._check()
        finally:
            self.outcome.elapsed = time.monotonic() - self.started
            self._totals()
            self.progress.finish(self)
            self.log.write(
                "summary",
                ok=self.outcome.ok,
                operations=self.outcome.operations,
                kills=self.outcome.kills,
                violations=[dataclasses.asdict(v) for v in self.outcome.violations],
                stats={k: v.to_json() for k, v in self.outcome.stats.items()},
                engine_faults=self.outcome.engine_faults,
            )
            self.log.close()
            await self._clean_up()
        return self.outcome

    def _check_plants(self):
        unknown = [p for p in self.config.plants if p not in plants.PLANTS]
        if self.config.plants and not plants.allowed():
            raise SystemExit("--plant needs FOUND_SIM_TEST_PLANTS=1 (planted bugs are for the harness's own tests)")
        if unknown:
            raise SystemExit("unknown plant(s) %s; known: %s" % (", ".join(unknown), ", ".join(plants.PLANTS)))

    def _prepare_location(self):
        self.outcome.workdir = tempfile.mkdtemp(prefix="found-sim-%d-" % self.config.seed)
        if self.config.cluster_file:
            self.database = self.config.cluster_file
            self.root = ("found-sim", "%d-%s" % (self.config.seed, os.urandom(4).hex()))
        else:
            self.database = os.path.join(self.outcome.workdir, "db")
            os.mkdir(self.database)
            self.root = ("found-sim", self.config.seed)

    async def _setup(self):
        for name in self.config.workloads:
            try:
                await workloads.load(name).setup(self.db, self.root + (name,), self.config)
            except Exception as error:
                self._violation(name, "setup failed: %r" % (error,), "harness")

    async def _check(self):
        runs = [
            (slot.index, gen.number, task)
            for slot in self.slots
            for gen in slot.generations
            for task in range(len(gen.budgets))
        ]
        for name in self.config.workloads:
            try:
                problems = await workloads.load(name).check(self.db, self.root + (name,), self.config, runs)
            except Exception as error:
                problems = ["final check crashed: %r" % (error,)]
            for problem in problems:
                self._violation(name, problem, "final check")

    async def _clean_up(self):
        if not self.outcome.ok or self.config.keep:
            return
        if self.config.cluster_file and self.db is not None:
            begin = found.pack(self.root)
            await found.transactional(self.db, lambda tx: found.clear(tx, begin, found.next_prefix(begin)))
        shutil.rmtree(self.outcome.workdir, ignore_errors=True)
        self.outcome.workdir = None

    # --- clients -------------------------------------------------------------

    async def _run_clients(self):
        per_task = self._task_budgets()
        deadline = time.time() + self.config.duration if self.config.duration is not None else None
        self.deadline = deadline
        for index in range(self.config.clients):
            budgets = per_task[index * self.config.tasks : (index + 1) * self.config.tasks]
            slot = _Slot(index, budgets, faults.kill_points(self.config, index, sum(budgets)))
            self.slots.append(slot)
        ticker = asyncio.ensure_future(self._tick())
        watchdog = asyncio.ensure_future(self._watchdog())
        try:
            await asyncio.gather(*(self._drive(slot) for slot in self.slots))
        finally:
            ticker.cancel()
            watchdog.cancel()
            await self._stop_clients()

    async def _stop_clients(self):
        """Kill whatever client still runs (an interrupted run) and reap it."""
        for slot in self.slots:
            process = slot.current.process if slot.generations else None
            if process is None:
                continue
            if process.returncode is None:
                process.kill()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass

    def _task_budgets(self):
        count = self.config.task_count
        if self.config.transactions is None:
            return [UNBOUNDED] * count
        base, extra = divmod(self.config.transactions, count)
        return [base + (1 if i < extra else 0) for i in range(count)]

    async def _drive(self, slot):
        """Run a client slot to the end of its budget, through kills and restarts."""
        budgets = slot.budgets
        while True:
            generation = await self._start(slot, budgets)
            await self._pump(slot, generation)
            code = await generation.process.wait()
            if generation.abandoned:
                return
            if generation.killed:
                self.outcome.kills += 1
                self.log.write("kill", client=slot.index, generation=generation.number, done=generation.done)
                budgets = slot.remaining_budgets()
                if self.config.transactions is None and self._past_deadline():
                    return
                if self.config.transactions is not None and not any(budgets):
                    return
                continue
            if code != 0 or not generation.finished:
                self._violation(
                    "*",
                    "client %d generation %d exited with status %s: %s"
                    % (slot.index, generation.number, code, _tail(generation.stderr_path)),
                    "client %d" % slot.index,
                )
            return

    async def _start(self, slot, budgets):
        number = len(slot.generations)
        spec = {
            "config": self.config.to_json(),
            "client": slot.index,
            "generation": number,
            "budgets": budgets,
            "deadline": self.deadline,
            "database": self.database,
            "root": list(self.root),
            "log_ops": self.collect_ops,
            "kill_at": self._kill_thresholds(slot),
        }
        env = dict(os.environ)
        env.update(faults.client_environment(self.config, slot.index, number))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_import_root(), env.get("PYTHONPATH")]))
        stderr_path = os.path.join(self.outcome.workdir, "client-%d.%d.stderr" % (slot.index, number))
        with open(stderr_path, "wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "simulation.client",
                json.dumps(spec),
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=env,
                limit=2**24,
            )
        generation = _Generation(number, budgets, process, stderr_path)
        slot.generations.append(generation)
        if number:
            self.log.write("restart", client=slot.index, generation=number, budgets=budgets)
        return generation

    def _kill_thresholds(self, slot):
        """The next generation's own operation counts at which it will be killed."""
        if self.config.duration is not None:
            return []
        before = slot.done()
        return [int(point) - before for point in slot.kill_points if int(point) > before]

    async def _pump(self, slot, generation):
        async for line in generation.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            self._handle(slot, generation, message)

    def _handle(self, slot, generation, message):
        kind = message.get("t")
        generation.last_message = time.monotonic()
        if kind == "progress":
            if message["done"] != generation.done:
                generation.last_step = generation.last_message
            generation.done = message["done"]
            generation.done_by_task = message.get("done_by_task", generation.done_by_task)
            generation.stats = message["stats"]
            generation.engine = message.get("engine")
            self._maybe_kill(slot, generation)
        elif kind == "violation":
            self._violation(message["workload"], message["message"], "client %s" % message.get("tag"))
        elif kind == "op":
            self.log.write("op", **{k: v for k, v in message.items() if k != "t"})
            if self.collect_ops:
                self.outcome.ops.append(message)
        elif kind == "done":
            generation.finished = True

    def _maybe_kill(self, slot, generation):
        if not slot.kill_points or generation.killed or generation.process.returncode is not None:
            return
        if generation.finished or generation.done >= sum(generation.budgets):
            return  # finishing: a kill now would not land mid-workload
        reached = time.monotonic() - self.started if self.config.duration is not None else slot.done()
        if reached >= slot.kill_points[0]:
            slot.kill_points.pop(0)
            generation.killed = True
            try:
                os.kill(generation.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _past_deadline(self):
        return self.deadline is not None and time.time() >= self.deadline

    async def _watchdog(self):
        """Fail (and stop) a client that has gone silent or stopped making progress."""
        while True:
            await asyncio.sleep(WATCHDOG_INTERVAL)
            now = time.monotonic()
            for slot in self.slots:
                generation = slot.current
                if generation.killed or generation.finished or generation.process.returncode is not None:
                    continue
                if now - generation.last_message > SILENCE_LIMIT:
                    problem = "sent nothing for %.0f s (hung)" % (now - generation.last_message)
                elif now - generation.last_step > STALL_LIMIT:
                    problem = "finished no operation for %.0f s (livelock, or faults too frequent)" % (
                        now - generation.last_step
                    )
                else:
                    continue
                self._violation(
                    "*",
                    "client %d generation %d %s after %d operations"
                    % (slot.index, generation.number, problem, generation.done),
                    "client %d" % slot.index,
                )
                generation.abandoned = True
                generation.process.kill()

    async def _tick(self):
        while True:
            await asyncio.sleep(self.progress.interval)
            self._totals()
            self.progress.update(self)

    # --- accounting ----------------------------------------------------------

    def _violation(self, workload, message, where):
        violation = Violation(workload, message, where)
        self.outcome.violations.append(violation)
        self.log.write("violation", **dataclasses.asdict(violation))

    def _totals(self):
        stats = {name: WorkloadStats() for name in self.config.workloads}
        engine = {}
        operations = 0
        for slot in self.slots:
            for generation in slot.generations:
                operations += generation.done
                for name, data in generation.stats.items():
                    stats.setdefault(name, WorkloadStats()).merge(data)
                for kind, count in (generation.engine or {}).items():
                    engine[kind] = engine.get(kind, 0) + count
        self.outcome.stats = stats
        self.outcome.operations = operations
        self.outcome.engine_faults = (
            engine if any(g.engine is not None for s in self.slots for g in s.generations) else None
        )


def _import_root():
    """The directory holding the simulation package (and, in a checkout, found)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    roots = [here]
    found_root = os.path.dirname(os.path.dirname(os.path.abspath(found.__file__)))
    if found_root != here:
        roots.append(found_root)
    return os.pathsep.join(roots)


def _tail(path):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(f.tell() - STDERR_TAIL, 0))
            return f.read().decode("utf-8", "replace").strip() or "(no output)"
    except OSError:
        return "(no stderr)"
