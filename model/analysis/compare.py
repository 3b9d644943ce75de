"""Compare run folders: which scenario is worse, by how much, how sure; what was changed; the evidence.

Scenarios compared by ``entente compare`` share the master seed, so replicate r of each is
driven by the same random numbers (common random numbers): every replicate is a paired
observation and differences get paired intervals, much narrower than unpaired ones.

The report opens with the headline an analyst reads first: the scenarios ranked against the
reference on the outcomes the question asks (the scenarios' own outcomes and the catalog's key
ones, ``model/catalog/reporting.yaml``), in words, with verdict and interval; what a scenario
forces on a line of its own ("by construction"); then one summary figure. Every outcome any
scenario defines is reported (an outcome a run lacks is computed from its time series by the
caller, or listed as not comparable with the reason). Reads run folders only; never imports
the simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis import data, plotdata, words
from model.analysis import headline as headline_mod
from model.analysis.htmlpage import html_page
from model.analysis.progress import Phase
from model.catalog import load_catalog, reporting
from model.catalog.glossary import label, labelled
from model.files import new_stamped_folder, safe_component, write_text

__all__ = ["Comparison", "compare_folders", "compare_runs", "html_page", "terminal_headline"]


@dataclass
class Comparison:
    """A finished comparison: the report folder and the numbers behind its headline and tables.

    ``rows`` holds one dict per outcome and scenario (the reference's rows carry its level only);
    ``ranked`` the headline's questions (scenarios ranked worst first on each key outcome);
    :meth:`to_frame` gives the rows as a tidy pandas frame for notebooks.
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
    ranked: list[headline_mod.Ranked] = field(default_factory=list)
    forced_line: str = ""
    aliases: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    meta: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)
    titles: dict[str, tuple[str, str]] = field(default_factory=dict)

    def to_frame(self) -> Any:
        """One row per outcome x scenario: statistic, levels, difference, simultaneous interval, verdict, threshold."""
        import pandas as pd

        cols = [
            "scenario", "outcome", "kind", "statistic", "unit", "reference_value", "value", "diff", "low", "high",
            "low95", "high95", "unpaired_low", "unpaired_high", "smallest", "verdict", "n",
        ]  # fmt: skip
        frame = pd.DataFrame([{c: r.get(c) for c in cols} for r in self.rows], columns=cols)
        frame.insert(2, "label", [headline_mod.outcome_label(self.spec, r["outcome"], r["kind"]) for r in self.rows])
        return frame

    def summary(self, top: int = 3) -> str:
        """The headline for the terminal (the same rankings as report.md)."""
        return terminal_headline(self)


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


def defined_outcomes(
    metas: list[dict[str, Any]], ensembles: dict[str, dict[str, np.ndarray]]
) -> tuple[list[str], dict[str, str]]:
    """Every outcome any run reports, in order; and those some run lacks, with the reason (not comparable).

    A scenario's own outcome is in its run only; the caller fills it into the other runs from their
    time series (``extra`` of :func:`compare_folders`) when it can, so it is compared like any other.
    """
    defined = list(dict.fromkeys(o for m in metas for o in m["reported_outcomes"]))
    missing = {}
    for o in defined:
        lacking = [n for n, t in ensembles.items() if o not in t]
        if lacking:
            missing[o] = f"not in the run of {', '.join(lacking)} (it reads a quantity their time series do not hold)"
    return [o for o in defined if o not in missing], missing


def _event_name(spec: dict[str, Any], e: dict[str, Any]) -> str:
    """An event as the report names it: its own label, else "Actor: action against target" in words."""
    target = f" against {label(spec, 'actor', e['target'])}" if e.get("target") not in (None, "none") else ""
    default = f"{label(spec, 'actor', e['actor'])}: {label(spec, 'action', e['action'])}{target}"
    raw = f"{e.get('actor')} {e.get('action')} {e.get('target')}"
    return default if e.get("label") in (None, "", raw) else str(e["label"])


def own_events(
    metas: list[dict[str, Any]], names: list[str], reference: str, ensembles: dict[str, dict[str, np.ndarray]]
) -> dict[str, list[str]]:
    """Per scenario, the events it adds to the reference that were applied in every replicate (their labels)."""
    spec = load_catalog()

    def key(e: dict[str, Any]) -> tuple[Any, ...]:
        return (e.get("actor"), e.get("action"), e.get("target"), e.get("at"), e.get("when"))

    ref_keys = {key(e) for e in metas[names.index(reference)].get("events", [])}
    out: dict[str, list[str]] = {}
    for n, m in zip(names, metas, strict=True):
        if n == reference:
            continue
        for e in m.get("events", []):
            col = ensembles[n].get(f"event:{e['index']}")
            if key(e) in ref_keys or col is None or not np.all(np.asarray(col) > 0):
                continue
            out.setdefault(n, []).append(_event_name(spec, e))
    return out


