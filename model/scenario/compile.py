"""Compiling a merged scenario document: every section checked, then one Config built.

Why two phases: every problem in a file is reported at once, so each section is checked through
one checker (``check._Checker``) and keeps only its valid parts; only a document without issues
reaches the catalog's own checks and is built into a Config and a Scenario.

The sections are checked in the order below, and the order matters: the header fixes the
calendar every later section maps dates onto; levers merge their settings first so those pass
the checks a value in the file passes; the parameter sections write into the scenario's copy of
the catalog before the relations between parameters, the step length and the catalog's own
checks read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.catalog import check_catalog, load_catalog, variable_names
from model.engine.calendar import FIRST_START_DATE, LAST_START_DATE
from model.engine.config import Change, Config, Event, Uncertainty, numeric_paths
from model.errors import InputError, InputIssue
from model.safeyaml import type_name
from model.scenario import expect as ex
from model.scenario import questions as qmod
from model.scenario.check import _Checker, _short
from model.scenario.compiled import Scenario
from model.scenario.format import (
    FORMAT_VERSION,
    MAX_HORIZON,
    MAX_REPLICATES,
    NAME_CHARS,
    POLICIES,
    SETTINGS_KEY,
    TOP_KEYS,
)
from model.scenario.levers import _apply_levers
from model.scenario.outcomes import _check_expectations, _check_outcomes
from model.scenario.parameters import _check_actors, _check_constants, _check_constraints, _check_world
from model.scenario.read import load_document
from model.scenario.record import _anchor_start, _explicit_paths, _history_changes, _warmup
from model.scenario.timeline import _check_changes, _check_events
from model.scenario.uncertainties import _check_uncertainties, _cross_check


@dataclass
class _Header:
    """The top-level keys every later section reads; an invalid one is replaced by a safe default.

    The defaults only let the remaining sections be checked (and their problems reported too):
    a document with any issue never compiles.
    """

    name: str
    claims: Any
    horizon: int
    step_days: float
    seed: int
    replicates: int
    start_date: dt.date | None


@dataclass
class _Sections:
    """The valid parts of the sections after the header (their problems went to the checker)."""

    levers_chosen: dict[str, str]
    fixed: dict[str, tuple]  # parameter path -> where the scenario set it
    uncertainties: list[Uncertainty]
    events: list[Event]
    changes: list[Change]
    warmup: list[Event]
    warmup_days: float
    outcomes: list[str]
    outcome_defs: dict[str, dict[str, Any]]
    expectations: list[ex.Expectation]
    questions: list[qmod.Question]
    policy: str


def compile_document(doc: dict[str, Any], marks: dict, file: str) -> Scenario:
    """Validate a merged scenario document and compile it; raise InputError with every issue."""
    ck = _Checker(marks, file)
    spec = load_catalog()
    original = doc
    doc = dict(doc)
    # settings.apply_settings records what it applied (its effects are already in the document)
    recorded_settings = doc.pop(SETTINGS_KEY, None)
    if recorded_settings is not None and not isinstance(recorded_settings, dict):
        ck.bad((SETTINGS_KEY,), f"expected a mapping of settings, found {type_name(recorded_settings)}")
    head = _check_header(ck, doc, spec)
    parts = _check_sections(ck, doc, marks, spec, head)
    if not ck.issues:
        for issue in check_catalog(spec, file):
            ck.bad((), f"the overrides break the model: {issue.key}: {issue.message}")
    if ck.issues:
        raise InputError(ck.issues)
    config = _config(doc, spec, head, parts)
    return Scenario(
        name=head.name,
        title=str(doc.get("title", head.name)),
        question=str(doc.get("question", "")),
        claims=list(head.claims) if isinstance(head.claims, list) else [],
        horizon=int(head.horizon),
        step_days=float(head.step_days),
        start_date=head.start_date.isoformat() if head.start_date else None,
        seed=int(head.seed),
        replicates=int(head.replicates),
        outcomes=list(parts.outcomes),
        config=config,
        resolved=_resolved(doc, head, parts, recorded_settings),
        source=file,
        expect=parts.expectations,
        questions=parts.questions,
        document=original,
        marks=marks,
    )


def _check_header(ck: _Checker, doc: dict[str, Any], spec: dict) -> _Header:
    """The top-level keys: known keys only, version, name, texts, claims, the calendar and the run's size.

    A valid ``step_days`` is written into ``spec`` (the engine reads the clock from there).
    """
    for key in doc:
        if key not in TOP_KEYS:
            ck.bad((key,), f"unknown key '{_short(key)}'{ck.suggest(key, list(TOP_KEYS))}")
    version = doc.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or version != FORMAT_VERSION:
        ck.bad(("version",), f"expected format version {FORMAT_VERSION}, found {_short(repr(version))}")
    name = doc.get("name")
    if name is None:
        ck.bad((), "missing required key 'name'")
        name = "unnamed"
    elif not isinstance(name, str) or not name or not set(name) <= NAME_CHARS or len(name) > 80:
        ck.bad(("name",), f"expected a name of letters, digits, '_' or '-' (at most 80), found {type_name(name)}")
        name = "unnamed"
    for key in ("title", "question"):
        if key in doc and not isinstance(doc[key], str):
            ck.bad((key,), f"expected text, found {type_name(doc[key])}")
    claims = doc.get("claims", [])
    if ck.expect(("claims",), claims, (list,), "a list of claim ids"):
        for i, c in enumerate(claims):
            ck.name(("claims", i), c, spec["claims"], "claim id")
    horizon = doc.get("horizon", 26)
    if not ck.number(("horizon",), horizon, 1, MAX_HORIZON, integer=True):
        horizon = 1
    step_days = doc.get("step_days", 7)
    if ck.number(("step_days",), step_days, 0.25, 365):
        spec["world"]["parameters"]["step_days"]["value"] = float(step_days)
    else:
        step_days = 7
    seed = doc.get("seed", 0)
    if not ck.number(("seed",), seed, 0, 2**63 - 1, integer=True):
        seed = 0
    replicates = doc.get("replicates", 1000)
    if not ck.number(("replicates",), replicates, 1, MAX_REPLICATES, integer=True):
        replicates = 1
    start_date = _check_start_date(ck, doc)
    return _Header(name, claims, horizon, step_days, seed, replicates, start_date)


def _check_start_date(ck: _Checker, doc: dict[str, Any]) -> dt.date | None:
    """``start_date``: a date within the calendar the catalog describes (None when absent or unreadable)."""
    start = doc.get("start_date")
    start_date: dt.date | None = None
    if start is not None:
        try:
            if not isinstance(start, str) or len(start) != 10:
                raise ValueError
            start_date = dt.date.fromisoformat(start)
        except ValueError:
            ck.bad(("start_date",), f"expected a date YYYY-MM-DD, found {type_name(start)}")
        if start_date is not None and not FIRST_START_DATE <= start_date <= LAST_START_DATE:
            ck.bad(
                ("start_date",),
                f"{start_date.isoformat()} is outside the calendar the model supports"
                f" ({FIRST_START_DATE.isoformat()} to {LAST_START_DATE.isoformat()}: the years its catalog describes)",
            )
    return start_date


def _check_sections(ck: _Checker, doc: dict[str, Any], marks: dict, spec: dict, head: _Header) -> _Sections:
    """Every section after the header, in the order their dependencies need (see the module docstring)."""
    horizon, step_days, start_date = head.horizon, head.step_days, head.start_date
    # levers: choose an option, then merge its settings like any other section
    levers_chosen = _apply_levers(ck, doc, marks)
    # the parameter sections, written into ``spec``
    fixed: dict[str, tuple] = {}
    _check_actors(ck, doc, spec, fixed)
    paths = numeric_paths(spec)  # after the actors: a grievance they add has a path too
    path_set = set(paths)
    _check_world(ck, doc, spec, fixed, paths, path_set)
    _check_constraints(ck, doc, spec, fixed)
    _check_constants(ck, doc, spec, fixed, paths, path_set)
    uncertainties, sampled = _check_uncertainties(ck, doc, spec, paths, path_set)
    # relations between parameters (floor <= ceiling), over every value a draw can take
    _cross_check(ck, spec, fixed, sampled, uncertainties)
    # the timeline: events, the step length the decisions allow, dated changes (the catalog's
    # history, when the calendar covers it, then the scenario's), the record before the start
    names = variable_names(spec)
    events = _check_events(ck, doc, spec, names, horizon, step_days, start_date)
    _check_step_length(ck, spec, step_days)
    changes = _history_changes(doc, spec, horizon, step_days, start_date)
    changes += _check_changes(ck, doc, spec, horizon, step_days, start_date)
    warmup, warmup_days = _warmup(spec, start_date)
    # what a run reports, and what it is checked and scored against
    outcomes, outcome_defs = _check_outcomes(ck, doc, names)
    expectations = _check_expectations(ck, doc, spec, outcome_defs, start_date, step_days, horizon)
    # questions (scored by `entente score`): each is a binary outcome read on its dates
    questions = qmod.check(ck, doc.get("questions", []), spec, names, start_date, horizon, step_days)
    for q in questions:
        outcome_defs[q.column] = q.outcome_def()
    policy = doc.get("policy", "model")
    if not ck.name(("policy",), policy, POLICIES, "policy"):
        policy = "model"
    return _Sections(
        levers_chosen=levers_chosen,
        fixed=fixed,
        uncertainties=uncertainties,
        events=events,
        changes=changes,
        warmup=warmup,
        warmup_days=warmup_days,
        outcomes=outcomes,
        outcome_defs=outcome_defs,
        expectations=expectations,
        questions=questions,
        policy=policy,
    )


def _check_step_length(ck: _Checker, spec: dict, step_days: float) -> None:
    """The step must be no longer than the shortest mean interval between decisions.

    Checked after the parameter sections, since those may change the decision rates.
    """
    for tr, d in spec["world"]["tracks"].items():
        rate = spec["world"]["parameters"][d["rate"]]["value"]
        if isinstance(step_days, int | float) and rate * float(step_days) > 1.0 + 1e-9:
            ck.bad(
                ("step_days",),
                f"step_days {step_days} is longer than the mean interval between {tr} decisions "
                f"(1 / {d['rate']} = {1.0 / rate:.3g} days); use a shorter step",
            )


def _config(doc: dict[str, Any], spec: dict, head: _Header, parts: _Sections) -> Config:
    """The engine's Config, after the record's start values and the scenario's own paths are written into ``spec``."""
    anchors = _anchor_start(doc, spec, head.start_date)
    spec["_fixed"] = sorted(parts.fixed)
    if head.start_date is not None:
        # the scenario's own starting values: the engine's warm-up does not wear them down
        spec["_pinned_initial"] = sorted(
            p.removeprefix("variables.") for p in _explicit_paths(doc) if p.startswith("variables.")
        )
    return Config(
        spec=spec,
        steps=int(head.horizon),
        seed=int(head.seed),
        events=parts.events,
        uncertainties=parts.uncertainties,
        name=head.name,
        changes=parts.changes,
        outcome_defs=parts.outcome_defs,
        policy=parts.policy,
        marks=qmod.marks(parts.questions),
        warmup_events=parts.warmup,
        warmup_days=parts.warmup_days,
        anchors=anchors,
    )


