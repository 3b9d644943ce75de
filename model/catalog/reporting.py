"""Reporting roles (reporting.yaml): what reports, narratives and the app put first, as catalog data.

Analysis, explain and the app name no actor, variable or outcome: they ask these accessors,
so a catalog that renames an actor or a variable changes the reports by editing YAML only.
:func:`check_reporting` cross-checks the file against the rest of the catalog (every name it
lists exists), so a typo is a located error when the catalog loads, never a silent omission.
"""

from __future__ import annotations

from typing import Any

from model.errors import InputIssue, did_you_mean

FILE = "model/catalog/reporting.yaml"
WORSE = ("higher", "lower")


def _role(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return dict((spec.get("reporting") or {}).get(name) or {})


def major_actors(spec: dict[str, Any]) -> list[str]:
    """The actors whose every move a narrative tells (the others only when notable)."""
    return list(_role(spec, "major_actors").get("actors", []))


def key_outcomes(spec: dict[str, Any]) -> list[dict[str, str]]:
    """The outcomes every headline ranks the scenarios on: ``{"name", "worse"}`` (higher or lower is worse)."""
    return [
        {"name": str(o["name"]), "worse": str(o.get("worse", "higher"))}
        for o in _role(spec, "key_outcomes").get("outcomes", [])
    ]


def variables(spec: dict[str, Any], view: str) -> list[str]:
    """The variables a view draws by default: ``compare``, ``run``, ``app``, ``decision_state``, ``narrative_status``."""
    key = view if view in ("decision_state", "narrative_status") else f"{view}_variables"
    return list(_role(spec, key).get("variables", []))


def outcomes(spec: dict[str, Any], view: str) -> list[str]:
    """The outcomes a view lists: ``distribution`` (histograms) or ``replicate_summary``."""
    key = "distribution_outcomes" if view == "distribution" else view
    return list(_role(spec, key).get("outcomes", []))


def pick_by(spec: dict[str, Any]) -> str:
    """The outcome replicates are traced and picked by unless the reader names another."""
    return str(_role(spec, "pick_by").get("outcome", ""))


def status_every(spec: dict[str, Any]) -> int:
    """How many weeks apart a narrative states where the world stands."""
    return int(_role(spec, "narrative_status").get("every_weeks", 4))


def out_of_character_below(spec: dict[str, Any]) -> float:
    """A tremble is told as out of character only below this choice probability."""
    return float(_role(spec, "out_of_character").get("below", 0.05))


def app_parameters(spec: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The app's main sliders: (parameter path, low, high)."""
    return [
        (str(p["path"]), float(p["low"]), float(p["high"])) for p in _role(spec, "app_parameters").get("parameters", [])
    ]


def scale_words(spec: dict[str, Any], variable: str) -> str:
    """What a variable's numbers mean, in words ("" when the catalog says nothing).

    Discrete scales are named from the catalog: a support-tier variable by ``support_tiers``
    ("0 none, 1 rhetoric, ..."), the war role's state by ``war_states``.
    """
    world = spec.get("world", {})
    node = world.get("variables", {}).get(variable, {})
    if isinstance(node, dict) and node.get("tier_of") and world.get("support_tiers"):
        return ", ".join(f"{i} {n}" for i, n in enumerate(world["support_tiers"]))
    if variable in war_variables(spec) and world.get("war_states"):
        return ", ".join(f"{i} {n}" for i, n in enumerate(world["war_states"]))
    words = (_role(spec, "scales").get(variable) or {}).get("words")
    return str(words) if words else ""


def check_reporting(spec: dict[str, Any]) -> list[InputIssue]:
    """Every name reporting.yaml lists exists in the catalog, and every entry says why."""
    issues: list[InputIssue] = []
    roles = spec.get("reporting") or {}
    world = spec["world"]
    known_vars = list(world["variables"])
    known_outcomes = list(spec["outcomes"])
    actors = list(spec["actors"])

    def bad(key: str, message: str) -> None:
        issues.append(InputIssue(FILE, None, None, f"reporting.{key}", message))

    for name, node in roles.items():
        if not isinstance(node, dict):
            bad(name, "expected a mapping")
            continue
        if name != "scales" and not node.get("assumption"):
            bad(name, "needs an assumption: saying why")
    for a in _role(spec, "major_actors").get("actors", []):
        if a not in actors:
            bad("major_actors", f"unknown actor '{a}'{did_you_mean(a, actors)}")
    for o in _role(spec, "key_outcomes").get("outcomes", []):
        if not isinstance(o, dict) or o.get("name") not in known_outcomes:
            n = str(o.get("name") if isinstance(o, dict) else o)
            bad("key_outcomes", f"unknown outcome '{n}'{did_you_mean(n, known_outcomes)}")
        elif o.get("worse", "higher") not in WORSE:
            bad("key_outcomes", f"{o['name']}: worse must be higher or lower")
    for key in ("compare_variables", "run_variables", "app_variables", "decision_state", "narrative_status"):
        for v in _role(spec, key).get("variables", []):
            if v not in known_vars:
                bad(key, f"unknown world variable '{v}'{did_you_mean(v, known_vars)}")
    for key in ("distribution_outcomes", "replicate_summary"):
        for o in _role(spec, key).get("outcomes", []):
            if o not in known_outcomes:
                bad(key, f"unknown outcome '{o}'{did_you_mean(o, known_outcomes)}")
    by = _role(spec, "pick_by").get("outcome")
    if by is not None and by not in known_outcomes:
        bad("pick_by", f"unknown outcome '{by}'{did_you_mean(str(by), known_outcomes)}")
    for p in _role(spec, "app_parameters").get("parameters", []):
        path = str(p.get("path", "")) if isinstance(p, dict) else ""
        if not _known_path(spec, path):
            bad("app_parameters", f"unknown parameter path '{path}'")
        elif not float(p.get("low", 0)) < float(p.get("high", 0)):
            bad("app_parameters", f"{path}: low must lie below high")
    for v, node in (_role(spec, "scales")).items():
        if v not in known_vars:
            bad(f"scales.{v}", f"unknown world variable{did_you_mean(v, known_vars)}")
        elif not isinstance(node, dict) or not node.get("words") or not node.get("assumption"):
            bad(f"scales.{v}", "needs words: and an assumption:")
    return issues


def _known_path(spec: dict[str, Any], path: str) -> bool:
    """A parameter path the catalog holds (the forms a slider may set)."""
    parts = path.split(".")
    head = parts[0]
    if head == "world" and len(parts) == 2:
        return parts[1] in spec["world"]["parameters"]
    if head == "initial":
        return ".".join(parts[1:]) in spec["world"]["variables"]
    if head == "relations" and len(parts) == 2:
        a, _, b = parts[1].partition("-")
        return a in spec["actors"] and b in spec["actors"] and a != b
    if head == "constraints" and len(parts) == 3:
        return parts[1] in spec["constraints"]
    if head == "actors" and len(parts) >= 3:
        actor = spec["actors"].get(parts[1])
        if actor is None:
            return False
        if parts[2] == "stances" and len(parts) == 4:
            return parts[3] in actor.get("stances", {})
        if parts[2] == "interests" and len(parts) == 5:
            return parts[3] in actor.get("interests", {})
        return parts[2] in ("response", "active")
    return False


def outcome_scale(spec: dict[str, Any], outcome: dict[str, Any]) -> str:
    """What an outcome's numbers mean in words: its variable's scale when it reduces one variable."""
    if outcome.get("kind") in ("binary", "event"):
        return ""
    expr = str(outcome.get("expr", "")).strip()
    return scale_words(spec, expr) if expr in spec.get("world", {}).get("variables", {}) else ""


def hold_action(spec: dict[str, Any]) -> str:
    """The action that means doing nothing new (world.yaml's ``roles.hold``)."""
    return str(spec["world"]["roles"]["hold"]["action"])


def rung_variable(spec: dict[str, Any]) -> str:
    """The variable recording the highest ladder rung of each step (``roles.reporting.max_rung``), "" if none."""
    return str((spec["world"].get("roles") or {}).get("reporting", {}).get("max_rung", ""))


def war_variables(spec: dict[str, Any]) -> list[str]:
    """Every front's war-state variable (world.yaml ``fronts``), the first front's first."""
    return [str(f["vars"]["state"]) for f in (spec["world"].get("fronts") or {}).values()]


def war_variable(spec: dict[str, Any]) -> str:
    """The first front's war-state variable (the Iran-Israel war state), "" if the catalog has none."""
    found = war_variables(spec)
    return found[0] if found else ""
