"""Pure functions that build the data of every plot (tested); drawing lives in plots.py."""

from __future__ import annotations

from typing import Any

import numpy as np

from model.analysis import stats

LADDER_GROUPS = [
    ("below the ladder (rung 0)", 0, 0),
    ("subcrisis manoeuvring (rungs 1-3)", 1, 3),
    ("traditional crises (rungs 4-9)", 4, 9),
    ("intense crises (rungs 10-20)", 10, 20),
    ("beyond the nuclear threshold (21-44)", 21, 44),
]
TIME_METRICS = [
    "escalation",
    "brent",
    "russia.support_tier",
    "west_attention",
    "cohesion",
    "iran.strength",
    "russia.ad_spare",
    "russia.gulf_stake",
]


def weeks(n_steps: int, step_days: float) -> np.ndarray:
    """Week of each recorded step (0 = start)."""
    return np.arange(n_steps) * step_days / 7.0


def fan(matrix: np.ndarray, step_days: float) -> dict[str, np.ndarray]:
    """Median with 50% and 90% bands across replicates, per step."""
    b = stats.bands(matrix)
    return {
        "x": weeks(matrix.shape[0], step_days),
        "median": b[0.5],
        "p25": b[0.25],
        "p75": b[0.75],
        "p5": b[0.05],
        "p95": b[0.95],
    }


def category_shares(matrix: np.ndarray, categories: int) -> np.ndarray:
    """Share of replicates in each integer category at each step: shape (steps, categories)."""
    m = np.clip(np.rint(matrix).astype(int), 0, categories - 1)
    out = np.zeros((m.shape[0], categories))
    for c in range(categories):
        out[:, c] = (m == c).mean(axis=1)
    return out


def ladder_occupancy(max_rung: np.ndarray) -> np.ndarray:
    """Share of replicates whose highest rung this step falls in each of Kahn's groups."""
    out = np.zeros((max_rung.shape[0], len(LADDER_GROUPS)))
    for g, (_, lo, hi) in enumerate(LADDER_GROUPS):
        out[:, g] = ((max_rung >= lo) & (max_rung <= hi)).mean(axis=1)
    return out


