"""The sections that set the catalog's numbers: actors, world, initial, relations, constraints, constants.

Each writes its values into the scenario's copy of the catalog (``spec``) and records where it
set them (``fixed``: parameter path -> key path), so that a broken relation between parameters
is reported at the line that broke it. Every value passes the one range table
(model/catalog/ranges.yaml) however it entered: a section, a lever option or ``--set``.
"""

from __future__ import annotations

from typing import Any

from model.engine.config import set_value
from model.errors import did_you_mean
from model.safeyaml import dotted
from model.scenario import ranges
from model.scenario.check import _Checker, _short

_MISSING = object()


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


def _check_actors(ck: _Checker, doc: dict[str, Any], spec: dict, fixed: dict[str, tuple]) -> None:
    """``actors:``: each named actor's overrides, checked key by key."""
    section = doc.get("actors", {})
    if not ck.expect(("actors",), section, (dict,), "a mapping of actor names"):
        return
    for a, over in section.items():
        ap = ("actors", a)
        if not ck.name(ap, a, spec["actors"], "actor"):
            continue
        if not ck.expect(ap, over, (dict,), "a mapping of actor values"):
            continue
        for k, v in over.items():
            kp = (*ap, k)
            if k == "interests":
                _check_interests(ck, spec, a, kp, v, fixed)
            elif k == "stances":
                _check_stances(ck, spec, a, kp, v, fixed)
            elif k == "response":
                value, vp = _scalar(ck, kp, v, "weight")
                if value is not _MISSING:
                    _set_number(ck, spec, vp, f"actors.{a}.response", value, fixed)
            elif k == "initial_grievance":
                _check_grievances(ck, spec, a, kp, v, fixed)
            else:
                ck.bad(kp, f"unknown key '{_short(k)}'; expected interests, stances, response or initial_grievance")


def _check_interests(ck: _Checker, spec: dict, a: str, kp: tuple, v: Any, fixed: dict[str, tuple]) -> None:
    """An actor's interests: a weight, or the fields its kind of interest has (a peak's target and width)."""
    actor = spec["actors"][a]
    if not ck.expect(kp, v, (dict,), "a mapping of interest names"):
        return
    for term, tv in v.items():
        tp = (*kp, term)
        if term not in actor["interests"]:
            ck.bad(tp, f"unknown interest '{_short(term)}' of {a}{ck.suggest(term, actor['interests'])}")
            continue
        kind = actor["interests"][term].get("kind")
        allowed = {"peak": ("weight", "target", "width"), "above": ("weight", "threshold")}.get(kind, ("weight",))
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


def _check_stances(ck: _Checker, spec: dict, a: str, kp: tuple, v: Any, fixed: dict[str, tuple]) -> None:
    """An actor's stances, issue by issue."""
    actor = spec["actors"][a]
    if not ck.expect(kp, v, (dict,), "a mapping of issues"):
        return
    for issue, sv in v.items():
        if issue not in actor["stances"]:
            ck.bad((*kp, issue), f"unknown issue '{_short(issue)}'{ck.suggest(issue, actor['stances'])}")
            continue
        value, vp = _scalar(ck, (*kp, issue), sv)
        if value is not _MISSING:
            _set_number(ck, spec, vp, f"actors.{a}.stances.{issue}", value, fixed)


def _check_grievances(ck: _Checker, spec: dict, a: str, kp: tuple, v: Any, fixed: dict[str, tuple]) -> None:
    """An actor's grievances at the start, against other actors.

    The catalog may hold none for a pair, so a valid one is added to the actor rather than set
    through ``set_value`` (which only replaces what exists).
    """
    actors = list(spec["actors"])
    actor = spec["actors"][a]
    if not ck.expect(kp, v, (dict,), "a mapping of actors"):
        return
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


def _check_world(
    ck: _Checker, doc: dict[str, Any], spec: dict, fixed: dict[str, tuple], paths: list[str], path_set: set[str]
) -> None:
    """``world:``, ``initial:`` and ``relations:``: a value for each named parameter, variable or pair.

    A relation between two actors the catalog does not relate is added to ``spec`` and to
    ``path_set`` (the later sections may then set it too); one a world variable owns is refused.
    """
    actors = list(spec["actors"])
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


def _check_constraints(ck: _Checker, doc: dict[str, Any], spec: dict, fixed: dict[str, tuple]) -> None:
    """``constraints:``: lift a constraint, or change its parameters."""
    section = doc.get("constraints", {})
    if not ck.expect(("constraints",), section, (dict,), "a mapping of constraint ids"):
        return
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


def _check_constants(
    ck: _Checker, doc: dict[str, Any], spec: dict, fixed: dict[str, tuple], paths: list[str], path_set: set[str]
) -> None:
    """``constants:``: any numeric parameter path fixed to a value."""
    section = doc.get("constants", {})
    if not ck.expect(("constants",), section, (dict,), "a mapping of parameter paths to values"):
        return
    for path, v in section.items():
        if path not in path_set:
            ck.bad(("constants", path), _unknown_path(spec, str(path), paths, ck))
            continue
        _set_number(ck, spec, ("constants", path), path, v, fixed)


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
