"""Where the catalog's values come from: the claims they cite, their calibration, their assumptions.

Every behaviour must be grounded; these read that grounding for checks, docs and the claims
ledger (``entente claims``).
"""

from __future__ import annotations

from typing import Any


def cites(node: dict[str, Any]) -> bool:
    """Whether a value is grounded at all: by claims, an assumption or a calibration (else it is refused)."""
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
