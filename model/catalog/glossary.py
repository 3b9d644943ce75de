"""One glossary: the plain-English label of every identifier a reader meets.

Plots, reports, summaries, narratives, explain and the app call :func:`label` and show the
label first and the identifier second (:func:`labelled`), so a reader never has to decode
``west_attention`` or ``RU_GULF_COST``. Labels live beside the data they name in the catalog
(``label:`` on variables, outcomes, actors, actions, constraints; ``title:`` on claims);
an identifier without one falls back to itself with underscores as spaces.
"""

from __future__ import annotations

from typing import Any

KINDS = ("variable", "outcome", "actor", "action", "constraint", "claim", "parameter")


def _table(spec: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind == "variable":
        return spec["world"].get("variables", {})
    if kind == "parameter":
        return spec["world"].get("parameters", {})
    tables = {
        "outcome": "outcomes",
        "actor": "actors",
        "action": "actions",
        "constraint": "constraints",
        "claim": "claims",
    }
    if kind in tables:
        return spec[tables[kind]]
    raise ValueError(f"unknown glossary kind {kind!r}; expected one of {', '.join(KINDS)}")


def label(spec: dict[str, Any], kind: str, key: str) -> str:
    """The plain-English label of ``key`` (a claim's short title), or a readable fallback."""
    node = _table(spec, kind).get(key)
    if isinstance(node, dict):
        text = node.get("title" if kind == "claim" else "label")
        if text:
            return str(text)
    return key.replace("_", " ")


def labelled(spec: dict[str, Any], kind: str, key: str) -> str:
    """``Label (identifier)``: the label a reader needs first, the identifier a user types second."""
    text = label(spec, kind, key)
    return text if text == key else f"{text} ({key})"
