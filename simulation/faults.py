"""Fault injection: the engine's client buggify switches, its fault counters,
and the harness's own fault, killing client processes with SIGKILL.

The engine injects faults when FoundationDB's client_buggify network options
are set before the first ``found.open()``; its decisions come from one PRNG
seeded by the environment variable FOUND_BUGGIFY_SEED, which the harness sets
per client process from the run seed (see ``fault_seed``).
"""

import ctypes
import os

import found
from found import _codes
from simulation import seeds

SEED_ENV = "FOUND_BUGGIFY_SEED"

#: The engine's injection points, in the order of found_engine_fault_counts().
ENGINE_KINDS = (
    "read_error",
    "commit_error",
    "commit_unknown_applied",
    "commit_unknown_not_applied",
    "read_latency",
    "commit_latency",
)


def fault_seed(seed, client, generation):
    """FOUND_BUGGIFY_SEED for one client process (one generation of it)."""
    return seeds.derive(seed, "faults", client, generation)


def client_environment(config, client, generation):
    """Environment variables a client process needs for its fault schedule."""
    return {SEED_ENV: str(fault_seed(config.seed, client, generation))}


def configure(enabled, fire_percent):
    """Switch the engine's fault injection on or off; call before found.open()."""
    if not enabled:
        found.network_set_option(_codes.FDB_NET_OPTION_CLIENT_BUGGIFY_DISABLE)
        return
    found.network_set_option(_codes.FDB_NET_OPTION_CLIENT_BUGGIFY_ENABLE)
    # Every section active in every run, so each seed exercises every kind of
    # fault; the seed then decides where they fire.
    found.network_set_option(_codes.FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_ACTIVATED_PROBABILITY, 100)
    found.network_set_option(_codes.FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_FIRED_PROBABILITY, fire_percent)
    # FoundationDB's read sites fire with 1% only; the engine-only knob keeps
    # the simulation's reads as faulty as its commits (a real libfdb_c may
    # refuse a knob it does not know: then its own rates apply).
    try:
        found.network_set_option(
            _codes.FDB_NET_OPTION_KNOB, b"found_client_buggify_read_fired_probability=%d" % fire_percent
        )
    except found.FoundException:
        pass


class EngineCounters:
    """Reads found_engine_fault_counts() from the library this process loaded
    (absent on a real libfdb_c: then ``read`` returns None)."""

    def __init__(self):
        self._function = None
        loaded = _loaded_library()
        if loaded is None:
            return
        try:
            function = ctypes.CDLL(loaded).found_engine_fault_counts
        except (OSError, AttributeError):
            return
        function.argtypes = (ctypes.POINTER(ctypes.c_int64), ctypes.c_int)
        function.restype = ctypes.c_int
        self._function = function

    @property
    def available(self):
        """True when the engine exports its fault counters."""
        return self._function is not None

    def read(self):
        """Cumulative injected faults of this process by kind, or None."""
        if self._function is None:
            return None
        values = (ctypes.c_int64 * len(ENGINE_KINDS))()
        self._function(values, len(ENGINE_KINDS))
        return {kind: int(value) for kind, value in zip(ENGINE_KINDS, values) if value}


def _loaded_library():
    try:
        from found import _library
    except ImportError:
        return None
    chosen = _library.library()
    if not chosen or not os.path.exists(chosen[1]):
        return None
    return chosen[1]


#: One more kill per client for every this many operations (or seconds with
#: --duration), so that long runs keep killing.
OPERATIONS_PER_KILL = 2000
SECONDS_PER_KILL = 20.0


def kill_points(config, client, budget):
    """Where the harness SIGKILLs client ``client``: sorted thresholds of
    operations done (or seconds elapsed with --duration), from the run seed."""
    if not config.kills:
        return []
    rng = seeds.rng(config.seed, "kills", client)
    if config.duration is not None:
        span, extra = config.duration, int(config.duration // SECONDS_PER_KILL)
    else:
        span, extra = budget, budget // OPERATIONS_PER_KILL
    count = rng.randint(1, 2) + extra
    points = [span * rng.uniform(0.1, 0.9) for _ in range(count)]
    if config.duration is None:
        return sorted(max(1, int(point)) for point in points)
    return sorted(round(point, 3) for point in points)
