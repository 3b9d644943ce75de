"""Analyse one run folder: outcome table, constraint audit, plots, summary and narratives.

Reads only the run folder (manifest, Parquet tables, decisions.jsonl) and writes back into
it. Never imports the simulation.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis import data, plotdata, stats
from model.analysis.headline import merge_duplicates
from model.analysis.progress import Phase
from model.catalog import load_catalog, reporting
from model.catalog.glossary import label
from model.explain.narrative import narrate
from model.files import write_text


def fmt(v: float, kind: str = "continuous") -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    if kind in ("binary", "event", "probability"):
        return f"{v:.1%}"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def write_outcomes_csv(folder: Path, table: dict[str, np.ndarray]) -> None:
    buf = io.StringIO()
    cols = list(table)
    w = csv.writer(buf)
    w.writerow(cols)
    n = len(table["replicate"])
    for i in range(n):
        row = []
        for c in cols:
            v = table[c][i]
            if c == "seed":
                row.append(str(int(v)))
            elif isinstance(v, float | np.floating):
                row.append("" if not np.isfinite(v) else f"{float(v):.6g}")
            else:
                row.append(str(v))
        w.writerow(row)
    write_text(folder / "outcomes.csv", buf.getvalue())


def audit(folder: Path, meta: dict[str, Any]) -> list[dict[str, Any]]:
    actors = sorted({c["actor"] for c in meta["constraints"]})
    # one actor's (steps, replicates) bitmasks at a time: all ten at once held 1.2 GB at 100,000 replicates
    by_id: dict[str, dict[str, Any]] = {}
    for a in actors:
        bits = data.read_decisions(folder, [f"{a}.bound"])[f"{a}.bound"]
        for row in plotdata.constraint_audit({a: bits}, meta["constraints"], meta["step_days"]):
            by_id[row["constraint"]] = row
        del bits
    return [by_id[c["id"]] for c in meta["constraints"] if c["id"] in by_id]


def write_audit_csv(folder: Path, rows: list[dict[str, Any]]) -> None:
    """constraints.csv: the audit table with each constraint's plain-English label beside its id."""
    spec = load_catalog()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "actor",
            "constraint",
            "label",
            "kind",
            "claims",
            "share_of_replicates",
            "mean_steps_bound",
            "median_first_week",
            "text",
        ]
    )
    for r in rows:
        w.writerow(
            [
                r["actor"],
                r["constraint"],
                label(spec, "constraint", r["constraint"]),
                r["kind"],
                " ".join(r["claims"]),
                f"{r['share_of_replicates']:.4f}",
                f"{r['mean_steps_bound']:.3f}",
                f"{r['median_first_week']:.1f}",
                r["text"],
            ]
        )
    write_text(folder / "constraints.csv", buf.getvalue())


def share_text(p: float, n: int) -> str:
    """A share of replicates that never reads "0%" when it is not zero: "0.3% (1 of 300)"."""
    k = int(round(p * n))
    if 0 < p < 0.005:
        return f"{p:.1%} ({k} of {n:,} replicates)"
    return f"{p:.0%} ({k:,} of {n:,} replicates)" if n else f"{p:.0%}"


def audit_sentences(rows: list[dict[str, Any]], meta: dict[str, Any], top: int = 6) -> list[str]:
    """The constraints that bound most, in sentences (label first, identifier second).

    The share is given with its count, so a constraint that bound in one replicate of 300 reads
    "0.3% (1 of 300 replicates)", never "0%" beside a first week.
    """
    spec = glossary_spec(meta)
    n = int(meta.get("replicates", 0))
    out = []
    for r in rows[:top]:
        if r["share_of_replicates"] <= 0:
            continue
        actor = meta["actors"].get(r["actor"], {}).get("label", r["actor"])
        when = (
            f"first in week {r['median_first_week']:.0f} (median over those replicates)"
            if np.isfinite(r["median_first_week"])
            else ""
        )
        out.append(
            f"{actor}: {label(spec, 'constraint', r['constraint'])} ({r['constraint']}, {r['kind']}; {', '.join(r['claims'])})"
            f" bound in {share_text(r['share_of_replicates'], n)}, {when}, {r['mean_steps_bound']:.1f} steps per"
            f" replicate on average: {r['text']}"
        )
    return out


