"""Compare run folders: what was changed, what changed as a result, and whether it is real.

Scenarios compared by ``entente compare`` share the master seed, so replicate r of each is
driven by the same random numbers (common random numbers): every replicate is a paired
observation and differences get paired intervals, much narrower than unpaired ones.
Reads run folders only; never imports the simulation.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis import data, plotdata
from model.analysis.report import fmt
from model.files import safe_component, utc_stamp, write_text

COMPARE_METRICS = ["escalation", "brent", "russia.support_tier", "west_attention", "cohesion", "iran.strength"]


def compare_runs(folders: list[Path], reference: str | None, out: Path) -> Path:
    """Write runs/compare/<timestamp>-<names>/ with plots, report.md and report.html."""
    from model.analysis import plots

    metas = [data.manifest(f) for f in folders]
    names = [m["scenario"]["name"] for m in metas]
    reference = reference or names[0]
    ref_meta = metas[names.index(reference)]
    folder = out / "compare" / f"{utc_stamp()}-{safe_component('-'.join(names))[:60]}"
    folder.mkdir(parents=True, exist_ok=False)
    pdir = folder / "plots"
    colours = plots.scenario_colours(names)
    ensembles = {n: data.read_outcomes(f) for n, f in zip(names, folders, strict=True)}
    seeds = {n: m["seed"] for n, m in zip(names, metas, strict=True)}
    paired = len(set(seeds.values())) == 1 and len({len(e["replicate"]) for e in ensembles.values()}) == 1
    if paired:
        for e in ensembles.values():
            if not np.array_equal(e["seed"], ensembles[reference]["seed"]):
                paired = False
    meta_o = ref_meta["outcomes"]
    reported = list(dict.fromkeys(o for m in metas for o in m["reported_outcomes"]))
    files: list[tuple[str, Path]] = []

    # 1. time plots, one colour per scenario
    step_days = ref_meta["step_days"]
    for v in COMPARE_METRICS:
        fans = {}
        for n, f in zip(names, folders, strict=True):
            fans[n] = plotdata.fan(data.read_series(f, [v])[v], step_days)
        unit = ref_meta["variables"][v]["unit"]
        fig = plots.fan_chart(fans, f"{v}: median and 90% band by scenario", f"{v} ({unit})", colours)
        files.append((f"Time path of {v}", plots.save(fig, pdir / f"timeseries_{v}.png")))
    # 2. probabilities
    prob_rows = plotdata.probability_table(ensembles, reported, meta_o)
    fig = plots.probability_chart(prob_rows, names, colours, "Outcome probabilities by scenario (95% Wilson intervals)")
    files.append(("Outcome probabilities", plots.save(fig, pdir / "probabilities.png")))
    # 3. distributions
    cont = [
        o
        for o in ("peak_escalation", "peak_brent", "weeks_of_war", "mean_support_tier", "final_cohesion")
        if o in meta_o
    ]
    fig = plots.outcome_distributions(
        ensembles, cont, {o: meta_o[o]["unit"] for o in cont}, colours, "Distributions of continuous outcomes"
    )
    files.append(("Distributions", plots.save(fig, pdir / "distributions.png")))
    # 4. time to event
    horizon = max(m["steps"] * m["step_days"] / 7.0 for m in metas)
    events = [o for o in reported if meta_o.get(o, {}).get("kind") == "event"]
    curves = {e: plotdata.km_curves(ensembles, e, horizon) for e in events}
    fig = plots.survival_chart(curves, colours, "Time to event (share of replicates in which it has not yet happened)")
    files.append(("Time to event", plots.save(fig, pdir / "time_to_event.png")))
    # 5. constraint audit per scenario
    from model.analysis.report import audit

    audits = {n: audit(f, m) for n, f, m in zip(names, folders, metas, strict=True)}
    fig = plots.audit_comparison(
        audits, names, colours, "Constraint audit: share of replicates in which each constraint bound"
    )
    files.append(("Constraint audit", plots.save(fig, pdir / "constraint_audit.png")))
    # 6. tables
    table = plotdata.paired_table(ensembles, reference, reported, meta_o) if paired else []
    diff = plotdata.config_diff({n: m["scenario"]["resolved"] for n, m in zip(names, metas, strict=True)}, reference)
    md = _markdown(names, reference, metas, diff, table, prob_rows, audits, files, paired, folder)
    write_text(folder / "report.md", md)
    write_text(folder / "report.html", _html(md, folder))
    return folder


def _markdown(
    names: list[str],
    reference: str,
    metas: list[dict[str, Any]],
    diff: list[dict[str, Any]],
    table: list[dict[str, Any]],
    prob_rows: list[dict[str, Any]],
    audits: dict[str, list[dict[str, Any]]],
    files: list[tuple[str, Path]],
    paired: bool,
    folder: Path,
) -> str:
    ref_meta = metas[names.index(reference)]
    n = ref_meta["replicates"]
    lines = [
        f"# Comparison: {', '.join(names)}",
        "",
        f"Reference scenario: **{reference}**. {n} replicates per scenario, master seed {ref_meta['seed']},"
        f" {ref_meta['steps']} steps of {ref_meta['step_days']:g} days.",
        "",
        "## 1. What was changed",
        "",
        "Differences between each scenario's resolved configuration (after `extends` and levers) and the reference:",
        "",
        "| scenario | setting | reference | this scenario |",
        "|---|---|---|---|",
    ]
    for r in diff:
        lines.append(f"| {r['scenario']} | `{r['key']}` | {_cell(r['reference'])} | {_cell(r['value'])} |")
    if not diff:
        lines.append("| (none) | the configurations are identical | | |")
    lines += ["", "Questions asked:", ""]
    for m in metas:
        lines.append(f"- **{m['scenario']['name']}**: {' '.join(m['scenario']['question'].split())}")
    lines += ["", "## 2. What changed as a result", ""]
    if paired:
        narrow = [
            r["narrowing"]
            for r in table
            if r["scenario"] != reference and np.isfinite(r["narrowing"]) and r["narrowing"] < 1e6
        ]
        lines += [
            "All scenarios were run with **common random numbers**: the same master seed, so replicate *r* of every"
            " scenario draws the same random numbers and each replicate is a paired observation. Differences and"
            " their 95% intervals are computed per pair"
            + (
                f"; the paired intervals are a median {np.median(narrow):.1f}x narrower than unpaired ones would be."
                if narrow
                else "."
            ),
            "A difference is marked **real** when its paired 95% interval excludes zero, and *noise* when it does not.",
            "",
            "| outcome | scenario | value | difference from reference | paired 95% interval | unpaired 95% interval | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in table:
            kind = r["kind"]
            value_kind = "probability" if kind in ("binary", "event") else "continuous"
            if r["scenario"] == reference:
                lines.append(
                    f"| {r['outcome']} | {r['scenario']} (reference) | {fmt(r['value'], value_kind)} | | | | |"
                )
                continue
            pct = value_kind == "probability"
            d = (lambda x: f"{x * 100:+.1f} pts") if pct else (lambda x: f"{x:+.3g}")
            verdict = "**real**" if r["distinguishable"] else "*noise*"
            lines.append(
                f"| {r['outcome']} | {r['scenario']} | {fmt(r['value'], value_kind)} | {d(r['diff'])} | [{d(r['low'])}, {d(r['high'])}]"
                f" | [{d(r['unpaired_low'])}, {d(r['unpaired_high'])}] | {verdict} |"
            )
        lines += [
            "",
            "For event outcomes (`*_week`) the value and difference are the probability that the event happened by the horizon.",
        ]
    else:
        lines += [
            "These runs do not share seeds and replicate counts, so no paired differences are computed; compare the intervals below."
        ]
    lines += ["", "## 3. Probabilities", "", "| outcome | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for o in dict.fromkeys(r["outcome"] for r in prob_rows):
        cells = []
        for nme in names:
            r = next(x for x in prob_rows if x["scenario"] == nme and x["outcome"] == o)
            cells.append(f"{r['p']:.1%} [{r['low']:.1%}, {r['high']:.1%}]")
        lines.append(f"| {o} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## 4. Constraints that bound",
        "",
        "Share of replicates in which each constraint removed or penalised an option the actor would otherwise have chosen:",
        "",
    ]
    cons = list(dict.fromkeys(r["constraint"] for a in audits.values() for r in a if r["share_of_replicates"] > 0.01))
    lines += ["| constraint | claims | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for c in cons:
        claims = next(r["claims"] for a in audits.values() for r in a if r["constraint"] == c)
        cells = [
            f"{next((r['share_of_replicates'] for r in audits[nme] if r['constraint'] == c), 0.0):.0%}" for nme in names
        ]
        lines.append(f"| {c} | {', '.join(claims)} | " + " | ".join(cells) + " |")
    lines += ["", "## 5. Plots", ""]
    for title, p in files:
        lines += [f"### {title}", "", f"![{title}](plots/{p.name})", ""]
    lines += ["## Runs", ""]
    for m in metas:
        lines.append(f"- {m['scenario']['name']}: scenario hash {m['scenario']['digest']}, started {m['started']}")
    lines.append("")
    lines.append("To trace a surprising outcome: `entente explain <run folder> --pick worst --by <outcome>`.")
    return "\n".join(lines) + "\n"


def _cell(v: Any) -> str:
    s = str(v)
    return (s if len(s) < 80 else s[:77] + "...").replace("|", "\\|")


def _html(md: str, folder: Path) -> str:
    """A self-contained HTML page (plots embedded as base64) from the markdown report."""
    body: list[str] = []
    in_table = False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in cells) + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("!["):
            alt, src = line[2:].split("](", 1)
            src = src.rstrip(")")
            png = base64.b64encode((folder / src).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">')
        elif line.startswith("### "):
            body.append(f"<h3>{_inline(line[4:])}</h3>")
        elif line.startswith("## "):
            body.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{_inline(line[2:])}</h1>")
        elif line.startswith("- "):
            body.append(f"<p>&bull; {_inline(line[2:])}</p>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
    if in_table:
        body.append("</table>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}"
        "th{background:#f3f3f3}img{max-width:100%;margin:0.5em 0}code{background:#f3f3f3;padding:0 3px}"
    )
    return f"<!doctype html><html><head><meta charset='utf-8'><title>entente comparison</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n"


def _inline(text: str) -> str:
    import re

    t = html.escape(text, quote=False).replace("\\|", "|")
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"`(.+?)`", r"<code>\1</code>", t)
    t = re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"<i>\1</i>", t)
    return t
