"""Questions: yes/no forecasts about an episode, with what happened, scored by ``entente score``.

A scenario may carry ``questions:``, each a yes/no question in the condition grammar (or an
actor's choice) over a window of the scenario's calendar, with its resolution and source::

    questions:
      - id: iran_hits_us_forces
        ask: "Does Iran fire missiles at US forces by 15 January 2020?"
        chose: {actor: iran, action: missile_barrage, target: usa}   # or when: "<condition>"
        after: 2020-01-04          # optional window start (default: start_date)
        by: 2020-01-15             # or on: DATE (the condition holds on that day)
        resolution: yes
        source: "history.md: 8 Jan 2020, Iranian missiles at Ain al-Asad and Erbil"
        tags: [iran_answer_where]

Why a question is an outcome: each compiles to a binary outcome column ``q:<id>`` (one 0/1
per replicate in the run's outcomes table), so the ensemble's probability is the column's mean,
computed by the same machinery as every other outcome, and the scorer reads run folders only.
The days a question reads are recorded exactly (``Config.marks``), so the answer does not
depend on the step length. Validation reports every mistake as one located line, like the rest
of the scenario format.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from model import expr
from model.errors import did_you_mean
from model.safeyaml import type_name
from model.scenario.check import _Checker

QUESTION_KEYS = ("id", "ask", "when", "chose", "by", "on", "after", "resolution", "source", "tags")
CHOSE_KEYS = ("actor", "action", "target")
COLUMN_PREFIX = "q:"
MAX_QUESTIONS = 1000
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TAG_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
RESOLUTIONS = {"yes": True, "no": False}


@dataclass(frozen=True)
class Question:
    """One validated question, with the days (since the start) it reads."""

    id: str
    ask: str
    resolution: bool
    source: str
    after: str  # window start (a date; the start date by default)
    after_day: float
    day: float  # the day of ``by`` or ``on``
    by: str | None = None
    on: str | None = None
    when: str | None = None
    chose: dict[str, Any] | None = None  # {actor, action (or a list of equivalent actions)[, target]}
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column(self) -> str:
        """The outcome column that answers it in the run (one 0/1 per replicate)."""
        return f"{COLUMN_PREFIX}{self.id}"

    @property
    def expression(self) -> str:
        """The expression the outcome reduces: the condition, or the actor's choice counter."""
        if self.chose is not None:
            c = self.chose
            target = c.get("target", "none")
            acts = c["action"] if isinstance(c["action"], list) else [c["action"]]
            return " + ".join(f"count.{c['actor']}.{a}" + (f".{target}" if target != "none" else "") for a in acts)
        return str(self.when)

    @property
    def reduce(self) -> str:
        """The dated reducer (model.engine.outcomes.DATED_REDUCERS) that answers it."""
        if self.chose is not None:
            return f"rise:{self.after_day:g}:{self.day:g}"
        if self.on is not None:
            return f"on:{self.day:g}"
        return f"window:{self.after_day:g}:{self.day:g}"

    def outcome_def(self) -> dict[str, Any]:
        """The scenario outcome definition the engine computes (kind binary)."""
        return {
            "name": self.column,
            "expr": self.expression,
            "reduce": self.reduce,
            "kind": "binary",
            "unit": "probability",
            "label": self.ask,
            "doc": f"question {self.id}: {self.ask}",
        }

    def record(self) -> dict[str, Any]:
        """The question as the resolved scenario records it (valid input again: manifests recompile)."""
        out: dict[str, Any] = {"id": self.id, "ask": self.ask}
        if self.chose is not None:
            out["chose"] = dict(self.chose)
        else:
            out["when"] = self.when
        if self.on is not None:
            out["on"] = self.on
        else:
            out["after"] = self.after
            out["by"] = self.by
        out["resolution"] = "yes" if self.resolution else "no"
        out["source"] = self.source
        if self.tags:
            out["tags"] = list(self.tags)
        return out

    def manifest(self) -> dict[str, Any]:
        """What the scorer reads from a run's manifest: the question, its column and its days."""
        return {
            **self.record(),
            "resolution": self.resolution,
            "column": self.column,
            "form": "chose" if self.chose is not None else "when",
            "expr": self.expression,
            "reduce": self.reduce,
            "after_day": self.after_day,
            "day": self.day,
        }


