"""The scenario's timeline: scheduled and conditional events, and dated changes.

Why together: both map a step number or a date onto the run's calendar (``start_date``,
``step_days``, ``horizon``) the same way, and both drop what falls after a shorter run's last
step instead of reporting it, so that a manifest recompiles to exactly what ran.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from model import expr
from model.engine.config import Change, Event, numeric_paths
from model.errors import did_you_mean
from model.safeyaml import type_name
from model.scenario.check import _capped, _Checker, _short
from model.scenario.format import EVENT_KEYS, MAX_CHANGES, MAX_CONDITIONAL_EVENTS, MAX_EVENTS
from model.scenario.parameters import _bounds


def _check_events(
    ck: _Checker,
    doc: dict[str, Any],
    spec: dict,
    names: set[str],
    horizon: int,
    step_days: float,
    start_date: dt.date | None,
) -> list[Event]:
    """``events:``, capped in number (conditional ones more tightly: each is evaluated every step)."""
    events: list[Event] = []
    section = doc.get("events", [])
    if not ck.expect(("events",), section, (list,), "a list of events"):
        return events
    section = _capped(ck, "events", section, MAX_EVENTS, "events (scheduled and conditional together)")
    conditional = 0
    for i, ev in enumerate(section):
        if isinstance(ev, dict) and "when" in ev:
            conditional += 1
            if conditional == MAX_CONDITIONAL_EVENTS + 1:
                ck.bad(
                    ("events", i),
                    f"a scenario holds at most {MAX_CONDITIONAL_EVENTS} conditional ('when') events: each is"
                    " evaluated at every step of every replicate",
                )
        e = _check_event(ck, ("events", i), ev, spec, names, horizon, step_days, start_date)
        if e is not None:
            events.append(e)
    return events


def _check_event(
    ck: _Checker,
    where: tuple,
    ev: Any,
    spec: dict,
    names: set[str],
    horizon: int,
    step_days: float,
    start_date: dt.date | None,
) -> Event | None:
    """Check one event, reporting every mistake in it (not just the first)."""
    if not ck.expect(where, ev, (dict,), "an event mapping (actor, action, target, and at or when)"):
        return None
    n_issues = len(ck.issues)
    for k in ev:
        if k not in EVENT_KEYS:
            ck.bad((*where, k), f"unknown event key '{_short(k)}'{ck.suggest(k, sorted(EVENT_KEYS))}")
    for k in ("actor", "action"):
        if k not in ev:
            ck.bad(where, f"an event needs '{k}'")
    actor, action, target = ev.get("actor"), ev.get("action"), ev.get("target", "none")
    _check_taker(ck, where, ev, spec)
    timing = _event_timing(ck, where, ev, names, horizon, step_days, start_date)
    if timing is None:  # dated after this run's last step: not part of this run
        return None
    step, day, when = timing
    once = ev.get("once", True)
    if not isinstance(once, bool):
        ck.bad((*where, "once"), f"expected true or false, found {type_name(once)}")
    label = ev.get("label", "")
    if not isinstance(label, str):
        ck.bad((*where, "label"), f"expected text, found {type_name(label)}")
    if len(ck.issues) > n_issues:
        return None
    return Event(actor=actor, action=action, target=target, step=step, when=when, once=once, label=label, day=day)


def _check_taker(ck: _Checker, where: tuple, ev: dict, spec: dict) -> None:
    """Who does what to whom: the actor may take the action, at that target (the catalog's takers)."""
    actor, action, target = ev.get("actor"), ev.get("action"), ev.get("target", "none")
    actor_ok = "actor" in ev and ck.name((*where, "actor"), actor, spec["actors"], "actor")
    action_ok = "action" in ev and ck.name((*where, "action"), action, spec["actions"], "action")
    target_ok = isinstance(target, str) or ck.name((*where, "target"), target, (), "target")
    if actor_ok and action_ok and target_ok:
        targets = spec["actions"][action].get("takers", {}).get(actor)
        if targets is None:
            ck.bad((*where, "action"), f"{actor} cannot take '{action}' (see `entente actors {actor}`)")
        elif target not in targets:
            ck.bad(
                (*where, "target"),
                f"{actor}'s '{action}' cannot target '{_short(target)}'; possible: {', '.join(targets)}",
            )


def _event_timing(
    ck: _Checker,
    where: tuple,
    ev: dict,
    names: set[str],
    horizon: int,
    step_days: float,
    start_date: dt.date | None,
) -> tuple[int | None, float | None, str | None] | None:
    """When an event happens: (step, day since the start, condition), the ones it lacks None.

    Exactly one of ``at`` (a step number, or a date after ``start_date``) and ``when`` (a
    condition) is given. None when the event is dated after this run's last step: a shorter run
    drops it rather than reporting it.
    """
    has_at, has_when = "at" in ev, "when" in ev
    step = None
    day: float | None = None
    when = None
    if has_at == has_when:
        ck.bad(where, "an event needs exactly one of 'at' (a step or date) or 'when' (a condition)")
    elif has_at:
        at = ev["at"]
        if isinstance(at, int) and not isinstance(at, bool):
            step = at
        elif isinstance(at, str):
            try:
                if len(at) != 10:
                    raise ValueError
                d = dt.date.fromisoformat(at)
            except ValueError:
                ck.bad((*where, "at"), f"expected a step number or a date YYYY-MM-DD, found {type_name(at)}")
            else:
                if start_date is None:
                    ck.bad((*where, "at"), "a dated event needs 'start_date' at the top of the scenario")
                elif (d - start_date).days <= 0:
                    ck.bad((*where, "at"), f"{d.isoformat()} is not after start_date {start_date.isoformat()}")
                else:
                    day = float((d - start_date).days)
                    step = math.ceil(day / step_days)
                    if isinstance(horizon, int) and step > horizon:  # a date beyond this run's calendar
                        return None
        else:
            ck.bad((*where, "at"), f"expected a step number or a date YYYY-MM-DD, found {type_name(at)}")
        if step is not None and (step < 1 or step > horizon):
            ck.bad((*where, "at"), f"step {_short(step)} is outside the horizon 1..{horizon}")
    else:
        text = ev["when"]
        if not isinstance(text, str):
            ck.bad((*where, "when"), f"expected a condition string, found {type_name(text)}")
        else:
            try:
                expr.parse(text, names, set())
            except expr.ExprError as exc:
                ck.bad((*where, "when"), exc.message)
            else:
                when = text
    return step, day, when


def _check_changes(
    ck: _Checker,
    doc: dict[str, Any],
    spec: dict,
    horizon: int,
    step_days: float,
    start_date: dt.date | None,
) -> list[Change]:
    """``changes:``, capped in number: the scenario's own dated changes."""
    changes: list[Change] = []
    section = doc.get("changes", [])
    if not ck.expect(("changes",), section, (list,), "a list of dated changes"):
        return changes
    section = _capped(ck, "changes", section, MAX_CHANGES, "dated changes")
    for i, ch in enumerate(section):
        c = _check_change(ck, ("changes", i), ch, spec, horizon, step_days, start_date)
        if c is not None:
            changes.append(c)
    return changes


def _day_step(
    ck: _Checker, where: tuple, at: Any, horizon: Any, step_days: Any, start_date: dt.date | None
) -> int | None:
    """The step that contains a date (or a step number given as is)."""
    if isinstance(at, bool):
        ck.bad(where, f"expected a step number or a date YYYY-MM-DD, found {type_name(at)}")
        return None
    if isinstance(at, int):
        step = at
    else:
        try:
            d = dt.date.fromisoformat(str(at))
        except ValueError:
            ck.bad(where, f"expected a step number or a date YYYY-MM-DD, found {type_name(at)}")
            return None
        if start_date is None:
            ck.bad(where, "a dated change needs 'start_date' at the top of the scenario")
            return None
        days = (d - start_date).days
        if days <= 0:
            ck.bad(where, f"{d.isoformat()} is not after start_date {start_date.isoformat()}")
            return None
        step = math.ceil(days / float(step_days))
        if isinstance(horizon, int) and step > horizon:  # beyond this run's calendar
            return None
    if isinstance(horizon, int) and not 1 <= step <= horizon:
        ck.bad(where, f"step {step} is outside the horizon 1..{horizon}")
        return None
    return step


def _check_change(
    ck: _Checker, where: tuple, ch: Any, spec: dict, horizon: Any, step_days: Any, start_date: dt.date | None
) -> Change | None:
    if not ck.expect(where, ch, (dict,), "a change such as {at: 2025-01-20, set: {world.x: 1}}"):
        return None
    for k in ch:
        if k not in ("at", "set", "label"):
            ck.bad((*where, k), f"unknown field '{k}'{did_you_mean(str(k), ['at', 'set', 'label'])}")
    if "at" not in ch or "set" not in ch:
        ck.bad(where, "a change needs 'at' (a step or date) and 'set' (paths and values)")
        return None
    step = _day_step(ck, (*where, "at"), ch["at"], horizon, step_days, start_date)
    day = None
    if start_date is not None and isinstance(ch["at"], str | dt.date) and not isinstance(ch["at"], bool):
        try:
            day = float((dt.date.fromisoformat(str(ch["at"])) - start_date).days)
        except ValueError:
            day = None
    values = ch["set"]
    if not ck.expect((*where, "set"), values, (dict,), "a mapping of paths to values"):
        return None
    paths = set(numeric_paths(spec))
    variables = spec["world"]["variables"]
    actors = spec["actors"]
    out: dict[str, Any] = {}
    for path, v in values.items():
        w = (*where, "set", path)
        head, _, rest = str(path).partition(".")
        if path in paths:
            lo, hi = _bounds(spec, path)
            if ck.number(w, v, lo, hi):
                out[path] = float(v)
        elif head == "variables" and rest in variables:
            if ck.number(w, v, variables[rest]["lower"], variables[rest]["upper"]):
                out[path] = float(v)
        elif head == "relations" and len(rest.split("-")) == 2 and all(a in actors for a in rest.split("-")):
            if ck.number(w, v, -1.0, 1.0):
                out[path] = float(v)
        elif head == "actors" and rest.endswith(".active") and rest.split(".")[0] in actors:
            if isinstance(v, bool) or v in (0, 1):
                out[path] = bool(v)
            else:
                ck.bad(w, f"expected true or false, found {type_name(v)}")
        elif head == "axis" and rest in actors:
            if ck.number(w, v, -1, 1, integer=True):
                out[path] = int(v)
        else:
            known = sorted(paths) + [f"variables.{v}" for v in variables]
            ck.bad(
                w,
                f"unknown path '{path}'{did_you_mean(str(path), known)} (parameter paths, variables.X, "
                "relations.a-b, actors.A.active, axis.A)",
            )
    if step is None or not out:
        return None
    return Change(step, out, str(ch.get("label", "")), day=day)
