"""The cited data: actors, actions, constraints, world, claims and escalation scales.

Behaviour is data here and mechanism is code in ``model.engine``. ``load_catalog`` returns
a fresh, plain-dict copy that a scenario may override; ``check_catalog`` validates the
cross-references (every action, actor, variable, claim and condition named exists) so that
an override that breaks the model is reported, never simulated.
"""

from __future__ import annotations

import csv
import functools
import pickle
from pathlib import Path
from typing import Any

from model import expr
from model.errors import InputError, InputIssue, did_you_mean
from model.safeyaml import Marks, load_file

HERE = Path(__file__).parent
FILES = (
    "claims.yaml",
    "world.yaml",
    "actors.yaml",
    "actions.yaml",
    "constraints.yaml",
    "outcomes.yaml",
    "reporting.yaml",
)
INTEREST_KINDS = ("linear", "peak", "above", "below")
CONSTRAINT_KINDS = ("forbid", "gate", "cap", "cost")
# outcome reducers and the kind of summary each gives (continuous, binary, event)
OUTCOME_REDUCERS = {
    "max": "continuous",
    "min": "continuous",
    "mean": "continuous",
    "final": "continuous",
    "change": "continuous",
    "ever": "binary",
    "at_end": "binary",
    "weeks": "continuous",
    "first_week": "event",
    "settled_week": "event",
}


