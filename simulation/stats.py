"""Per-workload counts kept by each client and summed by the harness."""

import collections


class WorkloadStats:
    """Transactions committed, retried (extra attempts) and failed; the
    faults the engine injected into them (``injected``, by engine kind) and
    the errors the client saw (``faults``, by code)."""

    __slots__ = ("committed", "retried", "failed", "faults", "injected")

    def __init__(self):
        self.committed = self.retried = self.failed = 0
        self.faults = collections.Counter()
        self.injected = collections.Counter()

    def to_json(self):
        """The counts as a JSON-able dict (``merge`` reads it back)."""
        return {
            "committed": self.committed,
            "retried": self.retried,
            "failed": self.failed,
            "faults": dict(self.faults),
            "injected": dict(self.injected),
        }

    def merge(self, data):
        """Add counts from ``to_json()`` output (another process's)."""
        self.committed += data["committed"]
        self.retried += data["retried"]
        self.failed += data["failed"]
        self.faults.update(data["faults"])
        self.injected.update(data.get("injected", {}))


def total(stats_by_workload):
    """One WorkloadStats summing a {name: WorkloadStats} mapping."""
    out = WorkloadStats()
    for stats in stats_by_workload.values():
        out.merge(stats.to_json())
    return out
