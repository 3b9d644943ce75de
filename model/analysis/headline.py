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


def statistic(kind: str) -> str:
    """The statistic a report gives an outcome, named in every column: a probability or a mean."""
    return "probability" if is_probability(kind) else "mean"


def _level(v: np.ndarray, kind: str) -> tuple[float, float, float]:
    """A scenario's level with its 95% interval: Wilson for a probability, normal for a mean."""
    if is_probability(kind):
        v = v[np.isfinite(v)]
        return stats.wilson(float(np.sum(v)), len(v)) if len(v) else (float("nan"),) * 3
    return stats.mean_interval(v)


def _difference(a: np.ndarray, b: np.ndarray, kind: str, paired: bool, z: float) -> tuple[float, float, float]:
    """The difference b - a with its interval at ``z``: Newcombe's score interval for probabilities, normal for means."""
    if is_probability(kind):
        return (stats.newcombe_paired if paired else stats.newcombe_unpaired)(a, b, z)
    d = (stats.paired_difference if paired else stats.unpaired_difference)(a, b, z)
    return d.mean, d.low, d.high


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
    probability ``level``. A probability's difference gets Newcombe's hybrid score interval
    (paired when the runs share their random numbers), which stays inside [-100, +100] points;
    a continuous outcome's the normal interval of the mean paired difference. The reference and
    the scenario are given the same statistic as their difference (``statistic``: the probability,
    or the mean), each with its own 95% interval (``value_low``/``value_high``,
    ``reference_low``/``reference_high``). Rows also carry the plain 95% interval
    (``low95``/``high95``) and the unpaired one for the appendix. Returns the rows and the z used.
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
        ref_level = _level(a, kind)
        for scen in tables:
            b = _values(tables[scen], name, kind)
            mine = _level(b, kind)
            row: dict[str, Any] = {
                "outcome": name,
                "kind": kind,
                "statistic": statistic(kind),
                "unit": meta[name].get("unit", ""),
                "smallest": smallest,
                "scenario": scen,
                "reference_value": ref_level[0],
                "reference_low": ref_level[1],
                "reference_high": ref_level[2],
                "value": mine[0],
                "value_low": mine[1],
                "value_high": mine[2],
            }
            if scen == reference:
                rows.append({**row, "verdict": "", "n": len(b)})
                continue
            diff, low, high = _difference(a, b, kind, pairing.paired, z)
            _, low95, high95 = _difference(a, b, kind, pairing.paired, stats.Z95)
            _, ulow, uhigh = _difference(a, b, kind, False, stats.Z95)
            paired_w, unpaired_w = high95 - low95, uhigh - ulow
            row.update(
                diff=diff,
                low=low,
                high=high,
                low95=low95,
                high95=high95,
                unpaired_low=ulow,
                unpaired_high=uhigh,
                narrowing=unpaired_w / paired_w if paired_w > 0 else (float("inf") if unpaired_w > 0 else 1.0),
                n=int(np.sum(np.isfinite(a) & np.isfinite(b))) if pairing.paired else min(len(a), len(b)),
                verdict=stats.verdict(low, high, smallest),
            )
            rows.append(row)
    return rows, z


