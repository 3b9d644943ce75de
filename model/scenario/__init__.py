"""Scenario files (format version 1): load, validate, resolve ``extends``, compile to a Config.

A scenario is untrusted input. Every problem is collected (not just the first) and reported
as one line with file, line, column and key path; nothing in a file can execute code. See
docs/scenarios.md for the format and its merge rules.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import expr
from model.catalog import check_catalog, load_catalog, variable_names
from model.engine.config import (
    DISTRIBUTIONS,
    Change,
    Config,
    Event,
    Uncertainty,
    numeric_paths,
    samplable_paths,
    set_value,
)
from model.engine.outcomes import DEFAULT_OUTCOMES, OUTCOMES
from model.errors import InputError, InputIssue, did_you_mean
from model.safeyaml import Marks, dotted, load_file, type_name

FORMAT_VERSION = 1
MAX_HORIZON = 520  # ten years of weekly steps
MAX_REPLICATES = 10_000_000
MAX_EXTENDS_DEPTH = 16
TOP_KEYS = {
    "version": "format version (1)",
    "name": "scenario name (letters, digits, _ and -)",
    "title": "one-line title",
    "question": "the question the scenario asks",
    "claims": "claim ids the scenario rests on",
    "extends": "a scenario name or relative path to inherit from",
    "horizon": "number of steps",
    "step_days": "days per step",
    "start_date": "calendar date of step 0 (YYYY-MM-DD)",
    "seed": "master seed",
    "replicates": "number of replicates",
    "actors": "overrides of actor values",
    "initial": "initial values of world variables",
    "relations": "initial relations ('a-b': value)",
    "world": "world parameters",
    "constraints": "lift or change constraints by id",
    "constants": "any parameter path fixed to a value",
    "events": "scheduled and conditional events",
    "uncertainties": "parameters sampled once per replicate",
    "levers": "named policy choices",
    "outcomes": "outcomes to report and plot (catalog names, or {name, expr, reduce} definitions)",
    "changes": "dated changes of parameters, variables, relations, actors ([{at, set: {path: value}, label}])",
    "expect": "bands the ensemble must fall in, checked by `entente check` (e.g. 'P(sustained_war) <= 0.2')",
}
OUTCOME_KEYS = {"name", "expr", "reduce", "label", "unit", "doc", "smallest", "kind"}
EVENT_KEYS = {"at", "when", "actor", "action", "target", "once", "label"}
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def scenarios_dir() -> Path:
    """The shipped scenarios folder (next to the package in a checkout)."""
    return Path(__file__).resolve().parent.parent.parent / "scenarios"


@dataclass
class Scenario:
    """A validated, resolved scenario ready to simulate."""

    name: str
    title: str
    question: str
    claims: list[str]
    horizon: int
    step_days: float
    start_date: str | None
    seed: int
    replicates: int
    outcomes: list[str]
    config: Config
    resolved: dict[str, Any]  # the merged scenario document (after extends and levers)
    source: str
    chain: list[str] = field(default_factory=list)
    expect: list[Any] = field(default_factory=list)  # scenario.expect.Expectation

    @property
    def digest(self) -> str:
        """Hash of the resolved document: two runs of the same digest simulate the same thing."""
        blob = json.dumps(self.resolved, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def with_run_options(
        self, replicates: int | None = None, seed: int | None = None, steps: int | None = None
    ) -> Scenario:
        """A copy with command-line overrides applied (they are recorded in the resolved doc)."""
        s = copy.copy(self)
        s.resolved = copy.deepcopy(self.resolved)
        s.config = copy.copy(self.config)
        if replicates is not None:
            s.replicates = s.resolved["replicates"] = int(replicates)
        if seed is not None:
            s.seed = s.resolved["seed"] = int(seed)
            s.config.seed = int(seed)
        if steps is not None:
            s.horizon = s.resolved["horizon"] = int(steps)
            s.config.steps = int(steps)
            s.config.events = [e for e in s.config.events if e.step is None or e.step <= steps]
            s.config.changes = [c for c in s.config.changes if c.step <= steps]
            # numbered events and changes beyond the new horizon leave the recorded document too,
            # so that a manifest recompiles to exactly what ran (dated ones are dropped on compile)
            for key in ("events", "changes"):
                items = s.resolved.get(key)
                if isinstance(items, list):
                    s.resolved[key] = [
                        e
                        for e in items
                        if not (isinstance(e, dict) and isinstance(e.get("at"), int) and e["at"] > steps)
                    ]
        return s


class _Checker:
    """Collects located issues while walking one merged document."""

    def __init__(self, marks: dict[tuple, tuple[str, int | None, int | None]], default_file: str) -> None:
        self.marks = marks
        self.file = default_file
        self.issues: list[InputIssue] = []

    def at(self, path: tuple) -> tuple[str, int | None, int | None]:
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (self.file, 1, 1))

    def bad(self, path: tuple, message: str, col_offset: int | None = None) -> None:
        file, line, col = self.at(path)
        if col_offset is not None and col is not None:
            col = col + col_offset
        self.issues.append(InputIssue(file, line or 1, col, dotted(path), message))

    def expect(self, path: tuple, value: Any, kinds: tuple[type, ...], what: str) -> bool:
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            self.bad(path, f"expected {what}, found {type_name(value)}")
        return ok

    def number(
        self, path: tuple, value: Any, lo: float | None = None, hi: float | None = None, integer: bool = False
    ) -> bool:
        kinds: tuple[type, ...] = (int,) if integer else (int, float)
        if not self.expect(path, value, kinds, "a whole number" if integer else "a number"):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            self.bad(path, f"expected a finite number, found {value}")
            return False
        if lo is not None and value < lo:
            self.bad(path, f"expected a value >= {lo}, found {value}")
            return False
        if hi is not None and value > hi:
            self.bad(path, f"expected a value <= {hi}, found {value}")
            return False
        return True


# ------------------------------------------------------------------ loading and merging
def _file_marks(marks: Marks, file: str) -> dict[tuple, tuple[str, int | None, int | None]]:
    return {k: (file, v[0], v[1]) for k, v in marks.items()}


def _merge(base: Any, over: Any, bmarks: dict, omarks: dict, path: tuple = ()) -> Any:
    """Deep merge: mappings merge key by key, ``events`` and ``claims`` lists append, others replace."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v, bmarks, omarks, (*path, k)) if k in base else v
        return out
    if path in (("events",), ("claims",)) and isinstance(base, list) and isinstance(over, list):
        n = len(base)
        for k in list(omarks):
            if len(k) > len(path) and k[: len(path)] == path and isinstance(k[len(path)], int):
                omarks[(*path, k[len(path)] + n, *k[len(path) + 1 :])] = omarks.pop(k)
        if path == ("claims",):
            return base + [c for c in over if c not in base]
        return base + over
    return over


