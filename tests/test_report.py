"""Reports that answer "which is worse, by how much, how sure": glossary, headline, plots, reuse.

Known answers are computed by hand in the tests; the few runs are tiny (tens of replicates,
a few steps) so the file stays fast.
"""

from __future__ import annotations

import io
import math
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from model.analysis import headline, plotdata, stats
from model.catalog import load_catalog
from model.catalog.glossary import KINDS, _table, label
from model.scenario import scenarios_dir

BASE = str(scenarios_dir() / "baseline.yaml")


# ------------------------------------------------------------------ glossary
def test_every_identifier_of_every_kind_has_a_label():
    spec = load_catalog()
    missing = []
    for kind in KINDS:
        for key, node in _table(spec, kind).items():
            text = node.get("title" if kind == "claim" else "label") if isinstance(node, dict) else None
            if not text or not str(text).strip():
                missing.append(f"{kind} {key}")
    assert not missing, f"identifiers without a plain-English label: {missing}"
    long = [cid for cid, c in spec["claims"].items() if len(c["title"].split()) > 8]
    assert not long, f"claim titles longer than eight words: {long}"
    assert label(spec, "constraint", "RU_GULF_COST") == "Arming Iran costs Russia Gulf goodwill"
    assert label(spec, "claim", "C16") == "Gulf ties keep Russian help indirect"


def test_docs_define_every_outcome_with_its_label():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "model.md").read_text()
    outcomes = doc.split("### Outcomes")[1].split("###")[0]
    for name, o in load_catalog()["outcomes"].items():
        row = next((line for line in outcomes.splitlines() if line.startswith(f"| `{name}` |")), "")
        assert o["label"] in row and o["doc"].split(" (")[0][:30] in row, name


# ------------------------------------------------------------------ multiple comparisons
def test_bonferroni_z_matches_hand_computed_quantiles():
    assert stats.bonferroni_z(1) == pytest.approx(1.959964, abs=1e-6)
    # 10 tests at family level 95%: each two-sided at 0.5%, so z = Phi^-1(0.9975) = 2.807034
    assert stats.bonferroni_z(10) == pytest.approx(2.807034, abs=1e-6)
    assert stats.bonferroni_z(54) == pytest.approx(3.312118, abs=1e-5)
    with pytest.raises(ValueError):
        stats.bonferroni_z(0)


def _tables() -> dict[str, dict[str, np.ndarray]]:
    ids = np.arange(8)
    return {
        "ref": {
            "replicate": ids,
            "seed": ids + 100,
            "war": np.array([0, 0, 0, 1, 0, 0, 0, 0], float),
            "peak": np.array([1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]),
        },
        "alt": {
            "replicate": ids,
            "seed": ids + 100,
            "war": np.array([1, 1, 1, 1, 1, 1, 0, 0], float),
            "peak": np.array([1.5, 2.5, 3.5, 4.5, 1.5, 2.5, 3.5, 4.0]),
        },
    }


META = {
    "war": {"kind": "binary", "unit": "", "smallest": 0.05, "label": "US at war with Iran"},
    "peak": {"kind": "continuous", "unit": "index 0-10", "smallest": 0.5, "label": "Peak escalation"},
}


def test_effect_table_uses_a_bonferroni_interval_and_the_declared_threshold():
    pairing = headline.align(_tables(), {"ref": 7, "alt": 7})
    assert pairing.paired and list(pairing.common) == list(range(8))
    rows, z = headline.effect_table(pairing, "ref", ["war", "peak"], META)
    assert z == pytest.approx(stats.bonferroni_z(2))  # two differences: 2 outcomes x 1 scenario
    peak = next(r for r in rows if r["outcome"] == "peak" and r["scenario"] == "alt")
    d = np.array([0.5] * 7 + [0.0])  # paired differences, by hand
    se = d.std(ddof=1) / math.sqrt(8)
    assert peak["diff"] == pytest.approx(0.4375)
    assert peak["low"] == pytest.approx(0.4375 - z * se) and peak["high"] == pytest.approx(0.4375 + z * se)
    # the interval excludes zero but not the threshold 0.5: detectable, yet below what an analyst acts on
    assert peak["verdict"] == "detectable but small"
    war = next(r for r in rows if r["outcome"] == "war" and r["scenario"] == "alt")
    assert war["diff"] == pytest.approx(6 / 8 - 1 / 8) and war["high"] <= 1.0
    assert war["verdict"] == "meaningful"  # +50 points, interval well beyond 5 points


