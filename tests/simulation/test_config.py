"""The harness's own pure parts: configuration and replay command, seeds,
kill schedule, run-log comparison, plant gating."""

import shlex

import pytest

from simulation import cli, faults, plants, runlog, seeds
from simulation.config import Config

CONFIGS = [
    Config(seed=7, workloads=["cycle"], transactions=300),
    Config(seed=0, workloads=["bank", "counter"], transactions=None, duration=2.5, clients=3, tasks=4, faults=False),
    Config(
        seed=123456789,
        workloads=["nstore"],
        transactions=10,
        fault_rate=9,
        cluster_file="/etc/foundationdb/fdb.cluster",
    ),
    Config(seed=5, workloads=["counter"], transactions=50, plants=["counter-not-idempotent"]),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_replay_arguments_rebuild_the_same_configuration(config, monkeypatch):
    monkeypatch.setenv("FOUND_SIM_TEST_PLANTS", "1")
    args = cli.parser().parse_args(config.replay_argv())
    assert cli.config_from(args) == config


def test_replay_command_is_a_shell_command_naming_every_setting():
    config = Config(seed=42, workloads=["cycle", "tuple"], transactions=300, clients=2, tasks=3)
    words = shlex.split(config.replay_command())
    assert words[1:3] == ["-m", "simulation"]
    assert words[3:] == [
        "--seed",
        "42",
        "--transactions",
        "300",
        "--workload",
        "cycle",
        "--workload",
        "tuple",
        "--clients",
        "2",
        "--tasks",
        "3",
        "--faults",
        "on",
    ]


def test_replay_command_of_a_planted_run_sets_the_plant_switch():
    config = Config(seed=1, workloads=["bank"], plants=["bank-overdraft"])
    assert config.replay_command().startswith("FOUND_SIM_TEST_PLANTS=1 ")
    assert "--plant bank-overdraft" in config.replay_command()


def test_default_workloads_are_all_of_them():
    config = cli.config_from(cli.parser().parse_args(["--seed", "1"]))
    assert config.workloads == [
        "cycle",
        "bank",
        "counter",
        "idempotence",
        "nstore",
        "bstore",
        "eavstore",
        "pstore",
        "vnstore",
        "tuple",
    ]


def test_plants_are_refused_without_the_test_switch(monkeypatch, capsys):
    monkeypatch.delenv("FOUND_SIM_TEST_PLANTS", raising=False)
    assert not plants.allowed()
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--seed", "1", "--plant", "bank-overdraft"])
    assert exit_info.value.code == 2
    assert "FOUND_SIM_TEST_PLANTS=1" in capsys.readouterr().err


def test_unknown_plants_are_usage_errors(monkeypatch, capsys):
    monkeypatch.setenv("FOUND_SIM_TEST_PLANTS", "1")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--seed", "1", "--plant", "no-such-bug"])
    assert exit_info.value.code == 2
    assert "no-such-bug" in capsys.readouterr().err


def test_bad_counts_are_usage_errors(capsys):
    for argv in (
        ["--clients", "0"],
        ["--transactions", "-3"],
        ["--fault-rate", "101"],
        ["--transactions", "5", "--duration", "1"],
        ["--workload", "nope"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2, argv


def test_seeds_are_stable_and_independent_per_label():
    assert seeds.derive(1, "task", 0, 0, 0) == seeds.derive(1, "task", 0, 0, 0)
    labels = [("task", 0, 0, 0), ("task", 0, 0, 1), ("task", 1, 0, 0), ("faults", 0, 0), ("kills", 0)]
    assert len({seeds.derive(1, *label) for label in labels}) == len(labels)
    assert seeds.derive(1, "task", 0, 0, 0) != seeds.derive(2, "task", 0, 0, 0)
    assert seeds.rng(3, "x").random() == seeds.rng(3, "x").random()


def test_kills_only_with_several_clients_and_faults_on():
    assert faults.kill_points(Config(seed=1, workloads=["cycle"], clients=1), 0, 100) == []
    assert faults.kill_points(Config(seed=1, workloads=["cycle"], clients=3, faults=False), 0, 100) == []
    config = Config(seed=1, workloads=["cycle"], clients=3)
    points = faults.kill_points(config, 2, 100)
    assert points == faults.kill_points(config, 2, 100)
    assert 1 <= len(points) <= 2 and points == sorted(points)
    assert all(10 <= p <= 90 for p in points)
    # Long runs keep killing.
    assert len(faults.kill_points(config, 0, 20_000)) >= 10
    soak = Config(seed=1, workloads=["cycle"], transactions=None, duration=600, clients=2)
    assert len(faults.kill_points(soak, 0, 10**12)) >= 30
    assert all(60 <= p <= 540 for p in faults.kill_points(soak, 0, 10**12))


def test_fault_seed_differs_per_client_and_generation():
    assert len({faults.fault_seed(9, c, g) for c in range(3) for g in range(3)}) == 9


def _op(n, op, outcome="ok"):
    return {"t": "op", "c": 0, "g": 0, "k": 0, "n": n, "w": "cycle", "op": op, "outcome": outcome}


def test_run_log_comparison_finds_the_first_difference():
    logged = [_op(1, {"node": 3}), _op(2, {"node": 5})]
    assert runlog.compare_ops(logged, [dict(r) for r in logged]) is None
    changed = runlog.compare_ops(logged, [_op(1, {"node": 3}), _op(2, {"node": 6})])
    assert "(0, 0, 0, 2)" in changed and '"node": 6' in changed
    assert "nothing" in runlog.compare_ops(logged, logged[:1])
    assert "failed" in runlog.compare_ops(logged, [_op(1, {"node": 3}), _op(2, {"node": 5}, "failed 1020")])


def test_run_log_round_trip(tmp_path):
    config = Config(seed=4, workloads=["bank"], transactions=20)
    log = runlog.RunLog(str(tmp_path / "run.jsonl"), config)
    log.write("op", **{k: v for k, v in _op(1, {"x": 1}).items() if k != "t"})
    log.close()
    read_config, ops = runlog.read(str(tmp_path / "run.jsonl"))
    assert read_config == config
    assert ops == [_op(1, {"x": 1})]
