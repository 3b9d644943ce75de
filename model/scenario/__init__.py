"""Scenario files (format version 1): load, validate, resolve ``extends``, compile to a Config.

A scenario is untrusted input. Every problem is collected (not just the first) and reported
as one line with file, line, column and key path; nothing in a file can execute code. See
docs/scenarios.md for the format and its merge rules.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model import expr
from model.catalog import check_catalog, load_catalog, variable_names
from model.engine.calendar import FIRST_START_DATE, LAST_START_DATE
from model.engine.config import (
    DISTRIBUTIONS,
    Change,
    Config,
    Event,
    Uncertainty,
    get_value,
    numeric_paths,
    samplable_paths,
    set_value,
)
from model.engine.outcomes import DEFAULT_OUTCOMES, OUTCOMES
from model.errors import InputError, InputIssue, did_you_mean
from model.safeyaml import Marks, dotted, load_file, type_name
from model.scenario import ranges

FORMAT_VERSION = 1
MAX_HORIZON = 520  # ten years of weekly steps
MAX_REPLICATES = 10_000_000
MAX_EXTENDS_DEPTH = 16
# Caps on list sections (docs/scenarios.md, Safety and limits): far beyond the shipped scenarios, and
# each keeps a run's cost bounded (events are matched every step; outcomes are columns, plots, lines).
MAX_EVENTS = 500
MAX_CONDITIONAL_EVENTS = 100
MAX_CHANGES = 200
MAX_OUTCOMES = 60
MAX_EXPECT = 100
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
    "questions": "yes/no questions with what happened, scored by `entente score` ([{id, ask, when|chose, by|on, resolution, source}])",
    "policy": "who decides: model (default), or a negative control: inert (nobody decides) or hawk (most escalatory option)",
}
POLICIES = ("model", "inert", "hawk", "random")
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
    questions: list[Any] = field(default_factory=list)  # scenario.questions.Question
    # the merged document before levers were applied, and where each key was written: what
    # --set, sweeps and ``simulate(..., overrides=)`` re-apply settings to (scenario.settings)
    document: dict[str, Any] | None = field(default=None, repr=False)
    marks: dict = field(default_factory=dict, repr=False)

    @property
    def settings(self) -> dict[str, Any]:
        """The --set / sweep / overrides settings this scenario was compiled with ({} if none)."""
        return dict(self.resolved.get("settings") or {})

    @property
    def digest(self) -> str:
        """Hash of the resolved document: two runs of the same digest simulate the same thing."""
        blob = json.dumps(self.resolved, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def with_run_options(
        self,
        replicates: int | None = None,
        seed: int | None = None,
        steps: int | None = None,
        origin: str = "command line",
    ) -> Scenario:
        """A copy with run options applied (they are recorded in the resolved doc).

        The options pass the same checks as the file's ``replicates``, ``seed`` and ``horizon``
        (InputError naming ``origin`` otherwise), so whatever runs can be resumed and rerun.
        Events scheduled after a shorter horizon are dropped from the config and the resolved
        document alike, so that the recorded document compiles to the same run.
        """
        issues = []
        for flag, value, lo, hi in (
            ("replicates", replicates, 1, MAX_REPLICATES),
            ("seed", seed, 0, 2**63 - 1),
            ("steps", steps, 1, MAX_HORIZON),
        ):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                issues.append(InputIssue(origin, None, None, "", f"--{flag} must be a whole number, found {value!r}"))
            elif not lo <= value <= hi:
                issues.append(InputIssue(origin, None, None, "", f"--{flag} must lie in {lo}..{hi}, found {value}"))
        if issues:
            raise InputError(issues)
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
            # questions dated after the shorter horizon are dropped, as dated events are
            end = steps * s.step_days
            s.questions = [q for q in self.questions if q.day <= end + 1e-9]
            gone = {q.column for q in self.questions} - {q.column for q in s.questions}
            if gone:
                s.config.outcome_defs = {k: v for k, v in s.config.outcome_defs.items() if k not in gone}
                s.config.marks = [m for m in s.config.marks if m <= end + 1e-9]
                if isinstance(s.resolved.get("questions"), list):
                    s.resolved["questions"] = [q.record() for q in s.questions]
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


MAX_SUGGESTIONS = 200  # 'did you mean' is computed for this many unknown names per file, then skipped
LEVER_KEYS = ("value", "options", "doc", "label")
SETTINGS_KEY = "settings"  # written by settings.apply_settings into a document, never by a file
SETTING_KEYS = ("constants", "constraints", "events", "actors", "initial", "world", "relations")


class _Checker:
    """Collects located issues while walking one merged document."""

    def __init__(self, marks: dict[tuple, tuple[str, int | None, int | None]], default_file: str) -> None:
        self.marks = marks
        self.file = default_file
        self.issues: list[InputIssue] = []
        # a path prefix whose marks live under another prefix (events appended by a lever option)
        self.aliases: dict[tuple, tuple] = {}
        self.suggestions_left = MAX_SUGGESTIONS

    def at(self, path: tuple) -> tuple[str, int | None, int | None]:
        p = tuple(path)
        if self.aliases:
            for k in range(len(p), 0, -1):
                target = self.aliases.get(p[:k])
                if target is not None:
                    p = (*target, *p[k:])
                    break
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (self.file, 1, 1))

    def shown(self, path: tuple) -> tuple:
        """The key path as the file that wrote it numbers it (not the merged document's index).

        A child's first event is ``events[0]`` of the child's file, though its parent's events come
        before it once merged; an event a lever option appends is named inside that option.
        """
        p = tuple(path)
        if len(p) >= 2 and isinstance(p[1], int):
            target = self.aliases.get(p[:2])
            if target is not None:
                return (*target, *p[2:])
            local = self.marks.get((LOCAL_INDEX, p[0], p[1]))
            if local is not None and isinstance(local[1], int):
                return (p[0], local[1], *p[2:])
        return p

    def bad(self, path: tuple, message: str, col_offset: int | None = None) -> None:
        file, line, col = self.at(path)
        if col_offset is not None and col is not None:
            col = col + col_offset
        self.issues.append(InputIssue(file, line or 1, col or 1, dotted(self.shown(path)), message))

    def suggest(self, word: Any, options: Any) -> str:
        """A 'did you mean' suffix (bounded work per file: a file of 20,000 typos stays fast)."""
        if not isinstance(word, str) or self.suggestions_left <= 0:
            return ""
        self.suggestions_left -= 1
        return did_you_mean(word, options)

    def expect(self, path: tuple, value: Any, kinds: tuple[type, ...], what: str) -> bool:
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            self.bad(path, f"expected {what}, found {type_name(value)}")
        return ok

    def name(self, path: tuple, value: Any, options: Any, what: str) -> bool:
        """``value`` is a string among ``options`` (a list, set or mapping); report it otherwise."""
        if not isinstance(value, str):
            article = "an" if what[0] in "aeiou" else "a"
            self.bad(path, f"expected {article} {what} (text), found {type_name(value)}")
            return False
        if value not in options:
            self.bad(path, f"unknown {what} '{_short(value)}'{self.suggest(value, list(options))}")
            return False
        return True

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
            self.bad(path, f"expected a value >= {lo}, found {_short(value)}")
            return False
        if hi is not None and value > hi:
            self.bad(path, f"expected a value <= {hi}, found {_short(value)}")
            return False
        return True


def _capped(ck: _Checker, key: str, items: list[Any], cap: int, what: str) -> list[Any]:
    """The first ``cap`` items of a list section; one located error for the rest, which are not checked.

    Why: a file of 100 kB can hold 20,000 aliased events; what is beyond any real scenario is
    refused in constant time instead of being validated and simulated for minutes.
    """
    if len(items) <= cap:
        return items
    ck.bad((key, cap), f"a scenario holds at most {cap} {what}; this one has {len(items):,}")
    return items[:cap]


def _short(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text)} characters)"


# ------------------------------------------------------------------ loading and merging
def _file_marks(marks: Marks, file: str) -> dict[tuple, tuple[str, int | None, int | None]]:
    return {k: (file, v[0], v[1]) for k, v in marks.items()}


LOCAL_INDEX = "#index"  # marks key (LOCAL_INDEX, list, merged index) -> (file, the file's own index, None)


def _shift_marks(omarks: dict, path: tuple, index: dict[int, int]) -> None:
    """Renumber the marks of list items under ``path`` (old index -> new index) in one pass.

    Each moved item also records the index its own file gives it, so errors name ``events[0]`` of
    the child's file rather than the merged document's ``events[7]``.
    """
    n = len(path)
    shifted = {}
    for k, v in omarks.items():
        if len(k) > n and k[:n] == path and isinstance(k[n], int):
            if k[n] in index:
                shifted[(*path, index[k[n]], *k[n + 1 :])] = v
                if len(k) == n + 1:
                    shifted[(LOCAL_INDEX, *path, index[k[n]])] = (v[0], k[n], None)
        elif k[:1] == (LOCAL_INDEX,) and k[1:-1] == path:
            continue  # an index the file itself recorded is replaced by the one above
        else:
            shifted[k] = v
    omarks.clear()
    omarks.update(shifted)


def _merge(base: Any, over: Any, bmarks: dict, omarks: dict, path: tuple = ()) -> Any:
    """Deep merge: mappings merge key by key, ``events``, ``questions`` and ``claims`` lists append, others replace."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base[k], v, bmarks, omarks, (*path, k)) if k in base else v
        return out
    if path in (("events",), ("claims",), ("questions",)) and isinstance(base, list) and isinstance(over, list):
        n = len(base)
        if path == ("claims",):
            seen = {c for c in base if isinstance(c, str)}
            kept = [i for i, c in enumerate(over) if (c not in seen if isinstance(c, str) else c not in base)]
            _shift_marks(omarks, path, {i: n + j for j, i in enumerate(kept)})
            return base + [over[i] for i in kept]
        _shift_marks(omarks, path, {i: n + i for i in range(len(over))})
        return base + over
    return over


def _resolve_extends(ref: str, here: Path, root: Path) -> tuple[Path | None, Path]:
    """The file ``ref`` names (None if it leaves the allowed tree) and the tree it may extend within."""
    shipped_root = scenarios_dir().resolve()
    if here.resolve().parent == shipped_root:
        root = shipped_root  # a shipped scenario extends within the shipped folder
    if any(ch in ref for ch in "/\\") or ref.endswith((".yaml", ".yml")):
        cand = (here.parent / ref).resolve()
    else:
        cand = (here.parent / f"{ref}.yaml").resolve()
        if not cand.exists():
            cand = (shipped_root / f"{ref}.yaml").resolve()
            root = shipped_root
    try:
        cand.relative_to(root)
    except ValueError:
        return None, root
    return cand, root


def load_document(path: str | Path) -> tuple[dict[str, Any], dict, list[str]]:
    """Load a scenario file and everything it extends, merged; with the origin of each key."""
    if not isinstance(path, str | Path) or not str(path):
        raise InputError.one("scenario", f"expected a scenario file's path, found {type(path).__name__} {path!r:.40}")
    path = Path(path)
    try:
        root = path.resolve().parent
    except (OSError, ValueError, RuntimeError) as exc:
        raise InputError.one(str(path), f"cannot read file: {getattr(exc, 'strerror', None) or exc}", 1, 1) from None
    chain: list[Path] = []
    docs: list[tuple[dict[str, Any], dict]] = []
    current = path
    where: tuple[str, int, int] | None = None  # the 'extends:' that led to ``current``
    while True:
        display = str(current)
        try:
            resolved = current.resolve()
        except (OSError, RuntimeError) as exc:  # a symbolic link loop: RuntimeError before Python 3.13
            file, line, col = where or (str(path), 1, 1)
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InputError.one(
                file, f"cannot read '{display}': {reason}", line, col, "extends" if where else ""
            ) from None
        if resolved in chain:
            cycle = " -> ".join(p.name for p in [*chain, resolved])
            file, line, col = where or (str(path), 1, 1)
            raise InputError.one(file, f"'extends' forms a cycle: {cycle}", line, col, "extends")
        if len(chain) >= MAX_EXTENDS_DEPTH:
            file, line, col = where or (str(path), 1, 1)
            raise InputError.one(file, f"'extends' chain is deeper than {MAX_EXTENDS_DEPTH}", line, col, "extends")
        chain.append(resolved)
        data, marks = load_file(current, display)
        if SETTINGS_KEY in data:
            line, col = marks.get((SETTINGS_KEY,), (1, 1))
            raise InputError.one(
                display,
                "'settings' records command-line --set values in a run's manifest; in a file, pick a lever's "
                "option with its 'value:' and fix a parameter under 'constants:'",
                line,
                col,
                SETTINGS_KEY,
            )
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
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in ref) or len(ref) > 1024:
            raise InputError.one(display, f"'{_short(ref)}' is not a scenario name or path", line, col, "extends")
        try:
            parent, root = _resolve_extends(ref, current, root)
            found = parent is not None and parent.exists()
        except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop (Python < 3.13)
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InputError.one(display, f"extends '{_short(ref)}': {reason}", line, col, "extends") from None
        if parent is None:
            raise InputError.one(
                display, f"'{_short(ref)}' leaves the scenarios' folder tree; refused", line, col, "extends"
            )
        if not found:
            raise InputError.one(
                display, f"extends '{_short(ref)}': no such scenario ({parent.name})", line, col, "extends"
            )
        where = (display, line or 1, col or 1)
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
def _scalar(ck: _Checker, where: tuple, node: Any, key: str = "value") -> tuple[Any, tuple]:
    """Allow ``support_iran: 0.7`` as shorthand for ``support_iran: {value: 0.7}``: (value, its path)."""
    if not isinstance(node, dict):
        return node, where
    for k in node:
        if k not in (key, "doc"):
            ck.bad((*where, k), f"unknown field '{_short(k)}'; expected '{key}'")
    if key not in node:
        ck.bad(where, f"missing '{key}'")
        return _MISSING, where
    return node[key], (*where, key)