def test_pairing_uses_common_replicate_ids_and_refuses_other_seeds():
    t = _tables()
    longer = {k: np.concatenate([v, v + (8 if k in ("replicate", "seed") else 0)]) for k, v in t["alt"].items()}
    pairing = headline.align({"ref": t["ref"], "alt": longer}, {"ref": 7, "alt": 7})
    assert pairing.paired and pairing.counts == {"ref": 8, "alt": 16} and len(pairing.common) == 8
    assert np.array_equal(pairing.tables["alt"]["peak"], t["alt"]["peak"])
    other = headline.align(t, {"ref": 7, "alt": 8})
    assert not other.paired and "different master seeds" in other.reason
    rows, _ = headline.effect_table(other, "ref", ["peak"], META)
    alt = next(r for r in rows if r["scenario"] == "alt")
    assert alt["low"] == pytest.approx(alt["unpaired_low"])  # unpaired runs get unpaired intervals


def test_headline_ranks_words_and_lists_a_repeated_event_once():
    spec = load_catalog()
    rows = [
        {"outcome": "us_war_on_iran", "kind": "binary", "unit": "", "smallest": 0.05, "scenario": "s",
         "reference_value": 0.022, "value": 0.316, "diff": 0.294, "low": 0.26, "high": 0.31, "verdict": "meaningful"},
        {"outcome": "weeks_to_us_war", "kind": "event", "unit": "weeks", "smallest": 0.05, "scenario": "s",
         "reference_value": 0.022, "value": 0.316, "diff": 0.294, "low": 0.26, "high": 0.31, "verdict": "meaningful"},
        {"outcome": "peak_escalation", "kind": "continuous", "unit": "index 0-10", "smallest": 0.5, "scenario": "s",
         "reference_value": 4.57, "value": 7.57, "diff": 3.0, "low": 2.71, "high": 3.29, "verdict": "meaningful"},
        {"outcome": "peak_brent", "kind": "continuous", "unit": "USD/bbl", "smallest": 3.0, "scenario": "s",
         "reference_value": 80, "value": 81, "diff": 1.0, "low": 0.5, "high": 1.5, "verdict": "detectable but small"},
    ]  # fmt: skip
    (h,) = headline.headline(rows, "ref")
    assert [r["outcome"] for r in h.meaningful] == ["peak_escalation", "us_war_on_iran"]  # 6 vs 5.9 thresholds
    assert [r["outcome"] for r in h.small] == ["peak_brent"]
    assert headline.sentence(spec, rows[0]) == "US at war with Iran: 31.6% vs 2.2%, +29.4 points [26.0, 31.0]"
    assert headline.sentence(spec, rows[2]) == "Peak escalation: 7.57 vs 4.57 index 0-10, +3.00 [2.71, 3.29]"
    assert headline.outcome_label(spec, "weeks_to_us_war", "event") == "The US strikes Iran by the horizon"
    assert headline.threshold_text(0.05, "binary", "") == "±5 points"


# ------------------------------------------------------------------ what was changed
def test_config_diff_shows_old_values_from_the_catalog_and_levers_by_name():
    spec = load_catalog()
    resolved = {"ref": {"name": "ref"}, "alt": {"name": "alt", "relations": {"russia-saudi": 0.2},
                "constraints": {"RU_S400_GATE": {"lifted": True}}, "world": {"iran_supply_to_russia": 2.0}}}  # fmt: skip
    rows = plotdata.config_diff(resolved, "ref", spec, {"alt": {"us_posture": "hands_off"}})
    by = {r["key"]: r for r in rows}
    assert rows[0]["key"] == "lever us_posture" and rows[0]["value"] == "hands_off"
    assert by["relations.russia-saudi"]["reference"] == 0.5 and by["relations.russia-saudi"]["value"] == 0.2
    assert by["constraints.RU_S400_GATE.lifted"]["reference"] is False
    assert by["world.iran_supply_to_russia"]["reference"] == "sampled (uniform 0.5-6)"


