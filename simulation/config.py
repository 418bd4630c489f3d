"""The settings of one simulation run, and the command line that reproduces it."""

import dataclasses
import shlex
import sys
from typing import List, Optional

DEFAULT_TRANSACTIONS = 500
DEFAULT_FAULT_RATE = 1
PLANTS_ENV = "FOUND_SIM_TEST_PLANTS"


@dataclasses.dataclass
class Config:
    """Everything that determines a run; ``replay_argv`` turns it back into flags."""

    seed: int
    workloads: List[str]
    transactions: Optional[int] = DEFAULT_TRANSACTIONS
    duration: Optional[float] = None
    clients: int = 1
    tasks: int = 1
    cluster_file: Optional[str] = None
    faults: bool = True
    fault_rate: int = DEFAULT_FAULT_RATE
    log: Optional[str] = None
    plants: List[str] = dataclasses.field(default_factory=list)
    keep: bool = False

    @property
    def kills(self):
        """Clients are killed (-9) and restarted only with several clients and faults on."""
        return self.faults and self.clients > 1

    @property
    def task_count(self):
        """Tasks over all clients."""
        return self.clients * self.tasks

    def to_json(self):
        """This configuration as a JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data):
        """The configuration of a ``to_json()`` dict; unknown keys (an older or newer log) are ignored."""
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})

    def replay_argv(self):
        """The ``python -m simulation`` arguments that run this configuration again."""
        argv = ["--seed", str(self.seed)]
        if self.duration is not None:
            argv += ["--duration", _number(self.duration)]
        else:
            argv += ["--transactions", str(self.transactions)]
        from simulation.workloads import NAMES

        if list(self.workloads) != list(NAMES):
            for name in self.workloads:
                argv += ["--workload", name]
        argv += ["--clients", str(self.clients), "--tasks", str(self.tasks)]
        argv += ["--faults", "on" if self.faults else "off"]
        if self.faults and self.fault_rate != DEFAULT_FAULT_RATE:
            argv += ["--fault-rate", str(self.fault_rate)]
        if self.cluster_file:
            argv += ["--cluster-file", self.cluster_file]
        for plant in self.plants:
            argv += ["--plant", plant]
        return argv

    def replay_command(self):
        """The exact shell command that replays this run."""
        words = [_python(), "-m", "simulation"] + self.replay_argv()
        prefix = PLANTS_ENV + "=1 " if self.plants else ""
        return prefix + shlex.join(words)


def _number(value):
    return str(int(value)) if float(value).is_integer() else str(value)


def _python():
    """``python`` when that is what runs us, else the interpreter's full path."""
    import shutil

    found = shutil.which("python")
    if found and _same_file(found, sys.executable):
        return "python"
    return sys.executable or "python3"


def _same_file(a, b):
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