def merge_duplicates(names: list[str], meta: dict[str, dict[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """One row per quantity: outcomes with the same expression and reducer are the same outcome.

    "Did X happen" is one quantity whether it is declared as ``ever`` (a probability) or as
    ``first_week`` (an event, compared as the probability that it happened by the horizon), so
    ``us_war_on_iran`` and ``weeks_to_us_war`` give one row, and a scenario's own
    ``russian_arms`` (ever of tier >= 4) and the catalog's ``weeks_to_russian_arms`` another.
    The first listed binary outcome is kept (an event only when no binary one exists). Returns
    the kept names in order and ``{merged name: kept name}``.
    """

    def key(name: str) -> tuple[str, str] | None:
        d = meta.get(name, {})
        if "expr" not in d:
            return None
        reducer = str(d.get("reduce", ""))
        reducer = "happened" if reducer in ("ever", "first_week") else reducer
        return ("".join(str(d["expr"]).split()), reducer)

    groups: dict[Any, list[str]] = {}
    for n in names:
        groups.setdefault(key(n) or ("", n), []).append(n)
    kept_of: dict[str, str] = {}
    for members in groups.values():
        best = next((m for m in members if meta.get(m, {}).get("kind") != "event"), members[0])
        for m in members:
            kept_of[m] = best
    kept = list(dict.fromkeys(kept_of[n] for n in names))
    return kept, {m: k for m, k in kept_of.items() if m != k}


@dataclass
class Ranked:
    """One question the headline answers: the scenarios ranked on one outcome against the reference.

    ``worse`` is "higher" or "lower" (from reporting.yaml) or "" for a scenario's own outcome
    without a declared direction (then the largest change comes first). ``rows`` are the
    scenarios' effect rows, worst first; ``forced`` names the scenarios whose value holds in
    every replicate by construction.
    """

    outcome: str
    worse: str
    reference: dict[str, Any]
    rows: list[dict[str, Any]]
    forced: set[str] = field(default_factory=set)


def rank(
    rows: list[dict[str, Any]],
    reference: str,
    order: list[tuple[str, str]],
    forced: dict[str, list[str]] | None = None,
    keep_order: bool = False,
) -> list[Ranked]:
    """The scenarios ranked against the reference on each outcome of ``order`` ((name, worse) pairs).

    Worst first: the highest difference when higher is worse, the lowest when lower is worse,
    the largest absolute difference when no direction is declared; undefined differences last.
    ``keep_order`` keeps the rows' order instead (a sweep reads as a response, value by value).
    """
    forced = forced or {}
    out = []
    for name, worse in order:
        mine = [r for r in rows if r["outcome"] == name]
        ref = next((r for r in mine if r["scenario"] == reference), None)
        if ref is None:
            continue

        others = [r for r in mine if r["scenario"] != reference]
        ranked = others if keep_order else sorted(others, key=lambda r, w=worse: _badness(r, w))
        out.append(Ranked(name, worse, ref, ranked, {s for s, outs in forced.items() if name in outs}))
    return out


def _badness(row: dict[str, Any], worse: str) -> float:
    """Sort key, worst first: the signed difference in the worse direction (undefined last)."""
    d = row.get("diff", float("nan"))
    if not np.isfinite(d):
        return float("inf")
    return -d if worse == "higher" else d if worse == "lower" else -abs(d)


def forced_outcomes(
    rows: list[dict[str, Any]], reference: str, own_events: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Per scenario, the probabilities its own events force: 100% in every replicate, below 100% in the reference.

    ``own_events`` lists, per scenario, the labels of the events it adds to the reference and that
    were applied in every replicate. Such an outcome is the scenario's premise ("by
    construction"), not a finding, and the headline says so on its own line.
    """
    out: dict[str, list[str]] = {}
    for r in rows:
        s = r["scenario"]
        if s == reference or not own_events.get(s) or not is_probability(r["kind"]):
            continue
        if r["value"] == 1.0 and np.isfinite(r["reference_value"]) and r["reference_value"] < 1.0:
            out.setdefault(s, []).append(r["outcome"])
    return out


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


# ------------------------------------------------------------------ the headline in words
def unit_words(spec: dict[str, Any], name: str, meta: dict[str, Any]) -> str:
    """An outcome's unit with what its numbers mean: "ladder points: 0 calm, ..., 10 a regional war ..."."""
    from model.catalog.reporting import outcome_scale

    kind = meta.get("kind", "continuous")
    if is_probability(kind):
        return "share of replicates"
    unit = str(meta.get("unit", "") or "")
    words = outcome_scale(spec, meta)
    return f"{unit}: {words}" if unit and words else unit or words


def question_header(spec: dict[str, Any], ranked: Ranked, meta: dict[str, Any], reference: str) -> str:
    """The line above a ranking: the outcome, its statistic, unit in words, direction, threshold, the reference."""
    r = ranked.reference
    kind = r["kind"]
    what = outcome_label(spec, ranked.outcome, kind)
    stat = "probability" if is_probability(kind) else "mean over the replicates"
    units = unit_words(spec, ranked.outcome, meta)
    direction = {"higher": "higher is worse", "lower": "lower is worse"}.get(ranked.worse, "largest change first")
    ref = value_text(r["value"], kind, r["smallest"])
    return (
        f"{what} ({stat}{'; ' + units if units and not is_probability(kind) else ''}; {direction};"
        f" meaningful beyond {threshold_text(r['smallest'], kind, '')}): {reference} {ref}"
    )


def ranked_line(row: dict[str, Any], forced: bool = False) -> str:
    """One scenario on one outcome: its level vs the reference's, the difference, its interval, the verdict."""
    kind, sm = row["kind"], row["smallest"]
    pts = " points" if is_probability(kind) else ""
    interval = f"[{interval_end(row['low'], kind, sm)}, {interval_end(row['high'], kind, sm)}]"
    text = (
        f"{value_text(row['value'], kind, sm)} vs {value_text(row['reference_value'], kind, sm)},"
        f" {diff_text(row['diff'], kind, sm)}{pts} {interval}, {row['verdict']}"
    )
    return text + (" (by construction: the scenario forces it)" if forced else "")


def forced_sentence(spec: dict[str, Any], forced: dict[str, list[str]], own_events: dict[str, list[str]],
                    kinds: dict[str, str]) -> str:  # fmt: skip
    """What the scenarios force, on one line: outcomes that hold in every replicate because of their own events."""
    parts = []
    for scen, outs in forced.items():
        names = ", ".join(outcome_label(spec, o, kinds.get(o, "binary")) for o in outs)
        events = "; ".join(own_events.get(scen, []))
        parts.append(f"{scen}: {names} in every replicate ({events})")
    return (
        "By construction, not findings (the scenario's own events, applied in every replicate): "
        + "; ".join(parts)
        + "."
    )


def headline_text(
    spec: dict[str, Any],
    ranked: list[Ranked],
    meta: dict[str, dict[str, Any]],
    reference: str,
    forced_line: str = "",
    markdown: bool = True,
) -> list[str]:
    """The headline's lines (markdown for report.md/report.html, plain for the terminal): one ranking per question."""
    out: list[str] = []
    if forced_line:
        out += [f"*{forced_line}*" if markdown else forced_line, ""]
    width = max((len(r["scenario"]) for q in ranked for r in q.rows), default=8)
    for q in ranked:
        head = question_header(spec, q, meta.get(q.outcome, {}), reference)
        out.append(f"**{head.split(' (', 1)[0]}** ({head.split(' (', 1)[1]}" if markdown else head)
        if markdown:
            out.append("")
        for i, r in enumerate(q.rows, 1):
            line = ranked_line(r, r["scenario"] in q.forced)
            out.append(f"{i}. **{r['scenario']}**: {line}" if markdown else f"  {i}. {r['scenario']:<{width}}  {line}")
        out.append("")
    return out
