"""Cross-check a catalog: every action, actor, variable, claim and condition it names exists.

A scenario may override any catalog value, so the check runs on the catalog as loaded and on
every overridden one: an override that breaks a reference is reported, located by its catalog
path, and never simulated. Every problem is collected, section by section in a fixed order,
so one ``entente validate`` lists them all, always in the same order.
"""

from __future__ import annotations

from typing import Any

from model import expr
from model.catalog.citations import cites
from model.catalog.names import variable_names, world_variables
from model.catalog.outcomes import OUTCOME_REDUCERS
from model.errors import InputIssue, did_you_mean

INTEREST_KINDS = ("linear", "peak", "above", "below")
CONSTRAINT_KINDS = ("forbid", "gate", "cap", "cost")


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
        if not cites(var):
            bad(f"world.variables.{name}", "needs claims or an assumption")
        if not var["lower"] <= var["initial"] <= var["upper"]:
            bad(f"world.variables.{name}.initial", f"{var['initial']} is outside [{var['lower']}, {var['upper']}]")
    for name, par in spec["world"]["parameters"].items():
        check_claims(f"world.parameters.{name}", par)
        if not cites(par):
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
            if not cites(st):
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
        if not cites(spec_a):
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
