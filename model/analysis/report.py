"""Analyse one run folder: outcome table, constraint audit, plots, summary and narratives.

Reads only the run folder (manifest, Parquet tables, decisions.jsonl) and writes back into
it. Never imports the simulation.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _RunFigures:
    """What every figure of one run shares: the run it reads, the folder and format it writes, its names and colours.

    Why a record: each figure is drawn by its own helper below and all of them need the same few
    facts about the run; passed one by one they would lengthen every call and hide what differs.
    """

    folder: Path
    meta: dict[str, Any]
    spec: dict[str, Any]
    fmt: str
    colours: dict[str, str]

    @property
    def name(self) -> str:
        return self.meta["scenario"]["name"]

    @property
    def start_date(self) -> str | None:
        return self.meta.get("start_date")

    @property
    def xlabel(self) -> str:
        return plotdata.time_label(self.start_date)

    def series(self, variable: str) -> np.ndarray:
        """One variable's (steps, replicates) matrix: a 100,000-replicate run holds one at a time, not ten."""
        return data.read_series(self.folder, [variable])[variable]

    def save(self, fig: Any, stem: str, table: dict[str, list[Any]]) -> Path:
        """Write the figure as plots/<stem>.<fmt> with its data as plots/<stem>.csv."""
        from model.analysis import plots

        return plots.save(fig, self.folder / "plots" / f"{stem}.{self.fmt}", table)


def make_plots(folder: Path, meta: dict[str, Any], fmt: str = "png", quiet: bool = True) -> list[Path]:
    """Every figure of a run (``fmt``: png, svg or pdf), each with its data as CSV beside it."""
    from model.analysis import plots

    spec = glossary_spec(meta)
    run = _RunFigures(folder, meta, spec, fmt, plots.scenario_colours([meta["scenario"]["name"]]))
    variables = [v for v in reporting.variables(spec, "run") if v in meta["variables"]]
    phase = Phase("plots", len(variables) + 5, quiet)
    out = []
    for v in variables:
        out.append(_time_path(run, v))
        phase.step(v)
    out += _support_tiers(run)
    phase.step("support tiers")
    out += _ladder(run)
    phase.step("ladder")
    table = data.read_outcomes(folder)
    reported, _ = merge_duplicates(list(meta["reported_outcomes"]), meta["outcomes"])
    olabel = {o: label(spec, "outcome", o) for o in meta["outcomes"]}
    out += _distributions(run, table, reported, olabel)
    phase.step("distributions")
    out += _probabilities(run, table, reported, olabel)
    phase.step("probabilities")
    out.append(_audit_figure(run))
    phase.step("constraint audit")
    phase.close()
    return out


def _time_path(run: _RunFigures, v: str) -> Path:
    """One variable's median and bands over time, on the scale readers know it by (named levels where it has them)."""
    from model.analysis import plots

    fan = {run.name: plotdata.fan(run.series(v), run.meta["step_days"], run.start_date)}
    unit = run.meta["variables"][v]["unit"]
    vl = label(run.spec, "variable", v)
    fig = plots.fan_chart(
        fan, f"{vl} — {run.name}", f"{vl} ({unit})", run.colours, discrete=plotdata.is_discrete(v, unit),
        xlabel=run.xlabel, levels=plotdata.level_names(v, run.meta),
    )  # fmt: skip
    return run.save(fig, f"timeseries_{v}", plotdata.fan_table(fan))


def _support_tiers(run: _RunFigures) -> list[Path]:
    """Stacked tier shares for each support-tier variable: a tier is a category, so its mean would mislead."""
    from model.analysis import plots

    tiered = _tiered(run.spec, run.meta)
    tiers_named = run.meta["support_tiers"]
    out = []
    for v in tiered:
        tiers = run.series(v)
        x = plotdata.dates(plotdata.weeks(tiers.shape[0], run.meta["step_days"]), run.start_date)
        shares = plotdata.category_shares(tiers, len(tiers_named))
        tier_labels = [f"{i} {n}" for i, n in enumerate(tiers_named)]
        suffix = "" if len(tiered) == 1 else f"_{v}"
        fig = plots.tier_chart(x, shares, tiers_named, f"{label(run.spec, 'variable', v)} — {run.name}", run.xlabel)
        out.append(run.save(fig, f"support_tiers{suffix}", plotdata.shares_table(x, shares, tier_labels)))
    return out


def _ladder(run: _RunFigures) -> list[Path]:
    """Which group of rungs the replicates occupy each week (none when the run does not record the rung)."""
    from model.analysis import plots

    rung = reporting.rung_variable(run.spec)
    if rung not in run.meta["variables"]:
        return []
    rungs = run.series(rung)
    x = plotdata.dates(plotdata.weeks(rungs.shape[0], run.meta["step_days"]), run.start_date)
    ladder = plotdata.ladder_occupancy(rungs[1:])
    fig = plots.ladder_chart(
        x[1:], ladder, f"Escalation ladder occupancy (highest rung of the week) — {run.name}", run.xlabel
    )
    return [run.save(fig, "ladder", plotdata.shares_table(x[1:], ladder, [g[0] for g in plotdata.LADDER_GROUPS]))]


def _distributions(
    run: _RunFigures, table: dict[str, np.ndarray], reported: list[str], olabel: dict[str, str]
) -> list[Path]:
    """Histograms of the continuous and tier outcomes (none when the run reports only probabilities)."""
    from model.analysis import plots

    omet = run.meta["outcomes"]
    cont = [o for o in reported if omet[o]["kind"] in ("continuous", "tier")]
    if not cont:
        return []
    fig = plots.outcome_distributions(
        {run.name: table}, cont, {o: omet[o]["unit"] for o in cont}, run.colours, f"Outcome distributions — {run.name}",
        labels=olabel,
    )  # fmt: skip
    return [run.save(fig, "outcome_distributions", plotdata.histogram_table({run.name: table}, cont))]


def _probabilities(
    run: _RunFigures, table: dict[str, np.ndarray], reported: list[str], olabel: dict[str, str]
) -> list[Path]:
    """The yes/no and event outcomes' probabilities with their intervals (none when the run has no such outcome)."""
    from model.analysis import plots

    probs = plotdata.probability_table({run.name: table}, reported, run.meta["outcomes"])
    if not probs:
        return []
    fig = plots.probability_chart(probs, [run.name], run.colours, f"Outcome probabilities — {run.name}", labels=olabel)
    return [run.save(fig, "probabilities", plotdata.rows_table(probs, ["scenario", "outcome", "p", "low", "high"]))]


def _audit_figure(run: _RunFigures) -> Path:
    """How often each constraint bound: the figure every run has, even when nothing bound."""
    from model.analysis import plots

    rows = audit(run.folder, run.meta)
    clabel = {r["constraint"]: label(run.spec, "constraint", r["constraint"]) for r in rows}
    columns = ["actor", "constraint", "kind", "claims", "share_of_replicates", "mean_steps_bound", "median_first_week"]
    fig = plots.audit_chart(rows, f"Constraint audit — {run.name}", labels=clabel)
    return run.save(fig, "constraint_audit", plotdata.rows_table(rows, columns))


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
