"""Run-level outcomes: one value per replicate, defined once in the catalog (outcomes.yaml).

Each outcome reduces an expression over the steps after the start (step 0 is never a
foregone peak or a foregone event), in calendar time: weeks are ``step * step_days / 7``.
Durations (``weeks``) integrate over the steps by the trapezoid rule, and dates of first
occurrence (``first_week``, ``settled_week``) are the middle of the step in which the change
is first seen, so both measure the same time at any step length.
Scenario files may define their own outcomes with the same fields. ``kind`` tells the
analysis how to summarise each: ``continuous`` (median and bands), ``binary`` (a probability
with a Wilson interval), ``tier`` (a category), or ``event`` (a week, empty if never
reached, for time-to-event curves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from model import expr
from model.catalog import OUTCOME_REDUCERS, load_catalog
from model.catalog import outcome_table as _outcome_table

if TYPE_CHECKING:
    from model.engine import Result

REDUCERS = OUTCOME_REDUCERS


def outcome_table(spec: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The catalog's outcomes with their kind resolved (the one table docs and reports use)."""
    return _outcome_table(spec or load_catalog())


OUTCOMES: dict[str, dict[str, Any]] = outcome_table()
DEFAULT_OUTCOMES: list[str] = list(load_catalog()["outcomes_default"])


def reduce(values: np.ndarray, how: str, step_days: float) -> np.ndarray:
    """Reduce a (T+1, R) series (row 0 = the start) to one value per replicate."""
    after = values[1:]
    T = after.shape[0]
    if how == "max":
        return after.max(axis=0)
    if how == "min":
        return after.min(axis=0)
    if how == "mean":
        return after.mean(axis=0)
    if how == "final":
        return values[-1]
    if how == "change":
        return values[-1] - values[0]
    if how.startswith("at_step:"):  # the value at one step (expectations about a dated value)
        return values[min(int(how.split(":", 1)[1]), values.shape[0] - 1)]
    truth = after != 0
    if how == "ever":
        return truth.any(axis=0).astype(float)
    if how == "at_end":
        return truth[-1].astype(float)
    if how == "weeks":
        # time in the state by the trapezoid rule over the step ends (the start included): a state
        # that changes inside a step counts half of it, so a weekly and a daily step measure the
        # same duration (a ceasefire at day 10.5 gives 1.5 weeks at either step)
        held = (values != 0).astype(float)
        return (0.5 * (held[:-1] + held[1:])).sum(axis=0) * step_days / 7.0
    if how == "first_week":
        # the middle of the step in which it first holds: decisions fall mid-step on the common clock
        first = np.argmax(truth, axis=0).astype(float)
        return np.where(truth.any(axis=0), (first + 0.5) * step_days / 7.0, np.nan)
    if how == "settled_week":
        # the first step from which the expression holds at every later step
        tail = np.flip(np.logical_and.accumulate(np.flip(truth, axis=0), axis=0), axis=0)
        first = np.argmax(tail, axis=0).astype(float)
        return np.where(tail.any(axis=0), (first + 0.5) * step_days / 7.0, np.nan)
    if T == 0:
        return np.full(values.shape[1], np.nan)
    raise ValueError(f"unknown reducer {how}")


def evaluate_series(node: expr.Node, result: Result) -> np.ndarray:
    """An expression over the recorded trajectory, shape (T+1, R)."""
    s = result.series
    vi = {v: i for i, v in enumerate(result.variables)}
    xi = {v: i for i, v in enumerate(result.extra_names)}

    def look(name: str) -> Any:
        if name in vi:
            return s[:, :, vi[name]]
        if name in xi:
            return result.extra[:, :, xi[name]]
        steps = np.arange(s.shape[0], dtype=float)[:, None]
        return {"step": steps, "day": steps * result.step_days, "week": steps * result.step_days / 7.0}[name]

    return np.broadcast_to(np.asarray(expr.evaluate(node, look), dtype=float), s.shape[:2])


def compute(
    result: Result, defs: dict[str, dict[str, Any]] | None = None, spec: dict[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """Every catalog outcome (and every scenario-defined one) for every replicate of a result."""
    table = {**(outcome_table(spec) if spec is not None else OUTCOMES), **(defs or {})}
    out = {}
    for name, d in table.items():
        node = expr.parse(str(d["expr"]))
        out[name] = np.asarray(reduce(evaluate_series(node, result), d["reduce"], result.step_days), dtype=float)
    return out
