"""The model core: constraints that bind, mechanisms that move the world, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.catalog import load_catalog
from model.engine import Event, simulate
from model.engine.model import EntenteModel
from model.scenario import load_scenario, scenarios_dir
from tests.conftest import make_config

RATIONAL = {"world__temperature": 1e-4, "world__tremble": 0.0}


def _su35_wanted(**extra):
    """Russia badly wants Iran stronger; the Gulf still matters to it (gate closed)."""
    cfg = make_config(
        steps=1,
        **RATIONAL,
        **{
            "initial__iran.strength": 0.05,
            "actors__russia__interests__iran_middling__weight": 40.0,
            "relations__russia-saudi": 0.9,
            "relations__russia-uae": 0.9,
            "constraints__RU_GULF_COST__weight": 0.0,
            "constraints__RU_ISRAEL_COST__weight": 0.0,
            "initial__russia.ad_spare": 0.0,
        },
        **extra,
    )
    # make the S-400 useless here so that the Su-35 is the single best option
    cfg.spec["actions"]["order_s400"]["delivery"]["by_target"]["iran"]["iran.strength"] = 0.0
    cfg.spec["actions"]["order_s400"]["effects"]["cohesion"] = 0.0
    return cfg


def _russia_choice(result, step=0):
    ru = result.units.index("russia:supply")
    return [result.options[ru][k] for k in result.choices[step, :, ru]]


def test_su35_gate_blocks_the_best_action_and_records_why():
    cfg = _su35_wanted()
    res = simulate(cfg, 5, detail=True)
    ru = res.units.index("russia:supply")
    su35 = res.options[ru].index(("order_su35", "iran"))
    detail = res.records[0]["decisions"][ru].detail
    assert (detail["free"] == su35).all(), "Su-35 must be Russia's unconstrained best action here"
    assert all(c != ("order_su35", "iran") for c in _russia_choice(res))
    gate = res.constraint_ids.index("RU_SU35_GATE")
    assert ((res.bound[0, :, ru] >> gate) & 1).all(), "the record must name the Su-35 gate"
    claims = load_catalog()["constraints"]["RU_SU35_GATE"]["claims"]
    assert {"C16", "C26"} <= set(claims)


def test_lifting_the_su35_gate_makes_it_choosable_and_never_binding():
    cfg = _su35_wanted()
    cfg.spec["constraints"]["RU_SU35_GATE"]["lifted"] = True
    res = simulate(cfg, 5)
    assert all(c == ("order_su35", "iran") for c in _russia_choice(res))
    gate = res.constraint_ids.index("RU_SU35_GATE")
    assert not ((res.bound >> gate) & 1).any()


def _s400_wanted(gulf: float):
    """The Su-35 test's twin: Russia badly wants Iran stronger, has air defence to spare, and the S-400 is
    the one useful order (the Su-35 made useless); ``gulf`` sets Russia's relations with Riyadh and Abu Dhabi,
    and with them its Gulf stake, which the S-400 gate reads."""
    cfg = make_config(
        steps=1,
        **RATIONAL,
        **{
            "initial__iran.strength": 0.05,
            "actors__russia__interests__iran_middling__weight": 40.0,
            "relations__russia-saudi": gulf,
            "relations__russia-uae": gulf,
            "constraints__RU_GULF_COST__weight": 0.0,
            "constraints__RU_ISRAEL_COST__weight": 0.0,
            "initial__russia.ad_spare": 5.0,
        },
    )
    cfg.spec["actions"]["order_su35"]["delivery"]["by_target"]["iran"]["iran.strength"] = 0.0
    cfg.spec["actions"]["order_su35"].setdefault("effects", {})["cohesion"] = 0.0
    return cfg


@pytest.mark.parametrize("gulf, allowed", [(0.9, False), (0.0, True)])
def test_the_s400_gate_blocks_an_order_while_the_gulf_matters_and_not_after(gulf, allowed):
    """C26: S-400s only while Russia's Gulf stake is below the gate's threshold. With the Gulf dear, the
    S-400 is Russia's unconstrained best order and the gate refuses it (and the record names the gate);
    with the Gulf stake at zero the same order goes through in every replicate."""
    res = simulate(_s400_wanted(gulf), 5, detail=True)
    ru = res.units.index("russia:supply")
    s400 = res.options[ru].index(("order_s400", "iran"))
    assert (res.records[0]["decisions"][ru].detail["free"] == s400).all(), "the S-400 must be the best order here"
    chosen = [c == ("order_s400", "iran") for c in _russia_choice(res)]
    gate = res.constraint_ids.index("RU_S400_GATE")
    bound = (res.bound[0, :, ru] >> gate) & 1
    if allowed:
        assert all(chosen) and not bound.any()
    else:
        assert not any(chosen) and bound.all()


def test_troops_and_nuclear_umbrella_are_never_feasible():
    sc = load_scenario(scenarios_dir() / "all_out_war.yaml")
    sc.config.steps = 8
    res = simulate(sc.config, 20, detail=True)
    checked = 0
    for ru, unit in enumerate(res.units):
        if not unit.startswith("russia:"):
            continue
        forbidden = [
            k for k, (act, _) in enumerate(res.options[ru]) if act in ("direct_intervention", "nuclear_signalling")
        ]
        checked += len(forbidden)
        for moment in res.records:
            assert not moment["decisions"][ru].detail["feasible"][:, forbidden].any()
        assert not np.isin(res.choices[:, :, ru], forbidden).any()
    assert checked == 3, "Russia's troops (one target) and nuclear signalling (two targets) must be in its options"


@settings(max_examples=40, deadline=None)
@given(spare=st.lists(st.floats(0.0, 2.5), min_size=1, max_size=16))
def test_air_defence_exports_never_exceed_spare_stock(spare):
    cfg = make_config(
        steps=1,
        **{
            "initial__iran.strength": 0.05,
            "actors__russia__interests__iran_middling__weight": 40.0,
            "constraints__RU_GULF_COST__weight": 0.0,
            "constraints__RU_ISRAEL_COST__weight": 0.0,
        },
    )
    cfg.spec["constraints"]["RU_S400_GATE"]["lifted"] = True
    m = EntenteModel(cfg, len(spare))
    m.x[:, m.vi["russia.ad_spare"]] = spare
    before = m.x[:, m.vi["russia.ad_spare"]].copy()
    m.step()
    ru = m.tables.units.index("russia:supply")
    opts = m.units[ru].table.options
    cost = {"order_s400": 1.0, "order_shorad": 0.5}
    for r, k in enumerate(m.choices[0, :, ru]):
        act = opts[k][0]
        if act in cost:
            assert cost[act] <= before[r] + 1e-9, f"exported {act} with only {before[r]} spare"
    assert (m.x[:, m.vi["russia.ad_spare"]] >= 0).all()


def _paired(events_a, events_b, steps=6, n=300, **paths):
    a = simulate(make_config(steps=steps, seed=11, events=events_a, **paths), n)
    b = simulate(make_config(steps=steps, seed=11, events=events_b, **paths), n)
    return a, b


def test_nuclear_strike_raises_russian_condemnation_and_oil():
    strike = [Event("israel", "strike_nuclear", "iran", step=1)]
    hold = [Event("israel", "hold", "none", step=1)]
    a, b = _paired(strike, hold)

    def share(res):
        """Russia's choices at steps 1-2 that condemn, warn or table a UN draft against Israel, per replicate."""
        hits = []
        for u, name in enumerate(res.units):
            if not name.startswith("russia:"):
                continue
            hostile = [
                k
                for k, (act, t) in enumerate(res.options[u])
                if t == "israel" and act in ("condemn", "warn", "un_draft")
            ]
            if hostile:
                hits.append(np.isin(res.choices[1:3, :, u], hostile).sum(axis=0))
        return np.sum(hits, axis=0).mean()  # hostile choices per replicate

    share_a, share_b = share(a), share(b)
    assert share_a > share_b + 0.1, (share_a, share_b)
    brent = a.variables.index("brent")
    assert a.series[2, :, brent].mean() > b.series[2, :, brent].mean() + 1.0


