"""Docs that run: README commands, the generated model tables and the documented example."""

from __future__ import annotations

import re
from pathlib import Path

from model.catalog.docs import render
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.*?)\n```", text, re.S)[:2]


def test_readme_opens_with_exactly_two_commands():
    text = (ROOT / "README.md").read_text()
    first, second = readme_commands()
    assert text.index(first) < text.index("**entente**")
    assert "entente compare" in first and "scenarios/baseline.yaml" in first and first.count("\n") == 0
    assert "pytest" in second and second.count("\n") == 0


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci
    assert "\npython -m pytest -m slow\n" in ci  # and the slow tests the suite's default run leaves out
    assert "export ENTENTE_REQUIRE_BROWSER=1" in ci  # CI cannot pass by skipping the browser test


def test_both_readme_commands_install_the_locked_versions():
    """A fresh machine gets the versions the suite passed with, not whatever was released last."""
    for command in readme_commands():
        assert "pip install -c constraints.txt -e " in command, command
    assert (ROOT / "constraints.txt").exists()


def test_main_job_scenarios_exist():
    for path in re.findall(r"scenarios/\w+\.yaml", readme_commands()[0]):
        assert (ROOT / path).exists(), path
    assert len(re.findall(r"scenarios/\w+\.yaml", readme_commands()[0])) >= 4


def test_model_doc_tables_are_current():
    doc = (ROOT / "docs" / "model.md").read_text()
    assert render(doc) == doc, "docs/model.md is stale: run python -m model.catalog.docs docs/model.md"


def test_annotated_example_in_scenarios_doc_is_valid(tmp_path):
    doc = (ROOT / "docs" / "scenarios.md").read_text()
    example = re.search(r"```yaml\n(.*?)\n```", doc, re.S).group(1)
    p = tmp_path / "example.yaml"
    p.write_text(example)
    sc = load_scenario(p)
    assert sc.name == "gulf_cools_on_russia" and len(sc.config.events) == 4  # three here, the treaty from baseline
    labels = {c.label for c in sc.config.changes}
    assert "Ukraine ceasefire in March" in labels and any(x.startswith("US change of administration") for x in labels)
    assert set(sc.config.outcome_defs) == {"gulf_ties", "weeks_above_6"}
    assert sc.config.spec["constraints"]["RU_SU35_GATE"]["lifted"] is True
