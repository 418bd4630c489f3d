"""One client process of a run: ``python -m simulation.client SPEC_JSON``.

Started (and possibly SIGKILLed and restarted) by the harness. It switches
the engine's fault injection on or off, opens the database and runs
``tasks`` coroutines, each looping over randomly chosen workloads until its
share of the operation budget is spent or the deadline passes. It reports
on its stdout, one JSON object per line: "progress" (cumulative counts),
"violation", "op" (one per operation, when the harness logs them) and
finally "done". Anything else the process prints goes to stderr.
"""

import asyncio
import contextvars
import json
import os
import sys
import time
import traceback

import found
from simulation import faults, plants, seeds, workloads
from simulation.config import Config
from simulation.stats import WorkloadStats

PROGRESS_INTERVAL = 0.2

_attempt = contextvars.ContextVar("simulation_attempt", default=None)


class _Attempts:
    """What one transact() call saw across its attempts."""

    __slots__ = ("count", "read_faults", "maybe_committed")

    def __init__(self):
        self.count = self.read_faults = self.maybe_committed = 0


class Channel:
    """The JSON-lines stream to the harness."""

    def __init__(self, stream):
        self.stream = stream

    def send(self, kind, **fields):
        """Write one event of type ``kind`` with ``fields`` (non-JSON values as repr)."""
        fields["t"] = kind
        self.stream.write(json.dumps(fields, default=repr) + "\n")
        self.stream.flush()


class TaskContext:
    """What a workload instance sees of its task and process."""

    def __init__(self, client, task):
        self.client = client
        self.db = client.db
        self.seed = client.config.seed
        self.tag = (client.index, client.generation, task)
        self.rng = seeds.rng(client.config.seed, "task", client.index, client.generation, task)

    def space(self, name):
        """The key-space tuple of workload ``name`` in this run."""
        return self.client.root + (name,)

    def planted(self, name):
        """True when the bug ``name`` is planted in this run."""
        return name in self.client.config.plants

    def violation(self, workload, message):
        """Report a broken invariant of ``workload`` from this task."""
        self.client.violation(workload, message, self.tag)

    async def transact(self, workload, func, *args, loop=None):
        """Run ``func(tx, *args)`` in one transaction, counted under ``workload``."""
        return await self.client.transact(workload, func, *args, loop=loop)


