"""Each planted bug is caught: the run fails, names the seed and prints a
replay command that, run as printed, fails the same way."""

import shutil

import pytest

from sim_support import run_command, run_simulation
from simulation import runner
from simulation.config import Config

PLANTS = [
    # (plant, workload that must catch it, seed)
    ("retry-keeps-vars", "idempotence", 1),
    ("counter-not-idempotent", "counter", 1),
    ("nstore-skip-index", "nstore", 1),
    ("bank-overdraft", "bank", 1),
    ("bstore-unguarded-release", "bstore", 3),
]


@pytest.mark.parametrize("plant, workload, seed", PLANTS)
def test_planted_bug_is_caught_with_a_replayable_seed(plant, workload, seed):
    args = ("--seed", str(seed), "--transactions", "100", "--workload", workload, "--fault-rate", "6")
    result = run_simulation(*args, "--plant", plant, plants=True)
    assert result.status == 1, result.stdout + result.stderr
    assert "INVARIANT VIOLATIONS" in result.stdout
    assert "[%s]" % workload in result.stdout
    assert "FAILED with seed %d" % seed in result.stdout
    command = result.replay_command()
    assert command.startswith("FOUND_SIM_TEST_PLANTS=1 ") and "--plant %s" % plant in command
    replay = run_command(command)
    assert replay.status == 1 and "[%s]" % workload in replay.stdout, replay.stdout
    # Without the plant the same seed passes: the bug, not the seed, failed it.
    clean = run_simulation(*args)
    assert clean.status == 0, clean.stdout + clean.stderr


def test_plant_switch_is_required():
    result = run_simulation("--seed", "1", "--plant", "bank-overdraft")
    assert result.status == 2
    assert "FOUND_SIM_TEST_PLANTS=1" in result.stderr


def test_the_run_log_of_a_failure_replays_it(tmp_path):
    log = str(tmp_path / "failure.jsonl")
    args = ("--seed", "2", "--transactions", "60", "--workload", "bank", "--fault-rate", "6")
    failed = run_simulation(*args, "--plant", "bank-overdraft", "--log", log, plants=True)
    assert failed.status == 1, failed.stdout
    replay = run_simulation("--replay", log, plants=True)
    assert replay.status == 1
    assert "FAILED with seed 2" in replay.stdout and "[bank]" in replay.stdout
    assert "the same 60 operations with the same outcomes" in replay.stdout


async def test_a_hung_client_is_reported_and_stopped(monkeypatch):
    # In this process, with the watchdog's limits shortened.
    monkeypatch.setenv("FOUND_SIM_TEST_PLANTS", "1")
    monkeypatch.setattr(runner, "SILENCE_LIMIT", 2.0)
    monkeypatch.setattr(runner, "WATCHDOG_INTERVAL", 0.5)
    config = Config(seed=1, workloads=["cycle"], transactions=50, plants=["client-hangs"])
    outcome = await runner.Runner(config).run()
    assert not outcome.ok
    assert any("hung" in v.message and "client 0 generation 0" in v.message for v in outcome.violations)
    assert outcome.workdir  # kept for inspection
    shutil.rmtree(outcome.workdir)
