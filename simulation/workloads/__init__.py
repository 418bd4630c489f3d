"""The workloads, by name, in the order they run and report."""

from importlib import import_module

#: name -> "module:Class"; imported on demand so that one workload's missing
#: dependency does not stop the others.
REGISTRY = {
    "cycle": "cycle:Cycle",
    "bank": "bank:Bank",
    "counter": "counter:Counter",
    "idempotence": "idempotence:Idempotence",
    "nstore": "nstore:NStore",
    "bstore": "bstore:BStore",
    "eavstore": "eavstore:EAVStore",
    "pstore": "pstore:PStore",
    "vnstore": "vnstore:VNStore",
    "tuple": "tuple:Tuple",
}

NAMES = tuple(REGISTRY)


def load(name):
    """The workload class called ``name``."""
    module, cls = REGISTRY[name].split(":")
    return getattr(import_module("simulation.workloads." + module), cls)
