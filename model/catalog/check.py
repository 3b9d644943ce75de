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


class _Findings:
    """The problems found so far, and the names every section is checked against."""

    def __init__(self, spec: dict[str, Any], file: str) -> None:
        self.spec, self.file = spec, file
        self.issues: list[InputIssue] = []
        self.claims = set(spec["claims"])
        self.actors = list(spec["actors"])
        self.variables = world_variables(spec)
        self.issue_names = list(spec["world"]["issues"])
        self.actions = spec["actions"]

    def bad(self, key: str, message: str) -> None:
        self.issues.append(InputIssue(self.file, None, None, key, message))

    def check_claims(self, key: str, node: Any) -> None:
        """Every claim id ``node`` cites exists (a node that is not a mapping cites none)."""
        if not isinstance(node, dict):
            return
        for c in node.get("claims", []) or []:
            if c not in self.claims:
                self.bad(f"{key}.claims", f"unknown claim id '{c}'{did_you_mean(c, self.claims)}")

    def parses(self, key: str, text: Any, names: set[str], params: set[str] | None = None) -> None:
        """``text`` is an expression over ``names`` (and ``params``); else its parse error, at ``key``."""
        try:
            expr.parse(text, names, params)
        except expr.ExprError as exc:
            self.bad(key, exc.message)


def check_catalog(spec: dict[str, Any], file: str = "catalog") -> list[InputIssue]:
    """Cross-check a (possibly overridden) catalog; return every problem found."""
    f = _Findings(spec, file)
    _check_world(f)
    for a, actor in spec["actors"].items():
        _check_actor(f, a, actor)
    _check_relations(f)
    for act, spec_a in f.actions.items():
        _check_action(f, act, spec_a)
    names = variable_names(spec)
    for cid, con in spec["constraints"].items():
        _check_constraint(f, cid, con, names)
    _check_stocks_are_capped(f)
    _check_tracks(f)
    _check_dynamics(f, names)
    _check_cost_factors(f)
    _check_outcomes(f, names)
    for cid in spec.get("not_modelled", {}):
        if cid not in f.claims:
            f.bad(f"not_modelled.{cid}", "unknown claim id")
    return f.issues


def _check_world(f: _Findings) -> None:
    """World variables and parameters are cited and in range; issues and disputed values cite known claims."""
    world = f.spec["world"]
    for name, var in world["variables"].items():
        f.check_claims(f"world.variables.{name}", var)
        if not cites(var):
            f.bad(f"world.variables.{name}", "needs claims or an assumption")
        if not var["lower"] <= var["initial"] <= var["upper"]:
            f.bad(f"world.variables.{name}.initial", f"{var['initial']} is outside [{var['lower']}, {var['upper']}]")
    for name, par in world["parameters"].items():
        f.check_claims(f"world.parameters.{name}", par)
        if not cites(par):
            f.bad(f"world.parameters.{name}", "needs claims or an assumption")
    for name, iss in world["issues"].items():
        f.check_claims(f"world.issues.{name}", iss)
    for path, dist in world.get("disputed", {}).items():
        f.check_claims(f"world.disputed.{path}", dist)


def _check_actor(f: _Findings, a: str, actor: dict[str, Any]) -> None:
    """An actor has a cited stance on every issue and no other; its grievances and interests name what exists."""
    key = f"actors.{a}"
    f.check_claims(key, actor)
    f.check_claims(f"{key}.response", actor.get("response"))
    for issue in f.issue_names:
        if issue not in actor.get("stances", {}):
            f.bad(f"{key}.stances", f"missing stance on issue '{issue}'")
    for issue, st in actor.get("stances", {}).items():
        if issue not in f.issue_names:
            f.bad(f"{key}.stances.{issue}", f"unknown issue{did_you_mean(issue, f.issue_names)}")
        f.check_claims(f"{key}.stances.{issue}", st)
        if not cites(st):
            f.bad(f"{key}.stances.{issue}", "needs claims or an assumption")
    for b, g in actor.get("initial_grievance", {}).items():
        if b not in f.actors:
            f.bad(f"{key}.initial_grievance.{b}", f"unknown actor{did_you_mean(b, f.actors)}")
        f.check_claims(f"{key}.initial_grievance.{b}", g)
    for term, it in actor.get("interests", {}).items():
        _check_interest(f, a, f"{key}.interests.{term}", it)


