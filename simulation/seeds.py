"""Derivation of independent, reproducible seeds from the run seed.

Every source of randomness in a run (each task's operations, each client's
fault schedule, the kill schedule) gets its own stream, derived by hashing the
run seed with a label, so adding a task or a workload never shifts the
choices made by another.
"""

import hashlib
import random


def derive(seed, *labels):
    """Return a 63-bit integer seed derived from ``seed`` and ``labels``."""
    text = "/".join(str(part) for part in (seed,) + labels)
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def rng(seed, *labels):
    """Return a ``random.Random`` seeded with ``derive(seed, *labels)``."""
    return random.Random(derive(seed, *labels))
