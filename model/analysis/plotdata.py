"""Pure functions that build the data of every plot (tested); drawing lives in plots.py."""

from __future__ import annotations

import functools
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


def weeks(n_steps: int, step_days: float) -> np.ndarray:
    """Week of each recorded step (0 = start)."""
    return np.arange(n_steps) * step_days / 7.0


def dates(week_values: np.ndarray, start_date: str | None) -> np.ndarray:
    """Calendar dates of week offsets from ``start_date`` (datetime64[s]); the weeks unchanged without one."""
    w = np.asarray(week_values, dtype=float)
    if not start_date:
        return w
    start = np.datetime64(str(start_date), "s")
    return start + np.rint(w * 7 * 86400).astype("timedelta64[s]")


def time_label(start_date: str | None) -> str:
    """The time axis's label: dates when the scenario has a start date, else weeks."""
    return "date" if start_date else "week since start"


DISCRETE_UNITS = ("0/1",)


@functools.lru_cache(maxsize=1)
def _scales() -> tuple[frozenset[str], frozenset[str]]:
    """The catalog's tiered variables (``tier_of``) and its fronts' war-state variables."""
    from model.catalog import load_catalog, reporting

    world = load_catalog()["world"]
    tiers = frozenset(v for v, d in world["variables"].items() if isinstance(d, dict) and d.get("tier_of"))
    return tiers, frozenset(reporting.war_variables({"world": world}))


def level_names(name: str, meta: dict[str, Any]) -> list[str] | None:
    """The names of a discrete scale's levels, from the run's data dictionary (support tiers, war states)."""
    tiers, war = _scales()
    if name in tiers and meta.get("support_tiers"):
        return list(meta["support_tiers"])
    if name in war and meta.get("war_states"):
        return list(meta["war_states"])
    return None


def is_discrete(name: str, unit: str) -> bool:
    """Whole-number scales (support tiers, the war state, 0/1 flags) get integer ticks."""
    tiers, war = _scales()
    return unit in DISCRETE_UNITS or name in tiers or name in war or unit.startswith("tier ")