def partial_events(
    metas: list[dict[str, Any]], names: list[str], reference: str, ensembles: dict[str, dict[str, np.ndarray]]
) -> str:
    """A sentence naming each scheduled event a scenario adds that did not happen in every replicate.

    Why: a scheduled event (``at:``) is the scenario's premise; when a constraint blocks it (a cap, a
    gate) in some replicates, the comparison measures how often the premise got through, not its
    consequences, and the reader must be told (a blocked S-400 order read as "arms reach Iran in 54%").
    Conditional events (``when:``) fire only where their condition holds and are not listed.
    """
    spec = load_catalog()
    ref_keys = {
        (e.get("actor"), e.get("action"), e.get("target"), e.get("at"))
        for e in metas[names.index(reference)].get("events", [])
    }
    parts = []
    for n, m in zip(names, metas, strict=True):
        if n == reference:
            continue
        for e in m.get("events", []):
            col = ensembles[n].get(f"event:{e['index']}")
            if (
                e.get("when")
                or col is None
                or (e.get("actor"), e.get("action"), e.get("target"), e.get("at")) in ref_keys
            ):
                continue
            done = int(np.sum(np.asarray(col) > 0))
            total = len(col)
            if total > 0 and done < total:
                name = _event_name(spec, e)
                parts.append(f"{n}: {name} in {done:,} of {total:,} replicates")
    if not parts:
        return ""
    return (
        "Scheduled events that did not happen in every replicate (a constraint blocked them in the others; the "
        "differences below are partly how often the premise got through; `entente explain` names the constraint): "
        + "; ".join(parts)
        + "."
    )


def questions(spec: dict[str, Any], kept: list[str], aliases: dict[str, str]) -> list[tuple[str, str]]:
    """What the headline ranks on, (outcome, worse): the scenarios' own outcomes, then the catalog's key ones.

    An own outcome that merges with a key outcome takes the key outcome's direction.
    """
    catalog = set(load_catalog()["outcomes"])
    direction = {}
    for k in reporting.key_outcomes(spec):
        direction.setdefault(aliases.get(k["name"], k["name"]), k["worse"])
    own = [o for o in kept if o not in catalog]
    keys = [aliases.get(k["name"], k["name"]) for k in reporting.key_outcomes(spec)]
    order = list(dict.fromkeys([*own, *[k for k in keys if k in kept]]))
    return [(o, direction.get(o, "")) for o in order]


def compare_folders(
    folders: list[Path],
    reference: str | None,
    out: Path,
    fmt: str = "png",
    quiet: bool = False,
    reused: set[Path] | None = None,
    figures: bool = True,
    extra: dict[Path, dict[str, np.ndarray]] | None = None,
) -> Comparison:
    """Compare complete run folders: headline, tables, plots (``fmt``: png, svg or pdf) with their CSVs.

    ``extra`` adds outcome columns to runs (by folder), in replicate order: the scenario-defined
    outcomes a run lacks, computed from its time series by the workflow layer. ``figures=False``
    writes the report without plots (a quick look from a notebook, or a test).
    """
    metas = [data.manifest(f) for f in folders]
    names = [m["scenario"]["name"] for m in metas]
    reference = reference or names[0]
    spec = _spec_for(metas)
    folder = new_stamped_folder(out / "compare", safe_component("-".join(names))[:60])
    ensembles = {n: data.read_outcomes(f) for n, f in zip(names, folders, strict=True)}
    for n, f in zip(names, folders, strict=True):
        ensembles[n].update((extra or {}).get(Path(f), {}))
    pairing = headline_mod.align(ensembles, {n: m["seed"] for n, m in zip(names, metas, strict=True)})
    meta_o: dict[str, dict[str, Any]] = {}
    for m in metas:
        for k, v in m["outcomes"].items():
            meta_o.setdefault(k, v)
    comparable, missing = defined_outcomes(metas, ensembles)
    kept, aliases = headline_mod.merge_duplicates(comparable, meta_o)
    rows, z = headline_mod.effect_table(pairing, reference, kept, meta_o)
    events = own_events(metas, names, reference, ensembles)
    forced = headline_mod.forced_outcomes(rows, reference, events)
    ranked = headline_mod.rank(rows, reference, questions(spec, kept, aliases), forced)
    kinds = {o: meta_o[o]["kind"] for o in kept}
    cmp = Comparison(
        folder, reference, names, dict(zip(names, folders, strict=True)), rows, pairing, z,
        headline_mod.headline(rows, reference), spec, ranked,
        " ".join(
            x for x in (
                headline_mod.forced_sentence(spec, forced, events, kinds) if forced else "",
                partial_events(metas, names, reference, ensembles),
            ) if x
        ),
        aliases, missing, meta_o,
        {m["scenario"]["name"]: words.scenario_header(m) for m in metas},
    )  # fmt: skip
    from model.analysis.report import audit

    audits = {n: audit(f, m) for n, f, m in zip(names, folders, metas, strict=True)}
    prob_rows = plotdata.probability_table(ensembles, kept, meta_o)
    files = _figures(cmp, metas, ensembles, kept, prob_rows, audits, fmt, quiet) if figures else []
    report_phase = Phase("comparison report", 2, quiet)
    levers = {n: m["scenario"].get("levers_chosen", {}) for n, m in zip(names, metas, strict=True)}
    diff = plotdata.config_diff(
        {n: m["scenario"]["resolved"] for n, m in zip(names, metas, strict=True)}, reference, spec, levers
    )
    lever_names: dict[str, str] = {}
    for m in metas:
        lever_names.update(words.lever_labels(m))
    md = _markdown(cmp, metas, diff, lever_names, prob_rows, audits, files, reused or set())
    write_text(folder / "report.md", md)
    report_phase.step("report.md")
    write_text(folder / "report.html", html_page(md, folder))
    report_phase.step("report.html")
    report_phase.close()
    return cmp