_MISSING = object()


def _prefix_index(marks: dict, head: str, depth: int) -> dict[tuple, list[tuple]]:
    """Marks keys under ``(head, ...)`` grouped by their first ``depth`` parts (one pass)."""
    out: dict[tuple, list[tuple]] = {}
    for k in marks:
        if len(k) > depth and k[0] == head:
            out.setdefault(k[:depth], []).append(k)
    return out


def _apply_levers(ck: _Checker, doc: dict[str, Any], marks: dict) -> dict[str, str]:
    """Merge each lever's chosen option onto the document; return the choices."""
    chosen_all: dict[str, str] = {}
    levers = doc.get("levers", {})
    if not ck.expect(("levers",), levers, (dict,), "a mapping of lever names"):
        return chosen_all
    lever_marks = _prefix_index(marks, "levers", 5)
    for lname, lever in levers.items():
        lp = ("levers", lname)
        if not ck.expect(lp, lever, (dict,), "a mapping with 'value' and 'options'"):
            continue
        for k in lever:
            if k not in ("value", "options", "doc", "label"):
                ck.bad(
                    (*lp, k),
                    f"unknown key '{_short(k)}'{ck.suggest(k, LEVER_KEYS)}; expected value, options, doc, label",
                )
        for k in ("doc", "label"):
            if k in lever and not isinstance(lever[k], str):
                ck.bad((*lp, k), f"expected text, found {type_name(lever[k])}")
        if "options" not in lever:
            ck.bad(lp, "a lever needs 'options' (a mapping of option names to settings)")
            continue
        options = lever["options"]
        if not ck.expect((*lp, "options"), options, (dict,), "a mapping of option names to settings"):
            continue
        if not options:
            ck.bad((*lp, "options"), "a lever needs at least one option")
            continue
        for oname, setting in options.items():
            op = (*lp, "options", oname)
            if ck.expect(op, setting, (dict,), "a mapping of settings"):
                for k in setting:
                    if k not in SETTING_KEYS:
                        ck.bad((*op, k), f"a lever option may not set '{_short(k)}' (only {', '.join(SETTING_KEYS)})")
        chosen = lever.get("value", next(iter(options)))
        if not ck.name((*lp, "value"), chosen, options, "option"):
            continue
        chosen_all[lname] = chosen
        setting = options[chosen]
        if not isinstance(setting, dict):
            continue
        op = (*lp, "options", chosen)
        for k, v in setting.items():
            if k not in SETTING_KEYS:
                continue
            if k == "events":
                if not ck.expect((*op, k), v, (list,), "a list of events"):
                    continue
                existing = doc.get("events", [])
                if not isinstance(existing, list):
                    continue  # reported with the events section
                base = len(existing)
                for i in range(len(v)):
                    ck.aliases[("events", base + i)] = (*op, k, i)
                doc["events"] = [*existing, *v]
            elif not ck.expect((*op, k), v, (dict,), f"a mapping (as for '{k}:')"):
                continue
            else:
                current = doc.get(k, {})
                if not isinstance(current, dict):
                    continue  # reported with that section
                for mk in lever_marks.get((*op, k), []):
                    marks[(k, *mk[len(op) + 1 :])] = marks[mk]
                doc[k] = _merge(current, v, {}, {})
    return chosen_all