# ------------------------------------------------------------------ plots
def test_time_axis_dates_and_discrete_scales():
    d = plotdata.dates(np.array([0.0, 1.0, 2.5]), "2024-10-14")
    assert [str(x.astype("datetime64[D]")) for x in d] == ["2024-10-14", "2024-10-21", "2024-10-31"]
    assert np.array_equal(plotdata.dates(np.array([0.0, 1.0]), None), [0.0, 1.0])
    assert plotdata.is_discrete("russia.support_tier", "tier 0-7") and plotdata.is_discrete("war_state", "0 none, ...")
    assert not plotdata.is_discrete("escalation", "index 0-10")
    fan = {"a": plotdata.fan(np.arange(6.0).reshape(3, 2), 7, "2024-10-14")}
    assert plotdata.fan_table(fan)["x"] == ["2024-10-14", "2024-10-21", "2024-10-28"]


def test_four_scenarios_get_small_multiples_with_the_reference_in_each(tmp_path):
    from model.analysis import plots

    names = ["base", "a", "b", "c"]
    colours = plots.scenario_colours(names, "base")
    assert colours["base"] == "black" and len({colours[n] for n in names}) == 4
    series = {
        n: plotdata.fan(np.random.default_rng(i).random((5, 20)) * 7, 7, "2024-10-14") for i, n in enumerate(names)
    }
    fig = plots.fan_chart(series, "t", "tier", colours, "base", discrete=True, xlabel="date")
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(panels) == 3  # one per scenario other than the reference
    for ax in panels:
        dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert len(dashed) == 1 and dashed[0].get_color() == "black" and dashed[0].get_zorder() == 10
        ticks = ax.get_yticks()
        assert np.allclose(ticks, np.round(ticks))  # whole tiers only
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert len(labels) == 4 and len(set(labels)) == 4 and labels[0].startswith("base (reference)")
    out = plots.save(fig, tmp_path / "fan.pdf", plotdata.fan_table(series))
    assert out.read_bytes()[:4] == b"%PDF" and (tmp_path / "fan.csv").read_text().startswith("scenario,x,p5")


# ------------------------------------------------------------------ commands
def test_claims_accepts_any_case():
    from model.cli import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["claims", "c16"]) == 0
        assert main(["claims", "c5"]) == 0
    out = buf.getvalue()
    assert out.startswith("C16 Gulf ties keep Russian help indirect") and "\nC05 " in out
    err = io.StringIO()
    with redirect_stderr(err):
        assert main(["claims", "C99"]) == 2
    assert "unknown claim 'C99'" in err.getvalue()


def test_compare_from_python_reuses_runs_and_gives_a_frame(tmp_path):
    from model.execution import RunOptions, apply_overrides
    from model.scenario import load_scenario
    from model.workflow import compare, run_scenario

    scen = [BASE, str(scenarios_dir() / "us_joins_strikes.yaml")]
    quick = RunOptions(workers=1, quiet=True, analyse=False)  # runs without plots, to keep the test fast
    base = load_scenario(BASE)
    made = [run_scenario(apply_overrides(load_scenario(s), 40, base.seed, 3), tmp_path, quick) for s in scen]
    err = io.StringIO()
    with redirect_stderr(err):
        cmp = compare(scen, replicates=40, steps=3, out=tmp_path, workers=1, quiet=False)
    assert err.getvalue().count("reusing ") == 2 and "running " not in err.getvalue()
    assert list(cmp.runs.values()) == made and "comparison plots: 12/12 done" in err.getvalue()
    md = (cmp.folder / "report.md").read_text()
    assert md.count("reused (same scenario hash, seed and replicates)") == 2
    frame = cmp.to_frame()
    row = frame[(frame.outcome == "us_war_on_iran") & (frame.scenario == "us_joins_strikes")].iloc[0]
    assert row.label == "US at war with Iran" and row.verdict == "meaningful" and row.value == pytest.approx(1.0)
    assert set(frame.verdict.dropna()) <= {"", "meaningful", "detectable but small", "noise"}
    # unequal replicate counts are paired on the ids the runs share, and the report says so
    more = run_scenario(apply_overrides(base, 60, None, 3), tmp_path / "more", quick)
    mixed = compare([more, made[1]], out=tmp_path, workers=1, figures=False)
    assert mixed.pairing.paired and len(mixed.pairing.common) == 40
    text = (mixed.folder / "report.md").read_text()
    assert "replicates: baseline 60, us_joins_strikes 40" in text and "Paired on the 40 replicates" in text
    assert "No figures were drawn" in text and not (mixed.folder / "plots").exists()


