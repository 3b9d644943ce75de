"""The adversarial tester's reproducers (issue 21, section 3), outside the app: each is a test.

Bad input gets one line naming file, line, column and key, and exit code 2; never a traceback,
a hang or a half-written run folder.
"""

from __future__ import annotations

import builtins
import errno
import os
import time
from pathlib import Path

import pytest

from model import cli, execution, files
from model.analysis import data
from model.errors import InputError
from model.scenario import (
    MAX_CONDITIONAL_EVENTS,
    MAX_EVENTS,
    MAX_OUTCOMES,
    load_scenario,
    scenarios_dir,
    validate,
)
from model.workflow import compare

BASE = str(scenarios_dir() / "baseline.yaml")


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_issue(path: Path):
    issues = validate(path)
    assert len(issues) == 1, issues
    return issues[0]


def scenario(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(f"name: {p.stem}\nextends: baseline\n{body}")
    return p


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "2018-04-30", "2031-01-01"])
def test_a_start_date_outside_the_supported_calendar_is_refused_where_it_is_written(tmp_path, date):
    p = tmp_path / "s.yaml"
    p.write_text(f"name: s\nhorizon: 4\nstart_date: {date}\n")
    issue = one_issue(p)
    assert (issue.line, issue.column, issue.key) == (3, 1, "start_date")
    assert "outside the calendar the model supports (2018-05-01 to 2030-12-31" in issue.message


@pytest.mark.parametrize("date", ["2018-05-01", "2030-12-31"])
def test_the_calendar_range_is_inclusive(tmp_path, date):
    p = tmp_path / "s.yaml"
    p.write_text(f"name: s\nstart_date: {date}\nhorizon: 2\n")
    assert validate(p) == []


# ------------------------------------------------------------------ settings that do nothing or mean something else
def test_a_relation_owned_by_cohesion_is_refused_with_the_reason(tmp_path, capsys):
    issues = validate(scenario(tmp_path, "relations: {russia-iran: -0.9, iran-russia: 0.2}\n"))
    assert [(i.line, i.key) for i in issues] == [(3, "relations.russia-iran"), (3, "relations.iran-russia")]
    assert all("is the world variable 'cohesion'" in i.message and "initial.cohesion" in i.message for i in issues)
    code, _, err = run_cli(capsys, "run", BASE, "--set", "relations.russia-iran=-0.9", "--out", str(tmp_path))
    assert code == 2 and "is the world variable 'cohesion'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "baseline").exists()


@pytest.mark.parametrize(
    "text, value, why",
    [("010", 8, "octal"), ("1:30", 90, "base-60"), ("1_0", 10, "'_' separators"), ("0b11", 3, "binary")],
)
def test_yaml_1_1_numbers_are_refused_with_what_yaml_1_1_would_read(tmp_path, text, value, why):
    issue = one_issue(scenario(tmp_path, f"horizon: {text}\n"))
    assert (issue.line, issue.column, issue.key) == (3, 10, "horizon")
    assert why in issue.message and f"YAML 1.1 reads it as {value}" in issue.message


def test_quoted_or_plain_decimal_numbers_are_read_as_written(tmp_path):
    p = scenario(tmp_path, "horizon: 10\ntitle: '010'\nworld: {temperature: 0.10}\n")
    sc = load_scenario(p)
    assert sc.horizon == 10 and sc.title == "010"


@pytest.mark.parametrize("digits", ["０.１", "٠٫١", "۰.۱", "0_1", " 0.1 x"])
def test_set_takes_ascii_numbers_only(tmp_path, capsys, digits):
    code, _, err = run_cli(capsys, "run", BASE, "--set", f"world.temperature={digits}", "--out", str(tmp_path))
    assert code == 2 and "expected a number for world.temperature" in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("expr", ["1/(escalation-escalation)", "brent / (0 * escalation)", "1 / abs(brent - brent)"])
def test_an_outcome_that_divides_by_an_expression_always_zero_is_refused(tmp_path, expr):
    issue = one_issue(scenario(tmp_path, f'outcomes:\n  - {{name: z, expr: "{expr}", reduce: max}}\n'))
    assert issue.key == "outcomes[0].expr" and "division by an expression that is always zero" in issue.message


def test_a_divisor_that_can_be_zero_is_allowed(tmp_path):
    assert (
        validate(scenario(tmp_path, 'outcomes:\n  - {name: z, expr: "brent / (escalation - 3)", reduce: max}\n')) == []
    )


def test_a_sweep_of_values_that_are_not_distinct_is_refused(tmp_path, capsys):
    code, _, err = run_cli(
        capsys, "sweep", BASE, "--vary", "world.temperature=0.1:0.1000000000001:5", "--out", str(tmp_path)
    )
    assert code == 2 and "are not distinct to 12 decimals" in err and not list(tmp_path.iterdir())