# ------------------------------------------------------------------ figures
@dataclass(frozen=True)
class _ComparisonFigures:
    """What every comparison figure shares: the comparison, the reference's run, the format, colours and labels.

    Why a record: each figure is drawn by its own helper below and all of them need these facts;
    passed one by one they would lengthen every call and hide what differs.
    """

    cmp: Comparison
    ref_meta: dict[str, Any]
    fmt: str
    colours: dict[str, str]
    olabel: dict[str, str]

    @property
    def start_date(self) -> str | None:
        return self.ref_meta.get("start_date")

    def save(self, fig: Any, stem: str, table: dict[str, list[Any]]) -> Path:
        """Write the figure as plots/<stem>.<fmt> with its data as plots/<stem>.csv."""
        from model.analysis import plots

        return plots.save(fig, self.cmp.folder / "plots" / f"{stem}.{self.fmt}", table)


def _figures(
    cmp: Comparison,
    metas: list[dict[str, Any]],
    ensembles: dict[str, dict[str, np.ndarray]],
    kept: list[str],
    prob_rows: list[dict[str, Any]],
    audits: dict[str, list[dict[str, Any]]],
    fmt: str,
    quiet: bool,
) -> list[tuple[str, Path]]:
    """Draw every comparison figure into plots/ with its CSV; return (title, file) in report order, the headline first."""
    from model.analysis import plots

    ref_meta = metas[cmp.names.index(cmp.reference)]
    olabel = {o: headline_mod.outcome_label(cmp.spec, o, cmp.meta[o]["kind"]) for o in cmp.meta}
    figs = _ComparisonFigures(cmp, ref_meta, fmt, plots.scenario_colours(cmp.names, cmp.reference), olabel)
    variables = [v for v in reporting.variables(cmp.spec, "compare") if v in ref_meta["variables"]]
    phase = Phase("comparison plots", len(variables) + 5, quiet)
    files = _headline_figure(figs)
    phase.step("headline")
    for v in variables:
        files.append(_time_paths(figs, v))
        phase.step(v)
    files += _probabilities_figure(figs, prob_rows)
    phase.step("probabilities")
    files += _distributions_figure(figs, ensembles)
    phase.step("distributions")
    files += _time_to_event(figs, metas, ensembles, kept)
    phase.step("time to event")
    files.append(_audit_figure(figs, audits))
    phase.step("constraint audit")
    phase.close()
    return files


def _headline_figure(figs: _ComparisonFigures) -> list[tuple[str, Path]]:
    """The headline in one figure, so a reader who looks at one picture sees the answer (none without rankings)."""
    from model.analysis import plots

    cmp = figs.cmp
    xl = {q.outcome: _axis_words(cmp.spec, q.outcome, cmp.meta[q.outcome]) for q in cmp.ranked}
    panels = plotdata.headline_panels(cmp.ranked, cmp.names, cmp.reference, figs.olabel, xl)
    if not panels:
        return []
    fig = plots.headline_chart(
        panels, figs.colours,
        f"Key outcomes against {cmp.reference}: each scenario's level (95% interval);"
        " beside it the difference [simultaneous 95% interval] and the verdict",
    )  # fmt: skip
    return [("Headline", figs.save(fig, "headline", plotdata.headline_table(panels)))]