def _resolve_extends(ref: str, here: Path, root: Path) -> Path | None:
    if any(ch in ref for ch in "/\\") or ref.endswith((".yaml", ".yml")):
        cand = (here.parent / ref).resolve()
    else:
        cand = (here.parent / f"{ref}.yaml").resolve()
        if not cand.exists():
            cand = (scenarios_dir() / f"{ref}.yaml").resolve()
            root = scenarios_dir().resolve()
    try:
        cand.relative_to(root)
    except ValueError:
        return None
    return cand


def load_document(path: str | Path) -> tuple[dict[str, Any], dict, list[str]]:
    """Load a scenario file and everything it extends, merged; with the origin of each key."""
    path = Path(path)
    root = path.resolve().parent
    chain: list[Path] = []
    docs: list[tuple[dict[str, Any], dict]] = []
    current = path
    while True:
        resolved = current.resolve()
        display = str(current)
        if resolved in chain:
            cycle = " -> ".join(p.name for p in [*chain, resolved])
            raise InputError.one(str(chain[-1]), f"'extends' forms a cycle: {cycle}", 1, 1, "extends")
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise InputError.one(display, f"'extends' chain is deeper than {MAX_EXTENDS_DEPTH}", 1, 1, "extends")
        chain.append(resolved)
        data, marks = load_file(current, display)
        fm = _file_marks(marks, display)
        docs.append((data, fm))
        ref = data.get("extends")
        if ref is None:
            break
        line, col = marks.get(("extends",), (1, 1))
        if not isinstance(ref, str) or not ref.strip():
            raise InputError.one(
                display, f"expected a scenario name or path, found {type_name(ref)}", line, col, "extends"
            )
        parent = _resolve_extends(ref, current, root)
        if parent is None:
            raise InputError.one(display, f"'{ref}' leaves the scenarios' folder tree; refused", line, col, "extends")
        if not parent.exists():
            raise InputError.one(display, f"extends '{ref}': no such scenario ({parent.name})", line, col, "extends")
        current = parent
    merged: dict[str, Any] = {}
    mmarks: dict = {}
    for data, fm in reversed(docs):
        fm = dict(fm)
        merged = _merge(merged, data, mmarks, fm)
        mmarks.update(fm)
    merged.pop("extends", None)
    return merged, mmarks, [str(p) for p in chain]


