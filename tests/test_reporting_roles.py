"""Reporting roles are catalog data: analysis, explain and the app name no actor, variable or outcome.

Like the engine's test (test_behaviour_as_data.py), a grep: every string literal of the code in
model/analysis, model/explain and model/app (docstrings and comments aside) and every quoted string
of the app's page is checked against the catalog's actor, variable, outcome, constraint, action and
interest names. Who is "major", which outcomes a headline ranks and which variables a view draws
come from model/catalog/reporting.yaml, whose entries must exist and say why.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from model.catalog import load_catalog, reporting
from model.catalog.reporting import check_reporting

ROOT = Path(__file__).resolve().parents[1] / "model"
PACKAGES = ("analysis", "explain", "app")


def _names() -> tuple[set[str], set[str]]:
    spec = load_catalog()
    actors = set(spec["actors"])
    names = actors | set(spec["world"]["variables"]) | set(spec["outcomes"]) | set(spec["constraints"])
    names |= set(spec["actions"]) | {t for a in spec["actors"].values() for t in a["interests"]}
    return actors, names


def _literals(source: str) -> list[tuple[int, str]]:
    """String literals of a module, docstrings excluded (a docstring may give an example)."""
    tree = ast.parse(source)
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    ]


def _found(text: str, actors: set[str], names: set[str]) -> list[str]:
    hits = {n for n in names if text == n}
    hits |= {a for a in actors if re.search(rf"(?<![A-Za-z_]){re.escape(a)}(?![A-Za-z_])", text)}
    return sorted(hits)


def test_analysis_explain_and_app_name_no_catalog_entity():
    actors, names = _names()
    found = []
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            for line, text in _literals(f.read_text(encoding="utf-8")):
                found += [f"{f.relative_to(ROOT)}:{line}: {h!r} in {text[:60]!r}" for h in _found(text, actors, names)]
        for f in sorted((ROOT / pkg).rglob("*.html")):
            for m in re.finditer(r"([\"'`])((?:(?!\1).){1,80})\1", f.read_text(encoding="utf-8")):
                line = f.read_text(encoding="utf-8")[: m.start()].count("\n") + 1
                found += [f"{f.relative_to(ROOT)}:{line}: {h!r}" for h in _found(m.group(2), actors, names)]
    assert not found, "\n".join(found)


def test_the_grep_catches_a_hard_coded_name():
    actors, names = _names()
    src = 'MAJOR = ("israel", "iran")\nvar = "escalation"\ndef f():\n    """About iran."""\n    return 1\n'
    hits = [h for _, text in _literals(src) for h in _found(text, actors, names)]
    assert sorted(hits) == ["escalation", "iran", "israel"]  # the docstring is not code


def test_every_reporting_entry_exists_and_says_why():
    spec = load_catalog()
    assert check_reporting(spec) == []
    for key, node in spec["reporting"].items():
        if key != "scales":
            assert node.get("assumption"), key
    assert reporting.major_actors(spec) and reporting.key_outcomes(spec) and reporting.pick_by(spec)
    assert all(k["worse"] in ("higher", "lower") for k in reporting.key_outcomes(spec))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("major_actors", "actors"), ["russa"], "unknown actor 'russa'; did you mean 'russia'?"),
        (("key_outcomes", "outcomes"), [{"name": "peak_escalaton"}], "did you mean 'peak_escalation'?"),
        (("app_variables", "variables"), ["brnt"], "unknown world variable 'brnt'"),
        (("app_parameters", "parameters"), [{"path": "world.nope", "low": 0, "high": 1}], "unknown parameter path"),
    ],
)
def test_a_typo_in_reporting_yaml_is_a_located_error(path, value, message):
    spec = load_catalog()
    spec["reporting"][path[0]][path[1]] = value
    issues = check_reporting(spec)
    assert len(issues) == 1 and message in str(issues[0]) and str(issues[0]).startswith("model/catalog/reporting.yaml")


def test_the_scales_are_named_in_words():
    spec = load_catalog()
    tiers = [v for v, d in spec["world"]["variables"].items() if d.get("tier_of")]
    assert tiers and reporting.scale_words(spec, tiers[0]).startswith(f"0 {spec['world']['support_tiers'][0]}, 1 ")
    war = reporting.war_variable(spec)
    assert reporting.scale_words(spec, war).endswith(f"3 {spec['world']['war_states'][3]}")
    esc = spec["world"]["roles"]["escalation"]["var"]
    assert "10 " in reporting.scale_words(spec, esc)  # what 10 means
