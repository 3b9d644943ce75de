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

from model.analysis import data, plotdata
from model.analysis.progress import Phase
from model.catalog import load_catalog
from model.catalog.glossary import label, labelled
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


def audit_sentences(rows: list[dict[str, Any]], meta: dict[str, Any], top: int = 6) -> list[str]:
    """The constraints that bound most, in sentences (label first, identifier second)."""
    spec = glossary_spec(meta)
    out = []
    for r in rows[:top]:
        if r["share_of_replicates"] <= 0:
            continue
        actor = meta["actors"].get(r["actor"], {}).get("label", r["actor"])
        out.append(
            f"{actor}: {label(spec, 'constraint', r['constraint'])} ({r['constraint']}, {r['kind']}; {', '.join(r['claims'])}) bound in {r['share_of_replicates']:.0%} of replicates,"
            f" first in week {r['median_first_week']:.0f} (median), {r['mean_steps_bound']:.1f} steps on average: {r['text']}"
        )
    return out


def make_plots(folder: Path, meta: dict[str, Any], fmt: str = "png", quiet: bool = True) -> list[Path]:
    """Every figure of a run (``fmt``: png, svg or pdf), each with its data as CSV beside it."""
    from model.analysis import plots

    out = []
    name = meta["scenario"]["name"]
    spec = glossary_spec(meta)
    start_date = meta.get("start_date")
    xlabel = plotdata.time_label(start_date)
    variables = [v for v in plotdata.TIME_METRICS if v in meta["variables"]]
    phase = Phase("plots", len(variables) + 5, quiet)
    # one variable at a time: a 100,000-replicate run holds one (steps, replicates) matrix, not ten
    series = data.read_series(folder, ["russia.support_tier", "max_rung"])
    colours = plots.scenario_colours([name])
    pdir = folder / "plots"
    for v in variables:
        matrix = series[v] if v in series else data.read_series(folder, [v])[v]
        fan = {name: plotdata.fan(matrix, meta["step_days"], start_date)}
        del matrix
        unit = meta["variables"][v]["unit"]
        vl = label(spec, "variable", v)
        fig = plots.fan_chart(
            fan,
            f"{vl} — {name}",
            f"{vl} ({unit})",
            colours,
            discrete=plotdata.is_discrete(v, unit),
            xlabel=xlabel,
            levels=plotdata.level_names(v, meta),
        )
        out.append(plots.save(fig, pdir / f"timeseries_{v}.{fmt}", plotdata.fan_table(fan)))
        phase.step(v)
    x = plotdata.dates(plotdata.weeks(series["russia.support_tier"].shape[0], meta["step_days"]), start_date)
    shares = plotdata.category_shares(series["russia.support_tier"], len(meta["support_tiers"]))
    tier_labels = [f"{i} {n}" for i, n in enumerate(meta["support_tiers"])]
    out.append(
        plots.save(
            plots.tier_chart(x, shares, meta["support_tiers"], f"Russia's support tier for Iran — {name}", xlabel),
            pdir / f"support_tiers.{fmt}",
            plotdata.shares_table(x, shares, tier_labels),
        )
    )
    phase.step("support tiers")
    ladder = plotdata.ladder_occupancy(series["max_rung"][1:])
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
    reported = meta["reported_outcomes"]
    omet = meta["outcomes"]
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
        "| outcome | estimate (probability, or median of the replicates) | 95% interval (probabilities) or 5-95% range of the replicates | unit |",
        "|---|---|---|---|",
    ]
    for r in plotdata.outcome_rows(table, meta["reported_outcomes"], meta["outcomes"]):
        kind = r["kind"]
        est = fmt(r["value"], kind)
        if kind == "event":
            est += f" (median week {r['median_week']:.0f})" if np.isfinite(r.get("median_week", np.nan)) else ""
        unit = "probability" if kind in ("binary", "event") else r["unit"]
        rng = f"{fmt(r['low'], kind)} – {fmt(r['high'], kind)}"
        name = labelled(spec, "outcome", r["outcome"])
        name = f"{name}: happened by the horizon" if kind == "event" else name
        lines.append(f"| {name} | {est} | {rng} | {unit} |")
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