def test_discrete_scales_are_named_on_the_axis():
    from model.analysis.plotdata import level_names

    meta = {
        "variables": {"russia.support_tier": {"unit": "tier 0-7"}, "brent": {"unit": "USD/bbl"}},
        "support_tiers": ["none", "rhetoric", "diplomatic cover"],
        "war_states": ["none", "exchange of strikes"],
    }
    assert level_names("russia.support_tier", meta) == ["none", "rhetoric", "diplomatic cover"]
    assert level_names("war_state", meta) == ["none", "exchange of strikes"]
    assert level_names("brent", meta) is None


# ------------------------------------------------------------------ issue 22: the headline an analyst reads first
def _catalog_meta() -> dict:
    from model.catalog import outcome_table

    return outcome_table(load_catalog())


def test_the_same_quantity_declared_twice_is_one_row():
    meta = {
        **_catalog_meta(),
        "russian_arms": {"expr": "russia.support_tier >= 4", "reduce": "ever", "kind": "binary"},
    }
    names = ["peak_escalation", "mean_escalation", "weeks_to_us_war", "us_war_on_iran", "weeks_to_russian_arms",
             "russian_arms", "weeks_to_iran_strike"]  # fmt: skip
    kept, aliases = headline.merge_duplicates(names, meta)
    # ever and first_week of one expression are one probability; a max and a mean of it are two outcomes
    assert kept == ["peak_escalation", "mean_escalation", "us_war_on_iran", "russian_arms", "weeks_to_iran_strike"]
    assert aliases == {"weeks_to_us_war": "us_war_on_iran", "weeks_to_russian_arms": "russian_arms"}


def _row(scen, outcome, kind, value, ref, diff, low, high, verdict, smallest=0.05):
    return {"scenario": scen, "outcome": outcome, "kind": kind, "unit": "", "smallest": smallest, "value": value,
            "reference_value": ref, "diff": diff, "low": low, "high": high, "verdict": verdict}  # fmt: skip


def test_scenarios_are_ranked_worst_first_in_the_direction_the_catalog_declares():
    rows = [
        _row("ref", "stake", "continuous", 0.33, 0.33, 0, 0, 0, ""),
        _row("a", "stake", "continuous", 0.30, 0.33, -0.03, -0.04, -0.02, "detectable but small"),
        _row("b", "stake", "continuous", 0.08, 0.33, -0.25, -0.27, -0.23, "meaningful"),
        _row("c", "stake", "continuous", 0.35, 0.33, 0.02, 0.0, 0.04, "noise"),
        _row("ref", "war", "binary", 0.0, 0.0, 0, 0, 0, ""),
        _row("a", "war", "binary", 1.0, 0.0, 1.0, 0.95, 1.0, "meaningful"),
        _row("b", "war", "binary", 0.1, 0.0, 0.1, 0.05, 0.16, "detectable but small"),
        _row("c", "war", "binary", 0.0, 0.0, 0.0, -0.03, 0.03, "noise"),
    ]
    ranked = headline.rank(rows, "ref", [("stake", "lower"), ("war", "higher")], {"a": ["war"]})
    assert [r["scenario"] for r in ranked[0].rows] == ["b", "a", "c"]  # lower is worse: the largest fall first
    assert [r["scenario"] for r in ranked[1].rows] == ["a", "b", "c"] and ranked[1].forced == {"a"}
    assert headline.ranked_line(ranked[1].rows[0], True) == (
        "100.0% vs 0.0%, +100.0 points [95.0, 100.0], meaningful (by construction: the scenario forces it)"
    )
    forced = headline.forced_outcomes(rows, "ref", {"a": ["Israel strikes the nuclear sites"]})
    assert forced == {"a": ["war"]}  # 100% in every replicate, below 100% in the reference, an own event
    assert headline.forced_outcomes(rows, "ref", {}) == {}  # without an own event applied everywhere: a finding


