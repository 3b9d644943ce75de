"""How to run a scenario (never what to simulate), and the one check of those settings.

The command line and a run's manifest carry the same how-to-run values (workers, chunk size,
``--precision`` and its ceiling, traced replicates). Both go through :func:`option_issues`, so a
value refused on the command line is refused in a manifest too, in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.errors import InputError, InputIssue
from model.execution import runner
from model.scenario import MAX_REPLICATES

MAX_WORKERS = 256
COMMAND_LINE = "command line"


@dataclass
class RunOptions:
    """How to run (never what to simulate: that is the scenario)."""

    workers: int = 0  # 0 = all cores
    chunk_size: int = 0  # 0 = automatic
    executor: str = "local"
    scheduler: str | None = None
    trace: tuple[int, ...] = ()
    precision: float | None = None
    max_replicates: int = runner.DEFAULT_MAX_REPLICATES
    quiet: bool = False
    analyse: bool = True
    plot_format: str = "png"  # png, svg or pdf (figures; their data is always CSV beside them)
    records: bool = True  # decisions.jsonl: full decision records of the traced replicates (re-simulated)


def int_issue(source: str, key: str, value: Any, lo: int, hi: int | None, what: str = "") -> InputIssue | None:
    """The problem with a whole-number setting in [lo, hi], or None.

    Shared by every run value (options here, replicates and steps in ``variants``) so each is
    refused in the same words wherever it was given.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return InputIssue(source, None, None, key, f"expected a whole number, found {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
        return InputIssue(source, None, None, key, f"must be {rng}{what}, found {value}")
    return None


def option_issues(
    source: str = COMMAND_LINE,
    *,
    workers: Any = None,
    chunk_size: Any = None,
    max_replicates: Any = None,
    precision: Any = None,
    trace: Any = None,
    replicates: int | None = None,
    names: dict[str, str] | None = None,
) -> list[InputIssue]:
    """Every problem with how-to-run settings, from the command line or a manifest (``None`` = not given)."""
    key = {"workers": "--workers", "chunk_size": "--chunk-size", "max_replicates": "--max-replicates",
           "precision": "--precision", "trace": "--trace", **(names or {})}  # fmt: skip
    out = [
        int_issue(source, key["workers"], workers, 1, MAX_WORKERS) if workers is not None else None,
        int_issue(source, key["chunk_size"], chunk_size, 1, MAX_REPLICATES) if chunk_size is not None else None,
        int_issue(source, key["max_replicates"], max_replicates, 1, MAX_REPLICATES)
        if max_replicates is not None
        else None,
    ]
    if precision is not None and not (
        isinstance(precision, int | float) and not isinstance(precision, bool) and 0 < precision < 0.5
    ):
        out.append(InputIssue(source, None, None, key["precision"], f"must lie in (0, 0.5), found {precision!r}"))
    if trace is not None and not isinstance(trace, list | tuple):
        out.append(InputIssue(source, None, None, key["trace"], f"expected a list of replicates, found {trace!r}"))
        trace = ()
    for k in trace or ():
        hi = None if replicates is None else replicates - 1
        what = " (a replicate of this run)" if replicates is not None else ""
        out.append(int_issue(source, key["trace"], k, 0, hi, what))
    return [i for i in out if i is not None]


def check_options(opts: RunOptions, replicates: int | None, source: str = COMMAND_LINE) -> None:
    """Raise InputError when a how-to-run setting is out of range (0 means automatic for workers and chunk size)."""
    issues = option_issues(
        source,
        workers=opts.workers or None,
        chunk_size=opts.chunk_size or None,
        max_replicates=opts.max_replicates if opts.precision is not None else None,
        precision=opts.precision,
        trace=opts.trace,
        replicates=replicates,
    )
    if opts.executor not in ("local", "dask", "dask-local"):
        issues.append(InputIssue(source, None, None, "--executor", f"unknown executor {opts.executor!r}"))
    if issues:
        raise InputError(issues)
