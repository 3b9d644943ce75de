"""History as tests: expect: bands, the check command, and the shipped history scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from model.cli import main
from model.scenario import load_scenario, scenarios_dir
from model.scenario.expect import figure, holds, parse


def test_statements_parse_and_compute_known_figures():
    e = parse("P(max_support_tier >= 4) <= 0.10")
    assert (e.stat, e.name, e.cond_op, e.cond_value, e.op, e.value) == ("P", "max_support_tier", ">=", 4.0, "<=", 0.1)
    assert figure(e, np.array([3, 4, 5, np.nan])) == 0.5  # never-reached (NaN) counts as not >= 4
    assert not holds(e, 0.5) and holds(e, 0.1)
    b = parse("P(us_war_on_iran) <= 0.1")
    assert figure(b, np.array([0, 1, 1, 0])) == 0.5
    m = parse("median(peak_brent) in [70, 90]")
    assert figure(m, np.array([60.0, 80.0, 100.0])) == 80.0 and holds(m, 80.0) and not holds(m, 90.5)
    assert figure(parse("p90(x) > 1"), np.arange(11.0)) == pytest.approx(9.0)
    d = parse("median(brent @ 2024-12-31) in [66, 84]")
    assert d.column == "brent@2024-12-31"


@pytest.mark.parametrize(
    "text",
    ["P(x) <= ", "median(x) in [5, 1]", "avg(x) < 1", "mean(x >= 2) < 1", "P(x) <= nan", "__import__('os')"],
)
def test_bad_statements_are_refused(text):
    with pytest.raises(ValueError):
        parse(text)


def test_dated_expectation_reads_the_step_of_its_date(tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text(
        "name: d\nhorizon: 4\nstart_date: 2024-01-01\nstep_days: 7\nexpect: ['median(escalation @ 2024-01-15) >= 0']\n"
    )
    sc = load_scenario(p)
    assert sc.config.outcome_defs["escalation@2024-01-15"]["reduce"] == "at_step:2"


def test_unknown_outcome_in_expectation_is_located(tmp_path, capsys):
    p = tmp_path / "u.yaml"
    p.write_text("name: u\nhorizon: 2\nexpect:\n  - 'P(peak_escalaton > 5) <= 0.1'\n")
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err
    assert "u.yaml:4:" in err and "did you mean 'peak_escalation'" in err


def test_a_failing_band_exits_1(tmp_path, capsys):
    p = tmp_path / "f.yaml"
    p.write_text(
        "name: f\nextends: baseline\nhorizon: 4\n"
        "expect:\n  - 'P(sustained_war) >= 0.99'\n  - 'median(peak_brent) in [20, 250]'\n"
    )
    assert main(["check", str(p), "--replicates", "200", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "1 passed, 1 failed" in out


def test_history_scenarios_pass(capsys):
    """The shipped bands (scenarios/history: the episodes of April 2024 and of 26 October 2024 carry them)."""
    assert main(["check", str(scenarios_dir() / "history"), "--replicates", "600", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "e13_april_2024" in out and "e16_oct26_after_2024" in out and " 0 failed" in out
