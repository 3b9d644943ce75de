"""Progress of the analysis phases (plots, report) on stderr, like the simulation's progress bar.

The plotting and report phase can take longer than the simulation; a reader watching the
terminal should see it move. On a terminal the line is redrawn in place; otherwise (a log,
CI) one line per phase is printed, so logs stay short.
"""

from __future__ import annotations

import sys
import time


class Phase:
    """Count the items of one phase (e.g. 14 plots) and report them on stderr unless quiet."""

    def __init__(self, what: str, total: int, quiet: bool = False) -> None:
        self.what, self.total, self.quiet = what, total, quiet
        self.done = 0
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._draw()

    def step(self, item: str = "") -> None:
        """One item finished (``item`` names it on a terminal)."""
        self.done += 1
        if self.tty:
            self._draw(item)

    def close(self) -> None:
        """The phase is over: the final count and the time it took."""
        if self.quiet:
            return
        took = time.monotonic() - self.t0
        if took < 1.0 and not self.tty:  # a phase shorter than a second needs no line in a log
            return
        head = "\r" if self.tty else ""
        pad = " " * 30 if self.tty else ""
        sys.stderr.write(f"{head}{self.what}: {self.done}/{self.total} done in {took:.1f} s{pad}\n")
        sys.stderr.flush()

    def _draw(self, item: str = "") -> None:
        if self.quiet or not self.tty:
            return
        sys.stderr.write(f"\r{self.what}: {self.done}/{self.total} {item[:40]:40s}")
        sys.stderr.flush()