def _time_paths(figs: _ComparisonFigures, v: str) -> tuple[str, Path]:
    """One variable over time, one colour per scenario and the reference black and dashed, so paths can be told apart."""
    from model.analysis import plots

    cmp, ref_meta = figs.cmp, figs.ref_meta
    fans = {
        n: plotdata.fan(data.read_series(f, [v])[v], ref_meta["step_days"], figs.start_date)
        for n, f in cmp.runs.items()
    }
    unit = ref_meta["variables"][v]["unit"]
    vl = label(cmp.spec, "variable", v)
    fig = plots.fan_chart(
        fans, f"{vl}: median and 90% band by scenario", f"{vl} ({unit})", figs.colours, cmp.reference,
        plotdata.is_discrete(v, unit), plotdata.time_label(figs.start_date), plotdata.level_names(v, ref_meta),
    )  # fmt: skip
    return (f"Time path: {vl}", figs.save(fig, f"timeseries_{v}", plotdata.fan_table(fans)))


def _probabilities_figure(figs: _ComparisonFigures, prob_rows: list[dict[str, Any]]) -> list[tuple[str, Path]]:
    """Each yes/no and event outcome's probability per scenario with its own interval (none without such outcomes)."""
    from model.analysis import plots

    if not prob_rows:
        return []
    cmp = figs.cmp
    fig = plots.probability_chart(
        prob_rows, cmp.names, figs.colours, "Outcome probabilities by scenario (95% Wilson intervals)", cmp.reference,
        figs.olabel,
    )  # fmt: skip
    table = plotdata.rows_table(prob_rows, ["scenario", "outcome", "p", "low", "high"])
    return [("Outcome probabilities", figs.save(fig, "probabilities", table))]


def _distributions_figure(
    figs: _ComparisonFigures, ensembles: dict[str, dict[str, np.ndarray]]
) -> list[tuple[str, Path]]:
    """Histograms of the catalog's distribution outcomes that every run has (a mean hides a shifted tail)."""
    from model.analysis import plots

    cmp = figs.cmp
    cont = [
        o
        for o in reporting.outcomes(cmp.spec, "distribution")
        if o in cmp.meta and all(o in e for e in ensembles.values())
    ]
    if not cont:
        return []
    fig = plots.outcome_distributions(
        ensembles, cont, {o: cmp.meta[o]["unit"] for o in cont}, figs.colours, "Distributions of continuous outcomes",
        cmp.reference, figs.olabel,
    )  # fmt: skip
    return [("Distributions", figs.save(fig, "distributions", plotdata.histogram_table(ensembles, cont)))]


def _time_to_event(
    figs: _ComparisonFigures,
    metas: list[dict[str, Any]],
    ensembles: dict[str, dict[str, np.ndarray]],
    kept: list[str],
) -> list[tuple[str, Path]]:
    """Survival curves of the event outcomes up to the longest run's horizon: when, not only whether, it happened."""
    from model.analysis import plots

    cmp = figs.cmp
    horizon = max(m["steps"] * m["step_days"] / 7.0 for m in metas)
    events = [o for o in kept if cmp.meta.get(o, {}).get("kind") == "event"]
    events += [
        a
        for a, k in cmp.aliases.items()
        if cmp.meta.get(a, {}).get("kind") == "event" and a in ensembles[cmp.reference]
    ]
    curves = {e: plotdata.km_curves(ensembles, e, horizon) for e in dict.fromkeys(events)}
    if not curves:
        return []
    fig = plots.survival_chart(
        curves, figs.colours, "Time to event (share of replicates in which it has not yet happened)", cmp.reference,
        figs.start_date, {o: label(cmp.spec, "outcome", o) for o in curves},
    )  # fmt: skip
    return [("Time to event", figs.save(fig, "time_to_event", plotdata.survival_table(curves)))]


def _audit_figure(figs: _ComparisonFigures, audits: dict[str, list[dict[str, Any]]]) -> tuple[str, Path]:
    """How often each constraint bound, per scenario: what a scenario changed may be what stopped binding."""
    from model.analysis import plots

    cmp = figs.cmp
    clabel = {c: label(cmp.spec, "constraint", c) for c in cmp.spec["constraints"]}
    fig = plots.audit_comparison(
        audits, cmp.names, figs.colours, "Constraint audit: share of replicates in which each constraint bound",
        reference=cmp.reference, labels=clabel,
    )  # fmt: skip
    atable: dict[str, list[Any]] = {"scenario": [], "constraint": [], "label": [], "share_of_replicates": []}
    for n, arows in audits.items():
        for r in arows:
            atable["scenario"].append(n)
            atable["constraint"].append(r["constraint"])
            atable["label"].append(clabel.get(r["constraint"], r["constraint"]))
            atable["share_of_replicates"].append(r["share_of_replicates"])
    return ("Constraint audit", figs.save(fig, "constraint_audit", atable))