# ------------------------------------------------------------------ validation and compile
def _value_of(node: Any) -> Any:
    """Allow ``support_iran: 0.7`` as shorthand for ``support_iran: {value: 0.7}``."""
    return node.get("value") if isinstance(node, dict) else node


def compile_document(doc: dict[str, Any], marks: dict, file: str) -> Scenario:
    """Validate a merged scenario document and compile it; raise InputError with every issue."""
    ck = _Checker(marks, file)
    spec = load_catalog()
    fixed: set[str] = set()
    for key in doc:
        if key not in TOP_KEYS:
            ck.bad((key,), f"unknown key '{key}'{did_you_mean(key, list(TOP_KEYS))}")
    version = doc.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        ck.bad(("version",), f"expected format version {FORMAT_VERSION}, found {version!r}")
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
            if c not in spec["claims"]:
                ck.bad(("claims", i), f"unknown claim id '{c}'{did_you_mean(str(c), spec['claims'])}")
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
    start = doc.get("start_date")
    start_date: dt.date | None = None
    if start is not None:
        try:
            start_date = dt.date.fromisoformat(str(start))
        except ValueError:
            ck.bad(("start_date",), f"expected a date YYYY-MM-DD, found {type_name(start)}")

    actors = list(spec["actors"])
    # --- levers: choose an option, then merge its settings like any other section
    levers = doc.get("levers", {})
    if ck.expect(("levers",), levers, (dict,), "a mapping of lever names"):
        for lname, lever in levers.items():
            lp = ("levers", lname)
            if not ck.expect(lp, lever, (dict,), "a mapping with 'value' and 'options'"):
                continue
            for k in lever:
                if k not in ("value", "options", "doc"):
                    ck.bad((*lp, k), f"unknown key '{k}'; expected value, options, doc")
            options = lever.get("options", {})
            if (
                not ck.expect((*lp, "options"), options, (dict,), "a mapping of option names to settings")
                or not options
            ):
                continue
            chosen = lever.get("value", next(iter(options)))
            if chosen not in options:
                ck.bad((*lp, "value"), f"unknown option '{chosen}'{did_you_mean(str(chosen), list(options))}")
                continue
            setting = options[chosen]
            if not ck.expect((*lp, "options", chosen), setting, (dict,), "a mapping of settings"):
                continue
            for k, v in setting.items():
                if k not in ("constants", "constraints", "events", "actors", "initial", "world", "relations"):
                    ck.bad((*lp, "options", chosen, k), f"a lever option may not set '{k}'")
                    continue
                if k == "events" and isinstance(v, list):
                    doc.setdefault("events", [])
                    base = len(doc["events"])
                    for i, _ in enumerate(v):
                        src = (*lp, "options", chosen, k, i)
                        for mk, mv in list(marks.items()):
                            if mk[: len(src)] == src:
                                marks[("events", base + i, *mk[len(src) :])] = mv
                    doc["events"] = [*doc["events"], *v]
                elif isinstance(v, dict):
                    for mk, mv in list(marks.items()):
                        src = (*lp, "options", chosen, k)
                        if mk[: len(src)] == src:
                            marks[(k, *mk[len(src) :])] = mv
                    doc[k] = _merge(doc.get(k, {}), v, {}, {})
    # --- actors
    section = doc.get("actors", {})
    if ck.expect(("actors",), section, (dict,), "a mapping of actor names"):
        for a, over in section.items():
            ap = ("actors", a)
            if a not in spec["actors"]:
                ck.bad(ap, f"unknown actor '{a}'{did_you_mean(a, actors)}")
                continue
            if not ck.expect(ap, over, (dict,), "a mapping of actor values"):
                continue
            actor = spec["actors"][a]
            for k, v in over.items():
                kp = (*ap, k)
                if k == "interests":
                    if not ck.expect(kp, v, (dict,), "a mapping of interest names"):
                        continue
                    for term, tv in v.items():
                        tp = (*kp, term)
                        if term not in actor["interests"]:
                            ck.bad(
                                tp, f"unknown interest '{term}' of {a}{did_you_mean(term, list(actor['interests']))}"
                            )
                            continue
                        if not isinstance(tv, dict):
                            tv = {"weight": tv}
                        for fk, fv in tv.items():
                            if fk not in ("weight", "target", "width", "threshold"):
                                ck.bad((*tp, fk), f"unknown field '{fk}'; expected weight, target, width or threshold")
                            elif ck.number((*tp, fk), fv):
                                actor["interests"][term][fk] = fv
                                fixed.add(f"actors.{a}.interests.{term}.{fk}")
                elif k == "stances":
                    if not ck.expect(kp, v, (dict,), "a mapping of issues"):
                        continue
                    for issue, sv in v.items():
                        if issue not in actor["stances"]:
                            ck.bad(
                                (*kp, issue), f"unknown issue '{issue}'{did_you_mean(issue, list(actor['stances']))}"
                            )
                        elif ck.number((*kp, issue), _value_of(sv), -1, 1):
                            actor["stances"][issue]["value"] = _value_of(sv)
                elif k == "response":
                    if ck.number(kp, _value_of(v) if not isinstance(v, dict) else v.get("weight"), 0):
                        actor["response"]["weight"] = v.get("weight") if isinstance(v, dict) else v
                elif k == "initial_grievance":
                    if ck.expect(kp, v, (dict,), "a mapping of actors"):
                        for b, gv in v.items():
                            if b not in actors:
                                ck.bad((*kp, b), f"unknown actor '{b}'{did_you_mean(b, actors)}")
                            elif ck.number((*kp, b), _value_of(gv), 0):
                                actor.setdefault("initial_grievance", {})[b] = {"value": _value_of(gv), "claims": []}
                else:
                    ck.bad(kp, f"unknown key '{k}'; expected interests, stances, response or initial_grievance")
    # --- world parameters, initial values, relations
    for sec, getter in (
        ("world", lambda k: f"world.{k}"),
        ("initial", lambda k: f"initial.{k}"),
        ("relations", lambda k: f"relations.{k}"),
    ):
        section = doc.get(sec, {})
        if not ck.expect((sec,), section, (dict,), "a mapping"):
            continue
        valid = [p.split(".", 1)[1] for p in numeric_paths(spec) if p.startswith(f"{sec}.")]
        for k, v in section.items():
            if k not in valid:
                if sec == "relations":
                    a, _, b = str(k).partition("-")
                    if a in actors and b in actors and a != b:
                        spec["relations"][k] = {"value": 0.0, "assumption": "set by scenario"}
                        valid.append(k)
                if k not in valid:
                    if sec == "initial" and str(k) in spec["world"]["variables"]:
                        ck.bad((sec, k), _unknown_path(spec, f"initial.{k}", []))
                    else:
                        ck.bad((sec, k), f"unknown {sec} name '{k}'{did_you_mean(str(k), valid)}")
                    continue
            _set_number(ck, spec, (sec, k), getter(k), _value_of(v), fixed)
    # --- constraints
    section = doc.get("constraints", {})
    if ck.expect(("constraints",), section, (dict,), "a mapping of constraint ids"):
        for cid, over in section.items():
            cp = ("constraints", cid)
            if cid not in spec["constraints"]:
                ck.bad(cp, f"unknown constraint '{cid}'{did_you_mean(cid, list(spec['constraints']))}")
                continue
            if not ck.expect(cp, over, (dict,), "a mapping such as {lifted: true}"):
                continue
            con = spec["constraints"][cid]
            for k, v in over.items():
                if k == "lifted":
                    if ck.expect((*cp, k), v, (bool,), "true or false"):
                        con["lifted"] = v
                elif k in (con.get("params") or {}):
                    _set_number(ck, spec, (*cp, k), f"constraints.{cid}.{k}", v, fixed)
                else:
                    opts = ["lifted", *(con.get("params") or {})]
                    ck.bad(
                        (*cp, k),
                        f"unknown field '{k}' of {cid}{did_you_mean(str(k), opts)} (expected {', '.join(opts)})",
                    )
    # --- constants: any numeric path
    paths = numeric_paths(spec)
    section = doc.get("constants", {})
    if ck.expect(("constants",), section, (dict,), "a mapping of parameter paths to values"):
        for path, v in section.items():
            if path not in paths:
                ck.bad(("constants", path), _unknown_path(spec, str(path), paths))
                continue
            _set_number(ck, spec, ("constants", path), path, v, fixed)
    # --- uncertainties
    uncertainties: list[Uncertainty] = []
    section = doc.get("uncertainties", {})
    if ck.expect(("uncertainties",), section, (dict,), "a mapping of parameter paths to distributions"):
        for path, d in section.items():
            up = ("uncertainties", path)
            if path not in paths:
                ck.bad(up, _unknown_path(spec, str(path), paths))
                continue
            if path not in samplable_paths(spec):
                ck.bad(
                    up,
                    f"'{path}' cannot be sampled per replicate: it is the length of the step, one value for a "
                    "whole batch (run one scenario per step length instead)",
                )
                continue
            u = _check_distribution(ck, spec, up, path, d)
            if u is not None:
                uncertainties.append(u)
    # --- events
    events: list[Event] = []
    names = variable_names(spec)
    section = doc.get("events", [])
    if ck.expect(("events",), section, (list,), "a list of events"):
        for i, ev in enumerate(section):
            e = _check_event(ck, ("events", i), ev, spec, names, horizon, step_days, start_date)
            if e is not None:
                events.append(e)
    # --- the step must be no longer than the shortest mean interval between decisions
    for tr, d in spec["world"]["tracks"].items():
        rate = spec["world"]["parameters"][d["rate"]]["value"]
        if isinstance(step_days, int | float) and rate * float(step_days) > 1.0 + 1e-9:
            ck.bad(
                ("step_days",),
                f"step_days {step_days} is longer than the mean interval between {tr} decisions "
                f"(1 / {d['rate']} = {1.0 / rate:.3g} days); use a shorter step",
            )
    # --- dated changes: the catalog's history (when the calendar covers it), then the scenario's
    changes: list[Change] = []
    end_day = float(horizon) * float(step_days) if isinstance(step_days, int | float) else 0.0
    if start_date is not None:
        for h in spec["world"].get("history", []):
            day = (dt.date.fromisoformat(str(h["at"])) - start_date).days
            if day <= end_day:
                step = max(1, math.ceil(day / float(step_days)))
                changes.append(Change(step, dict(h["set"]), str(h.get("label", ""))))
    section = doc.get("changes", [])
    if ck.expect(("changes",), section, (list,), "a list of dated changes"):
        for i, ch in enumerate(section):
            c = _check_change(ck, ("changes", i), ch, spec, horizon, step_days, start_date)
            if c is not None:
                changes.append(c)
    # --- outcomes: catalog names, or definitions from the expression grammar
    outcomes_raw = doc.get("outcomes", DEFAULT_OUTCOMES)
    outcomes: list[str] = []
    outcome_defs: dict[str, dict[str, Any]] = {}
    if ck.expect(("outcomes",), outcomes_raw, (list,), "a list of outcome names or definitions"):
        for i, o in enumerate(outcomes_raw):
            if isinstance(o, dict):
                od = _check_outcome(ck, ("outcomes", i), o, names)
                if od is not None:
                    outcome_defs[od["name"]] = od
                    outcomes.append(od["name"])
            elif not isinstance(o, str) or o not in OUTCOMES:
                ck.bad(("outcomes", i), f"unknown outcome '{o}'{did_you_mean(str(o), list(OUTCOMES))}")
            else:
                outcomes.append(o)
    else:
        outcomes = list(DEFAULT_OUTCOMES)
    # --- expectations (history as tests)
    expectations = []
    section = doc.get("expect", [])
    if ck.expect(("expect",), section, (list,), "a list of statements such as 'P(sustained_war) <= 0.2'"):
        known = set(OUTCOMES) | set(outcome_defs)
        for i, item in enumerate(section):
            e = _check_expectation(ck, ("expect", i), item, known, spec, start_date, step_days, horizon)
            if e is not None:
                expectations.append(e)
                if e.date:
                    day = (dt.date.fromisoformat(e.date) - start_date).days
                    outcome_defs[e.column] = {
                        "expr": e.name,
                        "reduce": f"at_step:{max(0, round(day / float(step_days)))}",
                        "kind": "continuous",
                        "unit": spec["world"]["variables"][e.name]["unit"],
                        "label": f"{e.name} on {e.date}",
                        "doc": f"{e.name} at the step containing {e.date}",
                        "name": e.column,
                    }
    if not ck.issues:
        for issue in check_catalog(spec, file):
            ck.bad((), f"the overrides break the model: {issue.key}: {issue.message}")
    if ck.issues:
        raise InputError(ck.issues)
    spec["_fixed"] = sorted(fixed)
    config = Config(
        spec=spec,
        steps=int(horizon),
        seed=int(seed),
        events=events,
        uncertainties=uncertainties,
        name=name,
        changes=changes,
        outcome_defs=outcome_defs,
    )
    resolved = dict(doc)
    resolved.update({"name": name, "horizon": horizon, "step_days": step_days, "seed": seed, "replicates": replicates})
    resolved["outcomes"] = [outcome_defs.get(o, o) for o in outcomes]
    resolved.pop("levers", None)
    resolved["levers_chosen"] = (
        {k: v.get("value", next(iter(v.get("options", {"": 0})))) for k, v in levers.items()}
        if isinstance(levers, dict)
        else {}
    )
    return Scenario(
        name=name,
        title=str(doc.get("title", name)),
        question=str(doc.get("question", "")),
        claims=list(claims) if isinstance(claims, list) else [],
        horizon=int(horizon),
        step_days=float(step_days),
        start_date=start_date.isoformat() if start_date else None,
        seed=int(seed),
        replicates=int(replicates),
        outcomes=list(outcomes),
        config=config,
        resolved=resolved,
        source=file,
        expect=expectations,
    )


