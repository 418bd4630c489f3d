"""The run log (``--log FILE``): JSON lines, enough to replay a run.

Line 1 is the header: ``{"t": "run", "config": {...}, "replay": "<command>"}``.
Then, in the order the harness received them, one line per operation
(``"op"``: client ``c``, generation ``g``, task ``k``, sequence ``n``,
workload ``w``, the operation ``op`` and its ``outcome``), per violation,
per kill and restart, and a final ``"summary"`` line.
``python -m simulation --replay FILE`` reruns the header's configuration and
compares the operations it performs with the logged ones.
"""

import json

from simulation.config import Config

VERSION = 1


class RunLog:
    """Appends events to a JSON-lines file (or nowhere when path is None)."""

    def __init__(self, path, config):
        self._file = open(path, "w", encoding="utf-8", buffering=1) if path else None
        self.write("run", version=VERSION, config=config.to_json(), replay=config.replay_command())

    def write(self, kind, **fields):
        """Append one event of type ``kind`` with ``fields``."""
        if self._file is None:
            return
        record = {"t": kind}
        record.update(fields)
        self._file.write(json.dumps(record, default=repr, sort_keys=True) + "\n")

    def close(self):
        """Close the file; later writes are dropped."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read(path):
    """(Config, list of op records) from a run log."""
    config, ops = None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record.get("t") == "run":
                config = Config.from_json(record["config"])
            elif record.get("t") == "op":
                ops.append(record)
    if config is None:
        raise ValueError("%s is not a simulation run log (no header line)" % path)
    return config, ops


def op_key(record):
    """Where an operation ran: (client, generation, task, sequence)."""
    return (record["c"], record["g"], record["k"], record["n"])


def compare_ops(logged, replayed):
    """None when both runs performed the same operations with the same
    outcomes, else a description of the first difference."""
    before = {op_key(r): r for r in logged}
    after = {op_key(r): r for r in replayed}
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a is None or b is None or (a["w"], a["op"], a["outcome"]) != (b["w"], b["op"], b["outcome"]):
            return "operation %s differs: logged %s, replayed %s" % (key, _show(a), _show(b))
    return None


def _show(record):
    if record is None:
        return "nothing"
    return json.dumps({"w": record["w"], "op": record["op"], "outcome": record["outcome"]}, sort_keys=True)
