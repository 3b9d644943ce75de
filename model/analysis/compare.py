"""Compare run folders: what was changed, what changed as a result, and whether it is real.

Scenarios compared by ``entente compare`` share the master seed, so replicate r of each is
driven by the same random numbers (common random numbers): every replicate is a paired
observation and differences get paired intervals, much narrower than unpaired ones.
Reads run folders only; never imports the simulation.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis import data, plotdata
from model.analysis import headline as headline_mod
from model.analysis.progress import Phase
from model.catalog import load_catalog
from model.catalog.glossary import label, labelled
from model.files import safe_component, utc_stamp, write_text

COMPARE_METRICS = ["escalation", "brent", "russia.support_tier", "west_attention", "cohesion", "iran.strength"]
CONTINUOUS = ("peak_escalation", "peak_brent", "weeks_of_war", "mean_support_tier", "final_cohesion")


@dataclass
class Comparison:
    """A finished comparison: the report folder and the numbers behind its headline and tables.

    ``rows`` holds one dict per outcome and scenario (the reference's rows carry its level only);
    :meth:`to_frame` gives them as a tidy pandas frame for notebooks.
    """

    folder: Path
    reference: str
    names: list[str]
    runs: dict[str, Path]
    rows: list[dict[str, Any]]
    pairing: headline_mod.Pairing
    z: float
    headlines: list[headline_mod.ScenarioHeadline]
    spec: dict[str, Any] = field(repr=False, default_factory=dict)

    def to_frame(self) -> Any:
        """One row per outcome x scenario: levels, difference, simultaneous interval, verdict, threshold."""
        import pandas as pd

        cols = [
            "scenario", "outcome", "kind", "unit", "reference_value", "value", "diff", "low", "high",
            "low95", "high95", "unpaired_low", "unpaired_high", "smallest", "verdict", "n",
        ]  # fmt: skip
        frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in self.rows], columns=cols)
        frame.insert(2, "label", [headline_mod.outcome_label(self.spec, r["outcome"], r["kind"]) for r in self.rows])
        return frame

    def summary(self, top: int = 3) -> str:
        """The headline in a few lines for the terminal."""
        return terminal_headline(self, top)


def _spec_for(metas: list[dict[str, Any]]) -> dict[str, Any]:
    """The catalog with every run's own outcome definitions, so the glossary knows them all."""
    spec = dict(load_catalog())
    outcomes = dict(spec["outcomes"])
    for m in metas:
        for k, v in m.get("outcomes", {}).items():
            outcomes.setdefault(k, v)
    spec["outcomes"] = outcomes
    return spec


def compare_runs(
    folders: list[Path],
    reference: str | None,
    out: Path,
    fmt: str = "png",
    quiet: bool = False,
    reused: set[Path] | None = None,
) -> Path:
    """Write runs/compare/<timestamp>-<names>/ with plots, report.md and report.html; return the folder."""
    return compare_folders(folders, reference, out, fmt, quiet, reused).folder


def compare_folders(
    folders: list[Path],
    reference: str | None,
    out: Path,
    fmt: str = "png",
    quiet: bool = False,
    reused: set[Path] | None = None,
    figures: bool = True,
) -> Comparison:
    """Compare complete run folders: headline, tables, plots (``fmt``: png, svg or pdf) with their CSVs.

    ``figures=False`` writes the report without plots (a quick look from a notebook, or a test).
    """
    metas = [data.manifest(f) for f in folders]
    names = [m["scenario"]["name"] for m in metas]
    reference = reference or names[0]
    ref_meta = metas[names.index(reference)]
    spec = _spec_for(metas)
    folder = out / "compare" / f"{utc_stamp()}-{safe_component('-'.join(names))[:60]}"
    folder.mkdir(parents=True, exist_ok=False)
    pdir = folder / "plots"
    ensembles = {n: data.read_outcomes(f) for n, f in zip(names, folders, strict=True)}
    pairing = headline_mod.align(ensembles, {n: m["seed"] for n, m in zip(names, metas, strict=True)})
    meta_o = {**spec["outcomes"], **ref_meta["outcomes"]}
    reported = list(dict.fromkeys(o for m in metas for o in m["reported_outcomes"]))
    reported = [o for o in reported if all(o in e for e in ensembles.values())]  # comparable: in every run
    olabel = {o: label(spec, "outcome", o) for o in meta_o}
    files: list[tuple[str, Path]] = []
    prob_rows = plotdata.probability_table(ensembles, reported, meta_o)
    plabel = {**olabel, "russia_tier>=limited_arms": "Russian arms for Iran (tier 4+)",
              "russia_tier>=advanced_arms": "Advanced Russian arms (tier 5+)"}  # fmt: skip
    from model.analysis.report import audit

    audits = {n: audit(f, m) for n, f, m in zip(names, folders, metas, strict=True)}
    if figures:
        files = _figures(
            folders, names, metas, reference, spec, ensembles, reported, meta_o, prob_rows, plabel, audits, fmt, quiet,
            pdir,
        )  # fmt: skip
    # 6. tables and words
    report_phase = Phase("comparison report", 2, quiet)
    rows, z = headline_mod.effect_table(pairing, reference, reported, meta_o)
    heads = headline_mod.headline(rows, reference)
    levers = {n: m["scenario"].get("levers_chosen", {}) for n, m in zip(names, metas, strict=True)}
    diff = plotdata.config_diff(
        {n: m["scenario"]["resolved"] for n, m in zip(names, metas, strict=True)}, reference, spec, levers
    )
    runs = dict(zip(names, folders, strict=True))
    cmp = Comparison(folder, reference, names, runs, rows, pairing, z, heads, spec)
    md = _markdown(cmp, metas, diff, prob_rows, plabel, audits, files, reused or set())
    write_text(folder / "report.md", md)
    report_phase.step("report.md")
    write_text(folder / "report.html", html_page(md, folder))
    report_phase.step("report.html")
    report_phase.close()
    return cmp


def _figures(
    folders: list[Path],
    names: list[str],
    metas: list[dict[str, Any]],
    reference: str,
    spec: dict[str, Any],
    ensembles: dict[str, dict[str, np.ndarray]],
    reported: list[str],
    meta_o: dict[str, Any],
    prob_rows: list[dict[str, Any]],
    plabel: dict[str, str],
    audits: dict[str, list[dict[str, Any]]],
    fmt: str,
    quiet: bool,
    pdir: Path,
) -> list[tuple[str, Path]]:
    """Draw every comparison figure into plots/ with its CSV; return (title, file) in report order."""
    from model.analysis import plots

    ref_meta = metas[names.index(reference)]
    colours = plots.scenario_colours(names, reference)
    olabel = {o: label(spec, "outcome", o) for o in meta_o}
    clabel = {c: label(spec, "constraint", c) for c in spec["constraints"]}
    files: list[tuple[str, Path]] = []
    start_date = ref_meta.get("start_date")
    xlabel = plotdata.time_label(start_date)
    phase = Phase("comparison plots", len(COMPARE_METRICS) + 4, quiet)

    # 1. time plots, one colour per scenario, the reference black and dashed
    step_days = ref_meta["step_days"]
    for v in COMPARE_METRICS:
        fans = {
            n: plotdata.fan(data.read_series(f, [v])[v], step_days, start_date)
            for n, f in zip(names, folders, strict=True)
        }
        unit = ref_meta["variables"][v]["unit"]
        vl = label(spec, "variable", v)
        fig = plots.fan_chart(
            fans, f"{vl}: median and 90% band by scenario", f"{vl} ({unit})", colours, reference,
            plotdata.is_discrete(v, unit), xlabel, plotdata.level_names(v, ref_meta),
        )  # fmt: skip
        files.append((f"Time path: {vl}", plots.save(fig, pdir / f"timeseries_{v}.{fmt}", plotdata.fan_table(fans))))
        phase.step(v)
    # 2. probabilities
    fig = plots.probability_chart(
        prob_rows, names, colours, "Outcome probabilities by scenario (95% Wilson intervals)", reference, plabel
    )
    table = plotdata.rows_table(prob_rows, ["scenario", "outcome", "p", "low", "high"])
    files.append(("Outcome probabilities", plots.save(fig, pdir / f"probabilities.{fmt}", table)))
    phase.step("probabilities")
    # 3. distributions
    cont = [o for o in CONTINUOUS if o in meta_o]
    fig = plots.outcome_distributions(
        ensembles, cont, {o: meta_o[o]["unit"] for o in cont}, colours, "Distributions of continuous outcomes",
        reference, olabel,
    )  # fmt: skip
    files.append(
        ("Distributions", plots.save(fig, pdir / f"distributions.{fmt}", plotdata.histogram_table(ensembles, cont)))
    )
    phase.step("distributions")
    # 4. time to event
    horizon = max(m["steps"] * m["step_days"] / 7.0 for m in metas)
    events = [o for o in reported if meta_o.get(o, {}).get("kind") == "event"]
    curves = {e: plotdata.km_curves(ensembles, e, horizon) for e in events}
    if curves:
        fig = plots.survival_chart(
            curves, colours, "Time to event (share of replicates in which it has not yet happened)", reference,
            start_date, olabel,
        )  # fmt: skip
        files.append(("Time to event", plots.save(fig, pdir / f"time_to_event.{fmt}", plotdata.survival_table(curves))))
    phase.step("time to event")
    # 5. constraint audit per scenario
    fig = plots.audit_comparison(
        audits, names, colours, "Constraint audit: share of replicates in which each constraint bound",
        reference=reference, labels=clabel,
    )  # fmt: skip
    atable = {"scenario": [], "constraint": [], "label": [], "share_of_replicates": []}
    for n, rows in audits.items():
        for r in rows:
            atable["scenario"].append(n)
            atable["constraint"].append(r["constraint"])
            atable["label"].append(clabel.get(r["constraint"], r["constraint"]))
            atable["share_of_replicates"].append(r["share_of_replicates"])
    files.append(("Constraint audit", plots.save(fig, pdir / f"constraint_audit.{fmt}", atable)))
    phase.step("constraint audit")
    phase.close()
    return files


def _scenario_line(spec: dict[str, Any], r: dict[str, Any]) -> str:
    smallest = headline_mod.threshold_text(r["smallest"], r["kind"], r["unit"])
    return f"{headline_mod.sentence(spec, r)}, {r['verdict']} (smallest meaningful {smallest})"


def terminal_headline(cmp: Comparison, top: int = 3) -> str:
    """A few lines for the terminal: per scenario, its largest meaningful effects."""
    lines = [f"Headline (against {cmp.reference}; simultaneous 95% intervals, Bonferroni over {_family(cmp)} tests):"]
    for h in cmp.headlines:
        if not h.meaningful:
            lines.append(f"  {h.scenario}: no outcome moved meaningfully ({len(h.small)} detectable but small)")
            continue
        lines.append(f"  {h.scenario}: {len(h.meaningful)} outcome(s) moved meaningfully")
        for r in h.meaningful[:top]:
            lines.append(f"    {headline_mod.sentence(cmp.spec, r)}")
    return "\n".join(lines)


def _family(cmp: Comparison) -> int:
    return sum(1 for r in cmp.rows if r["scenario"] != cmp.reference)


def _replicates_sentence(cmp: Comparison, metas: list[dict[str, Any]]) -> str:
    counts = cmp.pairing.counts
    same = len(set(counts.values())) == 1
    each = (
        f"{next(iter(counts.values())):,} replicates per scenario"
        if same
        else "replicates: " + ", ".join(f"{n} {c:,}" for n, c in counts.items())
    )
    ref_meta = metas[cmp.names.index(cmp.reference)]
    seeds = {m["seed"] for m in metas}
    seed = f"master seed {ref_meta['seed']}" if len(seeds) == 1 else "different master seeds"
    text = f"{each}, {seed}, {ref_meta['steps']} steps of {ref_meta['step_days']:g} days"
    if ref_meta.get("start_date"):
        text += f" from {ref_meta['start_date']}"
    text += "."
    spans = {n: (m["steps"] * m["step_days"], m.get("start_date")) for n, m in zip(cmp.names, metas, strict=True)}
    if len(set(spans.values())) > 1:
        text += (
            " **Warning:** the runs cover different periods ("
            + ", ".join(f"{n} {d:g} days from {start or 'the start'}" for n, (d, start) in spans.items())
            + "): their outcomes are not measured over the same horizon."
        )
    if cmp.pairing.paired:
        k = len(cmp.pairing.common)
        text += (
            f" Paired on the {k:,} replicates all runs share (replicate ids {int(cmp.pairing.common[0])}-{int(cmp.pairing.common[-1])})."
            if not same or k != next(iter(counts.values()))
            else f" All {k:,} replicates are paired."
        )
    else:
        text += f" Not paired ({cmp.pairing.reason}): differences use unpaired intervals on all replicates."
    return text


def _markdown(
    cmp: Comparison,
    metas: list[dict[str, Any]],
    diff: list[dict[str, Any]],
    prob_rows: list[dict[str, Any]],
    plabel: dict[str, str],
    audits: dict[str, list[dict[str, Any]]],
    files: list[tuple[str, Path]],
    reused: set[Path],
) -> str:
    spec, names, reference = cmp.spec, cmp.names, cmp.reference
    titles = {m["scenario"]["name"]: m["scenario"]["title"] for m in metas}
    family = _family(cmp)
    lines = [
        f"# Comparison: {', '.join(names)}",
        "",
        f"Reference scenario: **{reference}** ({titles[reference]}). {_replicates_sentence(cmp, metas)}",
        "",
        "## Headline",
        "",
        "For each scenario against the reference, the outcomes that moved **meaningfully**, largest first"
        " (the value in the scenario vs in the reference, the difference and its interval).",
        f"Intervals are simultaneous 95% intervals: a **Bonferroni correction** over all {family} outcome x scenario"
        f" differences in this report (each interval at {1 - 0.05 / max(family, 1):.4%}, z = {cmp.z:.2f}),"
        " so together they miss the truth with probability at most 5%."
        + (" Pairs share their random numbers (common random numbers)." if cmp.pairing.paired else ""),
        "Verdicts: **meaningful** when the whole interval lies beyond the outcome's smallest meaningful difference"
        " (declared per outcome in model/catalog/outcomes.yaml, shown in brackets); *detectable but small* when it"
        " excludes zero but not that threshold; *noise* when it contains zero. Probabilities are in percent and"
        " differences in percentage points.",
        "",
    ]
    for h in cmp.headlines:
        lines += [f"### {h.scenario}: {titles.get(h.scenario, '')}", ""]
        mine = [r for r in diff if r["scenario"] == h.scenario]
        if mine:
            shown = "; ".join(_setting(spec, r, short=True) for r in mine[:3])
            more = f"; and {len(mine) - 3} more (section 1)" if len(mine) > 3 else ""
            lines += [
                f"*What this scenario sets:* {shown}{more}. An outcome the scenario imposes appears below too,"
                " marked *in every replicate*.",
                "",
            ]
        if h.meaningful:
            for i, r in enumerate(h.meaningful, 1):
                lines.append(f"{i}. {_scenario_line(spec, r)}")
        else:
            lines.append("No outcome moved meaningfully.")
        if h.small:
            lines += [
                "",
                "Detectable but small: "
                + "; ".join(
                    f"{headline_mod.outcome_label(spec, r['outcome'], r['kind'])}"
                    f" {headline_mod.diff_text(r['diff'], r['kind'], r['smallest'])}{_unit_suffix(r)}"
                    for r in h.small
                )
                + ".",
            ]
        if h.noise:
            unmoved = ", ".join(headline_mod.outcome_label(spec, r["outcome"], r["kind"]) for r in h.noise)
            lines += ["", f"No detectable change (noise): {unmoved}."]
        lines.append("")
    lines += [
        "## 1. What was changed",
        "",
        "Differences between each scenario's resolved configuration (after `extends` and levers) and the"
        " reference; a setting the reference leaves at the catalog's value shows that value:",
        "",
        "| scenario | setting | reference -> this scenario |",
        "|---|---|---|",
    ]
    for r in diff:
        old, new = r["reference"], r["value"]
        if r["key"].startswith("events["):
            old = "absent" if old == "-" else "present"
            new = "added" if new == "present" and old == "absent" else ("removed" if new == "-" else new)
        elif r["key"].endswith(".lifted"):
            old, new = ("lifted" if v is True else "in force" if v in (False, "-") else v for v in (old, new))
        elif r.get("lever"):
            old, new = ("(not set)" if v == "-" else v for v in (old, new))
        lines.append(f"| {r['scenario']} | {_setting(spec, r)} | {_cell(old)} -> {_cell(new)} |")
    if not diff:
        lines.append("| (none) | the configurations are identical | |")
    lines += ["", "Questions asked:", ""]
    for m in metas:
        lines.append(f"- **{m['scenario']['name']}**: {' '.join(m['scenario']['question'].split())}")
    lines += [
        "",
        "## 2. Every outcome against the reference",
        "",
        "Levels are means over the "
        + ("paired replicates" if cmp.pairing.paired else "replicates")
        + " (for event outcomes, the probability that the event happened by the horizon); intervals are the"
        " simultaneous 95% intervals of the headline. Unpaired intervals are in the appendix.",
        "",
        "| outcome | scenario | reference | this scenario | difference | simultaneous 95% interval | verdict (smallest meaningful) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in cmp.rows:
        if r["scenario"] == reference:
            continue
        kind, sm = r["kind"], r["smallest"]
        pts = " pts" if headline_mod.is_probability(kind) else ""
        unit = "" if headline_mod.is_probability(kind) or not r["unit"] else f" {r['unit']}"
        verdict = {"meaningful": "**meaningful**", "detectable but small": "*detectable but small*"}.get(
            r["verdict"], r["verdict"]
        )
        lines.append(
            f"| {headline_mod.outcome_label(spec, r['outcome'], kind)} (`{r['outcome']}`) | {r['scenario']}"
            f" | {headline_mod.value_text(r['reference_value'], kind, sm)}{unit}"
            f" | {headline_mod.value_text(r['value'], kind, sm)}{unit}"
            f" | {headline_mod.diff_text(r['diff'], kind, sm)}{pts}"
            f" | [{headline_mod.interval_end(r['low'], kind, sm)}, {headline_mod.interval_end(r['high'], kind, sm)}]{pts}"
            f" | {verdict} ({headline_mod.threshold_text(sm, kind, r['unit'])}) |"
        )
    lines += ["", "## 3. Probabilities", "", "95% Wilson intervals per scenario.", ""]
    lines += ["| outcome | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for o in dict.fromkeys(r["outcome"] for r in prob_rows):
        cells = []
        for nme in names:
            r = next(x for x in prob_rows if x["scenario"] == nme and x["outcome"] == o)
            cells.append(f"{r['p']:.1%} [{r['low']:.1%}, {r['high']:.1%}]")
        lines.append(f"| {plabel.get(o, o)} (`{o}`) | " + " | ".join(cells) + " |")
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
        claim_text = ", ".join(f"{k} ({label(spec, 'claim', k)})" for k in claims)
        lines.append(f"| {labelled(spec, 'constraint', c)} | {claim_text} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## 5. Plots",
        "",
        "The reference is drawn the same way in every plot: black, dashed, on top. The data behind each plot is in"
        " the CSV file of the same name in `plots/`.",
        "",
    ]
    if not files:
        lines += ["(No figures were drawn for this comparison.)", ""]
    for title, p in files:
        if p.suffix == ".pdf":
            lines += [f"### {title}", "", f"[{title} (PDF)](plots/{p.name})", ""]
        else:
            lines += [f"### {title}", "", f"![{title}](plots/{p.name})", ""]
    lines += ["## Runs used", ""]
    for m, (n, f) in zip(metas, cmp.runs.items(), strict=True):
        how = "reused (same scenario hash, seed and replicates)" if Path(f) in reused else "run for this comparison"
        lines.append(
            f"- **{n}**: `{f}` ({m['replicates']:,} replicates, scenario hash {m['scenario']['digest']},"
            f" started {m['started']}; {how})"
        )
    lines += ["", _explain_hint(cmp), "", "## Appendix: unpaired intervals", ""]
    lines += [
        "The same differences with ordinary 95% intervals: paired (common random numbers) and unpaired (as if the"
        " runs were independent), without the multiple-comparison correction. The ratio shows how much pairing"
        " narrowed each interval.",
        "",
        "| outcome | scenario | difference | paired 95% interval | unpaired 95% interval | narrowing |",
        "|---|---|---|---|---|---|",
    ]
    for r in cmp.rows:
        if r["scenario"] == reference:
            continue
        k, sm = r["kind"], r["smallest"]
        pts = " pts" if headline_mod.is_probability(k) else ""
        nar = r["narrowing"]
        paired = f"[{headline_mod.interval_end(r['low95'], k, sm)}, {headline_mod.interval_end(r['high95'], k, sm)}]"
        unpaired = f"[{headline_mod.interval_end(r['unpaired_low'], k, sm)}, {headline_mod.interval_end(r['unpaired_high'], k, sm)}]"
        ratio = f"{nar:.1f}x" if np.isfinite(nar) and nar < 1e6 else "n/a"
        lines.append(
            f"| {headline_mod.outcome_label(spec, r['outcome'], k)} | {r['scenario']}"
            f" | {headline_mod.diff_text(r['diff'], k, sm)}{pts} | {paired} | {unpaired} | {ratio} |"
        )
    return "\n".join(lines) + "\n"


def _unit_suffix(r: dict[str, Any]) -> str:
    if headline_mod.is_probability(r["kind"]):
        return " points"
    return f" {r['unit']}" if r["unit"] else ""


def _setting(spec: dict[str, Any], r: dict[str, Any], short: bool = False) -> str:
    """A changed setting: a lever by its name, otherwise the label of what the path sets, then the path.

    ``short`` gives the headline's form: without the path, with the new value.
    """
    key = r["key"]
    if short:
        full = _setting(spec, r)
        text = full.rsplit(" (`", 1)[0] if full.endswith("`)") else full
        if r.get("lever"):
            return f"lever {r['lever']} = {r['value']}"
        if key.startswith("events["):
            return text.removeprefix("event: ")
        if key.endswith(".lifted"):
            return f"{text}: {'lifted' if r['value'] is True else 'in force'}"
        return f"{text} {_cell(r['reference'])} -> {_cell(r['value'])}"
    if r.get("lever"):
        return f"lever **{r['lever']}**"
    m = re.match(r"^events\[(at \S+|when .+?): (\S+) (\S+) ?(\S*)\]$", key)
    if m:
        when, actor, action, target = m.groups()
        when = f"at step {when[3:]}" if when[3:].isdigit() else when
        to = f" (target: {label(spec, 'actor', target)})" if target and target != "none" else ""
        return f"event: {label(spec, 'actor', actor)}: {label(spec, 'action', action)}{to}, {when} (`{key}`)"
    parts = key.split(".")
    what = None
    path = key.removeprefix("constants.")
    head, _, rest = path.partition(".")
    if head == "world":
        what = label(spec, "parameter", rest)
    elif head == "initial":
        what = label(spec, "variable", rest)
    elif head == "constraints" and len(parts) > 1:
        what = label(spec, "constraint", path.split(".")[1])
    elif head == "relations":
        a, _, b = rest.partition("-")
        what = f"relation {label(spec, 'actor', a)} - {label(spec, 'actor', b)}"
    return f"{what} (`{key}`)" if what else f"`{key}`"


def _explain_hint(cmp: Comparison) -> str:
    """Point at a real run folder and the continuous outcome that moved most (picking by a 0/1 outcome is arbitrary)."""
    for h in cmp.headlines:
        for r in h.meaningful:
            if r["kind"] in ("continuous", "tier"):
                return (
                    "To trace the largest change: `entente explain "
                    f"{cmp.runs[h.scenario]} --pick worst --by {r['outcome']}` (the replicate with the highest"
                    f" value of {headline_mod.outcome_label(cmp.spec, r['outcome'], r['kind'])})."
                )
    some = next(n for n in cmp.names if n != cmp.reference) if len(cmp.names) > 1 else cmp.reference
    return f"To trace a replicate: `entente explain {cmp.runs[some]} --pick worst --by peak_escalation`."


def _cell(v: Any) -> str:
    s = str(v)
    return (s if len(s) < 80 else s[:77] + "...").replace("|", "\\|")


def html_page(md: str, folder: Path, title: str = "entente comparison") -> str:
    """A self-contained HTML page (plots embedded as base64) from a markdown report (compare, sweep)."""
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
            mime = "image/svg+xml" if src.endswith(".svg") else "image/png"
            blob = base64.b64encode((folder / src).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{blob}">')
        elif line.startswith("### "):
            body.append(f"<h3>{_inline(line[4:])}</h3>")
        elif line.startswith("## "):
            body.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{_inline(line[2:])}</h1>")
        elif re.match(r"^\d+\. ", line):
            body.append(f"<p>{_inline(line)}</p>")
        elif line.startswith("[") and "](" in line:
            text, href = line[1:].split("](", 1)
            body.append(f'<p><a href="{html.escape(href.rstrip(")"))}">{_inline(text)}</a></p>')
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
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n"


def _inline(text: str) -> str:
    t = html.escape(text, quote=False).replace("\\|", "|")
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"`(.+?)`", r"<code>\1</code>", t)
    t = re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"<i>\1</i>", t)
    return t
