"""The answer a comparison opens with: which outcomes moved, by how much, and how sure we are.

Pure functions over outcome tables (dicts of arrays per scenario), tested against hand-computed
values. The compare report, the terminal summary and :func:`model.workflow.compare` use them:

* :func:`align` pairs scenarios on their common replicate ids (common random numbers);
* :func:`effect_table` gives every outcome x scenario difference from the reference with an
  interval that holds simultaneously over all of them (Bonferroni) and a verdict against the
  outcome's declared smallest meaningful difference (``smallest`` in outcomes.yaml);
* :func:`headline` ranks what moved meaningfully and words each line as an analyst would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.analysis import stats
from model.catalog.glossary import label

PROBABILITY_KINDS = ("binary", "event")


@dataclass
class Pairing:
    """How the scenarios' replicates line up.

    ``paired`` is true when all runs share the master seed and at least two replicate ids, so
    replicate r of every scenario drew the same random numbers; ``common`` holds those ids and
    ``counts`` each run's own replicate count (they may differ: a 2,000-replicate run paired with
    a 1,000-replicate one contributes its first 1,000).
    """

    paired: bool
    common: np.ndarray
    counts: dict[str, int]
    reason: str = ""
    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def align(ensembles: dict[str, dict[str, np.ndarray]], seeds: dict[str, int]) -> Pairing:
    """Restrict every outcome table to the replicate ids all runs share (when their seeds agree).

    Runs with different master seeds share no random numbers, so they are not paired and keep
    all their replicates; the comparison then uses unpaired (independent-sample) intervals.
    A replicate id whose per-replicate seed differs between runs is not a pair either.
    """
    counts = {n: len(t["replicate"]) for n, t in ensembles.items()}
    if len(set(seeds.values())) != 1:
        return Pairing(False, np.array([], dtype=int), counts, "the runs have different master seeds", ensembles)
    ids = None
    for t in ensembles.values():
        r = np.asarray(t["replicate"], dtype=np.int64)
        ids = r if ids is None else np.intersect1d(ids, r)
    assert ids is not None
    tables: dict[str, dict[str, np.ndarray]] = {}
    for n, t in ensembles.items():
        r = np.asarray(t["replicate"], dtype=np.int64)
        pos = np.searchsorted(r, ids) if np.all(np.diff(r) > 0) else np.array([np.flatnonzero(r == i)[0] for i in ids])
        tables[n] = {k: np.asarray(v)[pos] for k, v in t.items()}
    first = next(iter(tables.values()))
    if "seed" in first and any(not np.array_equal(t["seed"], first["seed"]) for t in tables.values()):
        return Pairing(False, np.array([], dtype=int), counts, "the replicates' own seeds differ", ensembles)
    if len(ids) < 2:
        return Pairing(False, ids, counts, "the runs share fewer than two replicates", ensembles)
    return Pairing(True, ids, counts, "", tables)


def _values(table: dict[str, np.ndarray], name: str, kind: str) -> np.ndarray:
    v = np.asarray(table[name], dtype=float)
    if kind == "event":  # an event outcome is compared as the probability that it happened
        return np.isfinite(v).astype(float)
    return v


def effect_table(
    pairing: Pairing,
    reference: str,
    names: list[str],
    meta: dict[str, dict[str, Any]],
    level: float = 0.95,
) -> tuple[list[dict[str, Any]], float]:
    """Every outcome x scenario against the reference, with simultaneous intervals and verdicts.

    The family is every (outcome, non-reference scenario) difference in the table; each interval
    is built at the Bonferroni level 1 - (1 - level) / family so that all hold together with
    probability ``level``. Returns the rows and the z used. Rows carry the plain 95% interval
    (``low95``/``high95``) and the unpaired one for the appendix.
    """
    tables = pairing.tables
    others = [s for s in tables if s != reference]
    family = max(1, len(names) * len(others))
    z = stats.bonferroni_z(family, level)
    rows = []
    for name in names:
        kind = meta[name]["kind"]
        smallest = float(meta[name].get("smallest", 0.0) or 0.0)
        a = _values(tables[reference], name, kind)
        for scen in tables:
            b = _values(tables[scen], name, kind)
            row: dict[str, Any] = {
                "outcome": name,
                "kind": kind,
                "unit": meta[name].get("unit", ""),
                "smallest": smallest,
                "scenario": scen,
                "reference_value": float(np.nanmean(a)) if np.isfinite(a).any() else float("nan"),
                "value": float(np.nanmean(b)) if np.isfinite(b).any() else float("nan"),
            }
            if scen == reference:
                rows.append({**row, "verdict": "", "n": len(b)})
                continue
            if pairing.paired:
                d = stats.paired_difference(a, b, z)
                d95 = stats.paired_difference(a, b)
            else:
                d = stats.unpaired_difference(a, b, z)
                d95 = stats.unpaired_difference(a, b)
            clip = _clip if kind in PROBABILITY_KINDS else float
            row.update(
                diff=d.mean,
                low=clip(d.low),
                high=clip(d.high),
                low95=clip(d95.low),
                high95=clip(d95.high),
                unpaired_low=clip(d95.unpaired_low),
                unpaired_high=clip(d95.unpaired_high),
                narrowing=d95.narrowing,
                n=d.n,
                verdict=stats.verdict(clip(d.low), clip(d.high), smallest),
            )
            rows.append(row)
    return rows, z


def _clip(v: float) -> float:
    """A difference of two probabilities lies in [-1, 1]; the normal interval may overshoot it."""
    return float(np.clip(v, -1.0, 1.0)) if np.isfinite(v) else float(v)


def is_probability(kind: str) -> bool:
    return kind in PROBABILITY_KINDS


def decimals(smallest: float) -> int:
    """Decimals that resolve a tenth of the smallest meaningful difference (0.5 -> 2, 3 -> 1, 0.03 -> 3)."""
    if not smallest or not np.isfinite(smallest) or smallest <= 0:
        return 3
    return int(max(0, 1 - np.floor(np.log10(smallest))))


def value_text(v: float, kind: str, smallest: float = 0.0) -> str:
    """A level: probabilities as percentages, other outcomes to the precision their threshold needs."""
    if v is None or not np.isfinite(v):
        return "n/a"
    if is_probability(kind):
        return f"{v:.1%}"
    return f"{v:,.{decimals(smallest)}f}"


def diff_text(v: float, kind: str, smallest: float = 0.0) -> str:
    """A signed difference: probabilities in percentage points, other outcomes in their own unit."""
    if v is None or not np.isfinite(v):
        return "n/a"
    text = f"{v * 100:+.1f}" if is_probability(kind) else f"{v:+,.{decimals(smallest)}f}"
    return "+" + text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


def threshold_text(smallest: float, kind: str, unit: str) -> str:
    """The declared smallest meaningful difference, in the outcome's own terms."""
    if is_probability(kind):
        return f"±{smallest * 100:g} points"
    return f"±{smallest:g}" + (f" {unit}" if unit else "")


