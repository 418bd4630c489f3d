"""The progress line and the summary, from a run's counts."""

import io
import time

from simulation import report
from simulation.config import Config
from simulation.runner import Outcome, Violation
from simulation.stats import WorkloadStats


class _Runner:
    def __init__(self, config, outcome):
        self.config, self.outcome, self.started = config, outcome, time.monotonic()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _outcome(config, violations=()):
    stats = {name: WorkloadStats() for name in config.workloads}
    stats["bank"].committed, stats["bank"].retried, stats["bank"].failed = 40, 3, 1
    stats["bank"].faults["1007 transaction_too_old"] = 2
    stats["bank"].injected.update({"read_error": 2, "commit_unknown_applied": 1})
    return Outcome(
        config,
        violations=list(violations),
        stats=stats,
        operations=41,
        kills=1,
        engine_faults={"read_error": 2, "commit_unknown_applied": 1},
        elapsed=1.5,
    )


def test_progress_is_rewritten_in_place_on_a_terminal_and_appended_otherwise():
    config = Config(seed=4, workloads=["bank"], transactions=100, clients=2)
    runner = _Runner(config, _outcome(config))
    terminal, pipe = _Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        progress = report.Progress(config, stream=stream)
        progress.update(runner)
        progress.update(runner)
        progress.finish(runner)
    assert terminal.getvalue().count("\r") >= 3 and "\n" not in terminal.getvalue()
    lines = pipe.getvalue().splitlines()
    assert len(lines) == 2
    assert "seed 4" in lines[0] and "ops 41/100" in lines[0] and "committed 40" in lines[0]
    assert "faults 3" in lines[0] and "kills 1" in lines[0] and "violations 0" in lines[0]


def test_summary_of_a_clean_run():
    config = Config(seed=4, workloads=["bank"], transactions=100, clients=2)
    text = report.summary(_outcome(config))
    assert "OK: every invariant held (seed 4)" in text
    assert "1 kill(s)" in text
    assert "bank                40        3       1  commit_unknown_applied 1, read_error 2" in text
    assert "seen: 1007 transaction_too_old x2" in text
    assert "faults injected by the engine: commit_unknown_applied 1, read_error 2" in text
    assert text.splitlines()[-2].strip() == config.replay_command()


def test_summary_of_a_failed_run_names_violations_seed_and_replay():
    config = Config(seed=9, workloads=["bank"], transactions=100)
    outcome = _outcome(config, [Violation("bank", "balances [-5, 105] sum to 100", "final check")])
    outcome.workdir = "/tmp/somewhere"
    text = report.summary(outcome)
    assert "INVARIANT VIOLATIONS (1):" in text
    assert "[bank] balances [-5, 105] sum to 100 (final check)" in text
    assert "kept in /tmp/somewhere" in text
    assert "FAILED with seed 9; replay with:" in text
    assert text.splitlines()[-1].strip() == config.replay_command()


def test_without_engine_counters_the_summary_shows_the_faults_seen():
    config = Config(seed=4, workloads=["bank"], transactions=100, cluster_file="/etc/foundationdb/fdb.cluster")
    outcome = _outcome(config)
    outcome.engine_faults = None
    text = report.summary(outcome)
    assert "faults seen" in text and "faults injected by the engine" not in text
    assert "bank                40        3       1  1007 transaction_too_old x2" in text
