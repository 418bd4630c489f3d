"""Whole runs of the harness against the embedded engine: the report, the
determinism of a seed, the replay of a run log, kills and restarts."""

import json
import signal
import subprocess
import sys
import time

from sim_support import HANG_LIMIT, ROOT, environment, read_log, run_simulation
from simulation.workloads import NAMES


def test_a_run_reports_every_workload_with_faults_and_the_replay_command(tmp_path):
    result = run_simulation("--seed", "11", "--transactions", "200")
    assert result.status == 0, result.stdout + result.stderr
    assert "OK: every invariant held (seed 11)" in result.stdout
    committed = 0
    for name in NAMES:
        row = result.row(name)
        committed += row[0]
    assert committed >= 200
    injected = result.engine_faults()
    assert sum(injected.values()) > 0, result.stdout
    assert "--seed 11 --transactions 200" in result.replay_command()


def test_faults_off_injects_nothing():
    result = run_simulation(
        "--seed", "3", "--transactions", "60", "--faults", "off", "--workload", "cycle", "--workload", "counter"
    )
    assert result.status == 0, result.stdout + result.stderr
    assert result.engine_faults() == {}
    assert result.row("cycle")[1] == 0 and result.row("counter")[1] == 0


def _ops(path):
    return [
        (r["c"], r["g"], r["k"], r["n"], r["w"], repr(r["op"]), r["outcome"]) for r in read_log(path) if r["t"] == "op"
    ]


def test_one_client_one_task_is_deterministic_and_replays(tmp_path):
    # The replay is the second run: it reruns the logged configuration and
    # compares every operation and its outcome with the log. 5% keeps every
    # kind of fault in 100 operations without long retry backoffs.
    first = str(tmp_path / "first.jsonl")
    run = run_simulation("--seed", "21", "--transactions", "100", "--fault-rate", "5", "--log", first)
    assert run.status == 0, run.stdout + run.stderr
    assert len(_ops(first)) == 100
    # Faults really happened in this run, so their schedule was reproduced too.
    summary = [r for r in read_log(first) if r["t"] == "summary"][0]
    assert sum(summary["engine_faults"].values()) > 0, summary
    replay = run_simulation("--replay", first)
    assert replay.status == 0, replay.stdout + replay.stderr
    assert "the same 100 operations" in replay.stdout, replay.stdout


def test_another_seed_makes_another_run(tmp_path):
    a, b = str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")
    assert run_simulation("--seed", "1", "--transactions", "40", "--log", a).status == 0
    assert run_simulation("--seed", "2", "--transactions", "40", "--log", b).status == 0
    assert _ops(a) != _ops(b)


def test_clients_are_killed_and_restarted_and_invariants_hold(tmp_path):
    log = str(tmp_path / "run.jsonl")
    result = run_simulation("--seed", "5", "--transactions", "240", "--clients", "2", "--tasks", "2", "--log", log)
    assert result.status == 0, result.stdout + result.stderr
    records = read_log(log)
    kills = [r for r in records if r["t"] == "kill"]
    restarts = [r for r in records if r["t"] == "restart"]
    # A kill is followed by a restart unless the killed client had finished its share.
    assert kills and 1 <= len(restarts) <= len(kills)
    assert result.kills() == len(kills)
    # Restarted generations ran operations of their own.
    assert any(r["g"] > 0 for r in records if r["t"] == "op")


def test_a_duration_bounds_the_run_instead_of_a_count():
    result = run_simulation(
        "--seed", "6", "--duration", "2", "--workload", "cycle", "--workload", "bank", "--clients", "2", "--tasks", "2"
    )
    assert result.status == 0, result.stdout + result.stderr
    assert result.row("cycle")[0] + result.row("bank")[0] > 0
    assert "--duration 2 " in result.replay_command()


def test_a_cluster_file_run_uses_its_own_prefix_and_leaves_nothing(tmp_path):
    # An "embedded:<dir>" cluster file takes the path of a real cluster
    # (unique key prefix, cleared after a successful run) on the engine.
    cluster_file = tmp_path / "fdb.cluster"
    cluster_file.write_text("embedded:%s\n" % (tmp_path / "db"))
    result = run_simulation(
        "--seed",
        "4",
        "--transactions",
        "80",
        "--cluster-file",
        str(cluster_file),
        "--workload",
        "counter",
        "--workload",
        "nstore",
        "--workload",
        "cycle",
    )
    assert result.status == 0, result.stdout + result.stderr
    assert "--cluster-file %s" % cluster_file in result.replay_command()
    script = (
        "import asyncio, found\n"
        "async def main():\n"
        "    db = await found.open(%r)\n"
        "    pairs = await found.transactional(db, lambda tx: found.all(found.query(tx, b'', b'\\xff')))\n"
        "    print(len(pairs))\n"
        "asyncio.run(main())\n" % str(cluster_file)
    )
    left = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=HANG_LIMIT
    )
    assert left.stdout.strip() == "0", left.stdout + left.stderr


def test_an_interrupted_run_reports_what_it_did_and_how_to_replay(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulation",
            "--quiet",
            "--seed",
            "8",
            "--duration",
            "120",
            "--clients",
            "2",
            "--workload",
            "bank",
            "--log",
            str(tmp_path / "run.jsonl"),
        ],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Interrupt once the clients are at work (their operations reach the log).
    log = tmp_path / "run.jsonl"
    while not (log.exists() and '"t": "op"' in log.read_text()):
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=HANG_LIMIT)
    assert process.returncode == 130, stdout + stderr
    assert "INTERRUPTED before the final checks" in stdout
    assert "--seed 8 --duration 120" in stdout
    assert "Traceback" not in stderr


def test_a_replay_that_diverges_from_its_log_fails(tmp_path):
    log = tmp_path / "run.jsonl"
    assert run_simulation("--seed", "12", "--transactions", "30", "--workload", "cycle", "--log", str(log)).status == 0
    lines = log.read_text().splitlines()
    ops = [i for i, line in enumerate(lines) if '"t": "op"' in line]
    record = json.loads(lines[ops[10]])
    record["op"] = {"op": "something else"}
    lines[ops[10]] = json.dumps(record)
    log.write_text("\n".join(lines) + "\n")
    replay = run_simulation("--replay", str(log))
    assert replay.status == 1
    assert "replay DIVERGED from the log: operation (0, 0, 0, %d) differs" % record["n"] in replay.stdout