def test_us_ukraine_offer_lowers_russian_support_for_iran():
    offer = [Event("usa", "offer_ukraine_deal", "russia", step=1)]
    a, b = _paired(offer, [], steps=10)
    tier = a.variables.index("russia.support_tier")
    assert a.series[2:, :, tier].mean() < b.series[2:, :, tier].mean() - 0.1


def test_nuclear_deal_lowers_oil_and_cohesion():
    deal = [Event("usa", "offer_nuclear_deal", "iran", step=1), Event("iran", "accept_nuclear_deal", "usa", step=2)]
    a, b = _paired(deal, [], steps=10)
    for var in ("brent", "cohesion"):
        i = a.variables.index(var)
        assert a.series[-1, :, i].mean() < b.series[-1, :, i].mean(), var


def test_same_seed_same_trajectory_other_seed_other_trajectory():
    cfg = make_config(steps=10, seed=3)
    a, b = simulate(cfg, 50), simulate(cfg, 50)
    assert np.array_equal(a.series, b.series) and np.array_equal(a.choices, b.choices)
    c = simulate(make_config(steps=10, seed=4), 50)
    assert not np.array_equal(a.series, c.series)


def test_replicate_is_identical_alone_in_a_batch_or_split():
    sc = load_scenario(scenarios_dir() / "baseline.yaml")
    cfg = sc.config
    full = simulate(cfg, 1000)
    for r in (0, 417, 999):
        alone = simulate(cfg, [r])
        assert np.array_equal(alone.series[:, 0], full.series[:, r])
        assert np.array_equal(alone.choices[:, 0], full.choices[:, r])
        assert np.array_equal(alone.bound[:, 0], full.bound[:, r])
    lo, hi = simulate(cfg, np.arange(0, 600)), simulate(cfg, np.arange(600, 1000))
    assert np.array_equal(np.concatenate([lo.series, hi.series], axis=1), full.series)
    assert np.array_equal(np.concatenate([lo.choices, hi.choices], axis=1), full.choices)


