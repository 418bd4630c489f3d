"""The bounded CI simulation: every workload, 300 operations, three seeds,
faults firing at 3% (the third run with two client processes, so kills and
restarts are covered).
A failure prints the seed and the replay command in the assertion message."""

import pytest

from sim_support import run_simulation
from simulation.workloads import NAMES

RUNS = [
    ("1", "1", "1"),
    ("2", "1", "2"),
    ("3", "2", "2"),
]


@pytest.mark.parametrize("seed, clients, tasks", RUNS)
def test_bounded_simulation(seed, clients, tasks):
    result = run_simulation(
        "--seed", seed, "--transactions", "300", "--clients", clients, "--tasks", tasks, "--fault-rate", "3"
    )
    assert result.status == 0, result.stdout + result.stderr
    assert sum(result.row(name)[0] for name in NAMES) >= 300
    assert sum(result.engine_faults().values()) > 0, result.stdout
    if clients != "1":
        assert result.kills() >= 1, result.stdout