class Client:
    """The state of one client process."""

    def __init__(self, spec, channel):
        self.config = Config.from_json(spec["config"])
        self.index = spec["client"]
        self.generation = spec["generation"]
        self.budgets = spec["budgets"]
        self.deadline = spec.get("deadline")
        self.database = spec["database"]
        self.root = tuple(spec["root"])
        self.log_ops = spec.get("log_ops", False)
        # Operation counts at which the harness wants to hear at once: it
        # kills this process (-9) there, mid-workload.
        self.kill_at = set(spec.get("kill_at", ()))
        self.channel = channel
        self.stats = {name: WorkloadStats() for name in self.config.workloads}
        self.done = 0
        self.done_by_task = [0] * len(self.budgets)
        self.violations = 0
        self.retry_loop = plants.retry_loop(self.config.plants)
        self.db = None
        self.counters = None
        self.last_counts = {}

    async def run(self):
        """Open the database, run every task's budget of operations, then tell
        the harness this client is done."""
        faults.configure(self.config.faults, self.config.fault_rate)
        self.db = await found.open(self.database)
        self.counters = faults.EngineCounters()
        self.last_counts = self.counters.read() or {}
        self.db.hooks.on_post_commit.append(_observe_commit)
        ticker = asyncio.ensure_future(self._tick())
        try:
            await asyncio.gather(*(self._task(t, budget) for t, budget in enumerate(self.budgets)))
        finally:
            ticker.cancel()
        self._progress()
        self.channel.send("done", client=self.index, generation=self.generation)

    async def _task(self, task, budget):
        ctx = TaskContext(self, task)
        loaded = []
        for name in self.config.workloads:
            try:
                loaded.append(workloads.load(name)(ctx))
            except Exception:
                self.violation(name, "cannot start: " + _short_traceback(), ctx.tag)
        seq = 0
        # At least one operation per task even past the deadline: on a loaded
        # machine a client may start after a short --duration has run out.
        while loaded and seq < budget and (seq == 0 or not self._past_deadline()):
            workload = ctx.rng.choice(loaded)
            seq += 1
            await self._step(workload, ctx, seq)
            self.done += 1
            self.done_by_task[task] += 1
            if self.done in self.kill_at:
                self._progress()
        for workload in loaded:
            try:
                await workload.finish()
            except Exception:
                self.violation(workload.name, "end-of-task check crashed: " + _short_traceback(), ctx.tag)

    async def _step(self, workload, ctx, seq):
        if seq == 5 and "client-hangs" in self.config.plants:
            time.sleep(10**6)  # planted: blocks the event loop, so the client falls silent
        outcome, op = "ok", None
        try:
            op = await workload.step()
        except found.FoundException as error:
            outcome = "failed %d" % error.code
            try:
                await workload.after_failure(error)
            except Exception:
                self.violation(workload.name, "resynchronising after a failure crashed: " + _short_traceback(), ctx.tag)
        except Exception:
            outcome = "crashed"
            self.violation(workload.name, "operation crashed: " + _short_traceback(), ctx.tag)
        # Transactions a step runs outside transact() (bstore.put_large's own).
        self._attribute_injected(self.stats[workload.name])
        if self.log_ops:
            self.channel.send(
                "op", c=self.index, g=self.generation, k=ctx.tag[2], n=seq, w=workload.name, op=op, outcome=outcome
            )

    async def transact(self, name, func, *args, loop=None):
        """Run ``func(tx, *args)`` through ``loop`` or the run's retry loop
        (found.transactional unless a plant alters it), counting attempts,
        retries and faults in workload ``name``'s stats."""
        stats = self.stats[name]
        attempts = _Attempts()

        async def attempt(tx, *inner):
            attempts.count += 1
            try:
                return await func(tx, *inner)
            except found.FoundException as error:
                attempts.read_faults += 1
                stats.faults["%d %s" % (error.code, error.name)] += 1
                raise

        token = _attempt.set(attempts)
        failed = None
        try:
            return await (loop or self.retry_loop)(self.db, attempt, *args)
        except BaseException as error:  # not committed, whatever the reason
            failed = error
            raise
        finally:
            _attempt.reset(token)
            self._account(stats, attempts, failed)
            self._attribute_injected(stats)

    def _attribute_injected(self, stats):
        """Charge the engine's new fault counts to the transaction that just
        ended: exact with one task per process; with several, a fault may be
        charged to a neighbour's transaction (the totals stay exact)."""
        counts = self.counters.read() if self.counters else None
        if counts is None:
            return
        for kind, count in counts.items():
            new = count - self.last_counts.get(kind, 0)
            if new:
                stats.injected[kind] += new
        self.last_counts = counts

    def _account(self, stats, attempts, failed):
        retries = max(attempts.count - 1, 0)
        stats.retried += retries
        if failed is None:
            stats.committed += 1
        else:
            stats.failed += 1
        if attempts.maybe_committed:
            stats.faults["1021 commit_unknown_result"] += attempts.maybe_committed
        # Commit errors are handled inside the retry loop, out of our sight:
        # the retries that no read error or 1021 explains.
        unexplained = retries - attempts.read_faults - attempts.maybe_committed
        if unexplained > 0:
            stats.faults["commit retried (1020 incl. conflicts, 1007, 1042)"] += unexplained

    def violation(self, workload, message, tag):
        """Send a violation of ``workload`` found by task ``tag`` to the harness."""
        self.violations += 1
        self.channel.send("violation", workload=workload, message=message, tag=list(tag))

    def _past_deadline(self):
        return self.deadline is not None and time.time() >= self.deadline

    async def _tick(self):
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            self._progress()

    def _progress(self):
        self.channel.send(
            "progress",
            client=self.index,
            generation=self.generation,
            done=self.done,
            done_by_task=self.done_by_task,
            stats={name: s.to_json() for name, s in self.stats.items()},
            engine=self.counters.read() if self.counters else None,
        )


async def _observe_commit(tx, stats):
    attempts = _attempt.get()
    if attempts is not None:
        attempts.maybe_committed = getattr(stats, "maybe_committed", 0)


def _short_traceback():
    lines = traceback.format_exc().strip().splitlines()
    return " | ".join(line.strip() for line in lines[-6:])


def _die_with_parent():
    """Linux: get SIGKILLed when the harness dies, so no client outlives it."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main(argv=None):
    """Entry point of a client process."""
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    _die_with_parent()
    # The protocol owns the real stdout; stray prints go to stderr.
    stream = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    asyncio.run(Client(spec, Channel(stream)).run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
