"""The command line end to end, through subprocesses, in tmp_path."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from model.analysis import data
from model.scenario import scenarios_dir

BASE = str(scenarios_dir() / "baseline.yaml")
ROOT = Path(__file__).resolve().parents[1]


def entente(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("ENTENTE_DEBUG", None)
    p = subprocess.run(
        [sys.executable, "-m", "model", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )
    if check and p.returncode != 0:
        raise AssertionError(f"entente {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def run_folder(p: subprocess.CompletedProcess) -> Path:
    return Path(p.stdout.splitlines()[0])


# One baseline run serves the tests that only read it or copy it (a complete run costs about 5 s of
# CPU, most of it drawing plots): built once per session, by whichever xdist worker asks first.
RUN_ARGS = ["run", BASE, "--replicates", "200", "--steps", "8", "--quiet", "--trace", "5"]


@pytest.fixture(scope="session")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's, shared by workers
    with open(root / "baseline_run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for the first one's run
        done = root / "baseline_run.path"
        if not done.exists():
            done.write_text(str(run_folder(entente(*RUN_ARGS, "--out", str(root / "baseline_run")))))
        return Path(done.read_text())


def copy_of(run: Path, tmp_path: Path) -> Path:
    """The shared run, copied where a test may write beside it."""
    dest = tmp_path / run.parent.name / run.name
    shutil.copytree(run, dest)
    return dest


def test_run_writes_a_complete_folder(baseline_run):
    folder = baseline_run
    out = folder.parent.parent
    assert (out.name, folder.parent.name) == ("baseline_run", "baseline")  # --out, then the scenario's name
    assert not folder.name.startswith(".")
    meta = json.loads((folder / "manifest.json").read_text())
    assert meta["status"] == "complete" and meta["replicates"] == 200 and meta["steps"] == 8
    assert meta["scenario"]["resolved"]["horizon"] == 8
    assert meta["traced"]["named"] == [5]
    for f in ("outcomes.csv", "constraints.csv", "decisions.jsonl", "summary.md", "narrative.md"):
        assert (folder / f).stat().st_size > 0, f
    plots = {q.name for q in (folder / "plots").glob("*.png")}
    assert {
        "support_tiers.png",
        "ladder.png",
        "timeseries_escalation.png",
        "probabilities.png",
        "constraint_audit.png",
    } <= plots
    table = data.read_outcomes(folder)
    assert len(table["replicate"]) == 200 and (table["replicate"] == np.arange(200)).all()
    assert "Iran fired about 180 missiles" in (folder / "summary.md").read_text()
    recs = [json.loads(line) for line in (folder / "decisions.jsonl").read_text().splitlines()]
    assert {r["replicate"] for r in recs} >= {5, meta["traced"]["median"]}
    assert not list(out.rglob("*.partial"))


def test_second_run_gets_its_own_folder(baseline_run, tmp_path):
    first = copy_of(baseline_run, tmp_path)
    again = run_folder(entente(*RUN_ARGS, "--out", str(tmp_path)))  # the same command line again
    assert again.parent == first.parent and again != first and again.exists() and first.exists()


def test_worker_count_and_chunk_size_leave_results_unchanged(baseline_run, tmp_path):
    # the shared run is one chunk in one process; this one five uneven chunks (4 x 45 + 20) on two workers
    a = baseline_run
    b = run_folder(entente(*RUN_ARGS, "--workers", "2", "--chunk-size", "45", "--out", str(tmp_path)))
    meta_a, meta_b = (json.loads((f / "manifest.json").read_text()) for f in (a, b))
    assert meta_a["chunk_size"] >= 200 and (meta_b["chunk_size"], meta_b["workers"]) == (45, 2)
    ta, tb = data.read_outcomes(a), data.read_outcomes(b)
    for k in ta:
        assert np.array_equal(ta[k], tb[k], equal_nan=True), k
    sa = data.read_series(a, ["escalation", "brent", "russia.support_tier"])
    sb = data.read_series(b, ["escalation", "brent", "russia.support_tier"])
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k


def test_validate_reports_every_problem_with_location_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nreplicats: 10\nactors:\n  Isreal: {response: 1}\n")
    p = entente("validate", str(bad), check=False)
    assert p.returncode == 2 and p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad}:2:1: replicats: unknown key 'replicats'; did you mean 'replicates'?")
    assert "unknown actor 'Isreal'; did you mean 'israel'?" in lines[1] and ":4:3:" in lines[1]
    assert "Traceback" not in p.stderr
    ok = entente("validate", BASE)
    assert ok.returncode == 0


def test_run_refuses_bad_input_before_it_starts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nhorizon: -3\n")
    p = entente("run", str(bad), "--out", str(tmp_path / "runs"), check=False)
    assert p.returncode == 2 and "horizon" in p.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("manifest.json"))


def test_list_actors_claims_schema():
    out = entente("list").stdout
    assert "us_joins_strikes" in out and "claims:" in out
    russia = entente("actors", "russia").stdout
    assert "RU_SU35_GATE" in russia and "C16" in russia and "oil_revenue" in russia
    assert "C58" in entente("claims").stdout
    assert json.loads(entente("schema").stdout)["title"].startswith("entente scenario")
    assert entente("actors", "Rusia", check=False).returncode == 2


def test_help_for_every_command_has_examples():
    for cmd in (
        "run",
        "compare",
        "validate",
        "explain",
        "narrate",
        "sensitivity",
        "discover",
        "actors",
        "claims",
        "schema",
        "list",
        "rerun",
        "sweep",
    ):
        out = entente(cmd, "--help").stdout
        assert "usage:" in out and "examples:" in out, cmd


def _compare(tmp_path: Path, *scenarios: str) -> Path:
    p = entente("compare", *scenarios, "--replicates", "300", "--steps", "8", "--out", str(tmp_path), "--quiet")
    return Path(p.stdout.splitlines()[0])


def _verdicts(md: str, scenario: str) -> dict[str, str]:
    """Outcome id -> verdict word from section 2 of a comparison report."""
    table = md.split("## 2. Every outcome against the reference")[1].split("## 3.")[0]
    out = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 8 and cells[2] == scenario:
            out[cells[0].split("`")[1]] = cells[7].split(" (")[0].strip("*")
    return out


@pytest.mark.slow
def test_compare_with_itself_finds_no_difference(tmp_path):
    twin = tmp_path / "twin.yaml"
    twin.write_text(
        f"name: twin\nextends: {scenarios_dir() / 'baseline.yaml'}\n".replace(
            str(scenarios_dir() / "baseline.yaml"), "baseline"
        )
    )
    report = _compare(tmp_path, BASE, str(twin))
    md = (report / "report.md").read_text()
    verdicts = _verdicts(md, "twin")
    assert verdicts and set(verdicts.values()) == {"noise"}
    head = md.split("## How to read")[0]
    assert "**twin**: " in head and all(
        line.endswith(", noise") for line in head.splitlines() if line.startswith("1. ")
    )
    assert "**twin**: no outcome moved meaningfully." in md
    # a scenario that extends another without a title of its own is shown as based on it, with the parent's question
    assert (
        '- **twin**: based on "October 2024: the region waits for Israel\'s answer" (baseline). *Question:* (the question of baseline)'
        in md
    )
    assert "the configurations are identical" in md
    html = (report / "report.html").read_text()
    assert "data:image/png;base64," in html and "<table>" in html


@pytest.mark.slow
def test_compare_baseline_with_us_strikes_finds_higher_escalation(tmp_path):
    p = entente(
        "compare", BASE, str(scenarios_dir() / "us_joins_strikes.yaml"), "--replicates", "300", "--steps", "8",
        "--out", str(tmp_path), "--quiet", "--format", "svg",
    )  # fmt: skip
    report = Path(p.stdout.splitlines()[0])
    assert "Headline: against baseline" in p.stdout
    # what the scenario forces is on its own line, not ranked as a finding
    assert (
        "By construction, not findings" in p.stdout
        and "us_joins_strikes: US at war with Iran in every replicate" in p.stdout
    )
    md = (report / "report.md").read_text()
    assert md.index("## Headline") < md.index("## 1. What was changed") < md.index("## 2. Every outcome")
    head = md.split("## How to read")[0]
    # the headline ranks on the key outcomes, in words, and its figure comes before any long text
    assert head.index("**Peak escalation** (mean over the replicates; ladder points: 0 calm") < head.index(
        "![Headline](plots/headline.svg)"
    )
    war = head.split("**US at war with Iran**")[1].split("\n\n")[1]
    assert war.startswith("1. **us_joins_strikes**: 100.0% vs") and war.endswith(
        "meaningful (by construction: the scenario forces it)"
    )
    assert "**Bonferroni correction** over all" in md.split("## 1.")[0]
    assert _verdicts(md, "us_joins_strikes")["peak_escalation"] == "meaningful"
    assert "events[at 2: usa direct_intervention iran]" in md and "absent -> added" in md
    assert "United States: Go to war with own forces against Iran, in week 2" in md
    assert "common random numbers" in md and "## Appendix: unpaired intervals" in md
    runs = [line for line in md.split("## Runs used")[1].splitlines() if line.startswith("- **")]
    assert len(runs) == 2 and all(str(tmp_path) in line and "run for this comparison" in line for line in runs)
    assert f"entente explain {tmp_path}" in md
    plots = {q.name for q in (report / "plots").iterdir()}
    for name in ("headline", "probabilities", "time_to_event", "distributions", "timeseries_escalation"):
        assert {f"{name}.svg", f"{name}.csv"} <= plots, name
    assert "data:image/svg+xml;base64," in (report / "report.html").read_text()


def test_explain_reproduces_and_names_claims(baseline_run):
    folder = baseline_run
    worst = entente("explain", str(folder), "--pick", "worst", "--by", "max_support_tier", "--actor", "russia").stdout
    assert "trajectory matches the run" in worst
    bound = data.read_decisions(folder, ["russia.bound"])["russia.bound"]
    rep = int(np.flatnonzero(bound.any(axis=0))[0])
    out = entente("explain", str(folder), "--replicate", str(rep), "--actor", "russia").stdout
    assert "BOUND" in out and "Claims behind the constraints above" in out
    story = entente("narrate", str(folder), "--replicate", "3").stdout
    assert story.startswith("Replicate 3: Peak escalation") and "## Replicate 3" in story and "Week 1" in story


@pytest.mark.slow
def test_rerun_reproduces_outputs(baseline_run, tmp_path):
    a = baseline_run
    copy = copy_of(a, tmp_path)
    b = run_folder(entente("rerun", str(copy), "--quiet"))
    assert b.parent == copy.parent and b != copy  # beside the run, in a folder of its own
    for rel in ("outcomes.csv", "constraints.csv", "decisions.jsonl", "summary.md"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    for part in (a / "timeseries").glob("*.parquet"):
        assert part.read_bytes() == (b / "timeseries" / part.name).read_bytes()
    for png in (a / "plots").glob("*.png"):
        assert png.read_bytes() == (b / "plots" / png.name).read_bytes(), png.name


@pytest.mark.slow
def test_interrupted_run_resumes_to_the_same_result(tmp_path):
    # twelve chunks, as with 12,000 replicates in chunks of 1,000, at a sixth of the cost (the two
    # complete runs and their plots dominate); the wait below is for 2 chunks, the signal long before 12
    args = ["run", BASE, "--replicates", "1800", "--steps", "6", "--chunk-size", "150", "--workers", "1", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "model", *args, "--out", str(tmp_path / "x")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.time() + 120
    partial = None
    while time.time() < deadline:
        found = list((tmp_path / "x").glob("baseline/.*.partial/outcomes/part-*.parquet"))
        if len(found) >= 2:
            partial = found[0].parent.parent
            break
        time.sleep(0.05)
    assert partial is not None, "the run did not produce chunks in time"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err  # 128 + SIGTERM
    assert "resume with: entente run --resume" in err
    kept = len(list((partial / "outcomes").glob("part-*.parquet")))
    assert 2 <= kept < 12
    assert not any(p.name for p in (tmp_path / "x" / "baseline").iterdir() if not p.name.startswith("."))
    resumed = run_folder(entente("run", "--resume", str(partial), "--quiet"))
    whole = run_folder(entente(*args, "--out", str(tmp_path / "y")))
    ta, tb = data.read_outcomes(resumed), data.read_outcomes(whole)
    for k in ta:
        assert np.array_equal(ta[k], tb[k], equal_nan=True), k
    assert (resumed / "outcomes.csv").read_bytes() == (whole / "outcomes.csv").read_bytes()


def test_unwritable_output_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        target = "/proc/entente-cannot-write-here"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = str(ro)
    p = entente("run", BASE, "--replicates", "10", "--steps", "2", "--out", target, "--quiet", check=False)
    assert p.returncode == 1 and "cannot create a run folder" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize(
    "args", [["run", BASE, "--replicates", "0"], ["run", BASE, "--precision", "2"], ["run"], ["compare", BASE, BASE]]
)
def test_bad_command_lines_exit_2(args, tmp_path):
    p = (
        entente(*args, "--out", str(tmp_path), check=False)
        if args[0] in ("run", "compare") and len(args) > 1
        else entente(*args, check=False)
    )
    assert p.returncode == 2, p.stderr


@pytest.mark.slow
def test_precision_adds_replicates_until_intervals_are_narrow(tmp_path):
    p = entente(
        "run",
        BASE,
        "--replicates",
        "200",
        "--steps",
        "4",
        "--chunk-size",
        "200",
        "--precision",
        "0.02",
        "--max-replicates",
        "3200",
        "--out",
        str(tmp_path),
        "--quiet",
    )
    folder = run_folder(p)
    meta = json.loads((folder / "manifest.json").read_text())
    prec = meta["precision"]
    assert prec["met"] and prec["achieved"] < 0.02 and prec["replicates"] > 200
    assert meta["replicates"] == prec["replicates"] == len(data.read_outcomes(folder)["replicate"])
    assert f"{prec['replicates']} replicates were needed" in (folder / "summary.md").read_text()


@pytest.mark.slow
def test_discover_finds_the_box_that_drives_an_outcome(tmp_path):
    sc = tmp_path / "disc.yaml"
    sc.write_text(
        "name: disc\nextends: baseline\nhorizon: 4\nuncertainties:\n  initial.brent_fundamental: {dist: uniform, low: 60, high: 140}\n"
    )
    folder = run_folder(entente("run", str(sc), "--replicates", "600", "--out", str(tmp_path), "--quiet"))
    out = entente("discover", str(folder), "--outcome", "peak_brent > 115").stdout
    assert "coverage" in out and "density" in out
    assert "WARNING" not in out  # the box reaches the density threshold: a finding
    line = next(x for x in out.splitlines() if "(initial.brent_fundamental):" in x)
    assert line.strip().startswith("Brent fundamentals level")  # the label first, the path second
    low = float(line.split("[")[1].split(",")[0])
    assert low > 100, line
    # an outcome no sampled value drives (half the replicates by their number): a box dense where it was
    # found is noise, and its density on the other half says so
    weak = entente("discover", str(folder), "--outcome", "replicate < 300", "--threshold", "0.9").stdout
    assert "WARNING: no box reaches the density threshold of 90%" in weak and "Box (below the threshold)" in weak
    bad = entente("discover", str(folder), "--outcome", "peak_brent >", check=False)
    assert bad.returncode == 2
