"""Every shipped scenario is a fixture: it loads, validates, runs, and moves outcomes the way its question implies."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from model.engine import simulate
from model.scenario import load_scenario, scenarios_dir, shipped, validate
from model.scenario.schema import json_schema

N = 300
STEPS = 16
REQUIRED = [
    "baseline",
    "israel_limited_strike",
    "israel_strikes_nuclear",
    "us_joins_strikes",
    "russia_s400_transfer",
    "trump_ukraine_deal",
    "jcpoa_return",
    "saudi_output_surge",
    "proxies_open_fronts",
    "russia_restrains_iran",
]


@cache
def outcomes(name: str) -> dict[str, np.ndarray]:
    sc = load_scenario(scenarios_dir() / f"{name}.yaml").with_run_options(steps=STEPS)
    return simulate(sc.config, N).outcomes


def mean(name: str, outcome: str) -> float:
    return float(np.nanmean(outcomes(name)[outcome]))


def test_required_scenarios_exist_under_their_names():
    names = {p.stem for p in shipped()}
    assert set(REQUIRED) <= names
    for p in shipped():
        assert load_scenario(p).name == p.stem, f"{p.name} must declare name: {p.stem}"


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.stem)
def test_every_scenario_validates_runs_and_cites_claims(path: Path):
    assert validate(path) == []
    sc = load_scenario(path)
    assert sc.claims and sc.question.strip() and sc.title
    res = outcomes(sc.name)
    assert len(res["peak_escalation"]) == N
    assert np.isfinite(res["peak_brent"]).all()


# each scenario's question implies a direction relative to baseline, through a mechanism: none of
# these outcomes is set by the scenario's own forced events (a forced US strike "raising" US
# involvement would only restate the input)
DIRECTIONS = [
    ("jcpoa_return", "peak_brent", "<"),  # Iranian oil returns to the market
    ("jcpoa_return", "final_cohesion", "<"),  # C45: the deal costs Russia its partner's trust
    ("trump_ukraine_deal", "mean_support_tier", "<"),  # C51: the deal's cost constraint binds
    ("us_joins_strikes", "peak_escalation", ">"),
    ("us_joins_strikes", "iran_strikes", ">"),  # Iran answers the strikes on its soil
    ("israel_strikes_nuclear", "peak_escalation", ">"),
    ("israel_strikes_nuclear", "iran_strikes", ">"),  # proportionate retaliation
    (
        "israel_strikes_nuclear",
        "sustained_war",
        ">",
    ),  # the exchange that follows (the US helps intercept, rarely strikes)
    ("russia_s400_transfer", "final_gulf_stake", "<"),  # Riyadh and Abu Dhabi react
    ("saudi_output_surge", "peak_brent", "<"),
    ("saudi_output_surge", "mean_russia_oil_revenue", "<"),
    ("proxies_open_fronts", "mean_escalation", ">"),
    ("russia_restrains_iran", "mean_escalation", "<"),
    ("kazan_treaty", "mean_cohesion", ">"),  # signed in October rather than January
    ("all_out_war", "mean_support_tier", ">"),  # Russia backs Iran more in a war, within C58
    # ("all_out_war", "us_war_on_iran", ">") was dropped on 2026-12-02: at the calibration of 217 questions the US
    # strikes Iran in 0.1% of all-out-war runs and 0.0% of baseline runs (2,000 replicates; 0.35% and 0.05% at the
    # previous one), below what this test's ensembles resolve. The record to May 2025 has no US strike on Iran,
    # so the scorer keeps Washington out; the closing note lists it as an open finding of issue 19 (item 8).
]


@pytest.mark.parametrize("name,outcome,direction", DIRECTIONS, ids=lambda v: str(v))
def test_scenario_moves_outcome_the_expected_way(name: str, outcome: str, direction: str):
    a, b = mean("baseline", outcome), mean(name, outcome)
    assert (b < a) if direction == "<" else (b > a), f"{name}: {outcome} {b:.4f} vs baseline {a:.4f}"


def test_kazan_treaty_changes_words_not_deeds():
    """C39, C42: the treaty raises cohesion but not Russia's support tier."""
    assert mean("kazan_treaty", "max_support_tier") <= mean("baseline", "max_support_tier") + 0.05


def test_every_shipped_scenario_satisfies_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)  # built once: jsonschema.validate rebuilds it per call
    from model.safeyaml import load_file

    for p in shipped():
        data, _ = load_file(p)
        validator.validate(data)


def test_schema_rejects_what_the_loader_rejects(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    bad = {"name": "x", "replicats": 10}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, json_schema())
    assert json.dumps(json_schema())  # serialisable


# ----------------------------------------------------------------- inheritance and overrides
def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / f"{name}.yaml"
    p.write_text(text)
    return p


def test_extends_deep_merges_and_appends_events(tmp_path):
    write(
        tmp_path,
        "parent",
        "name: parent\nhorizon: 8\nseed: 5\nactors:\n  russia:\n    interests:\n      oil_revenue: {weight: 0.05}\n      ties_israel: {weight: 0.1}\nevents:\n  - {at: 1, actor: israel, action: limited_strike, target: iran}\n",
    )
    child = write(
        tmp_path,
        "child",
        "name: child\nextends: parent\nactors:\n  russia:\n    interests:\n      oil_revenue: {weight: 0.09}\nevents:\n  - {at: 2, actor: usa, action: sanction, target: iran}\n",
    )
    sc = load_scenario(child)
    ints = sc.config.spec["actors"]["russia"]["interests"]
    assert ints["oil_revenue"]["weight"] == 0.09  # child wins
    assert ints["ties_israel"]["weight"] == 0.1  # parent kept
    assert sc.horizon == 8 and sc.seed == 5
    assert [(e.actor, e.step) for e in sc.config.events] == [("israel", 1), ("usa", 2)]


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, "a", "name: a\nextends: b\n")
    write(tmp_path, "b", "name: b\nextends: a\n")
    issues = validate(tmp_path / "a.yaml")
    assert issues and "cycle" in issues[0].message


