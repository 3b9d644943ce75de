"""explain and narrate: choice probabilities from the engine's own utilities, sampled values, summary, did-you-mean."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from model import cli, execution, workflow
from model.engine import simulate
from model.execution import RunOptions
from model.explain.records import choice_probabilities, decision_records
from model.scenario import load_scenario, scenarios_dir

SC = scenarios_dir()


def test_two_options_by_hand():
    e = math.e
    p = choice_probabilities(np.array([0.0, 0.05]), 0.05)  # u / T = 0 and 1
    assert p == pytest.approx([1 / (1 + e), e / (1 + e)])
    p = choice_probabilities(np.array([0.3, -np.inf, 0.3]), 0.1)  # a removed option gets 0, ties split
    assert p == pytest.approx([0.5, 0.0, 0.5])
    assert choice_probabilities(np.array([-np.inf]), 0.1) == pytest.approx([0.0])


def test_the_engine_draws_with_these_probabilities():
    """Observed choice frequencies over replicates match the mean predicted probabilities (same utilities)."""
    sc = execution.apply_overrides(load_scenario(SC / "baseline.yaml"), steps=1)
    n = 600
    res = simulate(sc.config, n, detail=True)
    # the temperature is sampled per replicate (structural uncertainty) unless the scenario fixes it
    T = np.broadcast_to(
        res.sampled.get("world.temperature", sc.config.spec["world"]["parameters"]["temperature"]["value"]), (n,)
    )
    checked = 0
    for u, d in enumerate(res.records[0]["decisions"]):
        ok = ~d.trembled & ~d.forced & ~(d.idle if d.idle is not None else np.zeros(n, bool))
        if ok.sum() < 200:
            continue
        U = d.detail["utility"][ok]
        P = np.array([choice_probabilities(row, temp) for row, temp in zip(U, T[ok], strict=True)])
        assert np.allclose(P.sum(axis=1), 1.0)
        chosen = d.choice[ok]
        assert (P[np.arange(len(chosen)), chosen] > 0).all()  # never a choice the rule could not make
        for j in range(P.shape[1]):
            pred, obs = P[:, j].mean(), float(np.mean(chosen == j))
            if 0.05 < pred < 0.95:
                se = math.sqrt(pred * (1 - pred) / len(chosen))
                assert abs(obs - pred) < 4.5 * se + 0.01, (res.units[u], j, obs, pred)
                checked += 1
    assert checked >= 2  # some decisions are genuinely uncertain at this temperature


def test_records_carry_probabilities_that_add_up():
    sc = execution.apply_overrides(load_scenario(SC / "us_restrains_israel.yaml"), steps=4)
    records, _ = decision_records(sc.config, 3)
    for r in records:
        if r["idle"]:
            assert r["action"] == "hold" and r["probability"] == 1.0
            continue
        total = r["probability"] + sum(a["probability"] for a in r["alternatives"])
        assert total <= 1 + 1e-5  # each probability is rounded to 6 decimals
        if not r["forced"] and not r["trembled"]:
            assert r["probability"] > 0


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sc = execution.apply_overrides(load_scenario(SC / "us_restrains_israel.yaml"), replicates=12, steps=4)
    sc = execution.with_settings(sc, {"us_restraint": "none"})
    return workflow.run_scenario(sc, tmp_path_factory.mktemp("runs"), RunOptions(workers=1, quiet=True, analyse=False))


def test_explain_opens_with_a_summary_and_the_sampled_values(small_run: Path, capsys: pytest.CaptureFixture):
    assert cli.main(["explain", str(small_run), "--replicate", "2", "--actor", "israel"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("Replicate 2: Peak escalation ") and "US at war with Iran: " in first
    assert "Russia's highest support tier" in first and "Peak Brent price " in first
    assert (
        "Sampled for this replicate" in out
        and "[constraints.RU_S400_GATE.threshold]" in out
        and "S-400s only below a Gulf-stake threshold: threshold: " in out
    )
    assert "exp(u_j / T)" in out and " p=" in out
    assert "(tremble)" not in out or "with probability" in out


def test_by_and_actor_names_get_a_did_you_mean(small_run: Path, capsys: pytest.CaptureFixture):
    assert cli.main(["explain", str(small_run), "--pick", "worst", "--by", "peak_escalaton"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "--by peak_escalaton: unknown outcome 'peak_escalaton'; did you mean 'peak_escalation'?"
    assert cli.main(["explain", str(small_run), "--replicate", "1", "--actor", "isreal"]) == 2
    assert "did you mean 'israel'?" in capsys.readouterr().err


def test_narrate_opens_with_the_summary(small_run: Path, capsys: pytest.CaptureFixture):
    assert cli.main(["narrate", str(small_run), "--replicate", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Replicate 1: Peak escalation") and "## Replicate 1" in out


def test_set_errors_exit_2_naming_the_flag(capsys: pytest.CaptureFixture, tmp_path: Path):
    code = cli.main(
        ["run", str(SC / "us_restrains_israel.yaml"), "--set", "levers.us_restraint=strong", "--out", str(tmp_path)]
    )
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "--set levers.us_restraint=strong: unknown option 'strong' of lever 'us_restraint' (options: none, quiet, firm)"
    )
    assert not any(tmp_path.iterdir())  # refused before any folder was created
    assert cli.main(["run", "baselin", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err  # a scenario's name alone points at the shipped file
    assert err.startswith("baselin:1:1: no such scenario file; did you mean '") and "scenarios/baseline.yaml'?" in err


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture):
    """argparse %-formats subcommand help: a bare '%' in one would crash `entente --help`."""
    assert cli.main(["--help"]) == 0
    assert "sweep" in capsys.readouterr().out


def test_a_replicate_without_a_decision_at_an_opening_moment_is_still_explained():
    """A moment opened for other replicates (a strike opening an answer) holds no decision of this one.

    Regression: replicate 911 of the S-400 scenario (traced by `entente run` at 1,000 replicates) met
    a moment with no row deciding, and its decision records failed with an IndexError.
    """
    from model.explain.records import decision_records
    from model.scenario import load_scenario, scenarios_dir

    sc = load_scenario(scenarios_dir() / "russia_s400_transfer.yaml")
    for rep in (515, 911):
        records, res = decision_records(sc.config, rep)
        assert records and all(r["replicate"] == rep for r in records if "replicate" in r)
