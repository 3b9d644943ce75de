"""The catalog's outcomes: how each reduces a trajectory to one number, and what kind of number it is.

The kind decides how an outcome is summarised (a mean, a share, a time to event), so docs,
reports and the engine read it from this one table.
"""

from __future__ import annotations

from typing import Any

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
