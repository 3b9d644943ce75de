"""Run integrity: interrupts with any worker count, workers that die with their parent, sealed
run folders (digests), one validation for run settings, the resume lock, the recording machine.

Each test reproduces a failure measured in issue 12 (and issue 10 section 11).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import model.engine
from model import cli, execution, files
from model.analysis import data
from model.scenario import load_scenario, scenarios_dir

BASE = str(scenarios_dir() / "baseline.yaml")
WAR = str(scenarios_dir() / "all_out_war.yaml")
ROOT = Path(__file__).resolve().parents[1]
ENV = {**{k: v for k, v in os.environ.items() if k != "ENTENTE_DEBUG"}, "PYTHONPATH": str(ROOT)}


def entente(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "model", *args], capture_output=True, text=True, env=ENV, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError(f"entente {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def main(capsys, *args: str) -> tuple[int, str, str]:
    """The command line in this process (so monkeypatches reach forked workers)."""
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def the_partial(out: Path) -> Path:
    found = list(out.glob("*/.*.partial"))
    assert len(found) == 1, found
    return found[0]


def complete_chunks(message: str) -> int:
    m = re.search(r"(\d+) of (\d+) chunks", message)
    assert m, message
    return int(m.group(1))


def wait_for_parts(out: Path, n: int, proc: subprocess.Popen, limit: float = 120) -> Path:
    deadline = time.time() + limit
    while time.time() < deadline:
        found = list(out.glob("baseline/.*.partial/outcomes/part-*.parquet"))
        if len(found) >= n:
            return found[0].parent.parent
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before it could be interrupted: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError("the run did not produce chunks in time")


SLOW = ["run", BASE, "--replicates", "3000", "--steps", "4", "--chunk-size", "75", "--quiet"]  # 40 chunks


def _replicates(args: list[str], n: int) -> list[str]:
    """The command line ``args`` with another --replicates."""
    out = list(args)
    out[out.index("--replicates") + 1] = str(n)
    return out


# ------------------------------------------------------------------ A. interrupts, with any worker count
@pytest.mark.slow
def test_sigterm_with_two_workers_stops_cleanly_and_resumes_identically(tmp_path):
    out = tmp_path / "x"
    proc = subprocess.Popen(
        [sys.executable, "-m", "model", *SLOW, "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    partial = wait_for_parts(out, 2, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "internal error" not in err and "Traceback" not in err
    assert err.startswith("entente: interrupted (SIGTERM): ")
    assert complete_chunks(err) == len(files.finished_chunks(partial)) >= 2
    assert f"resume with: entente run --resume {partial}" in err
    resumed = Path(entente("run", "--resume", str(partial), "--quiet", "--workers", "2").stdout.splitlines()[0])
    table = data.read_outcomes(resumed)
    assert np.array_equal(table["replicate"], np.arange(3000))
    sc = execution.apply_overrides(load_scenario(BASE), replicates=3000, steps=4)
    reps = [0, 74, 75, 1499, 2999]  # chunk edges, before and after the interruption
    alone = model.engine.simulate(sc.config, reps).outcomes
    for k, v in alone.items():
        assert np.array_equal(table[k][reps], v, equal_nan=True), k


def test_ctrl_c_to_the_process_group_with_two_workers(tmp_path):
    out = tmp_path / "x"
    proc = subprocess.Popen(
        # twenty times SLOW's replicates: on a busy machine (CI, parallel test workers) 3,000 could finish
        # between the first chunk's file appearing and the signal; nothing waits for the rest
        [sys.executable, "-m", "model", *_replicates(SLOW, 60000), "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=True,  # like a terminal: Ctrl-C reaches every process of the group
    )
    partial = wait_for_parts(out, 1, proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.startswith("entente: interrupted (Ctrl-C): ") and "Traceback" not in err
    assert complete_chunks(err) == len(files.finished_chunks(partial))
    assert "resume with: entente run --resume" in err
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("worker processes outlived the interrupted run")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_main_process_takes_its_workers_down(tmp_path):
    out = tmp_path / "x"
    proc = subprocess.Popen(
        [sys.executable, "-m", "model", *SLOW, "--workers", "2", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    partial = wait_for_parts(out, 1, proc)
    children = [int(c) for c in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    assert len(children) == 2
    proc.kill()
    proc.wait(10)
    deadline = time.time() + 5
    while time.time() < deadline and any(Path(f"/proc/{c}").exists() for c in children):
        time.sleep(0.05)
    assert not [c for c in children if Path(f"/proc/{c}").exists()], "workers survived kill -9 of their parent"
    before = sorted(p.name for p in partial.rglob("*"))
    time.sleep(1.5)
    assert sorted(p.name for p in partial.rglob("*")) == before


def _failing_simulate(bad: int):
    real = model.engine.simulate

    def simulate(config, replicates=1, **options):
        reps = np.atleast_1d(np.asarray(replicates))
        if reps.ndim == 1 and bad in reps.tolist():
            raise FloatingPointError("overflow in exp")
        return real(config, replicates, **options)

    return simulate


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_model_failure_names_the_replicate_with_any_worker_count(tmp_path, monkeypatch, capsys, workers):
    monkeypatch.setattr(model.engine, "simulate", _failing_simulate(450))
    args = ["--replicates", "1000", "--steps", "3", "--chunk-size", "100", "--quiet"]
    code, _, err = main(capsys, "run", BASE, *args, "--workers", workers, "--out", str(tmp_path))
    assert code == 1, err
    partial = the_partial(tmp_path)
    assert "replicates 400-499 failed inside the model: FloatingPointError: overflow in exp" in err
    assert "first failing replicate: 450 (seed " in err
    assert complete_chunks(err) == len(files.finished_chunks(partial))
    if workers == "1":
        assert complete_chunks(err) == 4  # chunks 0-399, then the failure
    done = {files.chunk_name(a, b) for a, b in files.finished_chunks(partial)}
    on_disk = {f.name for t in files.TABLES for f in (partial / t).glob("part-*")}
    assert on_disk == done  # no file of an unfinished chunk is left behind
    assert f"resume with: entente run --resume {partial}" in err and "internal error" not in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_full_disk_reports_the_cause_and_the_resume_command(tmp_path, monkeypatch, capsys, workers):
    real = files.write_table

    def write_table(path, columns):
        if path.parent.name == "decisions" and files.chunk_range(path.name)[0] >= 500:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, columns)

    monkeypatch.setattr(files, "write_table", write_table)
    args = ["--replicates", "1000", "--steps", "3", "--chunk-size", "100", "--quiet"]
    code, _, err = main(capsys, "run", BASE, *args, "--workers", workers, "--out", str(tmp_path))
    assert code == 1, err
    partial = the_partial(tmp_path)
    assert "writing the run failed: [Errno 28] No space left on device" in err
    done = complete_chunks(err)
    assert done == len(files.finished_chunks(partial)) and done <= 5
    assert {f.name for f in (partial / "timeseries").glob("*")} == {
        files.chunk_name(a, b) for a, b in files.finished_chunks(partial)
    }  # the timeseries parts written before the disk filled up are gone with their chunks
    assert f"resume with: entente run --resume {partial}" in err
    monkeypatch.setattr(files, "write_table", real)
    code, out, err = main(capsys, "run", "--resume", str(partial), "--quiet", "--workers", workers)
    assert code == 0, err
    assert len(data.read_outcomes(Path(out.splitlines()[0]))["replicate"]) == 1000


# ------------------------------------------------------------------ B. sealed run folders
@pytest.fixture(scope="module")
def sealed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sealed")
    p = entente("run", BASE, "--replicates", "400", "--steps", "6", "--chunk-size", "100", "--out", str(out), "--quiet")
    return Path(p.stdout.splitlines()[0])


def copy_of(run: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "runs" / "baseline" / run.name
    shutil.copytree(run, dest)
    return dest


def test_a_complete_folder_records_the_digest_of_every_file(sealed):
    meta = json.loads((sealed / "manifest.json").read_text())
    listed = meta["integrity"]["files"]
    assert set(listed) == set(files.data_files(sealed))
    assert {"outcomes.csv", "summary.md", "decisions.jsonl", "outcomes/part-000000000-000000100.parquet"} <= set(listed)
    assert listed["outcomes.csv"] == files.sha256_file(sealed / "outcomes.csv")
    assert meta["format"] == 2 and meta["integrity"]["manifest"] == files.manifest_digest(meta)
    assert files.verify_run(sealed)["replicates"] == 400
    assert not (sealed / ".lock").exists()


def reading_commands(run: Path) -> list[list[str]]:
    return [
        ["compare", str(run), "--quiet"],
        ["explain", str(run), "--replicate", "3"],
        ["narrate", str(run), "--replicate", "3"],
        ["discover", str(run), "--outcome", "peak_brent > 90"],
        ["rerun", str(run), "--quiet"],
    ]


def refused(capsys, run: Path, needle: str) -> None:
    for args in reading_commands(run):
        code, out, err = main(capsys, *args)
        assert code == 2, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (args, err)
        assert "internal error" not in err


def test_every_reader_refuses_an_edited_data_file(sealed, tmp_path, capsys):
    run = copy_of(sealed, tmp_path)
    part = run / "outcomes" / "part-000000100-000000200.parquet"
    t = files.read_outcomes(run)
    t = {k: v[100:200] for k, v in t.items()}
    t["peak_escalation"] = np.full(100, 10.0)
    files.write_table(part, t)
    refused(capsys, run, f"{part}: changed after the run completed")


def test_every_reader_refuses_a_missing_or_extra_file(sealed, tmp_path, capsys):
    run = copy_of(sealed, tmp_path)
    part = run / "timeseries" / "part-000000300-000000400.parquet"
    part.unlink()
    refused(capsys, run, f"{part}: missing from the run folder")
    run2 = copy_of(sealed, tmp_path / "b")
    extra = run2 / "outcomes" / "part-000000400-000000500.parquet"
    shutil.copy(run2 / "outcomes" / "part-000000300-000000400.parquet", extra)
    refused(capsys, run2, f"{extra}: not part of the run")


def test_every_reader_refuses_a_partial_folder(sealed, tmp_path, capsys):
    run = copy_of(sealed, tmp_path)
    partial = run.with_name(f".{run.name}.partial")
    run.rename(partial)
    refused(capsys, partial, "an unfinished run (.partial); finish it first with: entente run --resume")


def test_an_edited_or_truncated_manifest_is_a_one_line_error(sealed, tmp_path, capsys):
    run = copy_of(sealed, tmp_path)
    meta = json.loads((run / "manifest.json").read_text())
    meta["replicates"] = 5000
    (run / "manifest.json").write_text(json.dumps(meta))
    refused(capsys, run, "the manifest was changed after the run completed")
    run2 = copy_of(sealed, tmp_path / "b")
    text = (run2 / "manifest.json").read_text()
    (run2 / "manifest.json").write_text(text[: len(text) // 2])
    refused(capsys, run2, "the manifest is truncated or corrupt")


def test_discover_refuses_a_manifest_whose_scenario_was_edited_and_resealed(sealed, tmp_path, capsys):
    """Issue 21: explain, narrate and rerun refused such a manifest; discover read its outcomes anyway."""
    run = copy_of(sealed, tmp_path)
    meta = json.loads((run / "manifest.json").read_text())
    meta["scenario"]["resolved"].setdefault("constants", {})["world.tremble"] = 0.5  # valid, and not what ran
    meta["scenario"]["digest"] = execution.scenario_digest(meta)
    meta["integrity"]["manifest"] = files.manifest_digest(meta)
    (run / "manifest.json").write_text(json.dumps(meta))
    files.verify_run(run)  # the seal holds: every digest was recomputed
    code, _, err = main(capsys, "discover", str(run), "--outcome", "peak_brent > 90")
    assert code == 2 and "does not reproduce the run's stored data" in err and len(err.strip().splitlines()) == 1


def test_explain_refuses_a_replicate_outside_the_run(sealed, capsys):
    for rep in ("400", "4000", "-1"):
        code, _, err = main(capsys, "explain", str(sealed), "--replicate", rep)
        assert code == 2 and "--replicate must lie in 0..399" in err, err
    code, out, _ = main(capsys, "explain", str(sealed), "--replicate", "399")
    assert code == 0 and "trajectory matches the run" in out


def _legacy(run: Path) -> dict:
    """Make a run folder look like one written before digests (format 1)."""
    meta = json.loads((run / "manifest.json").read_text())
    del meta["integrity"]
    meta["format"] = 1
    (run / "manifest.json").write_text(json.dumps(meta))
    return meta


def test_rerun_checks_the_scenario_digest_and_writes_beside_the_run(sealed, tmp_path, capsys):
    elsewhere = tmp_path / "kept" / "mine"
    elsewhere.parent.mkdir()
    shutil.copytree(sealed, elsewhere)
    meta = _legacy(elsewhere)
    code, _, err = main(capsys, "explain", str(elsewhere), "--replicate", "1")
    assert code == 2 and "records no file digests" in err and f"entente rerun {elsewhere}" in err
    code, out, err = main(capsys, "rerun", str(elsewhere), "--quiet")
    assert code == 0, err
    new = Path(out.splitlines()[0])
    assert new.parent == elsewhere.parent.resolve()  # beside the run, not in its grandparent
    assert (new / "outcomes.csv").read_bytes() == (sealed / "outcomes.csv").read_bytes()
    meta["scenario"]["resolved"]["initial"] = {"brent": 140}
    (elsewhere / "manifest.json").write_text(json.dumps(meta))
    code, _, err = main(capsys, "rerun", str(elsewhere), "--quiet")
    assert code == 2 and "the scenario in the manifest was edited" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ C. one validation for run settings
@pytest.mark.parametrize(
    "args, needle",
    [
        (["--steps", "600"], "--steps: must be between 1 and 520"),
        (["--steps", "0"], "--steps"),
        (["--seed", str(2**64)], "--seed: must lie in [0, 2^64)"),
        (["--seed", "-1"], "--seed"),
        (["--chunk-size", "-5"], "--chunk-size: must be between 1"),
        (["--chunk-size", "0"], "--chunk-size"),
        (["--workers", "1000"], "--workers: must be between 1 and 256"),
        (["--workers", "0"], "--workers"),
        (["--precision", "0.05", "--max-replicates", "-10"], "--max-replicates: must be between 1"),
        (["--trace=-1,99999999999"], "--trace: must be between 0 and 99"),
        (["--replicates", "0"], "--replicates"),
        (["--trace", "x"], "--trace expects replicate numbers"),
    ],
)
def test_bad_run_settings_exit_2_before_any_folder_exists(tmp_path, capsys, args, needle):
    out = tmp_path / "runs"
    code, _, err = main(capsys, "run", BASE, "--replicates", "100", *args, "--out", str(out), "--quiet")
    assert code == 2, err
    assert needle in err and "internal error" not in err, err
    assert not out.exists() or not any(out.rglob("*"))


def test_the_seed_is_validated_as_in_a_scenario_file(tmp_path, capsys):
    args = ["--replicates", "20", "--steps", "2", "--out", str(tmp_path), "--quiet"]
    code, _, err = main(capsys, "run", BASE, "--seed", str(2**64 - 1), *args)
    sc = load_scenario(BASE)
    try:
        execution.apply_overrides(sc, seed=2**64 - 1)
        accepted = True
    except Exception:  # noqa: BLE001
        accepted = False
    assert (code == 0) == accepted and (code in (0, 2)), err


def test_a_short_horizon_run_can_be_rerun(tmp_path, capsys):
    code, out, err = main(capsys, "run", WAR, "--steps", "1", "--replicates", "50", "--out", str(tmp_path), "--quiet")
    assert code == 0, err
    run = Path(out.splitlines()[0])
    assert all(e.get("at", 1) <= 1 for e in files.read_manifest(run)["scenario"]["resolved"]["events"])
    code, out, err = main(capsys, "rerun", str(run), "--quiet")
    assert code == 0, err
    assert (Path(out.splitlines()[0]) / "outcomes.csv").read_bytes() == (run / "outcomes.csv").read_bytes()


def make_partial(tmp_path: Path, replicates: int = 200):
    sc = execution.apply_overrides(load_scenario(BASE), replicates=replicates, steps=4)
    opts = execution.RunOptions(workers=1, chunk_size=100, quiet=True)
    return execution.start(sc, tmp_path / "runs" / "baseline", opts, ["test"])


def test_a_second_resume_of_the_same_folder_exits_2_and_resume_warns_of_another_machine(tmp_path):
    partial, meta, handle = make_partial(tmp_path)
    try:
        p = entente("run", "--resume", str(partial), "--quiet", check=False)
        assert p.returncode == 2 and "another entente process is working on this run folder" in p.stderr
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
    finally:
        handle.close()
    here = meta["machine"]
    assert here["numpy"] == np.__version__ and here["python"] and here["machine"] and here["platform"]
    assert isinstance(here["simd_dispatch"], list) and isinstance(here["cpu_features"], list)
    meta["machine"] = {**here, "numpy": "1.0.0", "simd_dispatch": [*here["simd_dispatch"], "AVX512_FAKE"]}
    files.write_json(partial / "manifest.json", meta)
    p = entente("run", "--resume", str(partial), "--quiet")
    warnings = [line for line in p.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, p.stderr
    assert "numpy 1.0.0 there" in warnings[0] and "missing here: AVX512_FAKE" in warnings[0]
    done = Path(p.stdout.splitlines()[0])
    assert files.verify_run(done)["replicates"] == 200
    assert json.loads((done / "manifest.json").read_text())["resumed"][0]["machine"]["numpy"] == np.__version__


def test_resume_takes_no_scenario_options(tmp_path, capsys):
    partial, _, handle = make_partial(tmp_path)
    handle.close()
    code, _, err = main(capsys, "run", "--resume", str(partial), "--replicates", "5000")
    assert code == 2 and "--resume finishes a run as it was started; it takes no --replicates" in err


def test_a_tampered_partial_manifest_is_refused_on_resume(tmp_path, capsys):
    partial, meta, handle = make_partial(tmp_path)
    handle.close()
    meta["chunk_size"] = -5
    files.write_json(partial / "manifest.json", meta)
    code, _, err = main(capsys, "run", "--resume", str(partial), "--quiet")
    assert code == 2 and "chunk_size: must be between 1" in err, err


# ------------------------------------------------------------------ E. the recording machine
def test_machine_differences_name_avx512_flags():
    here = execution.machine()
    assert execution.machine_differences(here, here) == []
    there = {**here, "cpu_features": sorted({*here["cpu_features"], "AVX512F", "AVX512_SKX"})}
    mine = {**here, "cpu_features": [f for f in here["cpu_features"] if not f.startswith("AVX512")]}
    diffs = execution.machine_differences(there, mine)
    assert any("AVX-512 features differ" in d and "AVX512F" in d for d in diffs)
    assert execution.machine_differences(None, here) == ["the manifest does not record the machine"]


def test_every_shipped_scenario_rebuilds_from_its_manifest_with_the_same_digest():
    from model.scenario import shipped

    for path in shipped():
        sc = load_scenario(path)
        meta = json.loads(json.dumps(execution.build_manifest(sc, execution.RunOptions(), 100, 1, ["x"]), default=str))
        assert execution.scenario_from_manifest(meta).digest == sc.digest == execution.scenario_digest(meta), path


def test_resume_refuses_a_partial_whose_scenario_was_edited(tmp_path, capsys):
    partial, meta, handle = make_partial(tmp_path)
    handle.close()
    meta["scenario"]["resolved"]["horizon"] = 3
    meta["steps"] = 3
    files.write_json(partial / "manifest.json", meta)
    code, _, err = main(capsys, "run", "--resume", str(partial), "--quiet")
    assert code == 2 and "the scenario in the manifest was edited" in err, err