def _check_interest(f: _Findings, a: str, tkey: str, it: dict[str, Any]) -> None:
    """An interest cites claims, has a known kind, reads a known variable and has the shape its kind needs."""
    f.check_claims(tkey, it)
    if not it.get("claims"):
        f.bad(tkey, "every interest needs claim ids")
    if it.get("kind") not in INTEREST_KINDS:
        f.bad(f"{tkey}.kind", f"expected one of {', '.join(INTEREST_KINDS)}, found '{it.get('kind')}'")
    var = it.get("var", "")
    if var.startswith("relation."):
        other = var.split(".", 1)[1]
        if other not in f.actors or other == a:
            f.bad(f"{tkey}.var", f"unknown actor in '{var}'{did_you_mean(other, f.actors)}")
    elif var not in f.variables:
        f.bad(f"{tkey}.var", f"unknown world variable '{var}'{did_you_mean(var, f.variables)}")
    if it.get("kind") == "peak" and not it.get("width", 0) > 0:
        f.bad(f"{tkey}.width", "a peak interest needs a positive width")
    if it.get("kind") in ("above", "below") and not isinstance(it.get("threshold"), int | float):
        f.bad(f"{tkey}.threshold", f"an '{it.get('kind')}' interest needs a numeric threshold")


def _check_relations(f: _Findings) -> None:
    """A relation joins two different known actors and lies in [-1, 1]."""
    for pair, rel in f.spec["relations"].items():
        f.check_claims(f"relations.{pair}", rel)
        parts = pair.split("-")
        if len(parts) != 2 or any(p not in f.actors for p in parts) or parts[0] == parts[1]:
            f.bad(f"relations.{pair}", "expected 'actor-actor' with two different known actors")
        if not -1 <= rel.get("value", 0) <= 1:
            f.bad(f"relations.{pair}.value", "relations lie in [-1, 1]")


def _check_action(f: _Findings, act: str, spec_a: dict[str, Any]) -> None:
    """An action is cited and on the escalation scales; every actor, target, variable and issue it names exists."""
    key = f"actions.{act}"
    f.check_claims(key, spec_a)
    if not cites(spec_a):
        f.bad(key, "needs claims or an assumption")
    if act not in f.spec["scales"]:
        f.bad(key, "missing from scales.csv (Goldstein value and ladder rung)")
    for taker, targets in spec_a.get("takers", {}).items():
        if taker not in f.actors:
            f.bad(f"{key}.takers.{taker}", f"unknown actor{did_you_mean(taker, f.actors)}")
        for t in targets:
            if t != "none" and t not in f.actors:
                f.bad(f"{key}.takers.{taker}", f"unknown target '{t}'{did_you_mean(t, f.actors)}")
    targets_of = {t for ts in (spec_a.get("takers") or {}).values() for t in ts}
    for t, e in (spec_a.get("effort_by_target") or {}).items():
        if t not in targets_of:
            f.bad(f"{key}.effort_by_target.{t}", f"not a target of this action{did_you_mean(t, sorted(targets_of))}")
        elif not isinstance(e, (int, float)) or isinstance(e, bool):
            f.bad(f"{key}.effort_by_target.{t}", "expected a number")
    for var in spec_a.get("effects", {}) or {}:
        if var not in f.variables:
            f.bad(f"{key}.effects.{var}", f"unknown world variable{did_you_mean(var, f.variables)}")
    for field in ("by_target", "by_actor", "by_actor_sets"):
        for who, eff in (spec_a.get(field, {}) or {}).items():
            if who not in f.actors:
                f.bad(f"{key}.{field}.{who}", f"unknown actor{did_you_mean(who, f.actors)}")
            for var in eff:
                if var not in f.variables:
                    f.bad(f"{key}.{field}.{who}.{var}", f"unknown world variable{did_you_mean(var, f.variables)}")
    for var in (spec_a.get("sets", {}) or {}) | (spec_a.get("cost", {}) or {}):
        if var not in f.variables:
            f.bad(f"{key}", f"unknown world variable '{var}'{did_you_mean(var, f.variables)}")
    for who in spec_a.get("reactions", {}) or {}:
        if who not in f.actors:
            f.bad(f"{key}.reactions.{who}", f"unknown actor{did_you_mean(who, f.actors)}")
    for issue in spec_a.get("align", {}) or {}:
        if issue not in f.issue_names:
            f.bad(f"{key}.align.{issue}", f"unknown issue{did_you_mean(issue, f.issue_names)}")
    if spec_a.get("polarity", "neutral") not in ("help", "harm", "neutral"):
        f.bad(f"{key}.polarity", "expected help, harm or neutral")