def _check_expectation(
    ck: _Checker, where: tuple, item: Any, known: set[str], spec: dict, start_date: Any, step_days: Any, horizon: Any
) -> Any:
    from model.scenario import expect as ex

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


def _unknown_path(spec: dict, path: str, paths: list[str]) -> str:
    """The message for a path that is not a parameter (derived variables say what they derive from)."""
    var = spec["world"]["variables"].get(path.removeprefix("initial.")) if path.startswith("initial.") else None
    if var is not None and ("derived" in var or "tier_of" in var):
        how = var.get("derived") or f"the highest tier of {var['tier_of']}'s recent actions"
        return f"'{path}' cannot be set: {path.removeprefix('initial.')} is derived ({how}); set what it derives from"
    return f"unknown parameter path '{path}'{did_you_mean(path, paths)}"


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
    return Change(step, out, str(ch.get("label", "")))


def _check_outcome(ck: _Checker, where: tuple, o: dict, names: set[str]) -> dict[str, Any] | None:
    from model.engine.outcomes import REDUCERS

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


def _set_number(ck: _Checker, spec: dict, where: tuple, path: str, value: Any, fixed: set[str]) -> None:
    lo, hi = _bounds(spec, path)
    if ck.number(where, value, lo, hi):
        set_value(spec, path, value)
        fixed.add(path)


