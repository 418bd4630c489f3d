"""Per-workload counts kept by each client and summed by the harness."""
import collections


class WorkloadStats:
    """Transactions committed, retried (extra attempts) and failed, and the
    faults the client saw, by kind."""

    __slots__ = ("committed", "retried", "failed", "faults")

    def __init__(self):
        self.committed = self.retried = self.failed = 0
        self.faults = collections.Counter()

    def to_json(self):
        return {"committed": self.committed, "retried": self.retried, "failed": self.failed,
                "faults": dict(self.faults)}

    def merge(self, data):
        """Add counts from ``to_json()`` output (another process's)."""
        self.committed += data["committed"]
        self.retried += data["retried"]
        self.failed += data["failed"]
        self.faults.update(data["faults"])


def total(stats_by_workload):
    """One WorkloadStats summing a {name: WorkloadStats} mapping."""
    out = WorkloadStats()
    for stats in stats_by_workload.values():
        out.merge(stats.to_json())
    return out