def _axis_words(spec: dict[str, Any], name: str, meta: dict[str, Any]) -> str:
    """The summary figure's x-axis: the statistic and the unit (probabilities in percent)."""
    if headline_mod.is_probability(meta["kind"]):
        return "probability (% of replicates)"
    unit = str(meta.get("unit", "") or "")
    return f"mean ({unit})" if unit else "mean"


# ------------------------------------------------------------------ words
def _family(cmp: Comparison) -> int:
    return sum(1 for r in cmp.rows if r["scenario"] != cmp.reference)


def _setup_sentence(cmp: Comparison) -> str:
    """One line on what each headline line holds and what its interval is."""
    paired = "paired" if cmp.pairing.paired else "unpaired (different seeds)"
    return (
        f"Each line: scenario vs {cmp.reference} (the same statistic), difference [simultaneous 95% interval,"
        f" {paired}, Bonferroni over {_family(cmp)} differences], verdict against the smallest meaningful difference."
    )


def terminal_headline(cmp: Comparison, top: int = 0) -> str:
    """The headline for the terminal: the same rankings as report.md, in plain text."""
    title = cmp.titles.get(cmp.reference, ("", ""))[0]
    lines = [f"Headline: against {cmp.reference} ({title}), {_count(cmp)}.", _setup_sentence(cmp), ""]
    lines += headline_mod.headline_text(cmp.spec, cmp.ranked, cmp.meta, cmp.reference, cmp.forced_line, markdown=False)
    if cmp.missing:
        lines.append("Not comparable: " + "; ".join(f"{o} ({why})" for o, why in cmp.missing.items()))
    lines.append(f"Every outcome, what each scenario changed, and the plots: {cmp.folder / 'report.html'}")
    return "\n".join(lines).rstrip()


def _count(cmp: Comparison) -> str:
    counts = set(cmp.pairing.counts.values())
    n = len(cmp.pairing.common) if cmp.pairing.paired else min(counts)
    return f"{n:,} {'paired ' if cmp.pairing.paired else ''}replicates per scenario"


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
    lever_names: dict[str, str],
    prob_rows: list[dict[str, Any]],
    audits: dict[str, list[dict[str, Any]]],
    files: list[tuple[str, Path]],
    reused: set[Path],
) -> str:
    """report.md: the headline and its figure first, then the scenarios, the changes and the evidence."""
    head = [f for f in files if f[0] == "Headline"]
    lines = [
        f"# Comparison: {', '.join(cmp.names)}",
        "",
        *_headline_section(cmp, head),
        *_how_to_read(cmp, metas),
        *_scenarios_section(cmp, diff, lever_names),
        *_changes_section(cmp, diff, lever_names),
        *_outcomes_section(cmp),
        *_moved_section(cmp),
        *_probabilities_section(cmp, prob_rows),
        *_constraints_section(cmp, audits),
        *_plots_section([f for f in files if f[0] != "Headline"]),
        *_runs_section(cmp, metas, reused),
        *_appendix(cmp),
    ]
    return "\n".join(lines) + "\n"


def _headline_section(cmp: Comparison, figure: list[tuple[str, Path]]) -> list[str]:
    title = cmp.titles.get(cmp.reference, ("", ""))[0]
    lines = [
        "## Headline",
        "",
        f"Against **{cmp.reference}** ({title}), {_count(cmp)}. {_setup_sentence(cmp)}",
        "",
        *headline_mod.headline_text(cmp.spec, cmp.ranked, cmp.meta, cmp.reference, cmp.forced_line),
    ]
    if cmp.missing:
        lines += ["Not comparable: " + "; ".join(f"`{o}` ({why})" for o, why in cmp.missing.items()) + ".", ""]
    for title_, p in figure:
        lines += [_image(title_, p), ""]
    return lines


def _image(title: str, p: Path) -> str:
    return f"[{title} (PDF)](plots/{p.name})" if p.suffix == ".pdf" else f"![{title}](plots/{p.name})"