def test_the_headline_names_the_statistic_the_unit_in_words_and_the_direction():
    spec = load_catalog()
    meta = _catalog_meta()
    rows = [
        {**_row("baseline", "peak_escalation", "continuous", 4.81, 4.81, 0, 0, 0, "", 0.5), "unit": "index 0-10"},
        {**_row("strike", "peak_escalation", "continuous", 6.24, 4.81, 1.43, 1.17, 1.69, "meaningful", 0.5),
         "unit": "index 0-10"},
    ]  # fmt: skip
    ranked = headline.rank(rows, "baseline", [("peak_escalation", "higher")])
    lines = headline.headline_text(spec, ranked, meta, "baseline", markdown=False)
    assert lines[0] == (
        "Peak escalation (mean over the replicates; ladder points: 0 calm, 4 the October 2024 standoff after Iran's"
        " barrage (the start), 10 a regional war at the level of Iran's 2024 barrages, open above (weeks of war read"
        " higher); higher is worse; meaningful beyond ±0.5):"
        " baseline 4.81"
    )
    assert lines[1].split(maxsplit=2)[2] == "6.24 vs 4.81, +1.43 [1.17, 1.69], meaningful"
    tiers = headline.unit_words(spec, "max_support_tier", meta["max_support_tier"])
    assert tiers.startswith("tier 0-7: 0 none, 1 rhetoric,") and "4 limited arms" in tiers


def test_settings_read_in_words():
    from model.analysis import words
    from model.analysis.compare import _old_new, _setting

    spec = load_catalog()
    assert words.interest_label(spec, "russia", "ties_saudi") == "Russia's ties with Saudi Arabia"
    assert words.path_label(spec, "actors.russia.interests.ties_saudi.weight") == "Russia's ties with Saudi Arabia"
    assert words.path_label(spec, "relations.russia-saudi") == "the Russia-Saudi Arabia relation"
    resolved = {
        "ref": {"name": "ref"},
        "same": {"name": "same", "actors": {"russia": {"interests": {"ties_saudi": 1.2}}}},  # the catalog's weight
        "low": {"name": "low", "actors": {"russia": {"interests": {"ties_saudi": 0.3}}},
                "changes": [{"at": "2025-03-15", "label": "Ukraine ceasefire", "set": {"relations.russia-usa": -0.3}}]},
    }  # fmt: skip
    rows = plotdata.config_diff(resolved, "ref", spec)
    assert not [r for r in rows if r["scenario"] == "same"]  # no "1.2 -> 1.2"
    stake = next(r for r in rows if r["key"] == "actors.russia.interests.ties_saudi")
    assert _setting(spec, stake, {}) == "Russia's ties with Saudi Arabia (`actors.russia.interests.ties_saudi`)"
    assert _old_new(stake) == ("1.2", "0.3")
    change = next(r for r in rows if r["key"].startswith("changes["))
    assert _setting(spec, change, {}) == (
        "dated change on 2025-03-15 (Ukraine ceasefire): the Russia-United States relation -> -0.3"
    )


def test_a_scenario_extending_another_without_a_title_is_based_on_it(tmp_path):
    from model.analysis.words import scenario_header

    parent = tmp_path / "parent.yaml"
    parent.write_text("name: parent\ntitle: The parent's title\nquestion: What does the parent ask?\n")
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: parent\n")
    meta = {"scenario": {"name": "child", "title": "The parent's title", "question": "What does the parent ask?",
                         "chain": [str(child), str(parent)]}}  # fmt: skip
    assert scenario_header(meta) == (
        'based on "The parent\'s title" (parent)',
        "(the question of parent) What does the parent ask?",
    )
    child.write_text("name: child\nextends: parent\ntitle: Mine\nquestion: Mine too?\n")
    meta["scenario"].update(title="Mine", question="Mine too?")
    assert scenario_header(meta) == ("Mine", "Mine too?")


