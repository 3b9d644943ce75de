"""Claim switches change what they drive and only that; Sobol ranks a dominant parameter first."""

from __future__ import annotations

import copy
from argparse import Namespace

import numpy as np

from model.engine import simulate
from model.scenario import load_scenario, scenarios_dir
from model.sensitivity import claims_sensitivity, global_sensitivity, run_sensitivity, switchable_claims
from tests.conftest import make_config


def test_switching_a_claim_off_changes_what_it_drives_and_only_that():
    """C54 drives one part: the forbid on Russian nuclear signalling. Hand-checkable in one step."""
    cfg = make_config(steps=1, world__temperature=1e-4, world__tremble=0.0)
    cfg.spec["actions"]["nuclear_signalling"]["effort"] = -5.0  # make it Russia's best option by far
    assert switchable_claims(cfg.spec)["C54"] == ["constraints.RU_NO_NUCLEAR_UMBRELLA.lifted"]
    on = simulate(cfg, 50)
    off_cfg = copy.copy(cfg)
    off_cfg.claims_off = frozenset({"C54"})
    off = simulate(off_cfg, 50)
    ru = on.units.index("russia:diplomacy")
    assert (on.outcomes["max_support_tier"] < 7).all()
    assert (off.outcomes["max_support_tier"] == 7).all()
    gate = on.constraint_ids.index("RU_NO_NUCLEAR_UMBRELLA")
    assert ((on.bound[0, :, ru] >> gate) & 1).all() and not ((off.bound >> gate) & 1).any()
    others = [i for i in range(len(on.units)) if i != ru]
    assert np.array_equal(on.choices[:, :, others], off.choices[:, :, others])
    for outcome in ("nuclear_sites_struck", "us_war_on_iran", "min_iran_strength", "final_iran_nuclear"):
        assert np.array_equal(on.outcomes[outcome], off.outcomes[outcome]), outcome


def test_claims_sensitivity_ranks_and_flags():
    sc = load_scenario(scenarios_dir() / "baseline.yaml").with_run_options(steps=6)
    rows = claims_sensitivity(sc, ["mean_support_tier"], 120, workers=1, claims=["C13", "C54", "C02"], quiet=True)
    by = {r["claim"]: r for r in rows}
    assert by["C02"]["distinguishable"] and by["C02"]["effect"] < 0  # Russia's pro-Iran stance drives its support
    assert not by["C54"]["distinguishable"]  # the umbrella almost never binds in the baseline


def test_sobol_ranks_the_dominant_parameter_first(tmp_path):
    p = tmp_path / "sobol.yaml"
    p.write_text(
        "name: sobol\nhorizon: 4\nseed: 3\nuncertainties:\n"
        "  initial.brent_fundamental: {dist: uniform, low: 60, high: 140}\n"
        "  world.brent_volatility: {dist: uniform, low: 0.01, high: 0.011}\n"
    )
    sc = load_scenario(p)
    res = global_sensitivity(sc, "sobol", 64, ["peak_brent"], streams=1, workers=1, quiet=True)
    rows = res["indices"]["peak_brent"]
    assert rows[0]["parameter"] == "initial.brent_fundamental"
    assert rows[0]["total"] > 0.8 and all(r["total"] < 0.1 for r in rows[1:])
    assert res["runs"] == 64 * (len(res["parameters"]) + 2)


def test_sensitivity_command_writes_table_plot_and_time(tmp_path):
    sc = load_scenario(scenarios_dir() / "baseline.yaml").with_run_options(steps=4)
    args = Namespace(
        claims=False, method="morris", outcome=["peak_brent"], samples=8, replicates=None, workers=1, quiet=True
    )
    folder = run_sensitivity(sc, args, tmp_path)
    assert (folder / "indices.csv").exists() and (folder / "plots" / "indices_peak_brent.png").exists()
    assert "simulation took" in (folder / "report.md").read_text()