def compile_document(doc: dict[str, Any], marks: dict, file: str) -> Scenario:
    """Validate a merged scenario document and compile it; raise InputError with every issue."""
    ck = _Checker(marks, file)
    spec = load_catalog()
    fixed: dict[str, tuple] = {}  # parameter path -> where the scenario set it
    original = doc
    doc = dict(doc)
    # settings.apply_settings records what it applied (its effects are already in the document)
    recorded_settings = doc.pop(SETTINGS_KEY, None)
    if recorded_settings is not None and not isinstance(recorded_settings, dict):
        ck.bad((SETTINGS_KEY,), f"expected a mapping of settings, found {type_name(recorded_settings)}")
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

    actors = list(spec["actors"])
    # --- levers: choose an option, then merge its settings like any other section
    levers_chosen = _apply_levers(ck, doc, marks)
    # --- actors
    section = doc.get("actors", {})
    if ck.expect(("actors",), section, (dict,), "a mapping of actor names"):
        for a, over in section.items():
            ap = ("actors", a)
            if not ck.name(ap, a, spec["actors"], "actor"):
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
                                tp, f"unknown interest '{_short(term)}' of {a}{ck.suggest(term, actor['interests'])}"
                            )
                            continue
                        kind = actor["interests"][term].get("kind")
                        allowed = {"peak": ("weight", "target", "width"), "above": ("weight", "threshold")}.get(
                            kind, ("weight",)
                        )
                        if not isinstance(tv, dict):
                            _set_number(ck, spec, tp, f"actors.{a}.interests.{term}.weight", tv, fixed)
                            continue
                        for fk, fv in tv.items():
                            if fk == "doc":
                                continue
                            if fk not in allowed:
                                ck.bad(
                                    (*tp, fk),
                                    f"unknown field '{_short(fk)}' of a {kind} interest; expected {', '.join(allowed)}",
                                )
                                continue
                            _set_number(ck, spec, (*tp, fk), f"actors.{a}.interests.{term}.{fk}", fv, fixed)
                elif k == "stances":
                    if not ck.expect(kp, v, (dict,), "a mapping of issues"):
                        continue
                    for issue, sv in v.items():
                        if issue not in actor["stances"]:
                            ck.bad(
                                (*kp, issue), f"unknown issue '{_short(issue)}'{ck.suggest(issue, actor['stances'])}"
                            )
                            continue
                        value, vp = _scalar(ck, (*kp, issue), sv)
                        if value is not _MISSING:
                            _set_number(ck, spec, vp, f"actors.{a}.stances.{issue}", value, fixed)
                elif k == "response":
                    value, vp = _scalar(ck, kp, v, "weight")
                    if value is not _MISSING:
                        _set_number(ck, spec, vp, f"actors.{a}.response", value, fixed)
                elif k == "initial_grievance":
                    if not ck.expect(kp, v, (dict,), "a mapping of actors"):
                        continue
                    for b, gv in v.items():
                        if not ck.name((*kp, b), b, actors, "actor"):
                            continue
                        if b == a:
                            ck.bad((*kp, b), f"{a} cannot hold a grievance against itself")
                            continue
                        value, vp = _scalar(ck, (*kp, b), gv)
                        if value is _MISSING:
                            continue
                        gpath = f"actors.{a}.initial_grievance.{b}"
                        if _check_number(ck, spec, vp, gpath, value):
                            actor.setdefault("initial_grievance", {})[b] = {"value": value, "claims": []}
                            fixed[gpath] = vp
                else:
                    ck.bad(kp, f"unknown key '{_short(k)}'; expected interests, stances, response or initial_grievance")
    # --- world parameters, initial values, relations
    paths = numeric_paths(spec)
    path_set = set(paths)
    for sec in ("world", "initial", "relations"):
        section = doc.get(sec, {})
        if not ck.expect((sec,), section, (dict,), "a mapping"):
            continue
        valid = [p.split(".", 1)[1] for p in paths if p.startswith(f"{sec}.")]
        valid_set = set(valid)
        for k, v in section.items():
            if k not in valid_set:
                if sec == "relations" and (owner := _owned_relation(spec, str(k))):
                    ck.bad((sec, k), owner)
                    continue
                if sec == "relations":
                    a, _, b = str(k).partition("-")
                    if a in actors and b in actors and a != b:
                        spec["relations"][k] = {"value": 0.0, "assumption": "set by scenario"}
                        valid_set.add(k)
                        path_set.add(f"relations.{k}")
                if k not in valid_set:
                    if sec == "initial" and str(k) in spec["world"]["variables"]:
                        ck.bad((sec, k), _unknown_path(spec, f"initial.{k}", [], ck))
                    else:
                        ck.bad((sec, k), f"unknown {sec} name '{_short(k)}'{ck.suggest(k, valid)}")
                    continue
            value, vp = _scalar(ck, (sec, k), v)
            if value is not _MISSING:
                _set_number(ck, spec, vp, f"{sec}.{k}", value, fixed)
    # --- constraints
    section = doc.get("constraints", {})
    if ck.expect(("constraints",), section, (dict,), "a mapping of constraint ids"):
        for cid, over in section.items():
            cp = ("constraints", cid)
            if not ck.name(cp, cid, spec["constraints"], "constraint"):
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
                        f"unknown field '{_short(k)}' of {cid}{ck.suggest(k, opts)} (expected {', '.join(opts)})",
                    )
    # --- constants: any numeric path
    section = doc.get("constants", {})
    if ck.expect(("constants",), section, (dict,), "a mapping of parameter paths to values"):
        for path, v in section.items():
            if path not in path_set:
                ck.bad(("constants", path), _unknown_path(spec, str(path), paths, ck))
                continue
            _set_number(ck, spec, ("constants", path), path, v, fixed)
    # --- uncertainties
    uncertainties: list[Uncertainty] = []
    sampled: dict[str, tuple] = {}
    section = doc.get("uncertainties", {})
    if ck.expect(("uncertainties",), section, (dict,), "a mapping of parameter paths to distributions"):
        for path, d in section.items():
            up = ("uncertainties", path)
            if path not in path_set:
                ck.bad(up, _unknown_path(spec, str(path), paths, ck))
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
                sampled[path] = up
    # --- relations between parameters (floor <= ceiling), over every value a draw can take
    _cross_check(ck, spec, fixed, sampled, uncertainties)
    # --- events
    events: list[Event] = []
    names = variable_names(spec)
    section = doc.get("events", [])
    if ck.expect(("events",), section, (list,), "a list of events"):
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
        own = _explicit_paths(doc)
        for h in spec["world"].get("history", []):
            day = (dt.date.fromisoformat(str(h["at"])) - start_date).days
            if day <= end_day:
                step = max(1, math.ceil(day / float(step_days)))
                values = dict(h["set"])
                if day <= 0:  # the world's state at the start: what the scenario sets itself wins
                    values = {k: v for k, v in values.items() if k not in own}
                if values:
                    changes.append(Change(step, values, str(h.get("label", "")), day=float(day)))
    section = doc.get("changes", [])
    if ck.expect(("changes",), section, (list,), "a list of dated changes"):
        section = _capped(ck, "changes", section, MAX_CHANGES, "dated changes")
        for i, ch in enumerate(section):
            c = _check_change(ck, ("changes", i), ch, spec, horizon, step_days, start_date)
            if c is not None:
                changes.append(c)
    # --- the record before the start: replayed in a warm-up, so the state at the start follows from it
    warmup: list[Event] = []
    warmup_days = float(spec["world"]["parameters"].get("warmup_days", {}).get("value", 0.0))
    if start_date is not None and warmup_days > 0:
        warmup = _record_events(spec, start_date, warmup_days)
    # --- outcomes: catalog names, or definitions from the expression grammar
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
    # --- expectations (history as tests)
    expectations = []
    section = doc.get("expect", [])
    if ck.expect(("expect",), section, (list,), "a list of statements such as 'P(sustained_war) <= 0.2'"):
        section = _capped(ck, "expect", section, MAX_EXPECT, "expectations")
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
    # --- questions (scored by `entente score`): each is a binary outcome read on its dates
    from model.scenario import questions as qmod

    questions = qmod.check(ck, doc.get("questions", []), spec, names, start_date, horizon, step_days)
    for q in questions:
        outcome_defs[q.column] = q.outcome_def()
    policy = doc.get("policy", "model")
    if not ck.name(("policy",), policy, POLICIES, "policy"):
        policy = "model"
    if not ck.issues:
        for issue in check_catalog(spec, file):
            ck.bad((), f"the overrides break the model: {issue.key}: {issue.message}")
    if ck.issues:
        raise InputError(ck.issues)
    # --- the oil price the record gives for the start date (EIA closes), unless the scenario sets it
    anchors: dict[str, float] = {}
    if start_date is not None:
        close = brent_close_before(start_date)
        own = _explicit_paths(doc)
        if close is not None and not {"variables.brent_fundamental", "world.brent_base"} & own:
            spec["world"]["variables"]["brent_fundamental"]["initial"] = close
            spec["world"]["parameters"]["brent_base"]["value"] = close
            anchors["brent"] = close
    spec["_fixed"] = sorted(fixed)
    if start_date is not None:
        spec["_pinned_initial"] = sorted(
            p.removeprefix("variables.") for p in _explicit_paths(doc) if p.startswith("variables.")
        )
    config = Config(
        spec=spec,
        steps=int(horizon),
        seed=int(seed),
        events=events,
        uncertainties=uncertainties,
        name=name,
        changes=changes,
        outcome_defs=outcome_defs,
        policy=policy,
        marks=qmod.marks(questions),
        warmup_events=warmup,
        warmup_days=warmup_days,
        anchors=anchors,
    )
    resolved = dict(doc)
    if "questions" in doc:
        resolved["questions"] = [q.record() for q in questions]
    resolved.update({"name": name, "horizon": horizon, "step_days": step_days, "seed": seed, "replicates": replicates})
    resolved["outcomes"] = [outcome_defs.get(o, o) for o in outcomes]
    resolved.pop("levers", None)
    if recorded_settings:
        resolved[SETTINGS_KEY] = dict(recorded_settings)
    resolved["levers_chosen"] = levers_chosen
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
        questions=questions,
        document=original,
        marks=marks,
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


