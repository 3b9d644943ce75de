"""Bad input gets a clear, located answer; nothing a user can write crashes entente or runs code."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import expr
from model.catalog import load_catalog, variable_names
from model.errors import InputError
from model.scenario import load_scenario, scenarios_dir, validate

BROKEN = Path(__file__).parent / "broken"
CORPUS = sorted(p for p in BROKEN.glob("*.yaml") if p.name != "not_utf8.yaml")


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 100


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_broken_file_gives_its_expected_error(path: Path):
    m = re.match(r"# expect: (\*|\d+): (.*)", path.read_text().splitlines()[0] if path.read_text() else "")
    assert m, f"{path.name} lacks an '# expect: LINE: text' header"
    line, text = m.group(1), m.group(2)
    issues = validate(path)
    assert issues, f"{path.name} was accepted"
    rendered = [str(i) for i in issues]
    match = [i for i in issues if text in i.message and (line == "*" or i.line == int(line))]
    assert match, f"{path.name}: expected line {line} '{text}', got {rendered}"
    for i in issues:
        assert i.file == str(path) or i.file.endswith(".yaml"), i
        assert i.line is not None and i.line >= 1, f"every message names a line: {i}"
        assert i.column is not None and i.column >= 1, f"every message names a column: {i}"


def test_non_utf8_is_a_clear_error():
    issues = validate(BROKEN / "not_utf8.yaml")
    assert len(issues) == 1 and "not valid UTF-8" in issues[0].message and issues[0].line == 1
    assert issues[0].column == 1


def test_oversized_file_is_refused(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_text("name: big\n" + "# padding\n" * 120_000)
    issues = validate(p)
    assert issues and "larger than" in issues[0].message


def test_all_problems_are_reported_at_once(tmp_path):
    p = tmp_path / "many.yaml"
    p.write_text("name: many\nhorizon: -1\nreplicats: 4\nactors: {Isreal: {}}\noutcomes: [nope]\n")
    assert len(validate(p)) == 4


def test_no_code_runs_from_yaml(tmp_path):
    marker = tmp_path / "pwned"
    p = tmp_path / "evil.yaml"
    p.write_text(f"name: evil\ntitle: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(InputError):
        load_scenario(p)
    assert not marker.exists()


BASELINE_TEXT = (scenarios_dir() / "israel_limited_strike.yaml").read_text()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cuts=st.lists(
        st.tuples(
            st.integers(0, len(BASELINE_TEXT)),
            st.integers(0, 12),
            st.text(alphabet=":{}[]-#&*!'\"\n\t ab0.9_", max_size=6),
        ),
        max_size=4,
    )
)
def test_mutated_scenarios_only_raise_input_errors_that_name_a_line(cuts):
    text = BASELINE_TEXT
    for pos, length, insert in cuts:
        text = text[:pos] + insert + text[pos + length :]
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "mutant.yaml"
        p.write_text(text, encoding="utf-8")
        try:
            load_scenario(p)
        except InputError as exc:
            assert exc.issues
            for issue in exc.issues:
                assert issue.line is not None and issue.line >= 1, issue


NAMES = variable_names(load_catalog())


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abcdeilnorstuvw_.()<>=!+-*/ 0123456789{}", max_size=40))
def test_the_grammar_only_raises_its_own_errors_with_a_column(text):
    try:
        node = expr.parse(text, NAMES, set())
    except expr.ExprError as exc:
        assert 1 <= exc.column <= max(len(text), 1) + 1
        assert exc.message
    else:
        assert node.names() <= NAMES


@pytest.mark.parametrize(
    "text,column",
    [
        ("escalation brent", 12),
        ("escalation >= ", 15),
        ("(escalation > 1", 16),
        ("brent > 3 and", 14),
        ("max(brent)", 1),
        ("escalaton > 1", 1),
    ],
)
def test_grammar_errors_point_at_the_column(text, column):
    with pytest.raises(expr.ExprError) as info:
        expr.parse(text, NAMES, set())
    assert info.value.column == column, info.value.message


def test_grammar_evaluates_over_replicates():
    import numpy as np

    node = expr.parse("escalation >= 6 and us.war_on_iran or not brent < 100", NAMES)
    vals = {
        "escalation": np.array([7.0, 7.0, 1.0, 1.0]),
        "us.war_on_iran": np.array([1.0, 0.0, 1.0, 0.0]),
        "brent": np.array([80.0, 80.0, 80.0, 120.0]),
    }
    assert list(expr.truth(expr.evaluate(node, vals.__getitem__))) == [True, False, False, True]