def _how_to_read(cmp: Comparison, metas: list[dict[str, Any]]) -> list[str]:
    family = _family(cmp)
    return [
        "## How to read the numbers",
        "",
        _replicates_sentence(cmp, metas),
        "",
        "Probabilities are shares of replicates in percent, their differences in percentage points; every other"
        " outcome is the mean over the replicates, in its own unit, and so is its difference. The reference and"
        " each scenario always carry the same statistic as their difference.",
        f"Intervals of differences are simultaneous 95% intervals: a **Bonferroni correction** over all {family}"
        f" outcome x scenario differences (each interval at {1 - 0.05 / max(family, 1):.4%}, z = {cmp.z:.2f}), so"
        " together they miss the truth with probability at most 5%. A probability's difference has Newcombe's"
        " hybrid score interval (paired when the runs share their random numbers), which never leaves"
        " [-100, +100] points; a mean's difference the normal interval of the paired differences.",
        "Verdicts: **meaningful** when the whole interval lies beyond the outcome's smallest meaningful difference"
        " (declared per outcome in model/catalog/outcomes.yaml); *detectable but small* when it excludes zero but"
        " not that threshold; *noise* when it contains zero. The summary figure shows each level with its own 95%"
        " interval (Wilson for probabilities, normal for means).",
        "",
    ]


def _scenarios_section(cmp: Comparison, diff: list[dict[str, Any]], lever_names: dict[str, str]) -> list[str]:
    lines = ["## The scenarios and their questions", ""]
    for n in cmp.names:
        title, question = cmp.titles.get(n, (n, ""))
        role = " (reference)" if n == cmp.reference else ""
        mine = [r for r in diff if r["scenario"] == n]
        sets = ""
        if mine:
            shown = "; ".join(_setting_short(cmp.spec, r, lever_names) for r in mine[:3])
            sets = f" *It sets:* {shown}" + (f"; and {len(mine) - 3} more (section 1)." if len(mine) > 3 else ".")
        lines.append(f"- **{n}**{role}: {title}. *Question:* {question}{sets}")
    return [*lines, ""]


def _changes_section(cmp: Comparison, diff: list[dict[str, Any]], lever_names: dict[str, str]) -> list[str]:
    lines = [
        "## 1. What was changed",
        "",
        "Differences between each scenario's resolved configuration (after `extends` and levers) and the"
        " reference, in words (the path a user types in brackets); a setting the reference leaves at the"
        " catalog's value shows that value:",
        "",
        "| scenario | setting | reference -> this scenario |",
        "|---|---|---|",
    ]
    for r in diff:
        old, new = _old_new(r)
        lines.append(f"| {r['scenario']} | {_setting(cmp.spec, r, lever_names)} | {_cell(old)} -> {_cell(new)} |")
    if not diff:
        lines.append("| (none) | the configurations are identical | |")
    return [*lines, ""]


def _old_new(r: dict[str, Any]) -> tuple[Any, Any]:
    """A changed setting's two values in words (events added or removed, constraints lifted or in force)."""
    old, new, key = r["reference"], r["value"], r["key"]
    if key.startswith(("events[", "changes[")):
        old = "absent" if old == "-" else "present"
        new = "added" if new != "-" and old == "absent" else ("removed" if new == "-" else "present")
    elif key.endswith(".lifted"):
        old, new = ("lifted" if v is True else "in force" if v in (False, "-") else v for v in (old, new))
    elif r.get("lever"):
        old, new = ("(not set)" if v == "-" else v for v in (old, new))
    elif key.startswith("uncertainties."):
        old, new = ("fixed" if v == "-" else "sampled: " + words.distribution_text(v) for v in (old, new))
    else:
        old, new = (v if v == "-" else words.value_text(v) for v in (old, new))
    return old, new


def _setting(spec: dict[str, Any], r: dict[str, Any], lever_names: dict[str, str]) -> str:
    """A changed setting in words, the path a user types second."""
    key = r["key"]
    if r.get("lever"):
        return f"lever **{lever_names.get(r['lever'], r['lever'].replace('_', ' '))}** (`{r['lever']}`)"
    if key.startswith("events["):
        return f"{words.event_text(spec, key) or key} (`{key}`)"
    if key.startswith("changes["):
        return "dated change " + words.change_text(spec, r["value"] if isinstance(r["value"], dict) else {})
    if key.startswith("uncertainties."):
        path = key.removeprefix("uncertainties.")
        return f"{words.path_label(spec, path)} (`{path}`, sampled per replicate)"
    text = words.path_label(spec, key)
    return f"{text[:1].upper()}{text[1:]} (`{key}`)" if text != key.removeprefix("constants.") else f"`{key}`"