def test_extends_cannot_leave_the_folder_tree(tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    write(tmp_path, "outside", "name: outside\n")
    p = write(inner, "x", "name: x\nextends: ../outside.yaml\n")
    issues = validate(p)
    assert issues and "leaves" in issues[0].message


def test_overrides_reach_the_engine(tmp_path):
    p = write(
        tmp_path,
        "o",
        "name: o\nhorizon: 3\nconstraints:\n  RU_SU35_GATE: {lifted: true}\n  RU_S400_GATE: {threshold: 0.5}\nrelations:\n  russia-saudi: 0.1\ninitial:\n  brent_fundamental: 95\nworld:\n  temperature: 0.3\n",
    )
    sc = load_scenario(p)
    spec = sc.config.spec
    assert spec["constraints"]["RU_SU35_GATE"]["lifted"] is True
    assert spec["constraints"]["RU_S400_GATE"]["params"]["threshold"] == 0.5
    assert "constraints.RU_S400_GATE.threshold" in spec["_fixed"]  # a constant disables the disputed draw
    res = simulate(sc.config, 20)
    i = res.variables.index("brent_fundamental")
    assert (res.series[0, :, i] == 95).all()
    assert "constraints.RU_S400_GATE.threshold" not in res.sampled


def test_uncertainties_are_sampled_per_replicate_within_bounds(tmp_path):
    p = write(
        tmp_path,
        "u",
        "name: u\nhorizon: 2\nuncertainties:\n  world.temperature: {dist: uniform, low: 0.1, high: 0.2}\n  initial.brent_fundamental: {dist: triangular, low: 70, mode: 75, high: 90}\n  actors.russia.interests.oil_revenue.weight: {dist: normal, mean: 0.02, sd: 0.01, low: 0.0, high: 0.05}\n  world.tremble: {dist: choice, values: [0.0, 0.01]}\n",
    )
    res = simulate(load_scenario(p).config, 500)
    t = res.sampled["world.temperature"]
    assert t.min() >= 0.1 and t.max() <= 0.2 and t.std() > 0.02
    b = res.sampled["initial.brent_fundamental"]
    assert b.min() >= 70 and b.max() <= 90 and abs(np.median(b) - 77) < 3
    w = res.sampled["actors.russia.interests.oil_revenue.weight"]
    assert w.min() >= 0 and w.max() <= 0.05
    assert set(np.unique(res.sampled["world.tremble"])) == {0.0, 0.01}
    assert np.allclose(res.series[0, :, res.variables.index("brent_fundamental")], b)


def test_conditional_event_fires_when_its_condition_holds(tmp_path):
    p = write(
        tmp_path,
        "c",
        "name: c\nhorizon: 6\nevents:\n  - {at: 2, actor: usa, action: direct_intervention, target: iran}\n"
        "  - {when: 'us.war_on_iran and escalation >= 1', actor: russia, action: urge_restraint, target: iran}\n",
    )
    res = simulate(load_scenario(p).config, 50)
    ru = res.units.index("russia:diplomacy")
    k = res.options[ru].index(("urge_restraint", "iran"))
    forced_steps = [np.flatnonzero(res.forced[:, r, ru]) for r in range(50)]
    assert all(len(s) == 1 for s in forced_steps)  # once, at Russia's first decision after the US went to war
    us_day = res.event_day[0]
    assert (us_day == 10.5).all()  # the middle of step 2
    # Russia's diplomacy decides about weekly: the event takes its first decision after day 10.5
    assert ((res.event_day[1] > us_day) & (res.event_day[1] <= us_day + 7.0)).all()
    assert all(res.choices[s[0], r, ru] == k for r, s in enumerate(forced_steps))


def test_levers_choose_settings(tmp_path):
    text = (
        "name: l\nhorizon: 3\nlevers:\n  us_posture:\n    value: {v}\n    options:\n"
        "      restrain: {{initial: {{us.restraint_on_israel: 0.9}}}}\n"
        "      hands_off: {{initial: {{us.restraint_on_israel: 0.0}}}}\n"
    )
    a = load_scenario(write(tmp_path, "l1", text.format(v="restrain").replace("name: l", "name: l1")))
    b = load_scenario(write(tmp_path, "l2", text.format(v="hands_off").replace("name: l", "name: l2")))
    assert a.config.spec["world"]["variables"]["us.restraint_on_israel"]["initial"] == 0.9
    assert b.config.spec["world"]["variables"]["us.restraint_on_israel"]["initial"] == 0.0
    assert a.resolved["levers_chosen"] == {"us_posture": "restrain"}


def test_dated_events_map_to_steps(tmp_path):
    p = write(
        tmp_path,
        "d",
        "name: d\nstart_date: 2024-10-14\nhorizon: 10\nevents:\n  - {at: 2024-10-30, actor: russia, action: treaty, target: iran}\n",
    )
    assert load_scenario(p).config.events[0].step == 3