def _resolved(doc: dict[str, Any], head: _Header, parts: _Sections, recorded_settings: Any) -> dict[str, Any]:
    """The document a run records: valid input again, so that a manifest recompiles to exactly what ran.

    Defaults are written out, levers are replaced by the options they chose (their settings are
    already merged in), questions and outcome definitions are recorded as compiled.
    """
    resolved = dict(doc)
    if "questions" in doc:
        resolved["questions"] = [q.record() for q in parts.questions]
    resolved.update(
        {
            "name": head.name,
            "horizon": head.horizon,
            "step_days": head.step_days,
            "seed": head.seed,
            "replicates": head.replicates,
        }
    )
    resolved["outcomes"] = [parts.outcome_defs.get(o, o) for o in parts.outcomes]
    resolved.pop("levers", None)
    if recorded_settings:
        resolved[SETTINGS_KEY] = dict(recorded_settings)
    resolved["levers_chosen"] = parts.levers_chosen
    return resolved


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge, validate and compile a scenario file (InputError on any problem)."""
    doc, marks, chain = load_document(path)
    sc = compile_document(doc, marks, str(path))
    sc.chain = chain
    return sc


def validate(path: str | Path) -> list[InputIssue]:
    """Every problem in a scenario file (empty when it is valid)."""
    try:
        load_scenario(path)
    except InputError as exc:
        return exc.issues
    return []
