"""Questions and the scorer: scoring rules on hand-computed examples, question evaluation on a
synthetic result, located validation errors, and `entente score` end to end on a tiny fixture."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from model.analysis import score
from model.cli import main
from model.engine import Result
from model.engine.outcomes import outcome_values
from model.errors import InputError
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "score" / "tiny_episode.yaml"


# ------------------------------------------------------------------ scoring rules
def test_brier_and_log_score_on_a_hand_computed_example():
    p, y = [0.9, 0.2, 0.5], [1, 0, 1]
    assert score.brier(p, y) == pytest.approx((0.01 + 0.04 + 0.25) / 3)
    assert score.log_score(p, y) == pytest.approx((math.log(0.9) + math.log(0.8) + math.log(0.5)) / 3)
    # base rate 2/3: the constant forecaster's Brier is 2/9, so skill = 1 - 0.1 / (2/9) = 0.55
    assert score.reference_brier(y) == pytest.approx(2 / 9)
    assert score.summarise(p, y, resamples=0).skill == pytest.approx(0.55)


def test_a_certain_wrong_answer_gives_minus_infinity_and_a_certain_right_one_zero():
    assert score.log_score([1.0, 0.3], [0, 0]) == -math.inf
    assert score.log_score([0.0, 1.0], [0, 1]) == 0.0
    assert list(score.log_likelihoods([0.0, 0.5], [1, 1])) == [-math.inf, pytest.approx(math.log(0.5))]


def test_the_constant_forecaster_has_skill_zero_and_its_brier_is_the_reference():
    y = np.array([1, 1, 0, 0, 0, 1, 0, 0], dtype=float)
    rate = score.base_rate(y)
    s = score.summarise(np.full(len(y), rate), y, constant=True)
    assert s.brier == pytest.approx(rate * (1 - rate)) == pytest.approx(s.reference)
    assert s.skill == pytest.approx(0.0, abs=1e-12)
    assert (s.skill_low, s.skill_high) == (pytest.approx(0.0, abs=1e-12), pytest.approx(0.0, abs=1e-12))


def test_a_perfect_forecaster_has_skill_one_and_a_coin_worse_than_the_base_rate():
    y = [1, 0, 0, 0]
    assert score.summarise([1, 0, 0, 0], y, resamples=0).skill == 1.0
    assert score.summarise([0.5] * 4, y, resamples=0).skill == pytest.approx(1 - 0.25 / (0.25 * 0.75))


def test_skill_is_undefined_when_every_question_resolved_alike_unless_a_rate_is_given():
    assert math.isnan(score.summarise([0.8, 0.9], [1, 1], resamples=0).skill)
    # an episode is scored against the whole set's base rate (0.5 here): reference 0.25
    s = score.summarise([0.8, 0.9], [1, 1], rate=0.5, resamples=0)
    assert s.reference == pytest.approx(0.25) and s.skill == pytest.approx(1 - (0.04 + 0.01) / 2 / 0.25)


def test_the_bootstrap_interval_contains_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(3)
    y = (rng.random(60) < 0.4).astype(float)
    p = np.clip(0.4 + 0.4 * (y - 0.4) + rng.normal(0, 0.15, 60), 0.01, 0.99)
    a, b = score.summarise(p, y, seed=5), score.summarise(p, y, seed=5)
    assert a == b
    assert a.brier_low <= a.brier <= a.brier_high
    assert a.skill_low <= a.skill <= a.skill_high
    assert a.skill_high - a.skill_low > 0.05  # an interval, not a point


def test_certain_answers_are_by_construction_only_when_both_controls_agree():
    assert score.certainty(0.3, 0.0, 1.0) == ""
    assert score.certainty(1.0, 1.0, 1.0) == score.BY_CONSTRUCTION
    assert score.certainty(0.0, 0.0, 1.0) == score.UNFORCED
    assert score.certainty(0.0, 1.0, 1.0) == score.UNFORCED
    assert score.certainty(0.0, None, None) == score.UNFORCED


def test_reliability_bins_on_a_hand_computed_example():
    p = [0.05, 0.1, 0.15, 0.5, 0.55, 0.95, 1.0]
    y = [0, 0, 1, 1, 0, 1, 1]
    bins = score.reliability(p, y, bins=5)
    assert [(b["low"], b["high"], b["n"]) for b in bins] == [(0.0, 0.2, 3), (0.4, 0.6, 2), (0.8, 1.0, 2)]
    assert [b["forecast"] for b in bins] == pytest.approx([0.1, 0.525, 0.975])
    assert [b["observed"] for b in bins] == pytest.approx([1 / 3, 0.5, 1.0])
    assert all(b["observed_low"] <= b["observed"] <= b["observed_high"] for b in bins)
    adaptive = score.reliability(p, y, bins=3, adaptive=True)
    assert [b["n"] for b in adaptive] == [3, 2, 2] and adaptive[0]["high"] == 0.15
    hist = score.forecast_histogram(p, y)
    assert hist["yes"][1] == 1 and hist["no"][0] == 1 and hist["no"][1] == 1 and hist["yes"][9] == 2


# ------------------------------------------------------------------ questions on a synthetic result
COUNTER = "count.iran.missile_barrage.usa"


def synthetic_result() -> Result:
    """Three replicates, four weekly steps (days 0, 7, 14, 21, 28), marks at days 10 and 20."""
    esc = np.array([[4, 4, 4], [6, 4, 4], [3, 4, 4], [3, 4, 4], [3, 6, 4]], dtype=float)
    counts = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 0], [2, 0, 0], [2, 1, 0]], dtype=float)
    mark_esc = np.array([[5.5, 4, 6], [3, 4, 4]], dtype=float)  # rep 2 spikes between step ends (day 10)
    mark_counts = np.array([[1, 0, 0], [1, 0, 0]], dtype=float)
    return Result(
        replicates=np.arange(3),
        keys=np.zeros(3, dtype=np.uint64),
        variables=["escalation"],
        actors=[],
        units=[],
        unit_actor=[],
        options=[],
        constraint_ids=[],
        step_days=7.0,
        series=esc[:, :, None],
        choices=np.zeros((4, 3, 0)),
        bound=np.zeros((4, 3, 0)),
        forced=np.zeros((4, 3, 0)),
        sampled={},
        extra_names=[COUNTER],
        extra=counts[:, :, None],
        mark_days=np.array([10.0, 20.0]),
        mark_series=mark_esc[:, :, None],
        mark_extra=mark_counts[:, :, None],
    )


@pytest.mark.parametrize(
    "expr, how, expected",
    [
        ("escalation > 5", "window:7:20", [0, 0, 0]),  # step end 14 and the day-20 mark: calm in all three
        ("escalation > 5", "window:0:20", [1, 0, 0]),  # the step end at day 7
        ("escalation > 5", "window:0:10", [1, 0, 1]),  # ... and the day-10 mark, between step ends
        ("escalation > 5", "on:10", [1, 0, 1]),  # the state recorded on day 10
        ("escalation > 5", "on:28", [0, 1, 0]),  # no mark: the end of the step containing day 28
        ("escalation > 5", "on:25", [0, 1, 0]),  # ... which is step 4 (days 21-28)
        (f"{COUNTER} > 0", "window:10:20", [1, 0, 0]),  # a cumulative counter: fired before the window
        (COUNTER, "rise:10:20", [0, 0, 0]),  # a choice: none between day 10 and day 20
        (COUNTER, "rise:10:28", [1, 1, 0]),  # the counter rose after day 10
        (COUNTER, "rise:0:10", [1, 0, 0]),  # day 0 is the starting state
    ],
)
def test_question_reducers_on_a_synthetic_result(expr, how, expected):
    d = {"expr": expr, "reduce": how, "kind": "binary"}
    assert list(outcome_values(synthetic_result(), d)) == expected


def test_the_fixture_compiles_its_questions_to_binary_outcomes_read_on_their_dates():
    sc = load_scenario(FIXTURE)
    assert [q.id for q in sc.questions] == ["iran_fires_at_israel", "israel_answers", "tense_in_may"]
    assert [q.reduce for q in sc.questions] == ["rise:0:26", "rise:20:41", "on:55"]
    assert sc.config.marks == [20.0, 26.0, 41.0, 55.0]
    assert sc.config.outcome_defs["q:tense_in_may"]["kind"] == "binary"
    assert sc.resolved["questions"][0]["resolution"] == "yes"
    assert "after" not in sc.resolved["questions"][2]  # an 'on' question reads one day
    short = sc.with_run_options(steps=5)  # 35 days: the questions of days 41 and 55 are dropped
    assert [q.id for q in short.questions] == ["iran_fires_at_israel"]
    assert "q:tense_in_may" not in short.config.outcome_defs and max(short.config.marks) <= 35


def test_a_question_answer_does_not_depend_on_the_step_length():
    from model.engine import simulate

    weekly = load_scenario(FIXTURE)
    daily = load_scenario(FIXTURE)
    doc = dict(daily.document, step_days=1, horizon=56)
    from model.scenario import compile_document

    daily = compile_document(doc, {}, "daily")
    a, b = simulate(weekly.config, 20), simulate(daily.config, 20)
    assert a.outcomes["q:iran_fires_at_israel"].tolist() == [1.0] * 20 == b.outcomes["q:iran_fires_at_israel"].tolist()


# ------------------------------------------------------------------ validation
GOOD = """\
version: 1
name: q
horizon: 4
start_date: 2024-01-01
questions:
"""


def issues_of(tmp_path: Path, text: str, name: str = "q.yaml") -> list[str]:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(InputError) as err:
        load_scenario(p)
    return [str(i) for i in err.value.issues]


@pytest.mark.parametrize(
    "item, where, words",
    [
        ('{id: a, ask: "?", when: "escalation > 5", by: 2024-01-20, resolution: yes, source: s, colour: red}',
         ":6:", "unknown question key 'colour'"),
        ('{id: a, ask: "?", when: "escalation > 5", chose: {actor: iran, action: condemn}, by: 2024-01-20, '
         "resolution: yes, source: s}", ":6:", "exactly one of 'when'"),
        ('{id: a, ask: "?", when: "escalaton > 5", by: 2024-01-20, resolution: yes, source: s}', ":6:", "escalation"),
        ('{id: a, ask: "?", when: "escalation > 5", by: 2024-03-20, resolution: yes, source: s}',
         "questions[0].by", "beyond the run's calendar"),
        ('{id: a, ask: "?", when: "escalation > 5", by: 2023-12-20, resolution: yes, source: s}',
         "questions[0].by", "is not after start_date"),
        ('{id: a, ask: "?", when: "escalation > 5", by: 2024-01-20, resolution: maybe, source: s}',
         "questions[0].resolution", "expected yes or no"),
        ('{id: A-1, ask: "?", when: "escalation > 5", by: 2024-01-20, resolution: no, source: s}',
         "questions[0].id", "lowercase"),
        ('{id: a, ask: "?", chose: {actor: iran, action: misile_barrage}, by: 2024-01-20, resolution: no, source: s}',
         "questions[0].chose.action", "did you mean 'missile_barrage'"),
        ('{id: a, ask: "?", chose: {actor: iran, action: missile_barrage, target: china}, by: 2024-01-20, '
         "resolution: no, source: s}", "questions[0].chose.target", "cannot target 'china'"),
        ('{id: a, ask: "?", chose: {actor: iran, action: condemn, target: israel}, on: 2024-01-20, resolution: no, '
         "source: s}", "questions[0].on", "use 'by'"),
        ('{id: a, ask: "?", when: "escalation > 5", after: 2024-01-22, by: 2024-01-20, resolution: no, source: s}',
         "questions[0].after", "is not before"),
        ('{id: a, ask: "?", when: "escalation > 5", by: 2024-01-20, resolution: no}', ":6:", "needs 'source'"),
        ('{id: a, ask: "?", when: "escalation > 5", by: 2024-01-20, resolution: no, source: s, tags: [two words]}',
         "questions[0].tags[0]", "expected a word"),
    ],
)  # fmt: skip
def test_question_mistakes_are_located_one_line_each(tmp_path, item, where, words):
    found = issues_of(tmp_path, GOOD + f"  - {item}\n")
    assert len(found) == 1, found
    assert found[0].startswith(str(tmp_path / "q.yaml") + ":6:") and where in found[0] and words in found[0], found


def test_duplicate_ids_and_a_missing_start_date_are_errors(tmp_path):
    q = '{id: a, ask: "?", when: "escalation > 5", by: 2024-01-20, resolution: no, source: s}'
    found = issues_of(tmp_path, GOOD + f"  - {q}\n  - {q}\n")
    assert len(found) == 1 and ":7:" in found[0] and "duplicate question id 'a'" in found[0]
    found = issues_of(tmp_path, GOOD.replace("start_date: 2024-01-01\n", "") + f"  - {q}\n")
    assert len(found) == 1 and "questions:" in found[0].split(": ", 1)[1] and "start_date" in found[0]


def test_questions_are_inherited_through_extends_and_a_child_adds_its_own(tmp_path):
    parent = GOOD + '  - {id: a, ask: "?", when: "escalation > 5", by: 2024-01-20, resolution: no, source: s}\n'
    (tmp_path / "parent.yaml").write_text(parent)
    child = (
        "version: 1\nname: child\nextends: parent\nquestions:\n"
        '  - {id: b, ask: "?", chose: {actor: iran, action: condemn, target: israel}, by: 2024-01-25, '
        "resolution: yes, source: s}\n"
    )
    (tmp_path / "child.yaml").write_text(child)
    sc = load_scenario(tmp_path / "child.yaml")
    assert [q.id for q in sc.questions] == ["a", "b"]
    (tmp_path / "child.yaml").write_text(child.replace("id: b", "id: a"))
    found = issues_of(tmp_path, (tmp_path / "child.yaml").read_text(), "child.yaml")
    assert len(found) == 1 and "child.yaml:5:" in found[0] and "duplicate question id 'a'" in found[0]


def test_policy_key_is_checked(tmp_path):
    found = issues_of(tmp_path, "version: 1\nname: p\npolicy: dove\n")
    assert len(found) == 1 and ":3:" in found[0] and "unknown policy 'dove'" in found[0]


# ------------------------------------------------------------------ the command line
def test_score_command_end_to_end_on_the_fixture(tmp_path, capsys):
    args = ["score", str(FIXTURE.parent), "--replicates", "50", "--out", str(tmp_path), "--workers", "1"]
    assert main([*args, "--controls"]) == 0
    out, err = capsys.readouterr()
    assert "running tiny_episode under the inert control" in err
    folder = Path(out.strip().splitlines()[-2].removeprefix("score folder: "))
    assert folder.parent == tmp_path / "score"
    assert {p.name for p in folder.iterdir()} >= {"scorecard.md", "scores.csv", "scores.json", "reliability.png"}
    scores = json.loads((folder / "scores.json").read_text())
    rows = {r["id"]: r for r in scores["rows"]}
    assert rows["iran_fires_at_israel"]["p"] == 1.0 and rows["iran_fires_at_israel"]["certainty"] == "by construction"
    assert 0 < rows["tense_in_may"]["p"] < 1 and rows["tense_in_may"]["resolution"] is False
    assert scores["base_rate"] == pytest.approx(2 / 3)
    p = np.array([r["p"] for r in scores["rows"]])
    y = np.array([r["resolution"] for r in scores["rows"]], dtype=float)
    assert scores["summary"]["model"]["brier"] == pytest.approx(score.brier(p, y))
    assert scores["summary"]["constant"]["skill"] == pytest.approx(0.0, abs=1e-12)
    # the forecast is the stated ensemble share recalibrated by the catalog's fit; the share is scored beside it
    rc = score.as_recal(scores["recalibration"])
    pe = np.array([r["p_ensemble"] for r in scores["rows"]])
    fam = [r["family"] for r in scores["rows"]]
    np.testing.assert_allclose(p, score.recalibrate_by_family(pe, fam, rc), rtol=0, atol=1e-12)
    identity = all(v == score.IDENTITY for v in rc.values())
    assert set(scores["summary"]) == {"model", "inert", "hawk", "random", "constant"} | (
        set() if identity else {"ensemble"}
    )
    # the printed card: every question, its probability and resolution, the controls' skills
    for qid in rows:
        assert qid in out
    assert "inert control" in out and "hawk control" in out and "constant forecaster" in out
    # the run folder records the questions: the scorer reads only run folders
    model_run = Path(scores["runs"]["tiny_episode"]["model"])
    meta = json.loads((model_run / "manifest.json").read_text())
    assert [q["column"] for q in meta["questions"]] == ["q:" + q for q in rows]
    assert meta["policy"] == "model"
    assert json.loads((Path(scores["runs"]["tiny_episode"]["hawk"]) / "manifest.json").read_text())["policy"] == "hawk"
    # a second score reuses every run
    assert main([*args, "--controls"]) == 0
    _, err = capsys.readouterr()
    assert err.count("reusing") == 4 and "running" not in err


def test_score_command_refuses_bad_input_with_one_located_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(FIXTURE.read_text().replace("resolution: no", "resolution: perhaps"))
    assert main(["score", str(bad), "--out", str(tmp_path)]) == 2
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{bad}:") and "questions[2].resolution" in lines[0]
    empty = tmp_path / "none"
    empty.mkdir()
    (empty / "plain.yaml").write_text("version: 1\nname: plain\nhorizon: 2\n")
    assert main(["score", str(empty), "--out", str(tmp_path), "--quiet"]) == 2
    _, err = capsys.readouterr()
    assert "no scenario" in err and "has questions" in err and "Traceback" not in err
    assert main(["score", str(FIXTURE), "--replicates", "0", "--out", str(tmp_path)]) == 2


def test_a_share_of_zero_or_one_is_stated_as_jeffreys_unless_the_scenario_settles_it():
    """0 of 500 is 'rarer than about 1 in 500', stated 0.5/501; a forced answer stays certain."""
    assert score.stated(0, 500, settled=False) == pytest.approx(0.5 / 501)
    assert score.stated(500, 500, settled=False) == pytest.approx(500.5 / 501)
    assert score.stated(0, 500, settled=True) == 0.0 and score.stated(500, 500, settled=True) == 1.0
    assert score.stated(7, 500, settled=False) == 7 / 500  # an uncertain share is the share
    # the log score of a wrong unforced 'never' is finite: ln(1 - 500.5/501) = ln(0.5/501)
    assert math.isfinite(score.log_score([score.stated(500, 500, False)], [0]))


def test_recalibration_on_hand_computed_forecasts():
    """logit(P) = shift + slope logit(share): at (1, 0.5) a share of 0.5 becomes sigma(1) = 0.7311 and
    0.2 becomes sigma(1 + 0.5 ln 0.25) = sigma(0.3069) = 0.5761; forced 0 and 1 stay; (0, 1) is the identity."""
    got = score.recalibrate([0.5, 0.2, 0.0, 1.0], 1.0, 0.5)
    assert got[0] == pytest.approx(1 / (1 + math.exp(-1)), abs=1e-12)
    assert got[1] == pytest.approx(1 / (1 + math.exp(-(1 + 0.5 * math.log(0.25)))), abs=1e-12)
    assert got[1] == pytest.approx(0.5761, abs=1e-4)
    assert got[2] == 0.0 and got[3] == 1.0
    shares = np.array([0.01, 0.3, 0.77])
    np.testing.assert_array_equal(score.recalibrate(shares, 0.0, 1.0), shares)


def test_the_recalibration_fit_recovers_a_known_distortion():
    """Outcomes drawn with P(yes) = sigma(0.5 + 0.75 logit(share)): the fit finds about (0.5, 0.75) and no
    hedge; on well-calibrated shares about the identity; with a fifth of the questions answered at the base
    rate whatever the share, a hedge of about 0.2."""
    rng = np.random.default_rng(3)
    n = 4000
    share = rng.uniform(0.02, 0.98, n)
    z = np.log(share / (1 - share))
    y = rng.random(n) < 1 / (1 + np.exp(-(0.5 + 0.75 * z)))
    a, b, h, base = score.fit_recalibration(share, y)
    assert abs(a - 0.5) <= 0.15 and abs(b - 0.75) <= 0.1 and h <= 0.04
    assert base == pytest.approx(y.mean())
    a0, b0, h0, _ = score.fit_recalibration(share, rng.random(n) < share)
    assert abs(a0) <= 0.15 and abs(b0 - 1.0) <= 0.125 and h0 <= 0.04
    # the fit never raises the Brier score above the shares' own
    assert score.brier(score.recalibrate(share, a, b, h, base), y) <= score.brier(share, y)
    # a fifth of the answers ignore the share (the model knows nothing of them): a hedge near 0.2
    blind = rng.random(n) < 0.2
    yh = np.where(blind, rng.random(n) < 0.4, rng.random(n) < share)
    a2, b2, h2, _ = score.fit_recalibration(share, yh)
    assert 0.1 <= h2 <= 0.3 and abs(b2 - 1.0) <= 0.3


def test_a_hedged_forecast_is_computed_by_hand_and_never_certain():
    """P = (1 - h) sigma(a + b logit s) + h base: by hand for one share; unforced shares near 0 or 1 stay at
    least h base from 0 and h (1 - base) from 1; forced shares of 0 and 1 stay where they are."""
    got = score.recalibrate(np.array([0.25, 1e-6, 1 - 1e-6, 0.0, 1.0]), 1.0, 0.5, 0.2, 0.6)
    by_hand = 0.8 / (1 + math.exp(-(1.0 + 0.5 * math.log(0.25 / 0.75)))) + 0.2 * 0.6
    assert got[0] == pytest.approx(by_hand, abs=1e-12)
    assert 0.12 <= got[1] < 0.2 and 0.8 <= got[2] <= 0.92
    assert got[3] == 0.0 and got[4] == 1.0
    assert score.recal_text((1.0, 0.5, 0.2, 0.6)) == "P = 0.8 logistic(1 + 0.5 logit(share)) + 0.2 x 0.6"


def test_questions_fall_in_two_families_each_recalibrated_with_its_own_pair():
    """A question on an actor's choice (chose:, or a count of actions) is a 'choice', on a price or a front a
    'state'; each family's forecasts use their own (shift, slope), and a family's fit follows its own distortion."""
    assert score.question_family("chose", "count.iran.seize_tanker.usa") == "choice"
    assert score.question_family("when", "count.iran.missile_barrage.israel > 0") == "choice"
    assert score.question_family("when", "brent > 85") == "state"
    assert score.question_family("when", "lebanon.ceasefire > 0") == "state"
    p = np.array([0.5, 0.5])
    got = score.recalibrate_by_family(p, ["choice", "state"], {"choice": (1.0, 1.0), "state": (0.0, 1.0)})
    assert got[0] == pytest.approx(1 / (1 + math.exp(-1))) and got[1] == 0.5
    assert score.as_recal((0.3, 0.9)) == {"choice": (0.3, 0.9, 0.0, 0.5), "state": (0.3, 0.9, 0.0, 0.5)}
    assert score.as_recal({"shift": 0.3, "slope": 0.9, "hedge": 0.1, "base": 0.4})["state"] == (0.3, 0.9, 0.1, 0.4)
    rng = np.random.default_rng(5)
    share = rng.uniform(0.02, 0.98, 2000)
    fam = np.where(np.arange(2000) % 2 == 0, "choice", "state")
    z = np.log(share / (1 - share))
    truth = np.where(fam == "choice", 1 / (1 + np.exp(-(1.0 + z))), share)  # the choices timid, the states right
    y = rng.random(2000) < truth
    fit = score.fit_recalibration_by_family(share, y, fam)
    assert abs(fit["choice"][0] - 1.0) <= 0.15 and abs(fit["state"][0]) <= 0.15 and abs(fit["state"][1] - 1) <= 0.125
    one = score.fit_recalibration(share, y)  # one pair for both: worse than a pair each
    assert score.brier(score.recalibrate_by_family(share, fam, fit), y) < score.brier(score.recalibrate(share, *one), y)
    # a family with too few questions keeps the identity
    few = score.fit_recalibration_by_family(share[:12], y[:12], ["choice"] * 11 + ["state"])
    assert few["state"] == score.IDENTITY


def test_the_overlay_recalibration_is_checked_and_applied(tmp_path):
    from model import catalog
    from model.safeyaml import load_file

    good = tmp_path / "good.yaml"
    good.write_text("run: {date: '2026-12-01'}\nvalues: {}\nforecast: {shift: 0.4, slope: 0.9}\n")
    spec = catalog.load_catalog(calibrated=False)
    data, marks = load_file(good)
    catalog.apply_calibration(spec, data, marks, str(good))
    # one pair for every question applies to both families
    fc = spec["reporting"]["forecast"]
    assert all(fc[f]["shift"] == 0.4 and fc[f]["slope"] == 0.9 for f in score.FAMILIES)
    fam = tmp_path / "fam.yaml"
    fam.write_text(
        "run: {date: '2026-12-01'}\nvalues: {}\nforecast:\n  choice: {shift: 1.2, slope: 1.1, hedge: 0.1, base: 0.6}\n"
        "  state: {shift: 0.0, slope: 1.0}\n"
    )
    spec = catalog.load_catalog(calibrated=False)
    data, marks = load_file(fam)
    catalog.apply_calibration(spec, data, marks, str(fam))
    fc = spec["reporting"]["forecast"]
    assert (fc["choice"]["shift"], fc["choice"]["slope"], fc["state"]["shift"]) == (1.2, 1.1, 0.0)
    assert (fc["choice"]["hedge"], fc["choice"]["base"]) == (0.1, 0.6) and fc["state"]["hedge"] == 0.0
    odd = tmp_path / "odd.yaml"
    odd.write_text("run: {date: '2026-12-01'}\nvalues: {}\nforecast:\n  prices: {shift: 0.1, slope: 1.0}\n")
    data, marks = load_file(odd)
    with pytest.raises(InputError) as err:
        catalog.apply_calibration(catalog.load_catalog(calibrated=False), data, marks, str(odd))
    assert "unknown key 'prices'" in str(err.value) and "odd.yaml:4" in str(err.value)
    bad = tmp_path / "bad.yaml"
    bad.write_text("run: {date: '2026-12-01'}\nvalues: {}\nforecast: {shift: 0.4, slope: -1}\n")
    data, marks = load_file(bad)
    with pytest.raises(InputError) as err:
        catalog.apply_calibration(catalog.load_catalog(calibrated=False), data, marks, str(bad))
    msg = str(err.value)
    assert "forecast.slope" in msg and "bad.yaml:3" in msg
    bad.write_text("run: {date: '2026-12-01'}\nvalues: {}\nforecast: {shift: 0.4, slope: 1, hedge: 0.5}\n")
    data, marks = load_file(bad)
    with pytest.raises(InputError) as err:
        catalog.apply_calibration(catalog.load_catalog(calibrated=False), data, marks, str(bad))
    assert "forecast.hedge" in str(err.value) and "[0, 0.3]" in str(err.value)