# ------------------------------------------------------------------ size
def test_twenty_thousand_aliased_events_are_refused_at_once(tmp_path):
    """Was: 20,000 aliased events in 100 KB took 57 s and 4.5 GB at 100 replicates."""
    p = tmp_path / "s.yaml"
    events = "".join("  - *e\n" for _ in range(20_000))
    p.write_text(
        "name: s\nlevers:\n  l:\n    options:\n      a:\n        events:\n"
        "          - &e {at: 3, actor: usa, action: urge_restraint, target: israel}\n"
        f"events:\n{events}"
    )
    t0 = time.perf_counter()
    issue = one_issue(p)
    assert time.perf_counter() - t0 < 5.0
    assert issue.key == f"events[{MAX_EVENTS}]" and f"at most {MAX_EVENTS} events" in issue.message
    assert "this one has 20,001" in issue.message


def test_conditional_events_and_outcomes_have_caps(tmp_path):
    when = "".join(
        f'  - {{when: "week > {i}", actor: usa, action: urge_restraint, target: israel}}\n'
        for i in range(MAX_CONDITIONAL_EVENTS + 1)
    )
    issue = one_issue(scenario(tmp_path, f"events:\n{when}"))
    assert issue.key == f"events[{MAX_CONDITIONAL_EVENTS}]" and "conditional ('when') events" in issue.message
    outs = "".join(f"  - {{name: o{i}, expr: escalation, reduce: max}}\n" for i in range(1000))
    issue = one_issue(scenario(tmp_path, f"outcomes:\n{outs}", "o.yaml"))
    assert issue.key == f"outcomes[{MAX_OUTCOMES}]" and "1,000" in issue.message


# ------------------------------------------------------------------ locations through extends
def test_a_childs_first_event_is_events_0_of_the_child(tmp_path):
    ev = "  - {at: 2, actor: usa, action: urge_restraint, target: israel}\n"
    (tmp_path / "p.yaml").write_text(f"name: p\nextends: baseline\nevents:\n{ev}{ev}")
    child = tmp_path / "c.yaml"
    child.write_text("name: c\nextends: p\nevents:\n" + ev.replace("usa", "usaa") + ev.replace("2", "0"))
    issues = validate(child)
    assert [(i.file, i.line, i.key) for i in issues] == [
        (str(child), 4, "events[0].actor"),
        (str(child), 5, "events[1].at"),
    ]


def test_an_extends_symlink_loop_is_a_located_error(tmp_path, capsys):
    (tmp_path / "l1.yaml").symlink_to(tmp_path / "l2.yaml")
    (tmp_path / "l2.yaml").symlink_to(tmp_path / "l1.yaml")
    p = tmp_path / "a.yaml"
    p.write_text("name: a\nextends: l1.yaml\n")
    issue = one_issue(p)
    assert (issue.file, issue.line, issue.column, issue.key) == (str(p), 2, 1, "extends")
    code, _, err = run_cli(capsys, "run", str(p), "--out", str(tmp_path))
    assert code == 2 and "internal error" not in err


# ------------------------------------------------------------------ run folders
def test_a_truncated_chunk_is_redone_when_resuming(tmp_path, monkeypatch, capsys):
    """Was: a truncated chunk in a .partial folder made --resume fail with ArrowInvalid, every time."""
    import pyarrow.parquet as pq

    real = files.write_table

    def full_disk(path, columns):
        if files.chunk_range(path.name)[0] >= 200:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, columns)

    args = ["--replicates", "300", "--steps", "3", "--chunk-size", "100", "--quiet", "--workers", "1"]
    monkeypatch.setattr(files, "write_table", full_disk)
    code, _, err = run_cli(capsys, "run", BASE, *args, "--out", str(tmp_path))
    assert code == 1, err
    (partial,) = tmp_path.glob("*/.*.partial")
    monkeypatch.setattr(files, "write_table", real)
    broken = partial / "outcomes" / files.chunk_name(100, 200)
    before = pq.read_table(broken)
    broken.write_bytes(broken.read_bytes()[:100])  # cut short, as a copy or a full disk leaves it
    code, out, err = run_cli(capsys, "run", "--resume", str(partial), "--quiet")
    assert code == 0, err
    assert "warning: replicates 100-199: outcomes/part-000000100-000000200.parquet is unreadable" in err
    run = Path(out.splitlines()[0])
    again = pq.read_table(run / "outcomes" / files.chunk_name(100, 200))
    assert again.to_pandas().equals(before.to_pandas())  # the same numbers again (NaN where no event)
    assert len(data.read_outcomes(run)["replicate"]) == 300


def test_writes_are_synced_before_and_after_the_rename(tmp_path, monkeypatch):
    synced: list[str] = []
    real = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    files.write_text(tmp_path / "a.txt", "x")
    files.write_table(tmp_path / "t" / "part.parquet", {"a": __import__("numpy").arange(3)})
    assert synced[0].endswith(".tmp") and synced[1] == str(tmp_path)  # the data, then the folder's entry
    assert synced[2].endswith(".part.parquet.tmp") and synced[3] == str(tmp_path / "t")


