"""The cited data: actors, actions, constraints, world, claims and escalation scales.

Behaviour is data here and mechanism is code in ``model.engine``. ``load_catalog`` returns
a fresh, plain-dict copy that a scenario may override; ``check_catalog`` validates the
cross-references (every action, actor, variable, claim and condition named exists) so that
an override that breaks the model is reported, never simulated.
"""

from __future__ import annotations

import copy
import csv
import functools
from pathlib import Path
from typing import Any

from model import expr
from model.errors import InputError, InputIssue, did_you_mean
from model.safeyaml import Marks, load_file

HERE = Path(__file__).parent
FILES = ("claims.yaml", "world.yaml", "actors.yaml", "actions.yaml", "constraints.yaml", "outcomes.yaml")
INTEREST_KINDS = ("linear", "peak", "above")
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


@functools.lru_cache(maxsize=1)
def _load_raw() -> tuple[dict[str, Any], dict[str, Marks]]:
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
    }
    issues = check_catalog(out)
    if issues:
        raise InputError(issues)
    return out, marks


def load_catalog() -> dict[str, Any]:
    """A fresh deep copy of the shipped catalog, safe to override."""
    return copy.deepcopy(_load_raw()[0])


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
            if it.get("kind") == "above" and not isinstance(it.get("threshold"), int | float):
                bad(f"{tkey}.threshold", "an 'above' interest needs a numeric threshold")
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
        params = set((con.get("params") or {}).keys())
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
