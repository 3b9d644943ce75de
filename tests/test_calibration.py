"""The calibration's declared space, the overlay the catalog loader applies, and scripts/calibrate.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from model import catalog
from model.catalog import apply_calibration, calibration_issues, calibration_space, load_catalog, provenance
from model.catalog.docs import tables
from model.errors import InputError
from model.safeyaml import load_file

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "score" / "tiny_episode.yaml"


def bare_catalog() -> dict:
    """The shipped catalog, stated values, without its calibration declarations (tests declare their own)."""
    spec = load_catalog(calibrated=False)
    nodes = [p for p in spec["world"]["parameters"].values()] + list(spec["constraints"].values())
    for actor in spec["actors"].values():
        nodes.append(actor.get("response") or {})
        nodes += list((actor.get("interests") or {}).values())
    for node in nodes:
        if isinstance(node, dict):
            node.pop("calibrate", None)
    return spec


def declared_spec() -> dict:
    """The catalog with a declaration of every form."""
    spec = bare_catalog()
    spec["world"]["parameters"]["temperature"]["calibrate"] = {"low": 0.02, "high": 0.2}
    spec["actors"]["israel"]["response"]["calibrate"] = {"low": 0.5, "high": 3.0}
    spec["actors"]["israel"]["interests"]["limit_war"]["calibrate"] = {"low": -1.0, "high": 0.0}
    spec["constraints"]["IR_KHAMENEI"]["calibrate"] = {"weight": {"low": 0.0, "high": 2.0}}
    return spec


def test_the_declared_space_reads_every_form():
    spec = declared_spec()
    space = calibration_space(spec)
    assert space == {
        "world.temperature": (0.02, 0.2),
        "constraints.IR_KHAMENEI.weight": (0.0, 2.0),
        "actors.israel.response": (0.5, 3.0),
        "actors.israel.interests.limit_war.weight": (-1.0, 0.0),
    }
    assert calibration_issues(spec) == []
    shipped = calibration_space(load_catalog())  # the shipped catalog declares the assumed behaviour
    assert {"world.temperature", "actors.iran.response", "constraints.IR_KHAMENEI_CAUTION.weight"} <= set(shipped)
    assert all(lo < hi for lo, hi in shipped.values())


def test_bad_declarations_are_reported():
    spec = declared_spec()
    spec["world"]["parameters"]["temperature"]["calibrate"] = {"low": 0.3, "high": 0.2}
    spec["actors"]["israel"]["response"]["calibrate"] = {"low": 2.5, "high": 3.0}  # the value 1.8 is outside
    spec["world"]["parameters"]["cohesion_threat_gain"]["calibrate"] = {"low": 0.001, "high": 0.01}  # disputed
    spec["constraints"]["IR_KHAMENEI"]["calibrate"]["threshold"] = {"low": 0.0, "high": 1.0}
    found = {i.key: i.message for i in calibration_issues(spec)}
    assert "low < high" in found["world.temperature (calibrate)"]
    assert "outside its declared range" in found["actors.israel.response (calibrate)"]
    assert "disputed" in found["world.cohesion_threat_gain (calibrate)"]
    assert "has no parameter 'threshold'" in found["constraints.IR_KHAMENEI.threshold (calibrate)"]


def overlay(tmp_path: Path, text: str) -> tuple[dict, object, str]:
    p = tmp_path / "calibration.yaml"
    p.write_text(text)
    data, marks = load_file(p, str(p))
    return data, marks, str(p)


RUN = """\
run:
  date: "2026-12-01"
  samples: 200
  replicates: 100
  train: [a, b, c]
  held_out: [d, e]
  train_score: {brier: 0.12, skill: 0.41}
  held_out_score: {brier: 0.15, skill: 0.3}