def _owned_relation(spec: dict, pair: str) -> str | None:
    """Why a relation cannot be set when a world variable owns it (Russia-Iran is ``cohesion``), else None.

    The model overwrites such a relation with its variable at the start and after every step, so
    a value written for it would be silently ignored.
    """
    a, _, b = pair.partition("-")
    for name, var in spec["world"]["variables"].items():
        owned = str(var.get("relation", ""))
        if owned and {a, b} == set(owned.split("-")) and a != b:
            label = var.get("label", name)
            return (
                f"the {owned} relation is the world variable '{name}' ({label}), which the model moves every step;"
                f" set its starting value with initial.{name} or its parameters (world.{name}_*), not the relation"
            )
    return None


def _unknown_path(spec: dict, path: str, paths: list[str], ck: _Checker | None = None) -> str:
    """The message for a path that is not a parameter (derived variables say what they derive from)."""
    if path.startswith("relations.") and (owner := _owned_relation(spec, path.removeprefix("relations."))):
        return f"'{_short(path)}' cannot be set: {owner}"
    var = spec["world"]["variables"].get(path.removeprefix("initial.")) if path.startswith("initial.") else None
    if var is not None and ("derived" in var or "tier_of" in var):
        how = var.get("derived") or f"the highest tier of {var['tier_of']}'s recent actions"
        return f"'{path}' cannot be set: {path.removeprefix('initial.')} is derived ({how}); set what it derives from"
    hint = ck.suggest(path, paths) if ck is not None else did_you_mean(path, paths)
    return f"unknown parameter path '{_short(path)}'{hint}"


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


