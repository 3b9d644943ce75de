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

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from model import expr
from model.catalog import OUTCOME_REDUCERS, load_catalog
from model.catalog import outcome_table as _outcome_table

if TYPE_CHECKING:
    from model.engine import Result

REDUCERS = OUTCOME_REDUCERS
# reducers of dated questions (``entente score``), with their days since the start in the name:
# ``window:<after>:<by>`` (holds at a step end in (after, by] or on the day ``by``), ``on:<day>``
# (holds on that day) and ``rise:<after>:<by>`` (the value on ``by`` exceeds the value on ``after``:
# a choice counter rose). They read the state recorded at the days (Config.marks), so their answer
# does not depend on the step length; all three are binary.
DATED_REDUCERS = ("window", "on", "rise")


def outcome_table(spec: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The catalog's outcomes with their kind resolved (the one table docs and reports use)."""
    return _outcome_table(spec or load_catalog())


OUTCOMES: dict[str, dict[str, Any]] = outcome_table()
DEFAULT_OUTCOMES: list[str] = list(load_catalog()["outcomes_default"])


def dated_reducer(how: str) -> tuple[str, list[float]] | None:
    """``("window", [after, by])`` for ``"window:<after>:<by>"`` (None when ``how`` is not a dated reducer)."""
    name, _, rest = str(how).partition(":")
    if name not in DATED_REDUCERS or not rest:
        return None
    return name, [float(x) for x in rest.split(":")]


def value_on_day(
    values: np.ndarray, day: float, step_days: float, marks: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """The (R,) values on a day since the start: the state recorded at its mark.

    Day 0 is the starting state (row 0). A day without a mark (a Result simulated without
    ``Config.marks``) falls back to the end of the step containing it.
    """
    if day <= 1e-9:
        return values[0]
    if marks is not None:
        days, at_marks = marks
        k = np.flatnonzero(np.abs(np.asarray(days, dtype=float) - day) <= 1e-9)
        if len(k):
            return at_marks[k[0]]
    step = int(np.ceil(day / step_days - 1e-9))
    return values[min(max(step, 0), values.shape[0] - 1)]


def reduce_dated(
    values: np.ndarray, how: str, step_days: float, marks: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """A dated question's answer per replicate (1.0 yes, 0.0 no); see ``DATED_REDUCERS``."""
    parsed = dated_reducer(how)
    if parsed is None:
        raise ValueError(f"unknown reducer {how}")
    name, days = parsed
    if name == "on":
        return (value_on_day(values, days[0], step_days, marks) != 0).astype(float)
    after, by = days
    if name == "rise":
        return (value_on_day(values, by, step_days, marks) > value_on_day(values, after, step_days, marks)).astype(
            float
        )
    ends = np.arange(values.shape[0]) * step_days
    inside = (ends > after + 1e-9) & (ends <= by + 1e-9)
    held = (values[inside] != 0).any(axis=0) | (value_on_day(values, by, step_days, marks) != 0)
    return held.astype(float)


def reduce(
    values: np.ndarray, how: str, step_days: float, marks: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Reduce a (T+1, R) series (row 0 = the start) to one value per replicate.

    ``marks`` (days, (M, R) values there) serves the dated reducers of questions.
    """
    if dated_reducer(how) is not None:
        return reduce_dated(values, how, step_days, marks)
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


def evaluate_marks(node: expr.Node, result: Result) -> tuple[np.ndarray, np.ndarray] | None:
    """An expression on the states recorded at the marks: (days, (M, R) values), None without marks."""
    if result.mark_days is None or result.mark_series is None or not len(result.mark_days):
        return None
    days = np.asarray(result.mark_days, dtype=float)
    s = result.mark_series
    vi = {v: i for i, v in enumerate(result.variables)}
    xi = {v: i for i, v in enumerate(result.extra_names)}

    def look(name: str) -> Any:
        if name in vi:
            return s[:, :, vi[name]]
        if name in xi and result.mark_extra is not None:
            return result.mark_extra[:, :, xi[name]]
        return {"step": days / result.step_days, "day": days, "week": days / 7.0}[name][:, None]

    return days, np.broadcast_to(np.asarray(expr.evaluate(node, look), dtype=float), s.shape[:2])


def compute(
    result: Result, defs: dict[str, dict[str, Any]] | None = None, spec: dict[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """Every catalog outcome (and every scenario-defined one) for every replicate of a result."""
    table = {**(outcome_table(spec) if spec is not None else OUTCOMES), **(defs or {})}
    return {name: outcome_values(result, d) for name, d in table.items()}


def _monotone_in_one_variable(node: expr.Node, result: Result) -> bool:
    """Whether the expression is one world variable, or one compared (<, <=, >, >=) with a constant.

    Such an expression takes its extremes within a step at the variable's extremes there, so a
    peak or a threshold crossed and left between two step ends is still seen.
    """
    names = node.names()
    if len(names) != 1 or next(iter(names)) not in result.variables:
        return False
    if node.op == "name":
        return True
    if node.op not in ("<", "<=", ">", ">="):
        return False
    return sum(isinstance(a, expr.Node) and a.op == "name" for a in node.args) == 1 and not node.params()


def _with_extremes(node: expr.Node, result: Result, how: str) -> np.ndarray:
    """The (T+1, R) series of the expression at its most extreme value within each step."""
    values = evaluate_series(node, result)
    for s in (result.series_hi, result.series_lo):
        other = evaluate_series(node, _extreme_view(result, s))
        if how == "ever":
            values = ((values != 0) | (other != 0)).astype(float)
        else:
            values = np.minimum(values, other) if how == "min" else np.maximum(values, other)
    return values


def _extreme_view(result: Result, s: np.ndarray) -> Result:
    """The result read through one of its within-step arrays (which may hold only the outcomes' variables)."""
    if result.extreme_names is None:
        return replace(result, series=s)
    return replace(result, series=s, variables=result.extreme_names)


def outcome_values(result: Result, d: dict[str, Any]) -> np.ndarray:
    """One outcome definition (``expr`` and ``reduce``) for every replicate of a result.

    ``max``, ``min`` and ``ever`` of an expression monotone in one variable read the variable's
    highest and lowest values within each step (``Result.series_hi``/``series_lo``), and ``mean``
    of a variable its time average over each step (``series_mean``), so their answer does not
    depend on the step length; other reducers read the step ends.
    """
    node = expr.parse(str(d["expr"]))
    how = d["reduce"]
    marks = evaluate_marks(node, result) if dated_reducer(how) is not None else None
    if how in ("max", "min", "ever") and result.series_hi is not None and _monotone_in_one_variable(node, result):
        values = _with_extremes(node, result, how)
    elif how == "mean" and result.series_mean is not None and node.op == "name" and node.args[0] in result.variables:
        # the time average of a variable: each step's own average, not its value at the step's end
        values = evaluate_series(node, _extreme_view(result, result.series_mean))
    else:
        values = evaluate_series(node, result)
    return np.asarray(reduce(values, how, result.step_days, marks), dtype=float)