def marks(questions: list[Question]) -> list[float]:
    """The days (since the start) whose state the questions read, for ``Config.marks``."""
    return sorted({d for q in questions for d in (q.after_day, q.day) if d > 0})


def _date(ck: _Checker, where: tuple, value: Any) -> dt.date | None:
    if isinstance(value, dt.date):  # a YAML loader that builds dates
        return value
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        ck.bad(where, f"expected a date YYYY-MM-DD, found {type_name(value)}")
        return None


def _resolution(ck: _Checker, where: tuple, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in RESOLUTIONS:
        return RESOLUTIONS[value.strip().lower()]
    ck.bad(where, f"expected yes or no (what happened), found {type_name(value)}")
    return None


def _text(ck: _Checker, where: tuple, value: Any, what: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        ck.bad(where, f"expected {what} (non-empty text), found {type_name(value)}")
        return None
    return value.strip()


def _chose(ck: _Checker, where: tuple, value: Any, spec: dict[str, Any]) -> dict[str, str] | None:
    if not isinstance(value, dict):
        ck.bad(where, f"expected {{actor, action, target}} (target optional), found {type_name(value)}")
        return None
    ok = True
    for k in value:
        if k not in CHOSE_KEYS:
            ck.bad(
                (*where, k), f"unknown field '{k}'{did_you_mean(str(k), CHOSE_KEYS)}; expected actor, action, target"
            )
            ok = False
    for k in ("actor", "action"):
        if k not in value:
            ck.bad(where, f"a choice needs '{k}'")
            ok = False
    if not ok:
        return None
    actor, action, target = value["actor"], value["action"], value.get("target", "none")
    if not ck.name((*where, "actor"), actor, spec["actors"], "actor"):
        return None
    hold = spec["world"]["roles"]["hold"]["action"]
    actions = [a for a in spec["actions"] if a != hold]
    if not isinstance(target, str):
        ck.bad((*where, "target"), f"expected a target (text), found {type_name(target)}")
        return None
    # one action, or a list of equivalent ones (the model's coarser words: "criticizes" = condemn, warn or a UN draft)
    listed = action if isinstance(action, list) else [action]
    if not listed:
        ck.bad((*where, "action"), "expected an action or a list of actions")
        return None
    for i, act in enumerate(listed):
        w = (*where, "action", i) if isinstance(action, list) else (*where, "action")
        if act == hold:
            ck.bad(w, f"'{hold}' is doing nothing new, not a choice a question can ask about")
            return None
        if not ck.name(w, act, actions, "action"):
            return None
        targets = (spec["actions"][act].get("takers") or {}).get(actor)
        if targets is None:
            ck.bad(w, f"{actor} cannot take '{act}' (see `entente actors {actor}`)")
            return None
        if target != "none" and target not in targets:
            ck.bad((*where, "target"), f"{actor}'s '{act}' cannot target '{target}'; possible: {', '.join(targets)}")
            return None
    out: dict[str, Any] = {"actor": actor, "action": list(listed) if isinstance(action, list) else action}
    if target != "none":
        out["target"] = target
    return out


def check(
    ck: _Checker,
    section: Any,
    spec: dict[str, Any],
    names: set[str],
    start_date: dt.date | None,
    horizon: Any,
    step_days: Any,
) -> list[Question]:
    """Validate ``questions:`` (every mistake reported through ``ck``, the scenario's checker).

    Args:
        ck: the scenario compiler's ``_Checker`` (located issues, name checks, suggestions).
        section: the merged document's ``questions`` value.
        spec: the catalog after the scenario's overrides (actors, actions, the hold role).
        names: the names the condition grammar accepts (``model.catalog.variable_names``).
        start_date: the scenario's start date (questions need one).
        horizon: number of steps (the calendar ends at horizon x step_days).
        step_days: days per step.

    Returns:
        The valid questions, in file order.
    """
    where0 = ("questions",)
    if not ck.expect(where0, section, (list,), "a list of questions ({id, ask, when or chose, by or on, ...})"):
        return []
    if not section:
        return []
    if len(section) > MAX_QUESTIONS:
        ck.bad(where0, f"at most {MAX_QUESTIONS} questions per scenario, found {len(section)}")
        return []
    if start_date is None:
        ck.bad(where0, "questions are dated: the scenario needs 'start_date' at its top")
        return []
    end_day = (
        float(horizon) * float(step_days) if isinstance(horizon, int) and isinstance(step_days, int | float) else None
    )
    end_date = start_date + dt.timedelta(days=end_day) if end_day is not None else None
    cal = _Calendar(start_date, end_day, end_date, horizon, step_days)
    out: list[Question] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(section):
        q = _check_question(ck, (*where0, i), item, i, seen, spec, names, cal)
        if q is not None:
            out.append(q)
    return out


@dataclass(frozen=True)
class _Calendar:
    """The run's calendar, which every question's dates must fall in (``end_*`` None if unknown)."""

    start_date: dt.date
    end_day: float | None
    end_date: dt.date | None
    horizon: Any
    step_days: Any


def _check_question(
    ck: _Checker,
    where: tuple,
    item: Any,
    i: int,
    seen: dict[str, int],
    spec: dict[str, Any],
    names: set[str],
    cal: _Calendar,
) -> Question | None:
    """One question, every mistake in it reported; None unless it is wholly valid.

    ``seen`` maps the ids met so far to their index (an id is unique in a scenario).
    """
    if not ck.expect(where, item, (dict,), "a question mapping (id, ask, when or chose, by or on, resolution, source)"):
        return None
    n0 = len(ck.issues)
    for k in item:
        if k not in QUESTION_KEYS:
            ck.bad((*where, k), f"unknown question key '{k}'{ck.suggest(k, QUESTION_KEYS)}")
    for k in ("id", "ask", "resolution", "source"):
        if k not in item:
            ck.bad(where, f"a question needs '{k}'")
    qid = _question_id(ck, where, item, i, seen)
    ask = _text(ck, (*where, "ask"), item["ask"], "the question asked") if "ask" in item else None
    source = _text(ck, (*where, "source"), item["source"], "a source") if "source" in item else None
    resolution = _resolution(ck, (*where, "resolution"), item["resolution"]) if "resolution" in item else None
    tags = _tags(ck, where, item)
    when, chose = _asked(ck, where, item, spec, names)
    day, by, on = _dated(ck, where, item, chose, cal)
    after = _after(ck, where, item, day, by or on, cal.start_date)
    after_day = float((after - cal.start_date).days)
    if len(ck.issues) > n0 or day is None or None in (qid, ask, source, resolution) or (when is None and chose is None):
        return None
    return Question(
        id=qid,
        ask=ask,
        resolution=bool(resolution),
        source=source,
        after=after.isoformat(),
        after_day=after_day,
        day=day,
        by=by,
        on=on,
        when=when,
        chose=chose,
        tags=tuple(tags),
    )


def _question_id(ck: _Checker, where: tuple, item: dict[str, Any], i: int, seen: dict[str, int]) -> Any:
    """The question's ``id`` as written (None if absent); a malformed or repeated one is reported."""
    qid = item.get("id")
    if "id" in item:
        if not isinstance(qid, str) or not ID_RE.match(qid):
            ck.bad(
                (*where, "id"),
                f"expected an id of lowercase letters, digits and '_' (a letter first, at most 64), found {type_name(qid)}",
            )
        elif qid in seen:
            ck.bad(
                (*where, "id"),
                f"duplicate question id '{qid}' (also questions[{seen[qid]}]); ids are unique in a scenario",
            )
        else:
            seen[qid] = i
    return qid


def _tags(ck: _Checker, where: tuple, item: dict[str, Any]) -> list[str]:
    """The question's valid ``tags`` (words the scorer's tables carry with the question)."""
    tags: list[str] = []
    if "tags" in item:
        raw = item["tags"]
        if ck.expect((*where, "tags"), raw, (list,), "a list of words"):
            for j, t in enumerate(raw):
                if not isinstance(t, str) or not TAG_RE.match(t):
                    ck.bad((*where, "tags", j), f"expected a word (letters, digits, '_' or '-'), found {type_name(t)}")
                else:
                    tags.append(t)
    return tags


def _asked(
    ck: _Checker, where: tuple, item: dict[str, Any], spec: dict[str, Any], names: set[str]
) -> tuple[str | None, dict[str, Any] | None]:
    """What is asked, (condition, choice): exactly one of ``when`` and ``chose``; None where invalid or absent."""
    has_when, has_chose = "when" in item, "chose" in item
    when = chose = None
    if has_when == has_chose:
        ck.bad(where, "a question needs exactly one of 'when' (a condition) or 'chose' ({actor, action, target})")
    elif has_when:
        text = item["when"]
        if not isinstance(text, str):
            ck.bad((*where, "when"), f"expected a condition string, found {type_name(text)}")
        else:
            try:
                expr.parse(text, names)
            except expr.ExprError as exc:
                ck.bad((*where, "when"), exc.message)
            else:
                when = text
    else:
        chose = _chose(ck, (*where, "chose"), item["chose"], spec)
    return when, chose


def _dated(
    ck: _Checker, where: tuple, item: dict[str, Any], chose: dict[str, Any] | None, cal: _Calendar
) -> tuple[float | None, str | None, str | None]:
    """When it is asked, (day since the start, by, on): exactly one of ``by`` (a window) and ``on`` (one day).

    The day is None when the date is invalid, outside the run's calendar, or an ``on`` for a
    ``chose`` question (a choice is made in a window).
    """
    has_by, has_on = "by" in item, "on" in item
    by = on = None
    day = None
    if has_by == has_on:
        ck.bad(
            where,
            "a question needs exactly one of 'by' (yes if it happens by then) or 'on' (yes if it holds that day)",
        )
    else:
        key = "by" if has_by else "on"
        d = _date(ck, (*where, key), item[key])
        if d is not None:
            days = (d - cal.start_date).days
            if days <= 0:
                ck.bad((*where, key), f"{d.isoformat()} is not after start_date {cal.start_date.isoformat()}")
            elif cal.end_day is not None and days > cal.end_day + 1e-9:
                ck.bad(
                    (*where, key),
                    f"{d.isoformat()} lies beyond the run's calendar (it ends {cal.end_date.isoformat()}: "
                    f"{cal.horizon} steps of {cal.step_days:g} days); lengthen 'horizon'",
                )
            else:
                day = float(days)
                by, on = (d.isoformat(), None) if has_by else (None, d.isoformat())
        if has_on and chose is not None:
            ck.bad((*where, "on"), "a 'chose' question asks whether a choice was made in a window: use 'by'")
            day = None
    return day, by, on


def _after(
    ck: _Checker, where: tuple, item: dict[str, Any], day: float | None, date: str | None, start_date: dt.date
) -> dt.date:
    """The start of a ``by`` question's window: ``after`` if valid, else the start date.

    ``date`` is the question's own date (as written in ``by`` or ``on``), named in the message
    when ``after`` is not before it.
    """
    after = start_date
    if "after" in item:
        if "on" in item:
            ck.bad((*where, "after"), "'after' opens the window of a 'by' question; an 'on' question reads one day")
        a = _date(ck, (*where, "after"), item["after"])
        if a is not None:
            if a < start_date:
                ck.bad((*where, "after"), f"{a.isoformat()} is before start_date {start_date.isoformat()}")
            elif day is not None and (a - start_date).days >= day:
                ck.bad((*where, "after"), f"{a.isoformat()} is not before the question's date {date}")
            else:
                after = a
    return after


def beyond(questions: Any, start: Any, end_day: float) -> list[int]:
    """Indices of recorded questions dated after ``end_day`` (a shortened run drops them, as dated events)."""
    out = []
    try:
        s = dt.date.fromisoformat(str(start))
    except ValueError:
        return out
    for i, q in enumerate(questions if isinstance(questions, list) else []):
        if not isinstance(q, dict):
            continue
        d = q.get("by", q.get("on"))
        try:
            if (dt.date.fromisoformat(str(d)) - s).days > end_day + 1e-9:
                out.append(i)
        except ValueError:
            continue
    return out