def test_central_forecast_russia_stays_at_or_below_limited_arms_in_all_out_war():
    """C58: over 200 replicate seeds of a forced all-out war, Russian support stays low."""
    sc = load_scenario(scenarios_dir() / "all_out_war.yaml")
    res = simulate(sc.config, 200)
    tier = res.outcomes["max_support_tier"]
    assert (tier <= 4).mean() >= 0.95
    assert tier.max() < 6
    assert res.outcomes["sustained_war"].mean() > 0.9, "the scenario must actually be an all-out war"


@pytest.mark.parametrize("variable", ["escalation", "brent", "west_attention", "iran.strength", "cohesion"])
def test_variables_stay_within_declared_bounds(variable):
    spec = load_catalog()
    res = simulate(make_config(steps=12), 100)
    i = res.variables.index(variable)
    lo, hi = spec["world"]["variables"][variable]["lower"], spec["world"]["variables"][variable]["upper"]
    assert res.series[:, :, i].min() >= lo and res.series[:, :, i].max() <= hi


def test_a_run_leaves_its_configuration_as_it_found_it():
    """A dated change that edits the spec (an actor active or not, a side changed) edits the model's own copy:
    before, the baseline's timeline wrote `syria.active` into the caller's Config, so a second run of the same
    Config began from the first run's last dated state."""
    import json

    from model.scenario import load_scenario, scenarios_dir

    c = load_scenario(scenarios_dir() / "baseline.yaml").with_run_options(steps=12).config
    before = json.dumps(c.spec, sort_keys=True, default=str)
    first = simulate(c, 20)
    assert json.dumps(c.spec, sort_keys=True, default=str) == before
    second = simulate(c, 20)
    for k in first.outcomes:
        assert np.array_equal(first.outcomes[k], second.outcomes[k], equal_nan=True), k


def test_a_run_streamed_to_disk_keeps_only_the_extremes_its_outcomes_read():
    """extremes="outcomes" (what entente run's workers use) records the within-step highs, lows and averages
    of the variables the outcomes name only, and gives bit for bit the same outcomes as keeping them all."""
    sc = load_scenario(scenarios_dir() / "israel_strikes_nuclear.yaml")
    full = simulate(sc.config, 60)
    lean = simulate(sc.config, 60, extremes="outcomes")
    assert full.extreme_names is None and 0 < len(lean.extreme_names) < len(lean.variables) / 2
    assert lean.series_hi.shape[-1] == len(lean.extreme_names)
    assert set(full.outcomes) == set(lean.outcomes)
    for k in full.outcomes:
        np.testing.assert_array_equal(np.asarray(full.outcomes[k]), np.asarray(lean.outcomes[k]), err_msg=k)
    with pytest.raises(ValueError, match="extremes"):
        simulate(sc.config, 2, extremes="some")


def test_an_actor_leaving_by_a_dated_change_rebuilds_nothing_and_matches_a_rebuild(monkeypatch):
    """Assad's fall (actors.syria.active: false, 8 December 2024) is applied in place (core.set_active): no
    option table is rebuilt, Syria's options and every option aimed at Syria become unavailable from that date,
    and the run is bit for bit the one a full rebuild gives (the rule before)."""
    from model.engine.model import EntenteModel
    from model.scenario import load_scenario, scenarios_dir

    sc = load_scenario(scenarios_dir() / "baseline.yaml").with_run_options(steps=14)
    rebuilds = []
    original = EntenteModel._recompile
    monkeypatch.setattr(EntenteModel, "_recompile", lambda self: rebuilds.append(1) or original(self))
    m = EntenteModel(sc.config, 30)
    for _ in range(14):
        m.step()
    assert not rebuilds
    s = m.tables.actor_index["syria"]
    assert not m.tables.active[s]
    t = m.opt
    gone = (t.actor_of == s) | (t.has_t & (t.tsafe == s))
    gone[t.hold] = False
    assert gone.any() and t.unchoosable[gone].all() and not t.unchoosable[t.hold].any()
    in_place = simulate(sc.config, 30)
    apply_change = EntenteModel._apply_change

    def and_rebuild(self, ch):  # the same change followed by a full rebuild of the tables
        apply_change(self, ch)
        if any(p.endswith(".active") for p in ch.values):
            self._recompile()

    monkeypatch.setattr(EntenteModel, "_apply_change", and_rebuild)
    rebuilt = simulate(sc.config, 30)
    assert rebuilds, "the comparison run rebuilt its tables"
    for k in in_place.outcomes:
        np.testing.assert_array_equal(np.asarray(in_place.outcomes[k]), np.asarray(rebuilt.outcomes[k]), err_msg=k)
    np.testing.assert_array_equal(in_place.series, rebuilt.series)