def _record_events(spec: dict[str, Any], start: dt.date, window: float) -> list[Event]:
    """The catalog's record of what happened in the ``window`` days before the start, as warm-up events."""
    out = []
    for r in spec["world"].get("record", []):
        day = float((dt.date.fromisoformat(str(r["at"])) - start).days)
        if -window < day <= 0:
            out.append(
                Event(
                    actor=r["actor"],
                    action=r["action"],
                    target=r.get("target", "none"),
                    day=day,
                    label=str(r.get("label", "")),
                )
            )
    return out


def brent_close_before(date: dt.date) -> float | None:
    """The last stored Brent close (EIA spot) before a date, or None outside the stored series."""
    table = _brent_table()
    key = date.isoformat()
    best = None
    for d, v in table:
        if d < key:
            best = v
        else:
            break
    if best is None or (table and key > table[-1][0] and (date - dt.date.fromisoformat(table[-1][0])).days > 7):
        return None
    return best


@functools.lru_cache(maxsize=1)
def _brent_table() -> list[tuple[str, float]]:
    import csv

    path = Path(__file__).resolve().parent.parent / "catalog" / "brent_daily.csv"
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(line for line in fh if not line.startswith("#")):
            rows.append((row["date"], float(row["close"])))
    return rows


def _explicit_paths(doc: dict[str, Any]) -> set[str]:
    """The change paths a scenario sets itself (initial values, relations, parameters), which the timeline must not undo."""
    out: set[str] = set()
    for v in (doc.get("initial") or {}) if isinstance(doc.get("initial"), dict) else {}:
        out.add(f"variables.{v}")
    for pair in (doc.get("relations") or {}) if isinstance(doc.get("relations"), dict) else {}:
        a, _, b = str(pair).partition("-")
        out |= {f"relations.{a}-{b}", f"relations.{b}-{a}"}
    for p in (doc.get("world") or {}) if isinstance(doc.get("world"), dict) else {}:
        out.add(f"world.{p}")
    for p in (doc.get("constants") or {}) if isinstance(doc.get("constants"), dict) else {}:
        out.add(str(p))
    for p in (doc.get("uncertainties") or {}) if isinstance(doc.get("uncertainties"), dict) else {}:
        # a sampled value is the scenario's own too (initial.X is the variable X's starting value)
        head, _, rest = str(p).partition(".")
        out.add(f"variables.{rest}" if head == "initial" else str(p))
    cons = doc.get("constraints") if isinstance(doc.get("constraints"), dict) else {}
    for cid, c in (cons or {}).items():
        if isinstance(c, dict):
            out |= {f"constraints.{cid}.{k}" for k in c}
    return out


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