def _check_constraint(f: _Findings, cid: str, con: dict[str, Any], names: set[str]) -> None:
    """A constraint cites claims, binds an actor in actions it can take, and its rule parses."""
    key = f"constraints.{cid}"
    f.check_claims(key, con)
    if not con.get("claims"):
        f.bad(key, "every constraint needs claim ids")
    if con.get("kind") not in CONSTRAINT_KINDS:
        f.bad(f"{key}.kind", f"expected one of {', '.join(CONSTRAINT_KINDS)}, found '{con.get('kind')}'")
    if con.get("actor") not in f.actors:
        f.bad(f"{key}.actor", f"unknown actor '{con.get('actor')}'{did_you_mean(str(con.get('actor')), f.actors)}")
    for act in con.get("actions", []):
        if act not in f.actions:
            f.bad(f"{key}.actions", f"unknown action '{act}'{did_you_mean(act, f.actions)}")
        elif con.get("actor") not in f.actions[act].get("takers", {}):
            f.bad(f"{key}.actions", f"'{con.get('actor')}' cannot take '{act}' in the first place")
    params = set((con.get("params") or {}).keys()) | set(f.spec["world"]["parameters"])
    for field in ("condition", "penalty"):
        if field in con:
            f.parses(f"{key}.{field}", con[field], names, params)
    if con.get("kind") == "gate" and "condition" not in con:
        f.bad(key, "a gate needs a condition")
    if con.get("kind") == "cost" and "penalty" not in con:
        f.bad(key, "a cost needs a penalty")
    if con.get("kind") == "cap" and con.get("stock") not in f.variables:
        f.bad(f"{key}.stock", f"unknown stock '{con.get('stock')}'")


def _check_stocks_are_capped(f: _Findings) -> None:
    """Every stock an action consumes is covered by a cap constraint (so it is cited and logged)."""
    capped = {
        (c["actor"], a) for c in f.spec["constraints"].values() if c.get("kind") == "cap" for a in c.get("actions", [])
    }
    for act, spec_a in f.actions.items():
        if spec_a.get("cost"):
            for taker in spec_a.get("takers", {}):
                owns = any(var.startswith(f"{taker}.") for var in spec_a["cost"])
                if owns and (taker, act) not in capped:
                    f.bad(f"actions.{act}.cost", f"'{taker}' consumes a stock here but no cap constraint covers it")


def _check_tracks(f: _Findings) -> None:
    """Every action but holding is decided on a known track, and every track's rate is a world parameter."""
    tracks = f.spec["world"].get("tracks", {})
    params_known = set(f.spec["world"]["parameters"])
    for act, spec_a in f.actions.items():
        if act != "hold" and spec_a.get("track") not in tracks:
            f.bad(f"actions.{act}.track", f"expected one of {', '.join(tracks)}, found '{spec_a.get('track')}'")
    for tr, d in tracks.items():
        if d.get("rate") not in params_known:
            f.bad(f"tracks.{tr}.rate", f"unknown world parameter '{d.get('rate')}'")


def _check_dynamics(f: _Findings, names: set[str]) -> None:
    """A variable's dynamics parse, and the parameters they name (rates, decay, noise, bounds) exist."""
    params_known = set(f.spec["world"]["parameters"])
    for name, var in f.spec["world"]["variables"].items():
        for field in ("derived", "rate"):
            if field in var:
                f.parses(f"variables.{name}.{field}", str(var[field]), names)
        if "revert" in var:
            f.parses(f"variables.{name}.revert.to", str(var["revert"].get("to")), names)
            if var["revert"].get("rate") not in params_known:
                f.bad(f"variables.{name}.revert.rate", f"unknown world parameter '{var['revert'].get('rate')}'")
        for field in ("decay", "noise", "upper_param"):
            if field in var and var[field] not in params_known:
                f.bad(f"variables.{name}.{field}", f"unknown world parameter '{var[field]}'")


def _check_cost_factors(f: _Findings) -> None:
    """A cost's per-action factors are non-negative: the engine's fast path assumes costs only lower utilities."""
    for cid, con in f.spec["constraints"].items():
        acts = con.get("actions", [])
        if isinstance(acts, dict) and any(not isinstance(v, int | float) or v < 0 for v in acts.values()):
            f.bad(
                f"constraints.{cid}.actions", "cost factors must be non-negative numbers (costs only lower utilities)"
            )


def _check_outcomes(f: _Findings, names: set[str]) -> None:
    """An outcome's expression parses and its reducer is one the engine knows."""
    for name, out in f.spec.get("outcomes", {}).items():
        f.parses(f"outcomes.{name}.expr", str(out.get("expr")), names)
        if out.get("reduce") not in OUTCOME_REDUCERS:
            f.bad(f"outcomes.{name}.reduce", f"expected one of {', '.join(OUTCOME_REDUCERS)}")