def outcome_table(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The catalog's outcomes with their kind and unit resolved (the one table docs and reports use)."""
    out = {}
    for name, d in spec["outcomes"].items():
        kind = d.get("kind") or OUTCOME_REDUCERS[d["reduce"]]
        out[name] = {**d, "kind": kind, "unit": d.get("unit") or "probability"}
    return out


@functools.lru_cache(maxsize=2)
def _load_raw(calibrated: bool = True) -> tuple[dict[str, Any], dict[str, Marks]]:
    spec: dict[str, Any] = {}
    marks: dict[str, Marks] = {}
    for name in FILES:
        data, m = load_file(HERE / name, display=f"model/catalog/{name}")
        spec[name.removesuffix(".yaml")] = data
        marks[name] = m
    scales: dict[str, dict[str, Any]] = {}
    with open(HERE / "scales.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            scales[row["action"]] = {
                "cameo": row["cameo"],
                "cameo_label": row["cameo_label"],
                "goldstein": float(row["goldstein"]),
                "kahn_rung": int(row["kahn_rung"]),
                "kahn_label": row["kahn_label"],
            }
    out = {
        "claims": spec["claims"]["claims"],
        "not_modelled": spec["claims"].get("not_modelled", {}),
        "sources": spec["claims"]["sources"],
        "world": spec["world"],
        "actors": spec["actors"]["actors"],
        "relations": spec["actors"]["relations"],
        "theatres": spec["actors"].get("theatres", {}),
        "actions": spec["actions"]["actions"],
        "axis": spec["actions"]["axis"],
        "war_parties": spec["actions"]["war_parties"],
        "constraints": spec["constraints"]["constraints"],
        "outcomes": spec["outcomes"]["outcomes"],
        "outcomes_default": spec["outcomes"]["default"],
        "scales": scales,
        "reporting": spec["reporting"]["reporting"],  # who and what reports put first (model.catalog.reporting)
    }
    from model.catalog.reporting import check_reporting

    issues = check_catalog(out) + calibration_issues(out) + check_reporting(out)
    if issues:
        raise InputError(issues)
    if calibrated and CALIBRATION.exists():
        data, m = load_file(CALIBRATION, display=f"model/catalog/{CALIBRATION.name}")
        apply_calibration(out, data, m, f"model/catalog/{CALIBRATION.name}")
    return out, marks


# ------------------------------------------------------------------ calibration: the declared space and the overlay
# A value the calibration script may tune declares its search range where it is written:
#   world.yaml parameters:   grievance_discharge: {value: 0.9, ..., calibrate: {low: 0.5, high: 1.0}}
#   a variable's initial value, a relation, a stance, a response or an initial grievance: the same
#   an interest:             {weight: -0.4, ..., calibrate: {low: -1, high: 0}}   (the weight), or
#                            calibrate: {target: {low: .., high: ..}, width: {...}} (other fields)
#   a constraint:            calibrate: {<param>: {low: .., high: ..}}
# scripts/calibrate.py writes the values it chose to model/catalog/calibration.yaml, an overlay
# applied on top of the YAML files: every value must be declared and within its range, and each
# says it was calibrated (its provenance names the run), so no value is tuned out of sight.
CALIBRATION = HERE / "calibration.yaml"
CALIBRATION_SCRIPT = "scripts/calibrate.py"
_PRIMARY = ("value", "weight", "initial")


def _declared(node: Any, key: str, field: str | None = None) -> Any:
    """The {low, high} a node declares for ``key`` (its primary value) or for ``field`` (None if none)."""
    cal = node.get("calibrate") if isinstance(node, dict) else None
    if not isinstance(cal, dict):
        return None
    if field is None:
        return cal if "low" in cal or "high" in cal else None
    if "low" in cal or "high" in cal:
        return cal if field in _PRIMARY and field == key else None
    return cal.get(field)


def calibration_nodes(spec: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str, dict[str, Any], Any]]:
    """Every calibratable value: path -> (holder, key, node that declares it, its {low, high} declaration).

    ``holder[key]`` is the value; ``node`` carries the ``calibrate:`` entry and, once calibrated,
    the ``calibrated:`` provenance (a constraint for its parameters, else the holder itself).
    """
    out: dict[str, tuple[dict[str, Any], str, dict[str, Any], Any]] = {}

    def add(path: str, holder: Any, key: str, node: Any, decl: Any) -> None:
        if decl is not None and isinstance(holder, dict):
            out[path] = (holder, key, node, decl)

    for name, par in spec["world"]["parameters"].items():
        add(f"world.{name}", par, "value", par, _declared(par, "value"))
    for name, var in spec["world"]["variables"].items():
        add(f"initial.{name}", var, "initial", var, _declared(var, "initial"))
    for pair, rel in spec["relations"].items():
        add(f"relations.{pair}", rel, "value", rel, _declared(rel, "value"))
    for cid, con in spec["constraints"].items():
        cal = con.get("calibrate")
        if isinstance(cal, dict):
            for param, decl in cal.items():
                add(f"constraints.{cid}.{param}", con.get("params") or {}, str(param), con, decl)
    for a, actor in spec["actors"].items():
        add(
            f"actors.{a}.response",
            actor.get("response"),
            "weight",
            actor.get("response"),
            _declared(actor.get("response"), "weight"),
        )
        for issue, st in (actor.get("stances") or {}).items():
            add(f"actors.{a}.stances.{issue}", st, "value", st, _declared(st, "value"))
        for b, g in (actor.get("initial_grievance") or {}).items():
            add(f"actors.{a}.initial_grievance.{b}", g, "value", g, _declared(g, "value"))
        for term, it in (actor.get("interests") or {}).items():
            for fld in ("weight", "target", "width", "threshold"):
                add(f"actors.{a}.interests.{term}.{fld}", it, fld, it, _declared(it, "weight", fld))
    return out