def _check_number(ck: _Checker, spec: dict, where: tuple, path: str, value: Any) -> bool:
    """The one range check (model/catalog/ranges.yaml) for every way a value enters a scenario."""
    if not ck.number(where, value):
        return False
    problem = ranges.check(spec, path, value, name=not dotted(where).endswith(path))
    if problem:
        ck.bad(where, problem)
        return False
    return True


def _set_number(ck: _Checker, spec: dict, where: tuple, path: str, value: Any, fixed: dict[str, tuple]) -> None:
    if path == "world.step_days":
        # the clock: its checks (no longer than the shortest decision cycle, events and dates mapped
        # to steps) hang on the top-level key, so a parameter override would bypass them
        ck.bad(where, "step_days is the clock, not a world parameter: set the scenario's top-level `step_days:`")
        return
    if _check_number(ck, spec, where, path, value):
        set_value(spec, path, value)
        fixed[path] = where


def _bounds(spec: dict, path: str) -> tuple[float | None, float | None]:
    """(low, high) of a parameter path, from model/catalog/ranges.yaml (see ``ranges.check``)."""
    low, high, _ = ranges.bounds(spec, path)
    return low, high


def _cross_check(
    ck: _Checker, spec: dict, fixed: dict[str, tuple], sampled: dict[str, tuple], uncertainties: list[Uncertainty]
) -> None:
    support: dict[str, tuple[float, float]] = {}
    by_path = {u.path: u for u in uncertainties}
    for rule in ranges.table()[1]:
        for path in (rule.low, rule.high):
            if path in by_path:
                p = by_path[path].params
                vals = p.get("values") or [p["low"], p["high"]]
                support[path] = (min(vals), max(vals))
            else:
                try:
                    v = get_value(spec, path)
                except KeyError:
                    continue
                if isinstance(v, int | float):
                    support[path] = (v, v)
    for low, high, message in ranges.cross_check(support):
        where = sampled.get(low) or fixed.get(low) or sampled.get(high) or fixed.get(high)
        if where is not None:  # the catalog itself is checked by the tests
            ck.bad(where, message)


