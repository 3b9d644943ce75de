"""The names a catalog expression may read: world variables, relations, stances, choice counters.

Conditions, penalties, dynamics and outcomes are parsed against this set, so a misspelt name is
an error when the catalog or a scenario loads, never a silent zero in a run.
"""

from __future__ import annotations

from typing import Any


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
