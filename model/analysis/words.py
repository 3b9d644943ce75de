"""Settings and scenarios in words: what a reader of a report sees instead of parameter paths.

``actors.russia.interests.ties_saudi`` reads "Russia's ties with Saudi Arabia",
``relations.russia-saudi`` "the Russia-Saudi Arabia relation", a dated change "on 2025-03-15
(Ukraine ceasefire): ...". Labels come from the catalog glossary, so a renamed actor or a new
variable needs no code here. A scenario that extends another without a title of its own is
"based on" its parent's title, and its own question (or the parent's, said so) is shown.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from model.catalog.glossary import label


def possessive(name: str) -> str:
    """The possessive of a name: Russia's, the Houthis' (a name ending in s gets the apostrophe alone)."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def interest_label(spec: dict[str, Any], actor: str, term: str) -> str:
    """An actor's interest as a reader says it: "Russia's ties with Saudi Arabia", "Iran's interest in its strength"."""
    who = possessive(label(spec, "actor", actor))
    node = (spec.get("actors", {}).get(actor, {}).get("interests", {}) or {}).get(term, {})
    var = str(node.get("var", "")) if isinstance(node, dict) else ""
    if var.startswith("relation."):
        return f"{who} ties with {label(spec, 'actor', var.split('.', 1)[1])}"
    if var:
        return f"{who} interest in {label(spec, 'variable', var)[:1].lower()}{label(spec, 'variable', var)[1:]}"
    return f"{who} interest '{term.replace('_', ' ')}'"


def path_label(spec: dict[str, Any], path: str) -> str:
    """A parameter path in words; the path itself when the catalog cannot name it."""
    path = path.removeprefix("constants.")
    parts = path.split(".")
    head = parts[0]
    rest = ".".join(parts[1:])
    if head == "world" and len(parts) == 2:
        return label(spec, "parameter", parts[1])
    if head in ("initial", "variables") and rest:
        return f"{label(spec, 'variable', rest)} at the start" if head == "initial" else label(spec, "variable", rest)
    if head == "relations" and len(parts) == 2:
        a, _, b = parts[1].partition("-")
        return f"the {label(spec, 'actor', a)}-{label(spec, 'actor', b)} relation"
    if head == "constraints" and len(parts) >= 3:
        what = {"lifted": "", "weight": " (weight)"}.get(parts[2], f" ({parts[2].replace('_', ' ')})")
        return f"{label(spec, 'constraint', parts[1])}{what}"
    if head == "actors" and len(parts) >= 3:
        who = label(spec, "actor", parts[1])
        if parts[2] == "interests" and len(parts) >= 4:
            field = f" ({parts[4]})" if len(parts) > 4 and parts[4] != "weight" else ""
            return interest_label(spec, parts[1], parts[3]) + field
        if parts[2] == "stances" and len(parts) == 4:
            issue = spec.get("world", {}).get("issues", {}).get(parts[3], {})
            text = issue.get("label") if isinstance(issue, dict) else None
            return f"{possessive(who)} stance on {text or parts[3].replace('_', ' ')}"
        if parts[2] == "response":
            return f"{possessive(who)} response to grievances"
        if parts[2] == "active":
            return f"{who} in the game"
        if parts[2] == "initial_grievance" and len(parts) == 4:
            return f"{possessive(who)} grievance against {label(spec, 'actor', parts[3])} at the start"
    if head == "axis" and len(parts) == 2:
        return f"{possessive(label(spec, 'actor', parts[1]))} side (1 Iran's axis, -1 its adversaries, 0 neither)"
    return path


def value_text(v: Any) -> str:
    """A setting's value as a reader reads it: numbers plainly, true/false as words, a mapping as key: value."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {value_text(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(value_text(x) for x in v)
    return str(v)


def change_text(spec: dict[str, Any], change: dict[str, Any]) -> str:
    """A dated change in words: "on 2025-03-15 (Ukraine ceasefire): the Russia-US relation -> -0.3; ..."."""
    when = change.get("at", change.get("step", "?"))
    head = f"on {when}" + (f" ({change['label']})" if change.get("label") else "")
    sets = change.get("set") or {}
    body = "; ".join(f"{path_label(spec, str(k))} -> {value_text(v)}" for k, v in sets.items())
    return f"{head}: {body}" if body else head


def distribution_text(d: Any) -> str:
    """A sampled distribution in words: "uniform 0.5-6", "one of 1, 2, 3"."""
    if not isinstance(d, dict):
        return value_text(d)
    kind = d.get("dist", "")
    if "values" in d:
        return f"one of {value_text(d['values'])}"
    if "low" in d and "high" in d:
        extra = f", mode {d['mode']:g}" if "mode" in d else f", mean {d['mean']:g}" if "mean" in d else ""
        return f"{kind} {d['low']:g}-{d['high']:g}{extra}"
    return str(kind)


def event_text(spec: dict[str, Any], key: str) -> str | None:
    """A config-diff event key ``events[at 1: israel strike_nuclear iran]`` in words, or None."""
    m = re.match(r"^events\[(at \S+|when .+?): (\S+) (\S+) ?(\S*)\]$", key)
    if not m:
        return None
    when, actor, action, target = m.groups()
    when = f"in week {when[3:]}" if when[3:].isdigit() else f"on {when[3:]}" if when.startswith("at ") else when
    to = f" against {label(spec, 'actor', target)}" if target and target != "none" else ""
    return f"event: {label(spec, 'actor', actor)}: {label(spec, 'action', action)}{to}, {when}"


def scenario_header(meta: dict[str, Any]) -> tuple[str, str]:
    """(title, question) as a reader should see them, from a run's manifest.

    A scenario that extends another without its own ``title:`` would show its parent's title,
    so two scenarios of a comparison would read the same: it is shown as "based on <parent
    title>" instead, and a question it inherits is marked as the parent's. The files named in the
    manifest's ``chain`` are read to tell (when they are no longer there, the resolved title shows).
    """
    sc = meta["scenario"]
    title = str(sc.get("title") or sc["name"])
    question = " ".join(str(sc.get("question", "")).split())
    chain = [Path(p) for p in sc.get("chain") or []]
    if len(chain) < 2:
        return title, question
    own, parent = _read(chain[0]), _read(chain[1])
    if own is None or parent is None:
        return title, question
    parent_name = str(parent.get("name", chain[1].stem))
    if "title" not in own:
        title = f'based on "{parent.get("title", parent_name)}" ({parent_name})'
    if "question" not in own and question:
        question = f"(the question of {parent_name}) {question}"
    return title, question


def _read(path: Path) -> dict[str, Any] | None:
    from model.errors import InputError
    from model.safeyaml import load_file

    try:
        doc, _ = load_file(path)
    except (InputError, OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def lever_labels(meta: dict[str, Any]) -> dict[str, str]:
    """The labels of the levers a scenario file declares (the manifest records only the choices)."""
    chain = [Path(p) for p in meta["scenario"].get("chain") or []]
    out: dict[str, str] = {}
    for p in reversed(chain):
        doc = _read(p) or {}
        for name, lever in (doc.get("levers") or {}).items():
            if isinstance(lever, dict) and lever.get("label"):
                out[str(name)] = str(lever["label"])
    return out