def _read_only(monkeypatch, folder: Path) -> None:
    """Writes under ``folder`` fail as in a read-only folder (the suite runs as root, which chmod cannot stop)."""
    real_open, real_mkdir = builtins.open, Path.mkdir

    def guarded_open(file, mode="r", *a, **kw):
        if any(c in mode for c in "wax+") and str(file).startswith(str(folder)):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, mode, *a, **kw)

    def guarded_mkdir(self, *a, **kw):
        if str(self).startswith(str(folder)):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real_mkdir(self, *a, **kw)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(Path, "mkdir", guarded_mkdir)


def test_resuming_a_read_only_partial_folder_is_one_line(tmp_path, monkeypatch, capsys):
    sc = execution.apply_overrides(load_scenario(BASE), replicates=200, steps=3)
    partial, _meta, handle = execution.start(sc, tmp_path / "runs" / "baseline", execution.RunOptions(), ["test"])
    handle.close()
    _read_only(monkeypatch, partial)
    code, _, err = run_cli(capsys, "run", "--resume", str(partial), "--quiet")
    assert code == 2 and "cannot write to the run folder (permission denied)" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_compare_out_a_read_only_folder_is_one_line_before_anything_runs(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ro"
    _read_only(monkeypatch, out)
    code, _, err = run_cli(capsys, "compare", BASE, BASE, "--out", str(out), "--replicates", "10", "--quiet")
    assert code == 2 and "scenario names must differ" in err  # checked first, as before
    war = str(scenarios_dir() / "all_out_war.yaml")
    code, _, err = run_cli(capsys, "compare", BASE, war, "--out", str(out), "--replicates", "10", "--quiet")
    assert code == 2 and err.startswith(f"--out {out}: cannot write there") and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ the Python API
@pytest.mark.parametrize(
    "scenarios, words",
    [([], "nothing to compare"), (BASE, "expected a list"), ([7], "expected a scenario file, a Scenario")],
)
def test_compare_refuses_what_it_cannot_compare(tmp_path, scenarios, words):
    with pytest.raises(InputError) as e:
        compare(scenarios, out=tmp_path)
    assert words in str(e.value)


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["world.tremble=0"], "expected a mapping of names to values"),
        ({"world.tremble": [0]}, "expected an option, a number or true/false"),
        ({1: 0.1}, "expected a name (text)"),
    ],
)
def test_overrides_of_the_wrong_shape_are_a_sentence(overrides, words):
    from model.execution import simulate

    for call in (lambda: simulate(BASE, 2, overrides=overrides), lambda: compare([BASE], overrides=overrides)):
        with pytest.raises(InputError) as e:
            call()
        assert words in str(e.value)


def test_compare_from_python_and_the_command_line_say_the_same(tmp_path, capsys):
    with pytest.raises(InputError) as e:
        compare([BASE, BASE], out=tmp_path)
    code, _, err = run_cli(capsys, "compare", BASE, BASE, "--out", str(tmp_path))
    assert code == 2 and str(e.value).split(": ", 1)[1] in err


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: load_scenario(None), "expected a scenario file's path"),
        (lambda: __import__("model.execution").execution.simulate(123, 2), "takes a Scenario, a path or a Config"),
        (lambda: __import__("model.execution").execution.simulate(BASE, [2**63]), "replicate indices in 0..2^62"),
        (lambda: compare([BASE], out=123), "out: expected a folder"),
        (lambda: compare([BASE], replicates="5"), "replicates: expected a whole number"),
    ],
)
def test_the_python_api_answers_in_sentences(call, words):
    with pytest.raises(InputError) as e:
        call()
    assert words in str(e.value)


@pytest.mark.parametrize("reps", [0, -1, True, [], [-1], [1.5], [2**63], 2**40, 10**7])
def test_the_engines_simulate_refuses_replicates_it_cannot_mean(reps):
    """Issue 21 (Python API): model.engine.simulate, public like model.execution.simulate, ran 0 or -1
    replicates and [1.5] as [1], raised OverflowError for [2**63] and tried to allocate 8 TiB for 2**40;
    it now gives the execution layer's sentence (one check, model.engine.check_replicates). A repeated index
    ([1, 1]) the engine accepts (its sensitivity and calibration designs run one replicate under several
    parameter rows); model.execution.simulate, the user's door, refuses it."""
    from model.engine import simulate as engine_simulate
    from model.scenario import load_scenario, scenarios_dir

    c = load_scenario(scenarios_dir() / "baseline.yaml").with_run_options(steps=2).config
    with pytest.raises(InputError) as err:
        engine_simulate(c, reps)
    assert str(err.value).startswith("replicates: ")