"""


def test_the_overlay_sets_declared_values_and_their_provenance_names_the_run(tmp_path):
    spec = declared_spec()
    data, marks, file = overlay(tmp_path, RUN + "values:\n  world.temperature: 0.11\n  actors.israel.response: 2.2\n")
    assert apply_calibration(spec, data, marks, file) == ["world.temperature", "actors.israel.response"]
    par = spec["world"]["parameters"]["temperature"]
    assert par["value"] == 0.11 and spec["actors"]["israel"]["response"]["weight"] == 2.2
    text = provenance(par)
    assert (
        "calibrated: scripts/calibrate.py (2026-12-01; 200 sets x 100 replicates; train 3 episodes, skill 0.41;" in text
    )
    assert "held-out 2 episodes, skill 0.30)" in text and "article: C59" in text
    doc = tables(spec)
    assert (
        "| `world.temperature` | 0.11 | [0.02, 0.2] | article: C59; calibrated: scripts/calibrate.py (2026-12-01" in doc
    )


def test_the_overlay_refuses_undeclared_and_out_of_range_values_with_located_lines(tmp_path):
    spec = declared_spec()
    data, marks, file = overlay(
        tmp_path, RUN + "values:\n  world.temperature: 0.5\n  world.tremble: 0.01\n  colour: red\n"
    )
    with pytest.raises(InputError) as err:
        apply_calibration(spec, data, marks, file)
    lines = [str(i) for i in err.value.issues]
    assert len(lines) == 3
    assert lines[0].startswith(f"{file}:10:3: values.world.temperature: expected a number in its declared range")
    assert lines[1].startswith(f"{file}:11:3: values.world.tremble: 'world.tremble' is not declared calibratable")
    assert lines[2].startswith(f"{file}:12:3: values.colour:")


def test_the_catalog_loader_applies_the_overlay_file(tmp_path, monkeypatch):
    bad = tmp_path / "calibration.yaml"
    bad.write_text(RUN + "values:\n  world.stance_weight: 0.5\n")
    monkeypatch.setattr(catalog, "CALIBRATION", bad)
    catalog._load_raw.cache_clear()
    try:
        with pytest.raises(InputError) as err:
            load_catalog()  # the stance weight is not declared calibratable: the value is refused, located
        assert "calibration.yaml:10:3: values.world.stance_weight: 'world.stance_weight' is not declared" in str(
            err.value.issues[0]
        )
        bad.write_text(RUN + "values:\n  world.temperature: 0.09\n")
        catalog._load_raw.cache_clear()
        assert load_catalog()["world"]["parameters"]["temperature"]["value"] == 0.09
    finally:
        monkeypatch.undo()
        catalog._load_raw.cache_clear()


# ------------------------------------------------------------------ the script
def script():
    spec = importlib.util.spec_from_file_location("calibrate_script", ROOT / "scripts" / "calibrate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def episodes(tmp_path):
    d = tmp_path / "episodes"
    d.mkdir()
    text = FIXTURE.read_text()
    (d / "one.yaml").write_text(text)
    (d / "two.yaml").write_text(text.replace("name: tiny_episode", "name: tiny_two").replace("seed: 11", "seed: 12"))
    return d


def test_the_split_is_deterministic_and_halves_the_episodes():
    cal = script()
    names = ["a", "b", "c", "d", "e"]
    train, held = cal.split(names, 1)
    assert (train, held) == cal.split(list(reversed(names)), 1)
    assert len(train) == 3 and len(held) == 2 and sorted(train + held) == names


def test_the_script_calibrates_a_trial_dimension_and_writes_an_overlay(tmp_path, episodes, capsys):
    cal = script()
    out = tmp_path / "cal.yaml"
    args = ["--episodes", str(episodes), "--param", "world.stance_weight=0.2:1.0", "--only", "world.stance_weight",
            "--method", "sample", "--samples", "4", "--replicates", "10", "--keep", "2", "--rescore-replicates", "20", "--workers", "1",
            "--quiet"]  # fmt: skip
    assert cal.main([*args, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "world.stance_weight" in printed and "held out (1 episodes, 3 questions)" in printed
    data, marks = load_file(out, str(out))
    assert data["run"]["samples"] == 4 and data["run"]["replicates"] == 10
    assert sorted(data["run"]["train"] + data["run"]["held_out"]) == ["tiny_episode", "tiny_two"]
    assert 0.2 <= data["values"]["world.stance_weight"] <= 1.0
    assert out.read_text().startswith("# Calibrated values, written by scripts/calibrate.py")
    spec = declared_spec()
    spec["world"]["parameters"]["stance_weight"]["calibrate"] = {"low": 0.2, "high": 1.0}  # declared there, it loads
    assert apply_calibration(spec, data, marks, str(out)) == ["world.stance_weight"] + [
        f"reporting.forecast.{fam}.{k}" for fam in ("choice", "state") for k in ("shift", "slope", "hedge", "base")
    ]
    # the forecast recalibration, a pair per question family: fitted on the training half, measured on the
    # held-out half, written beside the values
    lo, hi = (-2.5, 2.5), (0.3, 1.5)
    for fam in ("choice", "state"):
        fc = data["forecast"][fam]
        assert lo[0] <= fc["shift"] <= lo[1] and hi[0] <= fc["slope"] <= hi[1] and 0 <= fc["hedge"] <= 0.3
    assert set(data["run"]["forecast"]) == {"fitted_on_train", "train_score", "held_out_score", "written"}
    # a trial dimension may not go into the catalog's own overlay; nothing declared is a clear error
    assert cal.main(args) == 2
    assert "not declared calibratable" in capsys.readouterr().err
    assert cal.main(["--episodes", str(episodes), "--only", "world.nothing", "--dry-run"]) == 2
    assert "'world.nothing' is not a declared or trial dimension" in capsys.readouterr().err
    assert cal.main([*args, "--param", "world.nonsense=0:1", "--dry-run"]) == 2
    assert "unknown parameter path 'world.nonsense'" in capsys.readouterr().err


def test_the_paired_gain_and_its_episode_clustered_error_by_hand():
    cal = script()
    # two sets over four questions in two episodes; set 1 is better by 0.1 on a1, 0.3 on a2, 0.0 on b1, 0.2 on b2
    E = np.array([[0.5, 0.6, 0.2, 0.4], [0.4, 0.3, 0.2, 0.2]])
    gain, se = cal.paired_gain(E, 0, 1, np.array(["a", "a", "b", "b"]))
    assert gain == pytest.approx(0.15)
    # episode sums of (d - 0.15): a: -0.05 + 0.15 = 0.10, b: -0.15 + 0.05 = -0.10; sqrt(2/1 * 0.02) / 4
    assert se == pytest.approx(np.sqrt(2 * 0.02) / 4)
    _, se_q = cal.paired_gain(E, 0, 1)  # questions as their own clusters
    assert se_q == pytest.approx(np.sqrt(4 / 3 * (0.05**2 + 0.15**2 + 0.15**2 + 0.05**2)) / 4)


def fake_scorer(carried_by_one: bool):
    """Squared errors of 40 questions in 20 episodes: one dimension, moving it from 0 to 1 gains 0.002 a question
    on average, either from one question alone (0.08) or spread evenly over all of them."""

    def score_sets(X, label):
        E = np.full((len(X), 40), 0.2)
        for k, x in enumerate(X):
            if carried_by_one:
                E[k, 0] -= 0.08 * x[0]
            else:
                E[k] -= 0.002 * x[0]
            E[k] += 0.01 * np.sin(np.arange(40))  # the same per-question spread in every set (common random numbers)
        return E

    return score_sets


@pytest.mark.parametrize("carried_by_one", [True, False])
def test_the_search_moves_a_value_only_when_its_gain_exceeds_its_error(carried_by_one):
    cal = script()
    clusters = np.repeat(np.arange(20), 2)
    args = (fake_scorer(carried_by_one), {"p": (0.0, 1.0)}, np.array([0.0]), 3, 3, 0.001, lambda *_: None)
    found, history = cal.coordinate_search(*args, min_z=2.0, clusters=clusters)
    # the same mean gain: a move carried by one question is noise the search would fit; one spread evenly is not
    assert found[0] == (0.0 if carried_by_one else 1.0)
    assert history[0]["rejected_as_noise"] == (1 if carried_by_one else 0)
    # with the test off (the rule before), both move
    assert cal.coordinate_search(*args, min_z=0.0, clusters=clusters)[0][0] == 1.0
