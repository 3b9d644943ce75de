"""Run-level outcomes: one value per replicate, computed from its trajectory.

The names here are the names in scenario files (``outcomes:``), in outcomes.csv and on
plot labels. ``kind`` tells the analysis how to summarise each: ``continuous`` (median and
bands), ``binary`` (a probability with a Wilson interval), ``tier`` (a category), or
``event`` (a first-occurrence week, NaN if not reached by the horizon, for survival curves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.engine import Result

OUTCOMES: dict[str, dict[str, str]] = {
    "peak_escalation": {"kind": "continuous", "unit": "index 0-10", "doc": "Highest escalation index reached."},
    "mean_escalation": {"kind": "continuous", "unit": "index 0-10", "doc": "Mean escalation index over the horizon."},
    "peak_brent": {"kind": "continuous", "unit": "USD/bbl", "doc": "Highest Brent price reached."},
    "final_brent": {"kind": "continuous", "unit": "USD/bbl", "doc": "Brent price at the horizon."},
    "max_support_tier": {"kind": "tier", "unit": "tier 0-7", "doc": "Highest Russian support tier for Iran reached."},
    "mean_support_tier": {
        "kind": "continuous",
        "unit": "tier 0-7",
        "doc": "Russia's support tier for Iran, averaged over the horizon.",
    },
    "us_direct": {"kind": "binary", "unit": "probability", "doc": "US forces struck directly at some point."},
    "sustained_war": {"kind": "binary", "unit": "probability", "doc": "The war state reached sustained war."},
    "weeks_of_war": {
        "kind": "continuous",
        "unit": "weeks",
        "doc": "Weeks spent in an exchange of strikes or sustained war.",
    },
    "nuclear_sites_struck": {"kind": "binary", "unit": "probability", "doc": "Israel struck Iran's nuclear sites."},
    "advanced_arms": {
        "kind": "binary",
        "unit": "probability",
        "doc": "Russia reached the advanced-arms tier (S-400, Su-35).",
    },
    "limited_arms_or_more": {
        "kind": "binary",
        "unit": "probability",
        "doc": "Russia reached at least the limited-arms tier.",
    },
    "brent_above_90": {"kind": "binary", "unit": "probability", "doc": "Brent went above 90 USD/bbl."},
    "brent_above_100": {"kind": "binary", "unit": "probability", "doc": "Brent went above 100 USD/bbl."},
    "final_cohesion": {"kind": "continuous", "unit": "index 0-1", "doc": "Russia-Iran cohesion at the horizon."},
    "min_iran_strength": {"kind": "continuous", "unit": "index 0-1", "doc": "Lowest Iranian military strength."},
    "final_iran_nuclear": {"kind": "continuous", "unit": "index 0-1", "doc": "Iran's nuclear progress at the horizon."},
    "min_west_attention": {"kind": "continuous", "unit": "share 0-1", "doc": "Lowest Western attention on Ukraine."},
    "final_gulf_stake": {"kind": "continuous", "unit": "index 0-1", "doc": "Russia's Gulf stake at the horizon."},
    "first_state_strike_week": {
        "kind": "event",
        "unit": "weeks",
        "doc": "Week of the first direct state-on-state strike.",
    },
    "first_us_strike_week": {"kind": "event", "unit": "weeks", "doc": "Week of the first US strike."},
    "first_russian_arms_week": {
        "kind": "event",
        "unit": "weeks",
        "doc": "Week of the first Russian arms delivery (tier 4 or more).",
    },
    "ceasefire_week": {"kind": "event", "unit": "weeks", "doc": "Week a ceasefire first holds."},
}
DEFAULT_OUTCOMES = [
    "peak_escalation",
    "peak_brent",
    "max_support_tier",
    "mean_support_tier",
    "us_direct",
    "sustained_war",
    "weeks_of_war",
    "nuclear_sites_struck",
    "limited_arms_or_more",
    "advanced_arms",
    "brent_above_100",
    "final_cohesion",
]
EVENT_FLAGS = {
    "first_state_strike_week": "state_strike",
    "first_us_strike_week": "us_strike",
    "first_russian_arms_week": "russian_arms",
    "ceasefire_week": "ceasefire",
}


def first_week(flags: np.ndarray, step_days: float) -> np.ndarray:
    """Week (end of the step) of the first True per replicate; NaN when never."""
    any_ = flags.any(axis=0)
    first = np.argmax(flags, axis=0).astype(float)
    return np.where(any_, (first + 1) * step_days / 7.0, np.nan)


def compute(result: Result) -> dict[str, np.ndarray]:
    """Every outcome of OUTCOMES for every replicate of a result."""
    s = result.series
    v = {name: s[:, :, i] for i, name in enumerate(result.variables)}
    dt = result.step_days
    after = slice(1, None)
    ws = v["war_state"][after]
    tier = v["russia.support_tier"]
    brent = v["brent"]
    israel = result.actors.index("israel")
    nuclear_opts = [k for k, (act, _) in enumerate(result.options[israel]) if act == "strike_nuclear"]
    out = {
        "peak_escalation": v["escalation"].max(axis=0),
        "mean_escalation": v["escalation"][after].mean(axis=0),
        "peak_brent": brent.max(axis=0),
        "final_brent": brent[-1],
        "max_support_tier": tier.max(axis=0),
        "mean_support_tier": tier[after].mean(axis=0),
        "us_direct": v["us.direct_involvement"].max(axis=0),
        "sustained_war": (v["war_state"] == 2).any(axis=0).astype(float),
        "weeks_of_war": ((ws == 1) | (ws == 2)).sum(axis=0) * dt / 7.0,
        "nuclear_sites_struck": np.isin(result.choices[:, :, israel], nuclear_opts).any(axis=0).astype(float),
        "advanced_arms": (tier.max(axis=0) >= 5).astype(float),
        "limited_arms_or_more": (tier.max(axis=0) >= 4).astype(float),
        "brent_above_90": (brent.max(axis=0) > 90).astype(float),
        "brent_above_100": (brent.max(axis=0) > 100).astype(float),
        "final_cohesion": v["cohesion"][-1],
        "min_iran_strength": v["iran.strength"].min(axis=0),
        "final_iran_nuclear": v["iran.nuclear"][-1],
        "min_west_attention": v["west_attention"].min(axis=0),
        "final_gulf_stake": v["russia.gulf_stake"][-1],
    }
    for name, flag in EVENT_FLAGS.items():
        out[name] = first_week(result.flags[flag], dt)
    return {k: np.asarray(val, dtype=float) for k, val in out.items()}