def outcome_rows(
    outcomes: dict[str, np.ndarray], names: list[str], meta: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """One summary row per outcome: probability with Wilson interval, or median with 5-95%."""
    rows = []
    for name in names:
        v = np.asarray(outcomes[name], dtype=float)
        kind = meta[name]["kind"]
        row: dict[str, Any] = {"outcome": name, "kind": kind, "unit": meta[name]["unit"], "n": len(v)}
        if kind == "binary":
            p, lo, hi = stats.wilson(float(np.sum(v)), len(v))
            row.update(value=p, low=lo, high=hi)
        elif kind == "event":
            hit = np.isfinite(v)
            p, lo, hi = stats.wilson(float(hit.sum()), len(v))
            row.update(value=p, low=lo, high=hi, median_week=float(np.median(v[hit])) if hit.any() else float("nan"))
        else:
            q = np.nanquantile(v, [0.05, 0.5, 0.95])
            row.update(value=float(q[1]), low=float(q[0]), high=float(q[2]), mean=float(np.nanmean(v)))
        rows.append(row)
    return rows


def constraint_audit(
    bound: dict[str, np.ndarray], constraints: list[dict[str, Any]], step_days: float
) -> list[dict[str, Any]]:
    """How often each constraint bound, per actor: share of replicates, steps, and when.

    ``bound`` maps actor -> (steps, replicates) int64 bitmasks (bit i = constraint i).
    """
    rows = []
    for i, con in enumerate(constraints):
        bits = bound.get(con["actor"])
        if bits is None:
            continue
        hit = ((bits >> i) & 1).astype(bool)
        T, R = hit.shape
        ever = hit.any(axis=0)
        first = np.argmax(hit, axis=0)
        per_step = hit.mean(axis=1)
        rows.append(
            {
                "actor": con["actor"],
                "constraint": con["id"],
                "kind": con["kind"],
                "claims": con["claims"],
                "share_of_replicates": float(ever.mean()),
                "mean_steps_bound": float(hit.sum(axis=0).mean()),
                "median_first_week": float(np.median((first[ever] + 1) * step_days / 7.0))
                if ever.any()
                else float("nan"),
                "share_by_week": per_step,
                "text": con["text"],
            }
        )
    rows.sort(key=lambda r: -r["share_of_replicates"])
    return rows


def probability_table(
    ensembles: dict[str, dict[str, np.ndarray]], names: list[str], meta: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """Probabilities of binary outcomes with Wilson intervals, per scenario.

    Event outcomes (``weeks_to_*``) are not repeated here: whether they happened by the horizon is the
    end point of their time-to-event curve, and for Russian arms it is ``russia_tier>=limited_arms``.
    """
    rows = []
    for scen, out in ensembles.items():
        for name in names:
            kind = meta[name]["kind"]
            if kind != "binary":
                continue
            v = np.asarray(out[name], dtype=float)
            k = float(np.sum(v))
            p, lo, hi = stats.wilson(k, len(v))
            rows.append({"scenario": scen, "outcome": name, "p": p, "low": lo, "high": hi})
    for scen, out in ensembles.items():
        tiers = np.asarray(out.get("max_support_tier", []), dtype=float)
        for t, label in ((4, "russia_tier>=limited_arms"), (5, "russia_tier>=advanced_arms")):
            if len(tiers):
                p, lo, hi = stats.wilson(float((tiers >= t).sum()), len(tiers))
                rows.append({"scenario": scen, "outcome": label, "p": p, "low": lo, "high": hi})
    return rows


def paired_table(
    ensembles: dict[str, dict[str, np.ndarray]], reference: str, names: list[str], meta: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    """Each outcome per scenario, and its paired difference from the reference."""
    ref = ensembles[reference]
    rows = []
    for name in names:
        kind = meta[name]["kind"]
        for scen, out in ensembles.items():
            a = np.asarray(ref[name], dtype=float)
            b = np.asarray(out[name], dtype=float)
            if kind == "event":  # compare the probability that the event happened
                a, b = np.isfinite(a).astype(float), np.isfinite(b).astype(float)
            d = stats.paired_difference(a, b)
            rows.append(
                {
                    "outcome": name,
                    "kind": kind,
                    "scenario": scen,
                    "value": float(np.nanmean(b)),
                    "diff": d.mean,
                    "low": d.low,
                    "high": d.high,
                    "unpaired_low": d.unpaired_low,
                    "unpaired_high": d.unpaired_high,
                    "distinguishable": d.distinguishable if scen != reference else False,
                    "narrowing": d.narrowing,
                    "n": d.n,
                }
            )
    return rows


def km_curves(
    ensembles: dict[str, dict[str, np.ndarray]], name: str, horizon_weeks: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {scen: stats.kaplan_meier(out[name], horizon_weeks) for scen, out in ensembles.items()}


def config_diff(resolved: dict[str, dict[str, Any]], reference: str) -> list[dict[str, Any]]:
    """What differs between resolved scenarios, key by key, relative to the reference."""
    skip = {"name", "title", "question", "claims", "outcomes", "replicates"}

    def flat(doc: Any, prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(doc, dict):
            for k, v in doc.items():
                if not prefix and k in skip:
                    continue
                out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
        elif isinstance(doc, list) and prefix == "events":
            for ev in doc:
                key = f"events[{_event_key(ev)}]"
                out[key] = "present"
        else:
            out[prefix] = doc
        return out

    ref = flat(resolved[reference])
    rows = []
    for scen, doc in resolved.items():
        if scen == reference:
            continue
        other = flat(doc)
        for key in sorted(set(ref) | set(other)):
            if ref.get(key) != other.get(key):
                rows.append(
                    {"scenario": scen, "key": key, "reference": ref.get(key, "-"), "value": other.get(key, "-")}
                )
    return rows


def _event_key(ev: Any) -> str:
    if not isinstance(ev, dict):
        return str(ev)
    when = f"at {ev['at']}" if "at" in ev else f"when {ev.get('when')}"
    return f"{when}: {ev.get('actor')} {ev.get('action')} {ev.get('target', '')}".strip()
