"""Progress display for dump/load/copy: standard library only.

On a terminal one status line is redrawn in place with a carriage return
(the only terminal control used; the line is padded with spaces instead of
an erase sequence, so even TERM=dumb terminals show it right).  When the
stream is not a terminal (CI logs, files, pipes) plain lines are printed, at
most one every ``interval`` seconds, plus a final one — no control characters.
"""

import sys
import time
from typing import Optional, TextIO

from found._dump import Progress

_UNITS = ("B", "KB", "MB", "GB", "TB")


def human_bytes(n: float) -> str:
    """``1234567`` → ``"1.2 MB"`` (powers of 1000, as disks and networks count)."""
    for unit in _UNITS:
        if abs(n) < 1000 or unit == _UNITS[-1]:
            return ("%d %s" if unit == "B" else "%.1f %s") % (n, unit)
        n /= 1000
    return ""


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


class Display:
    """A ``progress`` callback for found.dump/found.load that draws on ``stream`` (stderr by default)."""

    def __init__(self, stream: Optional[TextIO] = None, interval: Optional[float] = None, width: int = 30):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval if interval is not None else (0.2 if self.tty else 5.0)
        self.width = width
        self.last_draw = 0.0
        self.last_len = 0
        self.state: Optional[Progress] = None
        self.drawn: Optional[tuple] = None

    def __call__(self, state: Progress) -> None:
        self.state = state
        now = time.monotonic()
        if now - self.last_draw >= self.interval:
            self.last_draw = now
            self._draw(state)

    def line(self, state: Progress) -> str:
        """One status line: phase, bar (when the total is known), pairs, bytes, rate, ETA."""
        elapsed = max(state.elapsed, 1e-9)
        rate = state.bytes / elapsed
        parts = [state.phase]
        if state.total_bytes:
            fraction = min(state.bytes / state.total_bytes, 1.0)
            filled = int(fraction * self.width)
            parts.append("[%s%s] %3d%%" % ("#" * filled, "." * (self.width - filled), fraction * 100))
        parts.append("%d pairs" % state.pairs)
        parts.append(human_bytes(state.bytes))
        parts.append("%s/s" % human_bytes(rate))
        if state.total_bytes and rate > 0 and state.bytes < state.total_bytes:
            parts.append("ETA %s" % _clock((state.total_bytes - state.bytes) / rate))
        parts.append("elapsed %s" % _clock(elapsed))
        return "  ".join(parts)

    def _draw(self, state: Progress) -> None:
        self.drawn = (state.blocks, state.pairs, state.bytes)
        text = self.line(state)
        if self.tty:
            pad = " " * max(self.last_len - len(text), 0)
            self.stream.write("\r" + text + pad)
            self.last_len = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """Draw the final state (and end the terminal line)."""
        if self.state is not None:
            if self.drawn != (self.state.blocks, self.state.pairs, self.state.bytes):
                self._draw(self.state)
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()
