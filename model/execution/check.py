"""``entente check``: run scenarios that carry ``expect:`` bands and report each figure.

History scenarios (scenarios/history/) state what the public record says happened as bands
over the ensemble; a failing band means the model, as calibrated, does not reproduce that
episode. The table names every figure, its band, the replicates behind it and the source.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from model.engine import simulate
from model.errors import InputError
from model.scenario import Scenario, load_scenario
from model.scenario.expect import Expectation, figure, holds


@dataclass
class CheckRow:
    """One expectation's verdict."""

    scenario: str
    expectation: Expectation
    value: float
    passed: bool
    replicates: int


def scenario_files(paths: list[str], verb: str = "check") -> list[Path]:
    """The scenario files named, folders expanded to their *.yaml files (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(p.glob("*.yaml"))
        else:
            out.append(p)
    if not out:
        raise InputError.one("command line", f"no scenario files to {verb}")
    return out


def check_scenario(sc: Scenario, replicates: int) -> list[CheckRow]:
    """Simulate one scenario and evaluate its expectations."""
    res = simulate(sc.config, replicates)
    rows = []
    for e in sc.expect:
        value = figure(e, res.outcomes[e.column])
        rows.append(CheckRow(sc.name, e, value, holds(e, value), replicates))
    return rows


def run_check(paths: list[str], replicates: int | None = None, quiet: bool = False) -> tuple[list[CheckRow], str]:
    """Check every file; return the rows and the printed table."""
    rows: list[CheckRow] = []
    for f in scenario_files(paths):
        sc = load_scenario(f)
        if not sc.expect:
            if not quiet:
                print(f"{f}: no expectations (expect:) to check", file=sys.stderr)
            continue
        n = replicates or sc.replicates
        t0 = time.perf_counter()
        rows += check_scenario(sc, n)
        if not quiet:
            print(
                f"checked {sc.name}: {len(sc.expect)} expectations, {n} replicates, {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
            )
    return rows, table(rows)


def table(rows: list[CheckRow]) -> str:
    """A plain-text table: scenario, statement, figure, band, verdict, source."""
    head = ("scenario", "expectation", "figure", "band", "result", "source")
    body = [
        (
            r.scenario,
            r.expectation.text,
            f"{r.value:.3g}",
            r.expectation.band,
            "pass" if r.passed else "FAIL",
            r.expectation.source,
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip() for line in (head, *body)]
    failed = sum(not r.passed for r in rows)
    lines.append(f"{len(rows) - failed} passed, {failed} failed")
    return "\n".join(lines)