def _tiered(spec: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """The run's support-tier variables (``tier_of`` in the catalog), drawn as stacked tier shares."""
    return [
        v
        for v, d in spec["world"]["variables"].items()
        if isinstance(d, dict) and d.get("tier_of") and v in meta["variables"]
    ]


def make_plots(folder: Path, meta: dict[str, Any], fmt: str = "png", quiet: bool = True) -> list[Path]:
    """Every figure of a run (``fmt``: png, svg or pdf), each with its data as CSV beside it."""
    from model.analysis import plots

    out = []
    name = meta["scenario"]["name"]
    spec = glossary_spec(meta)
    start_date = meta.get("start_date")
    xlabel = plotdata.time_label(start_date)
    variables = [v for v in reporting.variables(spec, "run") if v in meta["variables"]]
    tiered = _tiered(spec, meta)
    rung = reporting.rung_variable(spec)
    phase = Phase("plots", len(variables) + 5, quiet)
    colours = plots.scenario_colours([name])
    pdir = folder / "plots"
    for v in variables:
        # one variable at a time: a 100,000-replicate run holds one (steps, replicates) matrix, not ten
        fan = {name: plotdata.fan(data.read_series(folder, [v])[v], meta["step_days"], start_date)}
        unit = meta["variables"][v]["unit"]
        vl = label(spec, "variable", v)
        fig = plots.fan_chart(
            fan, f"{vl} — {name}", f"{vl} ({unit})", colours, discrete=plotdata.is_discrete(v, unit), xlabel=xlabel,
            levels=plotdata.level_names(v, meta),
        )  # fmt: skip
        out.append(plots.save(fig, pdir / f"timeseries_{v}.{fmt}", plotdata.fan_table(fan)))
        phase.step(v)
    for v in tiered:
        tiers = data.read_series(folder, [v])[v]
        x = plotdata.dates(plotdata.weeks(tiers.shape[0], meta["step_days"]), start_date)
        shares = plotdata.category_shares(tiers, len(meta["support_tiers"]))
        tier_labels = [f"{i} {n}" for i, n in enumerate(meta["support_tiers"])]
        suffix = "" if len(tiered) == 1 else f"_{v}"
        out.append(
            plots.save(
                plots.tier_chart(x, shares, meta["support_tiers"], f"{label(spec, 'variable', v)} — {name}", xlabel),
                pdir / f"support_tiers{suffix}.{fmt}",
                plotdata.shares_table(x, shares, tier_labels),
            )
        )
    phase.step("support tiers")
    if rung in meta["variables"]:
        rungs = data.read_series(folder, [rung])[rung]
        x = plotdata.dates(plotdata.weeks(rungs.shape[0], meta["step_days"]), start_date)
        ladder = plotdata.ladder_occupancy(rungs[1:])
        out.append(
            plots.save(
                plots.ladder_chart(
                    x[1:], ladder, f"Escalation ladder occupancy (highest rung of the week) — {name}", xlabel
                ),
                pdir / f"ladder.{fmt}",
                plotdata.shares_table(x[1:], ladder, [g[0] for g in plotdata.LADDER_GROUPS]),
            )
        )
    phase.step("ladder")
    table = data.read_outcomes(folder)
    omet = meta["outcomes"]
    reported, _ = merge_duplicates(list(meta["reported_outcomes"]), omet)
    olabel = {o: label(spec, "outcome", o) for o in omet}
    cont = [o for o in reported if omet[o]["kind"] in ("continuous", "tier")]
    if cont:
        fig = plots.outcome_distributions(
            {name: table}, cont, {o: omet[o]["unit"] for o in cont}, colours, f"Outcome distributions — {name}",
            labels=olabel,
        )  # fmt: skip
        out.append(
            plots.save(fig, pdir / f"outcome_distributions.{fmt}", plotdata.histogram_table({name: table}, cont))
        )
    phase.step("distributions")
    probs = plotdata.probability_table({name: table}, reported, omet)
    if probs:
        out.append(
            plots.save(
                plots.probability_chart(probs, [name], colours, f"Outcome probabilities — {name}", labels=olabel),
                pdir / f"probabilities.{fmt}",
                plotdata.rows_table(probs, ["scenario", "outcome", "p", "low", "high"]),
            )
        )
    phase.step("probabilities")
    rows = audit(folder, meta)
    clabel = {r["constraint"]: label(spec, "constraint", r["constraint"]) for r in rows}
    out.append(
        plots.save(
            plots.audit_chart(rows, f"Constraint audit — {name}", labels=clabel),
            pdir / f"constraint_audit.{fmt}",
            plotdata.rows_table(
                rows,
                [
                    "actor",
                    "constraint",
                    "kind",
                    "claims",
                    "share_of_replicates",
                    "mean_steps_bound",
                    "median_first_week",
                ],
            ),
        )
    )
    phase.step("constraint audit")
    phase.close()
    return out


def _outcome_line(spec: dict[str, Any], name: str, d: dict[str, Any], v: np.ndarray, aliases: dict[str, str]) -> str:
    """One row of summary.md's outcome table (the same statistics as the comparison report)."""
    kind = d["kind"]
    also = "".join(f", {a}" for a, k in aliases.items() if k == name)
    what = f"{label(spec, 'outcome', name)} ({name}{also})"
    if kind in ("binary", "event"):
        hit = np.isfinite(v) if kind == "event" else v > 0.5
        p, lo, hi = stats.wilson(float(hit.sum()), len(v))
        when = ""
        if kind == "event" and hit.any():
            when = f"; median week {float(np.median(v[hit])):.0f} where it happened"
        what += ": happened by the horizon" if kind == "event" else ""
        return f"| {what} | probability | {p:.1%} [{lo:.1%}, {hi:.1%}]{when} | | share of replicates |"
    m, lo, hi = stats.mean_interval(v)
    q = np.nanquantile(v, [0.05, 0.95]) if np.isfinite(v).any() else [np.nan, np.nan]
    words = reporting.outcome_scale(spec, d)
    unit = f"{d['unit']}: {words}" if words else d["unit"]
    return f"| {what} | mean | {fmt(m)} [{fmt(lo)}, {fmt(hi)}] | {fmt(q[0])} – {fmt(q[1])} | {unit} |"


def glossary_spec(meta: dict[str, Any]) -> dict[str, Any]:
    """The catalog, with the run's own outcome definitions added, for glossary labels."""
    spec = dict(load_catalog())
    spec["outcomes"] = {**spec["outcomes"], **meta.get("outcomes", {})}
    return spec


def summary(folder: Path, meta: dict[str, Any], plot_files: list[Path], rows: list[dict[str, Any]]) -> str:
    table = data.read_outcomes(folder)
    spec = glossary_spec(meta)
    sc = meta["scenario"]
    n = len(table["replicate"])
    lines = [
        f"# {sc['title']}",
        "",
        f"**Scenario** `{sc['name']}` (hash {sc['digest']}), {n:,} replicates, {meta['steps']} steps of {meta['step_days']:g} days"
        + (f" from {meta['start_date']}" if meta.get("start_date") else "")
        + f", master seed {meta['seed']}.",
        "",
        f"**Question.** {sc['question'].strip()}",
        "",
        f"Claims: {', '.join(sc['claims']) or 'none listed'}.",
        "",
    ]
    if meta.get("precision"):
        p = meta["precision"]
        lines += [
            f"**Precision.** Replicates were added until every reported probability's 95% interval was narrower than ±{p['target']:g}:"
            f" {p['replicates']} replicates were needed (ceiling {p['ceiling']}); widest half-width {p['achieved']:.4f}"
            + (" — the ceiling was reached before the target." if not p["met"] else "."),
            "",
        ]
    lines += [
        "## Key outcomes",
        "",
        "Each outcome with the statistic named: a probability (the share of replicates; for an event, the share in"
        " which it happened by the horizon) with its 95% Wilson interval, or the mean over the replicates with its"
        " 95% interval; then the spread of the replicates themselves (5th to 95th percentile) and the unit in words.",
        "",
        "| outcome | statistic | estimate [95% interval] | spread of the replicates (5-95%) | unit |",
        "|---|---|---|---|---|",
    ]
    reported, aliases = merge_duplicates(list(meta["reported_outcomes"]), meta["outcomes"])
    for o in reported:
        lines.append(_outcome_line(spec, o, meta["outcomes"][o], np.asarray(table[o], dtype=float), aliases))
    lines += ["", "## Constraint audit", ""]
    sents = audit_sentences(rows, meta)
    lines += [f"- {s}" for s in sents] or ["- No constraint bound in any replicate."]
    lines += ["", "Full table: [constraints.csv](constraints.csv).", "", "## Plots", ""]
    for p in plot_files:
        lines += [f"[{p.stem} (PDF)](plots/{p.name})" if p.suffix == ".pdf" else f"![{p.stem}](plots/{p.name})", ""]
    lines += ["The data behind each plot is in the CSV file of the same name in `plots/`.", ""]
    lines += [
        "## Files",
        "",
        "- `outcomes.csv`: one row per replicate (seed, sampled values, outcomes).",
        "- `timeseries/`, `decisions/`: Parquet tables of every step (see runs/README.md).",
        "- `decisions.jsonl`, `narrative.md`: full decision records and narratives of the traced replicates"
        f" ({', '.join(f'{k} = {v}' for k, v in meta['traced'].items())}).",
        "",
    ]
    return "\n".join(lines)


def analyse_run(folder: str | Path, fmt: str = "png", quiet: bool = True) -> None:
    """Write outcomes.csv, constraints.csv, plots/ (``fmt`` figures and their CSVs), summary.md and narrative.md."""
    folder = Path(folder)
    meta = data.manifest(folder)
    write_outcomes_csv(folder, data.read_outcomes(folder))
    rows = audit(folder, meta)
    write_audit_csv(folder, rows)
    files = make_plots(folder, meta, fmt, quiet)
    write_text(folder / "summary.md", summary(folder, meta, files, rows))
    records = data.read_jsonl(folder / "decisions.jsonl")
    if records:
        parts = [f"# Narratives — {meta['scenario']['title']}", ""]
        for role, rep in meta["traced"].items():
            for r in rep if isinstance(rep, list) else [rep]:
                parts += [f"*{role} replicate*", "", narrate(records, meta, r)]
        write_text(folder / "narrative.md", "\n".join(parts))
