"""What a run reports, and the bands it must fall in: ``outcomes:`` and ``expect:``.

Why together: an expectation reads an outcome, the catalog's or one the scenario defines, and
a dated expectation (``median(brent @ 2024-12-31) in [66, 84]``) adds a hidden outcome of its
own that reads the variable on that date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from model import expr
from model.engine.outcomes import DEFAULT_OUTCOMES, OUTCOMES, REDUCERS
from model.errors import did_you_mean
from model.safeyaml import type_name
from model.scenario import expect as ex
from model.scenario.check import _capped, _Checker
from model.scenario.format import MAX_EXPECT, MAX_OUTCOMES, NAME_CHARS, OUTCOME_KEYS


def _check_outcomes(ck: _Checker, doc: dict[str, Any], names: set[str]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """``outcomes:``: catalog names, or definitions from the expression grammar (the defaults if absent).

    Returns the outcome names in order and the scenario's own definitions by name.
    """
    outcomes_raw = doc.get("outcomes", DEFAULT_OUTCOMES)
    outcomes: list[str] = []
    outcome_defs: dict[str, dict[str, Any]] = {}
    if ck.expect(("outcomes",), outcomes_raw, (list,), "a list of outcome names or definitions"):
        outcomes_raw = _capped(
            ck, "outcomes", outcomes_raw, MAX_OUTCOMES, "outcomes (each is a column, a plot, a line)"
        )
        for i, o in enumerate(outcomes_raw):
            if isinstance(o, dict):
                od = _check_outcome(ck, ("outcomes", i), o, names)
                if od is not None:
                    outcome_defs[od["name"]] = od
                    outcomes.append(od["name"])
            elif ck.name(("outcomes", i), o, OUTCOMES, "outcome"):
                outcomes.append(o)
    else:
        outcomes = list(DEFAULT_OUTCOMES)
    return outcomes, outcome_defs


def _check_outcome(ck: _Checker, where: tuple, o: dict, names: set[str]) -> dict[str, Any] | None:
    ok = True
    for k in o:
        if k not in OUTCOME_KEYS:
            ck.bad((*where, k), f"unknown field '{k}'{did_you_mean(str(k), sorted(OUTCOME_KEYS))}")
            ok = False
    name = o.get("name")
    if not isinstance(name, str) or not name or not set(name) <= NAME_CHARS:
        ck.bad((*where, "name"), "an outcome needs a name of letters, digits, '_' or '-'")
        return None
    if name in OUTCOMES:
        ck.bad((*where, "name"), f"'{name}' is a catalog outcome; give yours another name")
        ok = False
    text = o.get("expr")
    if not isinstance(text, str):
        ck.bad((*where, "expr"), "an outcome needs 'expr', an expression such as \"relation.saudi.russia\"")
        ok = False
    else:
        try:
            expr.parse(text, names)
        except expr.ExprError as exc:
            ck.bad((*where, "expr"), exc.message, exc.column)
            ok = False
    red = o.get("reduce")
    if red not in REDUCERS:
        ck.bad((*where, "reduce"), f"expected one of {', '.join(REDUCERS)}, found {type_name(red)}")
        ok = False
    if not ok:
        return None
    return {
        "expr": text,
        "reduce": red,
        "kind": REDUCERS[red],
        "unit": str(o.get("unit", "probability" if REDUCERS[red] == "binary" else "")),
        "label": str(o.get("label", name)),
        "doc": str(o.get("doc", f"{red} of {text} (defined by the scenario)")),
        "smallest": o.get("smallest"),
        "name": name,
    }


def _check_expectations(
    ck: _Checker,
    doc: dict[str, Any],
    spec: dict,
    outcome_defs: dict[str, dict[str, Any]],
    start_date: dt.date | None,
    step_days: float,
    horizon: int,
) -> list[ex.Expectation]:
    """``expect:`` (history as tests), capped in number; each dated one adds its outcome to ``outcome_defs``."""
    expectations: list[ex.Expectation] = []
    section = doc.get("expect", [])
    if not ck.expect(("expect",), section, (list,), "a list of statements such as 'P(sustained_war) <= 0.2'"):
        return expectations
    section = _capped(ck, "expect", section, MAX_EXPECT, "expectations")
    known = set(OUTCOMES) | set(outcome_defs)
    for i, item in enumerate(section):
        e = _check_expectation(ck, ("expect", i), item, known, spec, start_date, step_days, horizon)
        if e is not None:
            expectations.append(e)
            if e.date:
                outcome_defs[e.column] = _dated_outcome(e, spec, start_date, step_days)
    return expectations


def _dated_outcome(e: ex.Expectation, spec: dict, start_date: dt.date, step_days: float) -> dict[str, Any]:
    """The hidden outcome a dated expectation reads: its variable at the step containing the date."""
    day = (dt.date.fromisoformat(e.date) - start_date).days
    return {
        "expr": e.name,
        "reduce": f"at_step:{max(0, round(day / float(step_days)))}",
        "kind": "continuous",
        "unit": spec["world"]["variables"][e.name]["unit"],
        "label": f"{e.name} on {e.date}",
        "doc": f"{e.name} at the step containing {e.date}",
        "name": e.column,
    }


def _check_expectation(
    ck: _Checker, where: tuple, item: Any, known: set[str], spec: dict, start_date: Any, step_days: Any, horizon: Any
) -> ex.Expectation | None:
    source = ""
    if isinstance(item, dict):
        for k in item:
            if k not in ("expect", "source"):
                ck.bad((*where, k), f"unknown field '{k}' (expected 'expect' and 'source')")
        source, item = str(item.get("source", "")), item.get("expect")
    try:
        e = ex.parse(item, source)
    except ValueError as exc:
        ck.bad(where, str(exc))
        return None
    if e.date:
        if e.name not in spec["world"]["variables"]:
            ck.bad(where, f"unknown world variable '{e.name}'{did_you_mean(e.name, list(spec['world']['variables']))}")
            return None
        if start_date is None:
            ck.bad(where, "a dated expectation needs 'start_date' at the top of the scenario")
            return None
        day = (dt.date.fromisoformat(e.date) - start_date).days
        if isinstance(horizon, int) and isinstance(step_days, int | float) and not 0 <= day <= horizon * step_days:
            ck.bad(where, f"{e.date} lies outside the run's calendar")
            return None
    elif e.name not in known:
        ck.bad(where, f"unknown outcome '{e.name}'{did_you_mean(e.name, sorted(known))}")
        return None
    return e