def _setting_short(spec: dict[str, Any], r: dict[str, Any], lever_names: dict[str, str]) -> str:
    """A changed setting for the scenario list: in words, with its new value, without the path."""
    if r.get("lever"):
        return f"{lever_names.get(r['lever'], r['lever'].replace('_', ' '))}: {r['value']}"
    full = _setting(spec, r, lever_names)
    text = full.rsplit(" (`", 1)[0] if "(`" in full else full
    if r["key"].startswith(("events[", "changes[")):
        return text.removeprefix("event: ").removeprefix("dated change ")
    old, new = _old_new(r)
    return f"{text} {old} -> {new}"


def _verdict_md(v: str) -> str:
    return {"meaningful": "**meaningful**", "detectable but small": "*detectable but small*"}.get(v, v)


def _outcomes_section(cmp: Comparison) -> list[str]:
    spec = cmp.spec
    lines = [
        "## 2. Every outcome against the reference",
        "",
        "Every outcome any scenario defines. The statistic column says what the three numbers are: a probability"
        " (the share of replicates, for an event the share in which it happened by the horizon) or the mean over the "
        + ("paired replicates" if cmp.pairing.paired else "replicates")
        + "; intervals are the simultaneous 95% intervals of the headline.",
        "",
        "| outcome | statistic | scenario | reference | this scenario | difference | simultaneous 95% interval | verdict (smallest meaningful) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in cmp.rows:
        if r["scenario"] == cmp.reference:
            continue
        kind, sm = r["kind"], r["smallest"]
        prob = headline_mod.is_probability(kind)
        pts = " pts" if prob else ""
        stat = "probability" if prob else f"mean ({r['unit']})" if r["unit"] else "mean"
        also = [a for a, k in cmp.aliases.items() if k == r["outcome"]]
        name = (
            f"{headline_mod.outcome_label(spec, r['outcome'], kind)} (`{r['outcome']}`"
            + "".join(f", `{a}`" for a in also)
            + ")"
        )
        lines.append(
            f"| {name} | {stat} | {r['scenario']} | {headline_mod.value_text(r['reference_value'], kind, sm)}"
            f" | {headline_mod.value_text(r['value'], kind, sm)} | {headline_mod.diff_text(r['diff'], kind, sm)}{pts}"
            f" | [{headline_mod.interval_end(r['low'], kind, sm)}, {headline_mod.interval_end(r['high'], kind, sm)}]{pts}"
            f" | {_verdict_md(r['verdict'])} ({headline_mod.threshold_text(sm, kind, r['unit'])}) |"
        )
    if cmp.aliases:
        merged = "; ".join(f"`{a}` is `{k}`" for a, k in cmp.aliases.items())
        lines += ["", f"Merged (the same expression and reducer, one row each): {merged}."]
    if cmp.missing:
        lines += ["", "Not comparable: " + "; ".join(f"`{o}` {why}" for o, why in cmp.missing.items()) + "."]
    scales: dict[str, list[str]] = {}  # one line per scale, naming every outcome measured on it
    for o in dict.fromkeys(r["outcome"] for r in cmp.rows):
        w = headline_mod.unit_words(spec, o, cmp.meta[o])
        if ":" in w:
            scales.setdefault(w, []).append(headline_mod.outcome_label(spec, o, cmp.meta[o]["kind"]))
    if scales:
        lines += ["", "What the scales mean:", ""]
        lines += [f"- {', '.join(names)}: {w}" for w, names in scales.items()]
    return [*lines, ""]


def _moved_section(cmp: Comparison) -> list[str]:
    spec = cmp.spec
    lines = ["## 3. Per scenario: everything that moved", ""]
    for h in cmp.headlines:
        lines.append(
            f"**{h.scenario}**: "
            + (
                f"{len(h.meaningful)} outcome(s) moved meaningfully."
                if h.meaningful
                else "no outcome moved meaningfully."
            )
        )
        lines.append("")
        for i, r in enumerate(h.meaningful, 1):
            lines.append(
                f"{i}. {headline_mod.sentence(spec, r)}, meaningful (smallest meaningful {headline_mod.threshold_text(r['smallest'], r['kind'], r['unit'])})"
            )
        if h.small:
            small = "; ".join(
                f"{headline_mod.outcome_label(spec, r['outcome'], r['kind'])} {headline_mod.diff_text(r['diff'], r['kind'], r['smallest'])}{_unit_suffix(r)}"
                for r in h.small
            )
            lines += ["", f"Detectable but small: {small}."]
        if h.noise:
            lines += [
                "",
                "No detectable change (noise): "
                + ", ".join(headline_mod.outcome_label(spec, r["outcome"], r["kind"]) for r in h.noise)
                + ".",
            ]
        lines.append("")
    return lines


def _unit_suffix(r: dict[str, Any]) -> str:
    if headline_mod.is_probability(r["kind"]):
        return " points"
    return f" {r['unit']}" if r["unit"] else ""


def _probabilities_section(cmp: Comparison, prob_rows: list[dict[str, Any]]) -> list[str]:
    names = cmp.names
    lines = ["## 4. Probabilities", "", "95% Wilson intervals per scenario (not simultaneous).", ""]
    lines += ["| outcome | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for o in dict.fromkeys(r["outcome"] for r in prob_rows):
        cells = []
        for nme in names:
            r = next((x for x in prob_rows if x["scenario"] == nme and x["outcome"] == o), None)
            cells.append(f"{r['p']:.1%} [{r['low']:.1%}, {r['high']:.1%}]" if r else "n/a")
        lines.append(
            f"| {headline_mod.outcome_label(cmp.spec, o, cmp.meta[o]['kind'])} (`{o}`) | " + " | ".join(cells) + " |"
        )
    return [*lines, ""]


def _constraints_section(cmp: Comparison, audits: dict[str, list[dict[str, Any]]]) -> list[str]:
    spec, names = cmp.spec, cmp.names
    lines = [
        "## 5. Constraints that bound",
        "",
        "Share of replicates in which each constraint removed or penalised an option the actor would otherwise have chosen:",
        "",
        "| constraint | claims | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    cons = list(dict.fromkeys(r["constraint"] for a in audits.values() for r in a if r["share_of_replicates"] > 0.01))
    for c in cons:
        claims = next(r["claims"] for a in audits.values() for r in a if r["constraint"] == c)
        cells = [
            _share(next((r["share_of_replicates"] for r in audits[nme] if r["constraint"] == c), 0.0)) for nme in names
        ]
        claim_text = ", ".join(f"{k} ({label(spec, 'claim', k)})" for k in claims)
        lines.append(f"| {labelled(spec, 'constraint', c)} | {claim_text} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _share(p: float) -> str:
    """A share of replicates that never reads 0% when it is not zero."""
    if 0 < p < 0.005:
        return "<1%"
    return f"{p:.0%}"


def _plots_section(files: list[tuple[str, Path]]) -> list[str]:
    lines = [
        "## 6. Plots",
        "",
        "The reference is drawn the same way in every plot: black, dashed, on top. The data behind each plot is in"
        " the CSV file of the same name in `plots/`.",
        "",
    ]
    if not files:
        lines += ["(No figures were drawn for this comparison.)", ""]
    for title, p in files:
        lines += [f"### {title}", "", _image(title, p), ""]
    return lines


def _runs_section(cmp: Comparison, metas: list[dict[str, Any]], reused: set[Path]) -> list[str]:
    lines = ["## Runs used", ""]
    for m, (n, f) in zip(metas, cmp.runs.items(), strict=True):
        how = "reused (same scenario hash, seed and replicates)" if Path(f) in reused else "run for this comparison"
        lines.append(
            f"- **{n}**: `{f}` ({m['replicates']:,} replicates, scenario hash {m['scenario']['digest']},"
            f" started {m['started']}; {how})"
        )
    return [*lines, "", _explain_hint(cmp), ""]


def _appendix(cmp: Comparison) -> list[str]:
    lines = [
        "## Appendix: unpaired intervals",
        "",
        "The same differences with ordinary 95% intervals: paired (common random numbers) and unpaired (as if the"
        " runs were independent), without the multiple-comparison correction. The ratio shows how much pairing"
        " narrowed each interval.",
        "",
        "| outcome | scenario | difference | paired 95% interval | unpaired 95% interval | narrowing |",
        "|---|---|---|---|---|---|",
    ]
    for r in cmp.rows:
        if r["scenario"] == cmp.reference:
            continue
        k, sm = r["kind"], r["smallest"]
        pts = " pts" if headline_mod.is_probability(k) else ""
        nar = r["narrowing"]
        paired = f"[{headline_mod.interval_end(r['low95'], k, sm)}, {headline_mod.interval_end(r['high95'], k, sm)}]"
        unpaired = f"[{headline_mod.interval_end(r['unpaired_low'], k, sm)}, {headline_mod.interval_end(r['unpaired_high'], k, sm)}]"
        ratio = f"{nar:.1f}x" if np.isfinite(nar) and nar < 1e6 else "n/a"
        lines.append(
            f"| {headline_mod.outcome_label(cmp.spec, r['outcome'], k)} | {r['scenario']}"
            f" | {headline_mod.diff_text(r['diff'], k, sm)}{pts} | {paired} | {unpaired} | {ratio} |"
        )
    return lines


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
    by = reporting.pick_by(cmp.spec)
    return f"To trace a replicate: `entente explain {cmp.runs[some]} --pick worst --by {by}`."


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|")