def structural_uncertainty(spec: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Assumed values sampled per replicate by default: path -> (low, high) around the current value.

    A calibratable value that declares a relative ``spread`` (``calibrate: {low, high, spread}``) is
    drawn per replicate, uniformly within ``value * (1 -/+ spread)`` (clipped to its calibration
    range): the model does not pretend to know an assumed value exactly, so a question it cannot
    settle gets a probability between 0 and 1. The calibration moves the centre; the spread stays.
    """
    out: dict[str, tuple[float, float]] = {}
    for path, (holder, key, _node, decl) in calibration_nodes(spec).items():
        spread = decl.get("spread") if isinstance(decl, dict) else None
        if not spread:
            continue
        v = float(holder[key])
        lo, hi = sorted((v * (1 - float(spread)), v * (1 + float(spread))))
        lo = max(lo, float(decl.get("low", lo)))
        hi = min(hi, float(decl.get("high", hi)))
        if hi > lo:
            out[path] = (lo, hi)
    return out


def sampled_by_default(spec: dict[str, Any]) -> list[str]:
    """Every path drawn per replicate unless a scenario fixes it: the disputed values and the assumed ones."""
    return list(spec["world"].get("disputed", {})) + list(structural_uncertainty(spec))


def calibration_space(spec: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """The parameters declared calibratable and their search ranges: path -> (low, high).

    An entry with ``search: false`` is estimated elsewhere (its ``doc`` says from what): it keeps its
    range and spread, but the scorer does not move it.
    """
    return {
        p: (float(d["low"]), float(d["high"]))
        for p, (_, _, _, d) in calibration_nodes(spec).items()
        if d.get("search", True) is not False
    }


def calibration_issues(spec: dict[str, Any], file: str = "catalog") -> list[InputIssue]:
    """Check the shipped catalog's ``calibrate:`` declarations: numbers, low < high, the value inside, not disputed.

    Run on the catalog as loaded, not on a scenario's overrides (a scenario may set a value
    outside the range the calibration searches; ranges.yaml says what is valid).
    """
    issues: list[InputIssue] = []

    def bad(key: str, message: str) -> None:
        issues.append(InputIssue(file, None, None, key, message))

    for cid, con in spec["constraints"].items():
        cal = con.get("calibrate")
        if cal is not None and not isinstance(cal, dict):
            bad(f"constraints.{cid}.calibrate", "expected {<param>: {low: NUMBER, high: NUMBER}}")
    disputed = set(spec["world"].get("disputed", {}))
    for path, (holder, key, _node, decl) in calibration_nodes(spec).items():
        where = f"{path} (calibrate)"
        if (
            not isinstance(decl, dict)
            or set(decl) - {"low", "high", "doc", "spread", "search"}
            or not {"low", "high"} <= set(decl)
        ):
            bad(where, "expected {low: NUMBER, high: NUMBER} and optionally spread: FRACTION, search: false")
        elif "spread" in decl and not (isinstance(decl["spread"], int | float) and 0 < decl["spread"] < 1):
            bad(where, "spread is a fraction of the value, between 0 and 1")
            continue
        lo, hi = decl["low"], decl["high"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lo, hi)) or not lo < hi:
            bad(where, f"expected numbers with low < high, found low {lo!r}, high {hi!r}")
            continue
        if key not in holder:
            owner = path.split(".")[1] if path.startswith("constraints.") else path
            bad(where, f"{owner} has no parameter '{key}'" if owner != path else f"{path} has no '{key}'")
            continue
        value = holder[key]
        if isinstance(value, int | float) and not lo <= value <= hi:
            bad(where, f"the value {value} lies outside its declared range [{lo}, {hi}]")
        if path in disputed:
            bad(
                where,
                "a disputed value is sampled per replicate (issue 18: structural uncertainty stays sampled); it cannot be calibrated",
            )
    return issues


def apply_calibration(spec: dict[str, Any], data: Any, marks: Marks, file: str) -> list[str]:
    """Apply a calibration overlay (scripts/calibrate.py's output) to a catalog; return the paths set.

    The overlay is ``{run: {...}, values: {path: number}}``. Every path must be declared
    calibratable and its value finite and within the declared range (InputError, located, if
    not). Each value's provenance becomes ``calibrated: scripts/calibrate.py (<run>)``.
    """
    issues: list[InputIssue] = []

    def bad(path: tuple, message: str) -> None:
        line, col = marks.at(path) if isinstance(marks, Marks) else (1, 1)
        issues.append(InputIssue(file, line or 1, col or 1, ".".join(str(p) for p in path), message))

    if not isinstance(data, dict):
        bad((), "expected a mapping with 'run' and 'values'")
        raise InputError(issues)
    for k in data:
        if k not in ("run", "values", "forecast"):
            bad((k,), f"unknown key '{k}'; expected run, values, forecast")
    run = data.get("run") or {}
    values = data.get("values") or {}
    if not isinstance(run, dict):
        bad(("run",), "expected a mapping describing the calibration run")
        run = {}
    if not isinstance(values, dict):
        bad(("values",), "expected a mapping of parameter paths to numbers")
        values = {}
    nodes = calibration_nodes(spec)
    summary = calibration_summary(run)
    done = []
    for path, v in values.items():
        if path not in nodes:
            hint = did_you_mean(str(path), list(nodes)) if nodes else " (no parameter declares calibrate: {low, high})"
            bad(("values", path), f"'{path}' is not declared calibratable in the catalog{hint}")
            continue
        holder, key, node, decl = nodes[path]
        if decl.get("search", True) is False:
            bad(("values", path), f"'{path}' is estimated from data (search: false), not by the calibration")
            continue
        lo, hi = float(decl["low"]), float(decl["high"])
        if isinstance(v, bool) or not isinstance(v, int | float) or not (lo <= v <= hi):
            bad(("values", path), f"expected a number in its declared range [{lo:g}, {hi:g}], found {v!r}")
            continue
        holder[key] = float(v)
        text = f"{CALIBRATION_SCRIPT} ({summary})"
        if node is not holder:  # a constraint's parameter: the constraint names which
            text = f"{CALIBRATION_SCRIPT} ({key} = {float(v):g}; {summary})"
        node["calibrated"] = text
        done.append(str(path))
    forecast = data.get("forecast")
    if forecast is not None:
        # the recalibration of question forecasts (model.analysis.score.recalibrate), within the fit's bounds:
        # one {shift, slope} for every question, or one per question family ({choice: {...}, state: {...}})
        if not isinstance(forecast, dict):
            bad(
                ("forecast",),
                "expected a mapping {choice: {shift, slope, hedge, base}, state: {...}} or {shift, slope, ...}",
            )
        else:
            flat = any(k in FORECAST_BOUNDS for k in forecast)
            parts = {f: forecast for f in FORECAST_FAMILIES} if flat else forecast
            target = spec["reporting"].setdefault("forecast", {})
            for fam, part in parts.items():
                where = ("forecast",) if flat else ("forecast", fam)
                if fam not in FORECAST_FAMILIES:
                    bad(
                        where,
                        f"unknown key '{fam}'; expected {', '.join(FORECAST_FAMILIES)} (or {', '.join(FORECAST_BOUNDS)})",
                    )
                    continue
                if not isinstance(part, dict):
                    bad(where, f"expected a mapping {{{', '.join(FORECAST_BOUNDS)}}}")
                    continue
                node = target.setdefault(fam, {})
                for key, (lo, hi) in FORECAST_BOUNDS.items():
                    v = part.get(key)
                    if v is None and key not in FORECAST_REQUIRED:
                        continue
                    if isinstance(v, bool) or not isinstance(v, int | float) or not (lo <= v <= hi):
                        bad((*where, key), f"expected a number in [{lo:g}, {hi:g}], found {v!r}")
                        continue
                    node[key] = float(v)
                for k in part:
                    if k not in FORECAST_BOUNDS:
                        bad((*where, k), f"unknown key '{k}'; expected {', '.join(FORECAST_BOUNDS)}")
                node["calibrated"] = f"{CALIBRATION_SCRIPT} ({summary})"
                done += [f"reporting.forecast.{fam}.{k}" for k in FORECAST_BOUNDS if k in part]
    if issues:
        raise InputError(issues)
    return done


# the grid scripts/calibrate.py searches for the forecast recalibration (model.analysis.score.fit_recalibration)
FORECAST_BOUNDS = {"shift": (-2.5, 2.5), "slope": (0.3, 1.5), "hedge": (0.0, 0.3), "base": (0.0, 1.0)}
FORECAST_REQUIRED = ("shift", "slope")  # hedge and base may be left out (no hedge)
# the question families it is fitted for (model.analysis.score.FAMILIES)
FORECAST_FAMILIES = ("choice", "state")


def calibration_summary(run: dict[str, Any]) -> str:
    """One line naming a calibration run: date, sample size, train and held-out scores."""
    parts = [str(run.get("date", "undated"))]
    if run.get("samples") and run.get("replicates"):
        parts.append(f"{run['samples']} sets x {run['replicates']} replicates")
    for key, label in (("train", "train"), ("held_out", "held-out")):
        ep = run.get(key)
        sc = run.get(f"{key}_score") or {}
        if isinstance(ep, list):
            skill = sc.get("skill") if isinstance(sc, dict) else None
            parts.append(
                f"{label} {len(ep)} episodes" + (f", skill {skill:.2f}" if isinstance(skill, int | float) else "")
            )
    return "; ".join(parts)


def plain_copy(obj: Any) -> Any:
    """A deep copy of plain data (the catalog's dicts, lists, numbers and strings).

    Pickling copies such data about three times faster than ``copy.deepcopy`` (2.4 ms against 6.7
    for the whole catalog), which every run, dated change and table compilation makes.
    """
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301 (our own bytes, made one line above)


def load_catalog(calibrated: bool = True) -> dict[str, Any]:
    """A fresh deep copy of the shipped catalog, safe to override.

    ``calibrated=False`` leaves out the calibration overlay: the values as the YAML files state
    them, with their assumptions (the prior the calibration script starts from).
    """
    return plain_copy(_load_raw(calibrated)[0])


def world_variables(spec: dict[str, Any]) -> list[str]:
    """World variable names in their fixed order (the order of world.yaml)."""
    return list(spec["world"]["variables"])


def variable_names(spec: dict[str, Any]) -> set[str]:
    """Every name an expression may read: world variables, relations, stances, step/week."""
    names = set(world_variables(spec)) | {"step", "week", "day"}
    actors = list(spec["actors"])
    for a in actors:
        for b in actors:
            if a != b:
                names.add(f"relation.{a}.{b}")
        for issue in spec["world"]["issues"]:
            names.add(f"stance.{a}.{issue}")
    names |= count_names(spec)
    return names


def count_names(spec: dict[str, Any]) -> set[str]:
    """Names of the choice counters: how often an actor took an action (against a target) since the start.

    ``count.<actor>.<action>`` counts every target, ``count.<actor>.<action>.<target>`` one target;
    forced events count as choices. Questions ("does Iran fire at US forces by 15 January?") and
    outcomes read them like world variables.
    """
    out: set[str] = set()
    hold = spec["world"]["roles"]["hold"]["action"]
    for act, sa in spec["actions"].items():
        if act == hold:
            continue
        for a, targets in (sa.get("takers") or {}).items():
            out.add(f"count.{a}.{act}")
            for t in targets:
                if t != "none":
                    out.add(f"count.{a}.{act}.{t}")
    return out


def _cites(node: dict[str, Any]) -> bool:
    return bool(node.get("claims")) or bool(node.get("assumption")) or bool(node.get("calibrated"))


def provenance(node: dict[str, Any]) -> str:
    """How a value is grounded: from the articles (which claims), calibrated (to what), or an assumption (why).

    A value can be all three: the articles give its direction, history its size.
    """
    parts = []
    if node.get("claims"):
        parts.append(f"article: {', '.join(node['claims'])}")
    if node.get("calibrated"):
        parts.append(f"calibrated: {node['calibrated']}")
    if node.get("assumption"):
        parts.append(f"assumption: {node['assumption']}")
    return "; ".join(parts) or "uncited"


def check_catalog(spec: dict[str, Any], file: str = "catalog") -> list[InputIssue]:
    """Cross-check a (possibly overridden) catalog; return every problem found."""
    issues: list[InputIssue] = []

    def bad(key: str, message: str) -> None:
        issues.append(InputIssue(file, None, None, key, message))

    claims = set(spec["claims"])
    actors = list(spec["actors"])
    variables = world_variables(spec)
    issue_names = list(spec["world"]["issues"])
    actions = spec["actions"]

    def check_claims(key: str, node: Any) -> None:
        if not isinstance(node, dict):
            return
        for c in node.get("claims", []) or []:
            if c not in claims:
                bad(f"{key}.claims", f"unknown claim id '{c}'{did_you_mean(c, claims)}")

    for name, var in spec["world"]["variables"].items():
        check_claims(f"world.variables.{name}", var)
        if not _cites(var):
            bad(f"world.variables.{name}", "needs claims or an assumption")
        if not var["lower"] <= var["initial"] <= var["upper"]:
            bad(f"world.variables.{name}.initial", f"{var['initial']} is outside [{var['lower']}, {var['upper']}]")
    for name, par in spec["world"]["parameters"].items():
        check_claims(f"world.parameters.{name}", par)
        if not _cites(par):
            bad(f"world.parameters.{name}", "needs claims or an assumption")
    for name, iss in spec["world"]["issues"].items():
        check_claims(f"world.issues.{name}", iss)
    for path, dist in spec["world"].get("disputed", {}).items():
        check_claims(f"world.disputed.{path}", dist)
    for a, actor in spec["actors"].items():
        key = f"actors.{a}"
        check_claims(key, actor)
        check_claims(f"{key}.response", actor.get("response"))
        for issue in issue_names:
            if issue not in actor.get("stances", {}):
                bad(f"{key}.stances", f"missing stance on issue '{issue}'")
        for issue, st in actor.get("stances", {}).items():
            if issue not in issue_names:
                bad(f"{key}.stances.{issue}", f"unknown issue{did_you_mean(issue, issue_names)}")
            check_claims(f"{key}.stances.{issue}", st)
            if not _cites(st):
                bad(f"{key}.stances.{issue}", "needs claims or an assumption")
        for b, g in actor.get("initial_grievance", {}).items():
            if b not in actors:
                bad(f"{key}.initial_grievance.{b}", f"unknown actor{did_you_mean(b, actors)}")
            check_claims(f"{key}.initial_grievance.{b}", g)
        for term, it in actor.get("interests", {}).items():
            tkey = f"{key}.interests.{term}"
            check_claims(tkey, it)
            if not it.get("claims"):
                bad(tkey, "every interest needs claim ids")
            if it.get("kind") not in INTEREST_KINDS:
                bad(f"{tkey}.kind", f"expected one of {', '.join(INTEREST_KINDS)}, found '{it.get('kind')}'")
            var = it.get("var", "")
            if var.startswith("relation."):
                other = var.split(".", 1)[1]
                if other not in actors or other == a:
                    bad(f"{tkey}.var", f"unknown actor in '{var}'{did_you_mean(other, actors)}")
            elif var not in variables:
                bad(f"{tkey}.var", f"unknown world variable '{var}'{did_you_mean(var, variables)}")
            if it.get("kind") == "peak" and not it.get("width", 0) > 0:
                bad(f"{tkey}.width", "a peak interest needs a positive width")
            if it.get("kind") in ("above", "below") and not isinstance(it.get("threshold"), int | float):
                bad(f"{tkey}.threshold", f"an '{it.get('kind')}' interest needs a numeric threshold")
    for pair, rel in spec["relations"].items():
        check_claims(f"relations.{pair}", rel)
        parts = pair.split("-")
        if len(parts) != 2 or any(p not in actors for p in parts) or parts[0] == parts[1]:
            bad(f"relations.{pair}", "expected 'actor-actor' with two different known actors")
        if not -1 <= rel.get("value", 0) <= 1:
            bad(f"relations.{pair}.value", "relations lie in [-1, 1]")
    for act, spec_a in actions.items():
        key = f"actions.{act}"
        check_claims(key, spec_a)
        if not _cites(spec_a):
            bad(key, "needs claims or an assumption")
        if act not in spec["scales"]:
            bad(key, "missing from scales.csv (Goldstein value and ladder rung)")
        for taker, targets in spec_a.get("takers", {}).items():
            if taker not in actors:
                bad(f"{key}.takers.{taker}", f"unknown actor{did_you_mean(taker, actors)}")
            for t in targets:
                if t != "none" and t not in actors:
                    bad(f"{key}.takers.{taker}", f"unknown target '{t}'{did_you_mean(t, actors)}")
        targets_of = {t for ts in (spec_a.get("takers") or {}).values() for t in ts}
        for t, e in (spec_a.get("effort_by_target") or {}).items():
            if t not in targets_of:
                bad(f"{key}.effort_by_target.{t}", f"not a target of this action{did_you_mean(t, sorted(targets_of))}")
            elif not isinstance(e, (int, float)) or isinstance(e, bool):
                bad(f"{key}.effort_by_target.{t}", "expected a number")
        for field in ("effects",):
            for var in spec_a.get(field, {}) or {}:
                if var not in variables:
                    bad(f"{key}.{field}.{var}", f"unknown world variable{did_you_mean(var, variables)}")
        for field in ("by_target", "by_actor", "by_actor_sets"):
            for who, eff in (spec_a.get(field, {}) or {}).items():
                if who not in actors:
                    bad(f"{key}.{field}.{who}", f"unknown actor{did_you_mean(who, actors)}")
                for var in eff:
                    if var not in variables:
                        bad(f"{key}.{field}.{who}.{var}", f"unknown world variable{did_you_mean(var, variables)}")
        for var in (spec_a.get("sets", {}) or {}) | (spec_a.get("cost", {}) or {}):
            if var not in variables:
                bad(f"{key}", f"unknown world variable '{var}'{did_you_mean(var, variables)}")
        for who in spec_a.get("reactions", {}) or {}:
            if who not in actors:
                bad(f"{key}.reactions.{who}", f"unknown actor{did_you_mean(who, actors)}")
        for issue in spec_a.get("align", {}) or {}:
            if issue not in issue_names:
                bad(f"{key}.align.{issue}", f"unknown issue{did_you_mean(issue, issue_names)}")
        if spec_a.get("polarity", "neutral") not in ("help", "harm", "neutral"):
            bad(f"{key}.polarity", "expected help, harm or neutral")
    names = variable_names(spec)
    for cid, con in spec["constraints"].items():
        key = f"constraints.{cid}"
        check_claims(key, con)
        if not con.get("claims"):
            bad(key, "every constraint needs claim ids")
        if con.get("kind") not in CONSTRAINT_KINDS:
            bad(f"{key}.kind", f"expected one of {', '.join(CONSTRAINT_KINDS)}, found '{con.get('kind')}'")
        if con.get("actor") not in actors:
            bad(f"{key}.actor", f"unknown actor '{con.get('actor')}'{did_you_mean(str(con.get('actor')), actors)}")
        acts = con.get("actions", [])
        for act in acts:
            if act not in actions:
                bad(f"{key}.actions", f"unknown action '{act}'{did_you_mean(act, actions)}")
            elif con.get("actor") not in actions[act].get("takers", {}):
                bad(f"{key}.actions", f"'{con.get('actor')}' cannot take '{act}' in the first place")
        params = set((con.get("params") or {}).keys()) | set(spec["world"]["parameters"])
        for field in ("condition", "penalty"):
            if field in con:
                try:
                    expr.parse(con[field], names, params)
                except expr.ExprError as exc:
                    bad(f"{key}.{field}", exc.message)
        if con.get("kind") == "gate" and "condition" not in con:
            bad(key, "a gate needs a condition")
        if con.get("kind") == "cost" and "penalty" not in con:
            bad(key, "a cost needs a penalty")
        if con.get("kind") == "cap" and con.get("stock") not in variables:
            bad(f"{key}.stock", f"unknown stock '{con.get('stock')}'")
    # every stock an action consumes must be covered by a cap constraint (so it is cited and logged)
    capped = {
        (c["actor"], a) for c in spec["constraints"].values() if c.get("kind") == "cap" for a in c.get("actions", [])
    }
    for act, spec_a in actions.items():
        if spec_a.get("cost"):
            for taker in spec_a.get("takers", {}):
                owns = any(var.startswith(f"{taker}.") for var in spec_a["cost"])
                if owns and (taker, act) not in capped:
                    bad(f"actions.{act}.cost", f"'{taker}' consumes a stock here but no cap constraint covers it")
    tracks = spec["world"].get("tracks", {})
    params_known = set(spec["world"]["parameters"])
    for act, spec_a in actions.items():
        if act != "hold" and spec_a.get("track") not in tracks:
            bad(f"actions.{act}.track", f"expected one of {', '.join(tracks)}, found '{spec_a.get('track')}'")
    for tr, d in tracks.items():
        if d.get("rate") not in params_known:
            bad(f"tracks.{tr}.rate", f"unknown world parameter '{d.get('rate')}'")
    for name, var in spec["world"]["variables"].items():
        for field in ("derived", "rate"):
            if field in var:
                try:
                    expr.parse(str(var[field]), names)
                except expr.ExprError as exc:
                    bad(f"variables.{name}.{field}", exc.message)
        if "revert" in var:
            try:
                expr.parse(str(var["revert"].get("to")), names)
            except expr.ExprError as exc:
                bad(f"variables.{name}.revert.to", exc.message)
            if var["revert"].get("rate") not in params_known:
                bad(f"variables.{name}.revert.rate", f"unknown world parameter '{var['revert'].get('rate')}'")
        for field in ("decay", "noise", "upper_param"):
            if field in var and var[field] not in params_known:
                bad(f"variables.{name}.{field}", f"unknown world parameter '{var[field]}'")
    for cid, con in spec["constraints"].items():
        acts = con.get("actions", [])
        if isinstance(acts, dict) and any(not isinstance(f, int | float) or f < 0 for f in acts.values()):
            bad(f"constraints.{cid}.actions", "cost factors must be non-negative numbers (costs only lower utilities)")
    for name, out in spec.get("outcomes", {}).items():
        try:
            expr.parse(str(out.get("expr")), names)
        except expr.ExprError as exc:
            bad(f"outcomes.{name}.expr", exc.message)
        if out.get("reduce") not in OUTCOME_REDUCERS:
            bad(f"outcomes.{name}.reduce", f"expected one of {', '.join(OUTCOME_REDUCERS)}")
    for cid in spec.get("not_modelled", {}):
        if cid not in claims:
            bad(f"not_modelled.{cid}", "unknown claim id")
    return issues


def claim_references(spec: dict[str, Any]) -> dict[str, list[str]]:
    """For each claim id, the catalog paths that cite it (the project's bibliography)."""
    refs: dict[str, list[str]] = {c: [] for c in spec["claims"]}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for c in node.get("claims", []) or []:
                refs.setdefault(c, []).append(path)
            for k, v in node.items():
                if k != "claims":
                    walk(v, f"{path}.{k}" if path else str(k))

    for section in ("world", "actors", "relations", "theatres", "actions", "axis", "war_parties", "constraints"):
        walk(spec[section], section)
    return refs