def _bounds(spec: dict, path: str) -> tuple[float | None, float | None]:
    if path.startswith("initial."):
        var = spec["world"]["variables"][path.split(".", 1)[1]]
        return var["lower"], var["upper"]
    if path.startswith("relations.") or ".stances." in path:
        return -1.0, 1.0
    if path in ("world.tremble",):
        return 0.0, 1.0
    if path in ("world.temperature",):
        return 1e-6, None
    if path.startswith("world.") and ("half_life" in path or path.endswith("step_days")):
        return 1e-6, None
    return None, None


def _check_distribution(ck: _Checker, spec: dict, where: tuple, path: str, d: Any) -> Uncertainty | None:
    if not ck.expect(where, d, (dict,), "a distribution such as {dist: uniform, low: 0, high: 1}"):
        return None
    dist = d.get("dist")
    if dist not in DISTRIBUTIONS:
        ck.bad((*where, "dist"), f"unknown distribution '{dist}'{did_you_mean(str(dist), list(DISTRIBUTIONS))}")
        return None
    need = DISTRIBUTIONS[dist]
    params: dict[str, Any] = {}
    ok = True
    for k in d:
        if k not in (*need, "dist", "doc"):
            ck.bad((*where, k), f"unknown field '{k}' for {dist}; expected {', '.join(need)}")
            ok = False
    for k in need:
        if k not in d:
            ck.bad(where, f"{dist} needs '{k}'")
            ok = False
            continue
        if k == "values":
            vals = d[k]
            if not ck.expect((*where, k), vals, (list,), "a list of numbers") or not vals:
                ok = False
                continue
            for i, v in enumerate(vals):
                ok &= ck.number((*where, k, i), v)
            params[k] = vals
        else:
            ok &= ck.number((*where, k), d[k])
            params[k] = d[k]
    if not ok:
        return None
    if dist in ("uniform", "triangular", "normal") and params["low"] > params["high"]:
        ck.bad((*where, "low"), f"low ({params['low']}) is above high ({params['high']})")
        return None
    if dist == "triangular" and not params["low"] <= params["mode"] <= params["high"]:
        ck.bad((*where, "mode"), f"mode ({params['mode']}) must lie between low and high")
        return None
    if dist == "normal" and params["sd"] <= 0:
        ck.bad((*where, "sd"), f"sd must be positive, found {params['sd']}")
        return None
    if dist == "normal" and not params["low"] <= params["mean"] <= params["high"]:
        ck.bad((*where, "mean"), "mean must lie between low and high")
        return None
    lo_b, hi_b = _bounds(spec, path)
    support = params.get("values") or [params["low"], params["high"]]
    for v in support:
        if (lo_b is not None and v < lo_b) or (hi_b is not None and v > hi_b):
            ck.bad(where, f"values must lie within [{lo_b}, {hi_b}] for '{path}', found {v}")
            return None
    return Uncertainty(path, dist, params)


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
    if not ck.expect(where, ev, (dict,), "an event mapping (actor, action, target, and at or when)"):
        return None
    ok = True
    for k in ev:
        if k not in EVENT_KEYS:
            ck.bad((*where, k), f"unknown event key '{k}'{did_you_mean(str(k), list(EVENT_KEYS))}")
            ok = False
    actor, action, target = ev.get("actor"), ev.get("action"), ev.get("target", "none")
    if actor not in spec["actors"]:
        ck.bad((*where, "actor"), f"unknown actor {actor!r}{did_you_mean(str(actor), list(spec['actors']))}")
        return None
    if action not in spec["actions"]:
        ck.bad((*where, "action"), f"unknown action {action!r}{did_you_mean(str(action), list(spec['actions']))}")
        return None
    targets = spec["actions"][action].get("takers", {}).get(actor)
    if targets is None:
        ck.bad((*where, "action"), f"{actor} cannot take '{action}' (see `entente actors {actor}`)")
        return None
    if target not in targets:
        ck.bad((*where, "target"), f"{actor}'s '{action}' cannot target {target!r}; possible: {', '.join(targets)}")
        return None
    has_at, has_when = "at" in ev, "when" in ev
    if has_at == has_when:
        ck.bad(where, "an event needs exactly one of 'at' (a step or date) or 'when' (a condition)")
        return None
    step = None
    when = None
    if has_at:
        at = ev["at"]
        if isinstance(at, int) and not isinstance(at, bool):
            step = at
        elif isinstance(at, str):
            try:
                d = dt.date.fromisoformat(at)
            except ValueError:
                ck.bad((*where, "at"), f"expected a step number or a date YYYY-MM-DD, found {type_name(at)}")
                return None
            if start_date is None:
                ck.bad((*where, "at"), "a dated event needs 'start_date' at the top of the scenario")
                return None
            if (d - start_date).days <= 0:
                ck.bad((*where, "at"), f"{d.isoformat()} is not after start_date {start_date.isoformat()}")
                return None
            step = math.ceil((d - start_date).days / step_days)
            if step > horizon:  # a date beyond this run's calendar: the run ends before it
                return None
        else:
            ck.bad((*where, "at"), f"expected a step number or a date YYYY-MM-DD, found {type_name(at)}")
            return None
        if step < 1 or step > horizon:
            ck.bad((*where, "at"), f"step {step} is outside the horizon 1..{horizon}")
            return None
    else:
        text = ev["when"]
        if not isinstance(text, str):
            ck.bad((*where, "when"), f"expected a condition string, found {type_name(text)}")
            return None
        try:
            expr.parse(text, names, set())
        except expr.ExprError as exc:
            _, line, col = ck.at((*where, "when"))
            ck.issues.append(
                InputIssue(ck.at((*where, "when"))[0], line or 1, col, dotted((*where, "when")), exc.message)
            )
            return None
        when = text
    once = ev.get("once", True)
    if not isinstance(once, bool):
        ck.bad((*where, "once"), f"expected true or false, found {type_name(once)}")
        ok = False
    label = ev.get("label", "")
    if not isinstance(label, str):
        ck.bad((*where, "label"), f"expected text, found {type_name(label)}")
        ok = False
    if not ok:
        return None
    return Event(actor=actor, action=action, target=target, step=step, when=when, once=once, label=label)


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


def shipped() -> list[Path]:
    """The shipped scenario files, sorted by name."""
    return sorted(scenarios_dir().glob("*.yaml"))
