"""What the harness prints: a live progress line while it runs, and the
summary at the end (per workload: transactions committed, retried, failed
and the faults seen; faults injected by the engine, by kind; violations;
the command that replays the run)."""

import sys
import time

TTY_INTERVAL = 0.25
LOG_INTERVAL = 10.0


class Progress:
    """The progress line on ``stream`` (stderr): rewritten in place with \\r
    on a terminal, one line every LOG_INTERVAL seconds otherwise."""

    def __init__(self, config, stream=sys.stderr):
        self.config = config
        self.stream = stream
        self.tty = bool(stream) and hasattr(stream, "isatty") and stream.isatty()
        self.interval = TTY_INTERVAL if self.tty else LOG_INTERVAL
        self._width = 0

    def update(self, runner):
        """Show the progress line of ``runner`` (rewritten in place on a terminal)."""
        if self.stream is None:
            return
        line = progress_line(runner)
        if self.tty:
            padding = " " * max(self._width - len(line), 0)
            self.stream.write("\r" + line + padding)
            self._width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self, runner):
        """Erase the progress line on a terminal, before the summary."""
        if self.stream is not None and self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()


def progress_line(runner):
    """One line: elapsed time, operations done, transactions, faults, kills, violations."""
    outcome, config = runner.outcome, runner.config
    elapsed = time.monotonic() - runner.started
    if config.duration is not None:
        target = "%.0f/%.0fs" % (elapsed, config.duration)
    else:
        target = "%.0fs ops %d/%d" % (elapsed, outcome.operations, config.transactions)
    committed = sum(s.committed for s in outcome.stats.values())
    retried = sum(s.retried for s in outcome.stats.values())
    failed = sum(s.failed for s in outcome.stats.values())
    injected = sum((outcome.engine_faults or {}).values())
    return "[simulation seed %d] %s  committed %d  retried %d  failed %d  faults %d  kills %d  violations %d" % (
        config.seed,
        target,
        committed,
        retried,
        failed,
        injected,
        outcome.kills,
        len(outcome.violations),
    )


def _counts(counter, joiner):
    return ", ".join("%s%s%d" % (kind, joiner, n) for kind, n in sorted(counter.items())) or "-"


def summary(outcome):
    """The end-of-run report as text."""
    config = outcome.config
    lines = [
        "simulation seed %d: %d operations in %.1fs, %d client(s) x %d task(s), faults %s%s"
        % (
            config.seed,
            outcome.operations,
            outcome.elapsed,
            config.clients,
            config.tasks,
            "on (%d%% fire rate)" % config.fault_rate if config.faults else "off",
            ", %d kill(s)" % outcome.kills if config.kills else "",
        )
    ]
    engine = outcome.engine_faults is not None
    lines.append(
        "  %-12s %9s %8s %7s  %s"
        % ("workload", "committed", "retried", "failed", "faults injected (engine)" if engine else "faults seen")
    )
    for name in config.workloads:
        stats = outcome.stats.get(name)
        if stats is None:
            continue
        seen = _counts(stats.faults, " x")
        first = _counts(stats.injected, " ") if engine else seen
        lines.append("  %-12s %9d %8d %7d  %s" % (name, stats.committed, stats.retried, stats.failed, first))
        if engine and stats.faults:
            lines.append("  %-12s %27s  seen: %s" % ("", "", seen))
    if engine and config.tasks > 1:
        lines.append(
            "  (with several tasks per client a fault may be charged to a neighbouring"
            " workload's transaction; totals are exact)"
        )
    if outcome.engine_faults is not None:
        injected = ", ".join("%s %d" % (kind, n) for kind, n in sorted(outcome.engine_faults.items())) or "none"
        lines.append("  faults injected by the engine: %s" % injected)
    if outcome.violations:
        lines.append("INVARIANT VIOLATIONS (%d):" % len(outcome.violations))
        for violation in outcome.violations[:50]:
            lines.append(
                "  [%s] %s%s"
                % (violation.workload, violation.message, " (%s)" % violation.where if violation.where else "")
            )
        if len(outcome.violations) > 50:
            lines.append("  ... and %d more" % (len(outcome.violations) - 50))
        if outcome.workdir:
            lines.append("data and client logs kept in %s" % outcome.workdir)
        lines.append("FAILED with seed %d; replay with:" % config.seed)
    elif outcome.interrupted:
        lines.append("INTERRUPTED before the final checks (no violation so far, seed %d); replay with:" % config.seed)
    else:
        lines.append("OK: every invariant held (seed %d); replay with:" % config.seed)
    lines.append("  " + config.replay_command())
    if config.clients > 1 or config.tasks > 1:
        lines.append(
            "  (same seeds and operation streams; with several tasks or clients the interleaving,"
            " and so which operation meets which fault, varies between runs)"
        )
    return "\n".join(lines)