def outcome_label(spec: dict[str, Any], name: str, kind: str) -> str:
    """The outcome's label; an event outcome ("Weeks until X") is read as "X by the horizon"."""
    text = label(spec, "outcome", name)
    if kind == "event":
        head = text[len("Weeks until ") :] if text.startswith("Weeks until ") else text
        return f"{head[:1].upper()}{head[1:]} by the horizon"
    return text


def sentence(spec: dict[str, Any], row: dict[str, Any]) -> str:
    """One headline line, e.g. ``US at war with Iran: 31.6% vs 2.2%, +29.4 points [26.0, 32.8]``."""
    kind, unit = row["kind"], row["unit"]
    name = outcome_label(spec, row["outcome"], kind)
    sm = row["smallest"]
    levels = f"{value_text(row['value'], kind, sm)} vs {value_text(row['reference_value'], kind, sm)}"
    interval = f"[{interval_end(row['low'], kind, sm)}, {interval_end(row['high'], kind, sm)}]"
    if is_probability(kind):
        change = f"{diff_text(row['diff'], kind)} points {interval}"
        if row["value"] == 1.0:
            levels = f"{value_text(1.0, kind)} (in every replicate) vs {value_text(row['reference_value'], kind)}"
    else:
        levels += f" {unit}" if unit else ""
        change = f"{diff_text(row['diff'], kind, sm)} {interval}"
    return f"{name}: {levels}, {change}"


def interval_end(v: float, kind: str, smallest: float = 0.0) -> str:
    """An interval end: points for probabilities, the outcome's precision otherwise (sign only if negative)."""
    if v is None or not np.isfinite(v):
        return "n/a"
    text = f"{v * 100:.1f}" if is_probability(kind) else f"{v:,.{decimals(smallest)}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


def _strength(row: dict[str, Any]) -> float:
    """How far the interval lies beyond the threshold, in thresholds (ranks meaningful effects)."""
    smallest = row["smallest"] or 1e-12
    return abs(row["diff"]) / smallest


@dataclass
class ScenarioHeadline:
    """What moved for one scenario against the reference."""

    scenario: str
    meaningful: list[dict[str, Any]]
    small: list[dict[str, Any]]
    noise: list[dict[str, Any]]


def headline(rows: list[dict[str, Any]], reference: str) -> list[ScenarioHeadline]:
    """Per scenario: meaningful effects ranked by size relative to their threshold, then the rest.

    An event outcome whose probability repeats a binary outcome's exactly (``weeks_to_us_war``
    and ``us_war_on_iran``) is listed once.
    """
    out = []
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows if r["scenario"] != reference))
    for scen in scenarios:
        seen: set[tuple[float, float]] = set()
        mine = []
        for r in rows:
            if r["scenario"] != scen:
                continue
            key = (round(r["value"], 12), round(r["diff"], 12)) if is_probability(r["kind"]) else None
            if key is not None and key in seen:
                continue
            if key is not None:
                seen.add(key)
            mine.append(r)
        ranked = sorted(mine, key=lambda r: -_strength(r) if np.isfinite(r["diff"]) else 0.0)
        out.append(
            ScenarioHeadline(
                scen,
                [r for r in ranked if r["verdict"] == "meaningful"],
                [r for r in ranked if r["verdict"] == "detectable but small"],
                [r for r in ranked if r["verdict"] == "noise"],
            )
        )
    return out
