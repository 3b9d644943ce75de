"""History as scored questions (issue 18): the model's track record on scenarios/history.

`entente score scenarios/history --controls` must show a model that beats the base rate, is
never certain unless the scenario forces it, and beats its negative controls:

* Brier skill against the base rate of the question set of at least 0.35 for the forecasts
  (the ensemble's stated shares recalibrated by the catalog's fit, one per question family,
  P = (1 - hedge) logistic(shift + slope logit share) + hedge base) and at least 0.2 for the ensemble's shares alone (what the
  mechanisms say, before any recalibration). These are floors below what was measured, not the
  issue's target: in sample, 500 replicates, 217 questions, the forecasts score 0.48 and the shares
  0.33; the calibration's held-out half (episodes it did not fit, the same 113 questions since
  2026-12-02) scored 0.30 with the recalibration and 0.23 without (0.34 and 0.23 at the calibration
  before; docs/model.md, section 9): the target of 0.35 is missed out of sample;
* no stated probability of exactly 0% or 100% unless the scenario forces it (the inert and
  random controls decide "forced"); an ensemble share of 0 or 1 that is not forced is stated
  as (k + 1/2) / (n + 1), the Jeffreys estimate, and the raw share is still listed;
* a finite log score (no certain answer that turned out wrong);
* the inert control (nobody decides), the hawk control (everyone takes its most escalatory
  option) and the constant forecaster (the base rate: skill 0) each at least 0.15 below the
  model's skill, so that these tests can fail.

Runs 100 replicates per scenario and policy (about 1-2 s per run): the targets are far from
Monte Carlo noise at that size, and the bootstrap intervals in the printed card say how far.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from model.cli import main
from model.scenario import scenarios_dir

HISTORY = scenarios_dir() / "history"
REPLICATES = 100
MIN_SKILL = 0.35  # the forecasts: a floor under the measured 0.48 (in sample; 0.34 out of sample)
MIN_ENSEMBLE_SKILL = 0.2  # the ensemble's shares alone: a floor under the measured 0.31
CONTROL_GAP = 0.15


@pytest.mark.slow
def test_history_questions_meet_the_forecasting_targets(tmp_path, capsys):
    code = main(["score", str(HISTORY), "--controls", "--replicates", str(REPLICATES), "--out", str(tmp_path),
                 "--workers", "1", "--quiet"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    folder = Path(out.strip().splitlines()[-2].removeprefix("score folder: "))
    scores = json.loads((folder / "scores.json").read_text())
    model = scores["summary"]["model"]
    skill, log = float(model["skill"]), float(model["log"])
    problems = []
    if not skill >= MIN_SKILL:
        problems.append(f"Brier skill {skill:.3f} is below {MIN_SKILL}")
    ens = scores["summary"].get("ensemble", model)  # the catalog's recalibration may be the identity
    if not float(ens["skill"]) >= MIN_ENSEMBLE_SKILL:
        problems.append(f"the ensemble shares' Brier skill {float(ens['skill']):.3f} is below {MIN_ENSEMBLE_SKILL}")
    certain = [
        f"{r['episode']}/{r['id']} (P = {r['p']:g}, {r['certainty']})"
        for r in scores["rows"]
        if float(r["p"]) in (0.0, 1.0) and r["certainty"] != "by construction"
    ]
    if certain:
        problems.append(f"{len(certain)} unforced certain answers: {', '.join(certain)}")
    if not math.isfinite(log):
        problems.append(f"the log score is {log} (a certain answer was wrong)")
    for control in ("inert", "hawk", "constant"):
        theirs = float(scores["summary"][control]["skill"])
        if not theirs <= skill - CONTROL_GAP:
            problems.append(
                f"the {control} control's skill {theirs:.3f} is not {CONTROL_GAP} below the model's {skill:.3f}"
            )
    assert not problems, "\n".join(problems) + "\n\n" + out