def fan(matrix: np.ndarray, step_days: float, start_date: str | None = None) -> dict[str, np.ndarray]:
    """Median with 50% and 90% bands across replicates, per step (x in dates when ``start_date`` is set)."""
    b = stats.bands(matrix)
    return {
        "x": dates(weeks(matrix.shape[0], step_days), start_date),
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
    """Probabilities with Wilson intervals, per scenario: binary outcomes, and event outcomes as "happened by the horizon".

    Callers pass the outcome list after :func:`model.analysis.headline.merge_duplicates`, so an
    event that restates a binary outcome appears once.
    """
    rows = []
    for scen, out in ensembles.items():
        for name in names:
            kind = meta[name]["kind"]
            if kind not in ("binary", "event") or name not in out:
                continue
            v = np.asarray(out[name], dtype=float)
            hit = np.isfinite(v) if kind == "event" else v > 0.5
            p, lo, hi = stats.wilson(float(np.sum(hit)), len(v))
            rows.append({"scenario": scen, "outcome": name, "p": p, "low": lo, "high": hi})
    return rows


def km_curves(
    ensembles: dict[str, dict[str, np.ndarray]], name: str, horizon_weeks: float
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {scen: stats.kaplan_meier(out[name], horizon_weeks) for scen, out in ensembles.items()}


def catalog_value(spec: dict[str, Any] | None, key: str) -> Any:
    """The catalog's own value of a scenario setting (what applies when a scenario leaves it out).

    ``relations.a-b``, ``world.<parameter>``, ``initial.<variable>``, ``constraints.<ID>.<param>``
    (``lifted`` is false), ``actors.<a>.response``, ``actors.<a>.stances.<issue>``,
    ``actors.<a>.interests.<name>.<field>``, and ``constants.<path>`` (the path's value). A
    disputed value reads ``sampled (<distribution> low-high)``. None when the path is unknown.
    """
    if spec is None:
        return None
    if key.startswith("constants."):
        key = key.removeprefix("constants.")
    disputed = spec.get("world", {}).get("disputed", {})
    if key in disputed:
        d = disputed[key]
        if "low" in d and "high" in d:
            return f"sampled ({d['dist']} {d['low']:g}-{d['high']:g})"
        return f"sampled ({d['dist']})"
    parts = key.split(".")
    try:
        if parts[0] == "relations":
            a, b = parts[1].split("-", 1)
            rel = spec["relations"].get(f"{a}-{b}") or spec["relations"].get(f"{b}-{a}")
            return rel["value"] if rel else 0.0
        if parts[0] == "world":
            return spec["world"]["parameters"][parts[1]]["value"]
        if parts[0] == "initial":
            return spec["world"]["variables"][".".join(parts[1:])]["initial"]
        if parts[0] == "constraints":
            con = spec["constraints"][parts[1]]
            return bool(con.get("lifted", False)) if parts[2] == "lifted" else con["params"][parts[2]]
        if parts[0] == "actors":
            actor = spec["actors"][parts[1]]
            if parts[2] == "response":
                return actor["response"]["weight"]
            if parts[2] == "stances":
                return actor["stances"][parts[3]]["value"]
            if parts[2] == "interests":
                return actor["interests"][parts[3]][parts[4] if len(parts) > 4 else "weight"]
            if parts[2] == "active":
                return actor.get("active", True)
    except (KeyError, IndexError, ValueError, TypeError):
        return None
    return None


def config_diff(
    resolved: dict[str, dict[str, Any]],
    reference: str,
    spec: dict[str, Any] | None = None,
    levers: dict[str, dict[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """What differs between resolved scenarios, key by key, relative to the reference.

    A setting the reference leaves at the catalog's value shows that value (``spec``), so the
    reader sees old -> new; lever choices (``levers``: scenario -> {lever: option}) come first as
    ``lever <name>`` with the option chosen, before the settings they imply.
    """
    skip = {"name", "title", "question", "claims", "outcomes", "replicates"}

    def flat(doc: Any, prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(doc, dict):
            for k, v in doc.items():
                if not prefix and k in skip:
                    continue
                if prefix == "uncertainties":  # a sampled path's distribution is one setting
                    out[f"uncertainties.{k}"] = v
                    continue
                out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
        elif isinstance(doc, list) and prefix == "events":
            for ev in doc:
                key = f"events[{_event_key(ev)}]"
                out[key] = "present"
        elif isinstance(doc, list) and prefix == "changes":  # dated changes: one row each, in words later
            for ch in doc:
                if isinstance(ch, dict):
                    out[f"changes[{ch.get('at', ch.get('step', '?'))}: {ch.get('label', '')}]"] = ch
        else:
            out[prefix] = doc
        return out

    ref = flat(resolved[reference])
    levers = levers or {}
    rows = []

    def old(key: str) -> Any:
        if key in ref:
            return ref[key]
        if key.startswith("events["):
            return "-"
        return _or_dash(catalog_value(spec, key))

    for scen, doc in resolved.items():
        if scen == reference:
            continue
        mine, theirs = levers.get(scen, {}), levers.get(reference, {})
        for lever in sorted(set(mine) | set(theirs)):
            if mine.get(lever) != theirs.get(lever):
                rows.append(
                    {
                        "scenario": scen,
                        "key": f"lever {lever}",
                        "reference": theirs.get(lever, "-"),
                        "value": mine.get(lever, "-"),
                        "lever": lever,
                    }
                )
        other = flat(doc)
        for key in sorted(set(ref) | set(other)):
            if ref.get(key) != other.get(key):
                before = old(key)
                after = other[key] if key in other else _or_dash(catalog_value(spec, key))
                if _same(before, after):  # e.g. an interest written as its weight, equal to the catalog's
                    continue
                rows.append({"scenario": scen, "key": key, "reference": before, "value": after})
    return rows


def _same(a: Any, b: Any) -> bool:
    """Two settings that mean the same value (1.2 and 1.2000, never True and 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) < 1e-12
    return a == b


def _or_dash(v: Any) -> Any:
    return "-" if v is None else v


def _event_key(ev: Any) -> str:
    if not isinstance(ev, dict):
        return str(ev)
    when = f"at {ev['at']}" if "at" in ev else f"when {ev.get('when')}"
    return f"{when}: {ev.get('actor')} {ev.get('action')} {ev.get('target', '')}".strip()


def fan_table(series: dict[str, dict[str, np.ndarray]]) -> dict[str, list[Any]]:
    """The data behind a fan chart as tidy columns (scenario, x, quantiles) for its CSV."""
    cols: dict[str, list[Any]] = {k: [] for k in ("scenario", "x", "p5", "p25", "median", "p75", "p95")}
    for name, d in series.items():
        for i in range(len(d["x"])):
            cols["scenario"].append(name)
            cols["x"].append(_x_text(d["x"][i]))
            for k in ("p5", "p25", "median", "p75", "p95"):
                cols[k].append(float(d[k][i]))
    return cols


def rows_table(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, list[Any]]:
    """Selected keys of a list of row dicts as columns (for a figure's CSV)."""
    return {k: [r.get(k) if not isinstance(r.get(k), list) else " ".join(map(str, r[k])) for r in rows] for k in keys}


def survival_table(curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]) -> dict[str, list[Any]]:
    """Kaplan-Meier step points per event and scenario, as columns (weeks since start)."""
    cols: dict[str, list[Any]] = {"event": [], "scenario": [], "week": [], "share_not_yet": []}
    for event, by in curves.items():
        for scen, (xs, ys) in by.items():
            for x, y in zip(xs, ys, strict=True):
                cols["event"].append(event)
                cols["scenario"].append(scen)
                cols["week"].append(float(x))
                cols["share_not_yet"].append(float(y))
    return cols


def histogram_table(values: dict[str, dict[str, np.ndarray]], names: list[str]) -> dict[str, list[Any]]:
    """The replicate values behind distribution panels: one row per scenario, outcome and replicate."""
    cols: dict[str, list[Any]] = {"scenario": [], "outcome": [], "replicate": [], "value": []}
    for scen, table in values.items():
        for name in names:
            v = np.asarray(table[name], dtype=float)
            reps = table.get("replicate", np.arange(len(v)))
            cols["scenario"] += [scen] * len(v)
            cols["outcome"] += [name] * len(v)
            cols["replicate"] += [int(r) for r in reps]
            cols["value"] += [float(x) if np.isfinite(x) else float("nan") for x in v]
    return cols


def shares_table(x: np.ndarray, shares: np.ndarray, labels: list[str]) -> dict[str, list[Any]]:
    """Stacked shares (steps x categories) as columns: x, then one column per category."""
    xs = [_x_text(t) for t in x]
    return {"x": xs, **{lab: [float(v) for v in shares[:, i]] for i, lab in enumerate(labels)}}


def _x_text(t: Any) -> Any:
    """A time-axis value for CSV: the calendar date (YYYY-MM-DD) or the week as a number."""
    if isinstance(t, np.datetime64):
        return str(t.astype("datetime64[D]"))
    return float(t)


def headline_panels(ranked: list[Any], names: list[str], reference: str, labels: dict[str, str],
                    xlabels: dict[str, str]) -> list[dict[str, Any]]:  # fmt: skip
    """The summary figure's data: per question, each scenario's level with its 95% interval and the reference.

    ``ranked`` are :class:`model.analysis.headline.Ranked` questions. Scenarios keep the report's
    order in every panel (a reader finds one scenario at the same height everywhere); each row
    carries the difference from the reference with its simultaneous interval and verdict, which
    the figure prints beside the point. Probabilities are in percent.
    """
    from model.analysis.headline import diff_text, interval_end, is_probability

    panels = []
    for q in ranked:
        ref = q.reference
        kind, sm = ref["kind"], ref["smallest"]
        scale = 100.0 if is_probability(kind) else 1.0
        by = {r["scenario"]: r for r in q.rows}
        rows = []
        for n in names:
            r = by.get(n)
            if r is None:
                continue
            pts = " pts" if scale == 100.0 else ""
            text = (
                f"{diff_text(r['diff'], kind, sm)}{pts} [{interval_end(r['low'], kind, sm)}, {interval_end(r['high'], kind, sm)}]"
                f" {r['verdict']}" + (" (forced)" if n in q.forced else "")
            )
            rows.append(
                {
                    "scenario": n,
                    "value": r["value"] * scale,
                    "low": r["value_low"] * scale,
                    "high": r["value_high"] * scale,
                    "difference": r["diff"] * scale,
                    "difference_low": r["low"] * scale,
                    "difference_high": r["high"] * scale,
                    "verdict": r["verdict"],
                    "text": text,
                }
            )
        panels.append(
            {
                "outcome": q.outcome,
                "title": labels.get(q.outcome, q.outcome),
                "xlabel": xlabels.get(q.outcome, ""),
                "worse": q.worse,
                "smallest": float(sm) * scale,
                "reference": {
                    "scenario": reference,
                    "value": ref["value"] * scale,
                    "low": ref["value_low"] * scale,
                    "high": ref["value_high"] * scale,
                },
                "rows": rows,
            }
        )
    return panels


def headline_table(panels: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The summary figure's data as CSV columns (probabilities in percent, as drawn)."""
    cols: dict[str, list[Any]] = {k: [] for k in (
        "outcome", "scenario", "value", "low", "high", "reference_value", "difference", "difference_low",
        "difference_high", "verdict")}  # fmt: skip
    for p in panels:
        for r in [
            {
                **p["reference"],
                "difference": 0.0,
                "difference_low": 0.0,
                "difference_high": 0.0,
                "verdict": "reference",
            },
            *p["rows"],
        ]:
            cols["outcome"].append(p["outcome"])
            cols["scenario"].append(r["scenario"])
            for k in ("value", "low", "high"):
                cols[k].append(float(r[k]))
            cols["reference_value"].append(float(p["reference"]["value"]))
            for k in ("difference", "difference_low", "difference_high"):
                cols[k].append(float(r[k]))
            cols["verdict"].append(r["verdict"])
    return cols