def _check_distribution(ck: _Checker, spec: dict, where: tuple, path: str, d: Any) -> Uncertainty | None:
    if not ck.expect(where, d, (dict,), "a distribution such as {dist: uniform, low: 0, high: 1}"):
        return None
    if "dist" not in d:
        ck.bad(where, f"missing 'dist' (one of {', '.join(DISTRIBUTIONS)})")
        return None
    dist = d["dist"]
    if not ck.name((*where, "dist"), dist, DISTRIBUTIONS, "distribution"):
        return None
    need = DISTRIBUTIONS[dist]
    params: dict[str, Any] = {}
    ok = True
    for k in d:
        if k not in (*need, "dist", "doc"):
            ck.bad((*where, k), f"unknown field '{_short(k)}' for {dist}; expected {', '.join(need)}")
            ok = False
    if "doc" in d and not isinstance(d["doc"], str):
        ck.bad((*where, "doc"), f"expected text, found {type_name(d['doc'])}")
        ok = False
    for k in need:
        if k not in d:
            ck.bad(where, f"{dist} needs '{k}'")
            ok = False
            continue
        if k == "values":
            vals = d[k]
            if not ck.expect((*where, k), vals, (list,), "a list of numbers"):
                ok = False
                continue
            if not vals:
                ck.bad((*where, k), "a choice needs at least one value")
                ok = False
                continue
            for i, v in enumerate(vals):
                ok &= _check_number(ck, spec, (*where, k, i), path, v)
            params[k] = vals
        else:
            good = ck.number((*where, k), d[k])
            if good and k in ("low", "high"):
                good = _check_number(ck, spec, (*where, k), path, d[k])
            ok &= good
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
    once = ev.get("once", True)
    if not isinstance(once, bool):
        ck.bad((*where, "once"), f"expected true or false, found {type_name(once)}")
    label = ev.get("label", "")
    if not isinstance(label, str):
        ck.bad((*where, "label"), f"expected text, found {type_name(label)}")
    if len(ck.issues) > n_issues:
        return None
    return Event(actor=actor, action=action, target=target, step=step, when=when, once=once, label=label, day=day)


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