def test_the_summary_figure_marks_the_reference_and_keeps_the_scenarios_order(tmp_path):
    from model.analysis import plots

    rows = [
        {**_row("ref", "war", "binary", 0.1, 0.1, 0, 0, 0, ""), "value_low": 0.05, "value_high": 0.2},
        {**_row("b", "war", "binary", 0.5, 0.1, 0.4, 0.3, 0.5, "meaningful"), "value_low": 0.4, "value_high": 0.6},
        {**_row("a", "war", "binary", 0.2, 0.1, 0.1, 0.0, 0.2, "detectable but small"), "value_low": 0.1, "value_high": 0.3},
    ]  # fmt: skip
    ranked = headline.rank(rows, "ref", [("war", "higher")])
    (panel,) = plotdata.headline_panels(ranked, ["ref", "a", "b"], "ref", {"war": "War"}, {"war": "probability"})
    assert panel["reference"] == {"scenario": "ref", "value": 10.0, "low": 5.0, "high": 20.0}  # percent
    assert [r["scenario"] for r in panel["rows"]] == ["a", "b"]  # the report's order, not the ranking
    assert panel["rows"][1]["text"] == "+40.0 pts [30.0, 50.0] meaningful"
    fig = plots.headline_chart([panel], plots.scenario_colours(["ref", "a", "b"], "ref"), "t")
    ax = fig.axes[0]
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_xdata()[0] == 10.0  # the reference, marked in the panel
    out = plots.save(fig, tmp_path / "headline.png", plotdata.headline_table([panel]))
    assert out.exists() and (tmp_path / "headline.csv").read_text().startswith("outcome,scenario,value,low,high")


def test_a_constraint_that_bound_rarely_never_reads_zero_percent():
    from model.analysis.report import share_text

    assert share_text(1 / 300, 300) == "0.3% (1 of 300 replicates)"
    assert share_text(0.5, 300) == "50% (150 of 300 replicates)"


def test_a_scenario_own_outcome_is_computed_for_the_other_runs_and_compared(tmp_path):
    import pandas as pd

    from model.execution import RunOptions, apply_overrides
    from model.scenario import load_scenario
    from model.workflow import compare, run_scenario

    quick = RunOptions(workers=1, quiet=True, analyse=False)
    base = load_scenario(BASE)
    own = load_scenario(str(scenarios_dir() / "russia_gulf_priority.yaml"))
    runs = [run_scenario(apply_overrides(s, 30, base.seed, 4), tmp_path, quick) for s in (base, own)]
    cmp = compare(runs, out=tmp_path, figures=False)
    # russia_gulf_priority defines russian_arms (ever tier >= 4): the baseline's run gets it from its time series
    rows = {r["scenario"]: r for r in cmp.rows if r["outcome"] == "russian_arms"}
    tiers = pd.read_parquet(runs[0] / "timeseries").pivot(
        index="step", columns="replicate", values="russia.support_tier"
    )
    assert rows["baseline"]["value"] == pytest.approx(float((tiers.to_numpy()[1:] >= 4).any(axis=0).mean()))
    assert cmp.aliases["weeks_to_russian_arms"] == "russian_arms" and not cmp.missing
    assert cmp.ranked[0].outcome == "russian_arms"  # the scenario's own outcome heads the headline
    # the time series carry the calendar date of every step
    ts = pd.read_parquet(runs[0] / "timeseries", columns=["step", "date"]).drop_duplicates().sort_values("step")
    assert [str(d.date()) for d in ts["date"]] == ["2024-10-14", "2024-10-21", "2024-10-28", "2024-11-04", "2024-11-11"]


def test_a_scheduled_event_a_constraint_blocked_is_named_in_the_headline(tmp_path):
    """A scenario's own scheduled event that a constraint blocks in some replicates is the premise not getting
    through; the headline says in how many replicates it happened (russia_s400_transfer's order was refused in
    half its runs, unreported, before its reserve was raised). Here the S-400 gate (Gulf stake 0.3 above its
    threshold) blocks the order in every replicate."""
    from model.execution import RunOptions, apply_overrides
    from model.scenario import compile_document, load_scenario
    from model.workflow import compare, run_scenario

    quick = RunOptions(workers=1, quiet=True, analyse=False)
    base = load_scenario(BASE)
    doc = {"name": "blocked_order", "extends": "baseline",
           "events": [{"at": 1, "actor": "russia", "action": "order_s400", "target": "iran", "label": "S-400s agreed"}]}  # fmt: skip
    blocked = compile_document(doc, {}, "blocked_order")
    runs = [run_scenario(apply_overrides(s, 20, base.seed, 3), tmp_path, quick) for s in (base, blocked)]
    cmp = compare(runs, out=tmp_path, figures=False)
    assert "Scheduled events that did not happen in every replicate" in cmp.forced_line
    assert "blocked_order: S-400s agreed in 0 of 20 replicates" in cmp.forced_line
    assert "baseline:" not in cmp.forced_line  # the reference's own events are not the comparison's premise
