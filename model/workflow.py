"""Workflows the commands run: simulate a scenario into a run folder, trace, analyse and seal it.

This is the layer above execution, explain and analysis (only the command line imports it):
execution simulates the chunks, explain re-simulates the traced replicates with their full
decision records, analysis writes the tables, plots and summary, and the folder is sealed
(every file's digest in the manifest) and renamed into place.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

import numpy as np

from model import execution, files
from model.analysis.report import analyse_run
from model.analysis.stats import wilson
from model.engine.outcomes import OUTCOMES
from model.execution import Plan, RunOptions, runner, store
from model.explain.records import decision_records
from model.scenario import Scenario


def run_scenario(sc: Scenario, out: Path, opts: RunOptions, command: list[str] | None = None) -> Path:
    """Simulate a scenario into a new folder ``<out>/<scenario>/``; return the completed folder."""
    return _new_run(sc, Path(out) / files.safe_component(sc.name), opts, command)


def _new_run(sc: Scenario, parent: Path, opts: RunOptions, command: list[str] | None) -> Path:
    execution.check_options(opts, sc.replicates)
    partial, meta, handle = execution.start(sc, parent, opts, command or ["entente", *sys.argv[1:]])
    return _complete(partial, sc, meta, opts, handle)


def resume(folder: Path, opts: RunOptions) -> Path:
    """Finish an interrupted run; the result equals a run that was never interrupted."""
    folder = Path(folder)
    meta, handle = execution.open_partial(folder)
    try:
        sc = execution.scenario_from_manifest(meta, str(folder / files.MANIFEST))
        execution.warn_if_other_machine(meta, "resuming")
        opts.trace = tuple(meta.get("trace_requested", ()))
        prec = meta.get("precision_requested")
        if prec:
            opts.precision, opts.max_replicates = prec["target"], prec["ceiling"]
        execution.check_options(opts, sc.replicates)
        meta.setdefault("resumed", []).append({"at": files.utc_now(), "machine": execution.machine()})
    except BaseException:
        handle.close()
        raise
    return _complete(folder, sc, meta, opts, handle)


def read_for_rerun(folder: Path) -> dict[str, Any]:
    """The manifest of a complete run to re-run: verified, or (older folders without digests) read as is."""
    folder = Path(folder)
    if files.is_partial(folder):
        return files.verify_run(folder)  # refuses it with the resume command
    meta = files.read_manifest(folder)
    if "integrity" in meta or meta.get("status") != "complete":
        return files.verify_run(folder)
    return meta


def rerun(folder: Path, out: Path | None, opts: RunOptions, command: list[str] | None = None) -> Path:
    """Run again exactly what a manifest records, into a new folder beside the old one (or under ``out``)."""
    folder = Path(folder)
    meta = read_for_rerun(folder)
    where = str(folder / files.MANIFEST)
    sc = execution.scenario_from_manifest(meta, where)
    execution.check_recorded_options(meta, where)
    if meta.get("catalog_hash") != execution.catalog_hash():
        sys.stderr.write("warning: the catalog has changed since this run; results may differ\n")
    execution.warn_if_other_machine(meta, "re-running")
    opts.chunk_size = opts.chunk_size or meta.get("chunk_size", 0)
    opts.trace = tuple(meta.get("trace_requested", ()))
    opts.plot_format = meta.get("plot_format", opts.plot_format)
    if meta.get("precision_requested"):
        opts.precision = meta["precision_requested"]["target"]
        opts.max_replicates = meta["precision_requested"]["ceiling"]
    parent = Path(out) / files.safe_component(sc.name) if out else folder.resolve().parent
    return _new_run(sc, parent, opts, command)


def _complete(partial: Path, sc: Scenario, meta: dict[str, Any], opts: RunOptions, handle: IO[bytes]) -> Path:
    try:
        workers = opts.workers or meta["workers"]
        plan = Plan(total=sc.replicates, chunk=meta["chunk_size"])
        meta.setdefault("plot_format", opts.plot_format)  # recorded first, so a resumed run keeps it
        files.write_json(partial / files.MANIFEST, meta)
        t0 = execution.now()
        with execution.stopping_cleanly(partial, plan):
            files.remove_temporaries(partial)
            progress = runner.Progress(plan.total, quiet=opts.quiet)
            progress.add(sum(b - a for a, b in files.finished_chunks(partial) if b <= plan.total))
            execution.simulate_chunks(sc, partial, plan, opts, workers, progress)
            if opts.precision is not None:
                _until_precise(sc, partial, meta, opts, plan, workers, progress)
            meta["replicates"] = plan.total
            meta["seconds_simulating"] = round(execution.now() - t0, 3)
            execution.tidy(partial, plan)
            if opts.records:
                _traces(partial, sc, meta, opts)
            files.write_json(partial / files.MANIFEST, meta)
            if opts.analyse:
                analyse_run(partial, meta["plot_format"], opts.quiet)
            meta["status"] = "complete"
            meta["finished"] = files.utc_now()
            files.seal(partial, meta)
            return store.finalize(partial)
    finally:
        handle.close()


def binary_halfwidths(
    folder: Path, total: int, outcomes: list[str], defs: dict[str, dict[str, Any]] | None = None
) -> tuple[int, dict[str, float]]:
    """Replicate count and Wilson half-width of every reported probability over replicates below ``total``."""
    table = files.read_outcomes(folder, below=total)
    n = len(table["replicate"])
    out = {}
    kinds = {**OUTCOMES, **(defs or {})}
    for name in outcomes:
        if kinds.get(name, {}).get("kind") == "binary":
            _, low, high = wilson(float(np.sum(table[name])), n)
            out[name] = (high - low) / 2
    return n, out


def _until_precise(
    sc: Scenario,
    folder: Path,
    meta: dict[str, Any],
    opts: RunOptions,
    plan: Plan,
    workers: int,
    progress: runner.Progress,
) -> None:
    assert opts.precision is not None
    while True:
        n, widths = binary_halfwidths(folder, plan.total, sc.outcomes, sc.config.outcome_defs)
        worst = max(widths.values(), default=0.0)
        met = worst < opts.precision
        if met or plan.total >= opts.max_replicates:
            meta["precision"] = {
                "target": opts.precision,
                "ceiling": opts.max_replicates,
                "replicates": n,
                "achieved": worst,
                "met": met,
                "widths": widths,
            }
            return
        start, plan.total = plan.total, min(opts.max_replicates, plan.total * 2)
        progress.total = plan.total
        execution.simulate_chunks(sc, folder, plan, opts, workers, progress, start=start)


def pick_replicates(outcomes: dict[str, np.ndarray], by: str | None = None) -> dict[str, int]:
    """The median replicate and the most extreme one by an outcome (reporting.yaml's ``pick_by`` unless given)."""
    if by is None:
        from model.catalog import load_catalog, reporting

        by = reporting.pick_by(load_catalog())
    v = np.asarray(outcomes[by], dtype=float)
    reps = outcomes["replicate"]
    finite = np.where(np.isfinite(v), v, -np.inf)
    med = float(np.nanmedian(v))
    i_med = int(np.argmin(np.where(np.isfinite(v), np.abs(v - med), np.inf)))
    return {
        "median": int(reps[i_med]),
        "most extreme": int(reps[int(np.argmax(finite))]),
        "least extreme": int(reps[int(np.argmin(np.where(np.isfinite(v), v, np.inf)))]),
    }


def _traces(folder: Path, sc: Scenario, meta: dict[str, Any], opts: RunOptions) -> None:
    table = files.read_outcomes(folder)
    picks = pick_replicates(table)
    traced: dict[str, Any] = {"median": picks["median"], "most extreme": picks["most extreme"]}
    n = len(table["replicate"])
    named = [int(k) for k in opts.trace if 0 <= int(k) < n]
    if named:
        traced["named"] = named
    lines = []
    seen = set()
    for rep in [traced["median"], traced["most extreme"], *named]:
        if rep in seen:
            continue
        seen.add(rep)
        records, _ = decision_records(sc.config, rep)
        lines += [json.dumps(r, separators=(",", ":")) for r in records]
    files.write_text(folder / "decisions.jsonl", "\n".join(lines) + "\n")
    meta["traced"] = traced


def verified(folder: str | Path) -> Path:
    """A complete, unaltered run folder given on the command line (InputError otherwise)."""
    files.verify_run(folder)
    return Path(folder)


def run_sweep(
    sc: Scenario,
    axis: dict[str, Any],
    out: Path,
    opts: RunOptions,
    command: list[str] | None = None,
    fresh: bool = False,
) -> Path:
    """Run the scenario once per value of ``axis`` (common random numbers) and write the sweep report.

    Every value is compiled first (a bad value stops the sweep before anything runs), then run
    into its own run folder with the same master seed and replicate indices, so replicate r of
    each run meets the same random numbers and the runs' differences are paired. A value whose
    run already exists under ``out`` (same resolved scenario, seed, replicates, catalog and code)
    is reused, as ``entente compare`` reuses runs; ``fresh`` runs every value again. The report
    (``model.analysis.sweep``) reads those run folders, never the simulation.
    """
    from model.analysis.sweep import sweep_report

    source = "--lever" if axis["kind"] == "lever" else "--vary"
    scenarios = [execution.with_settings(sc, {axis["name"]: v}, source) for v in axis["values"]]
    folders: list[Path] = []
    for k, (value, s) in enumerate(zip(axis["values"], scenarios, strict=True), start=1):
        found = None if fresh else find_reusable(s, out)  # a value already run is reused, as compare does
        if not opts.quiet:
            how = f"reusing {found}" if found else f"{s.replicates} replicates"
            sys.stderr.write(f"sweep {k}/{len(scenarios)}: {axis['name']} = {value} ({how})\n")
        folders.append(found or run_scenario(s, out, opts, command))
    if not opts.quiet:
        sys.stderr.write("sweep: writing the report...\n")
    return sweep_report(
        [(v, f) for v, f in zip(axis["values"], folders, strict=True)],
        axis,
        Path(out),
        command=command or ["entente", *sys.argv[1:]],
    )


def find_reusable(sc: Scenario, out: Path) -> Path | None:
    """The newest complete, unaltered run of exactly this configuration under ``out``, if any.

    A run matches when its resolved scenario has the same hash (which covers the seed, the
    replicate count and the horizon), it was not grown by ``--precision``, and it was made by the
    same catalog, entente version and (when both are known) git commit, so its numbers are the
    ones a new run would produce. Folders that fail verification are skipped, not reused.
    """
    from model.errors import InputError

    parent = Path(out) / files.safe_component(sc.name)
    if not parent.is_dir():
        return None
    here = {"catalog_hash": execution.catalog_hash(), "git_commit": store.git_commit()}
    import model

    for folder in sorted((p for p in parent.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        try:
            meta = files.read_manifest(folder)
        except (InputError, OSError, ValueError):
            continue
        if (
            not isinstance(meta, dict)
            or meta.get("status") != "complete"
            or not isinstance(meta.get("scenario"), dict)
            or meta["scenario"].get("digest") != sc.digest
            or meta.get("seed") != sc.seed
            or meta.get("replicates") != sc.replicates
            or meta.get("precision_requested")
            or meta.get("catalog_hash") != here["catalog_hash"]
            or meta.get("entente_version") != model.__version__
            or (meta.get("git_commit") and here["git_commit"] and meta["git_commit"] != here["git_commit"])
        ):
            continue
        try:
            files.verify_run(folder)
        except InputError:
            continue
        return folder
    return None


def compare(
    scenarios: list[Any],
    reference: str | None = None,
    out: str | Path = "runs",
    replicates: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    fresh: bool = False,
    plot_format: str = "png",
    quiet: bool = True,
    workers: int = 0,
    figures: bool = True,
) -> Any:
    """Compare scenarios from Python, as ``entente compare`` does; returns the comparison.

    ``scenarios`` are scenario files, loaded :class:`Scenario` objects or complete run folders.
    Scenarios run with the reference's seed (common random numbers) unless a matching run is
    found under ``out`` and ``fresh`` is false. The result has ``folder`` (the report),
    ``headlines``, ``rows`` and ``to_frame()`` (a tidy pandas frame: one row per outcome and
    scenario with levels, difference, simultaneous interval and verdict). ``figures=False`` skips
    the plots (the slowest part) for a quick look::

        from model.workflow import compare
        cmp = compare(["scenarios/baseline.yaml", "scenarios/us_joins_strikes.yaml"], replicates=500)
        print(cmp.summary())
        cmp.to_frame().query("verdict == 'meaningful'")
    """
    from model.analysis.compare import compare_folders
    from model.errors import InputError
    from model.execution import apply_overrides
    from model.scenario import load_scenario

    items: list[Any] = []
    for s in scenarios:
        if isinstance(s, Scenario):
            items.append(s)
        elif Path(s).is_dir():
            files.verify_run(s)
            items.append(Path(s))
        else:
            items.append(load_scenario(s))
    names = [files.read_manifest(i)["scenario"]["name"] if isinstance(i, Path) else i.name for i in items]
    if len(set(names)) != len(names):
        raise InputError.one("compare", f"scenario names must differ to be compared: {', '.join(names)}")
    reference = reference or names[0]
    if reference not in names:
        raise InputError.one("compare", f"reference '{reference}' is not among {', '.join(names)}")
    ref = items[names.index(reference)]
    if seed is None:
        seed = ref.seed if isinstance(ref, Scenario) else files.read_manifest(ref)["seed"]
    opts = RunOptions(workers=workers, quiet=quiet, plot_format=plot_format)
    folders, reused = prepare_runs(
        [apply_overrides(i, replicates, seed, steps) if isinstance(i, Scenario) else i for i in items],
        Path(out),
        opts,
        fresh,
    )
    return compare_folders(
        folders, reference, Path(out), plot_format, quiet, reused, figures, extra=missing_outcomes(folders)
    )


def missing_outcomes(folders: list[Path]) -> dict[Path, dict[str, np.ndarray]]:
    """The outcomes some runs define and others lack, computed from the others' time series.

    A scenario's own outcome (``outcomes:`` with an expression) is in its own run only; to compare
    it, every run that lacks it gets it from its stored trajectory with the engine's reducers, in
    replicate order. An expression that reads what the time series do not hold (a relation, a
    stance) is left out, and the report lists the outcome as not comparable.
    """
    from model import expr as expr_mod
    from model.engine.outcomes import reduce

    metas = {Path(f): files.read_manifest(f) for f in folders}
    defs: dict[str, dict[str, Any]] = {}
    for m in metas.values():
        for name in m["reported_outcomes"]:
            d = m["outcomes"].get(name, {})
            if "expr" in d and "reduce" in d:
                defs.setdefault(name, d)
    out: dict[Path, dict[str, np.ndarray]] = {}
    for f, m in metas.items():
        have = set(files.read_outcomes(f))
        for name, d in defs.items():
            if name in have:
                continue
            node = expr_mod.parse(str(d["expr"]))
            names = sorted(node.names() - {"step", "day", "week"})
            if not set(names) <= set(m["variables"]):
                continue  # a relation or a stance: not in the time series
            steps = np.arange(m["steps"] + 1, dtype=float)[:, None]
            known: dict[str, Any] = {"step": steps, "day": steps * m["step_days"], "week": steps * m["step_days"] / 7.0}
            known.update({k: v.astype(float) for k, v in files.read_series(f, names).items()})
            values = np.broadcast_to(
                np.asarray(expr_mod.evaluate(node, known.__getitem__), float), (len(steps), m["replicates"])
            )
            out.setdefault(f, {})[name] = np.asarray(reduce(values, d["reduce"], m["step_days"]), dtype=float)
    return out


def prepare_runs(
    items: list[Any], out: Path, opts: RunOptions, fresh: bool, command: list[str] | None = None
) -> tuple[list[Path], set[Path]]:
    """Run folders for a comparison: folders as given, scenarios reused when a matching run exists, else run."""
    folders: list[Path] = []
    reused: set[Path] = set()
    for item in items:
        if isinstance(item, Path):
            folders.append(item)
            continue
        found = None if fresh else find_reusable(item, out)
        if found is not None:
            if not opts.quiet:
                sys.stderr.write(f"reusing {found} (same scenario hash, seed and replicates; --fresh runs again)\n")
            folders.append(found)
            reused.add(found)
            continue
        if not opts.quiet:
            sys.stderr.write(f"running {item.name} ({item.replicates} replicates)...\n")
        folders.append(run_scenario(item, out, opts, command))
    return folders, reused


def run_score(
    paths: list[str],
    out: Path,
    opts: RunOptions,
    replicates: int | None = 500,
    seed: int | None = None,
    controls: bool = False,
    fresh: bool = False,
    command: list[str] | None = None,
) -> Any:
    """``entente score``: run (or reuse) every scenario with questions, score them, write the score folder.

    Each scenario runs with ``replicates`` (default 500; None keeps the file's) and its own seed
    (or ``seed``). A run already made under ``out`` with the same scenario digest, seed and
    replicates is reused unless ``fresh``. The inert, hawk and random controls of a scenario run with
    the same seed and replicates (common random numbers) whenever ``controls`` is set or the
    model answers one of its questions with exactly 0 or 1 (the controls decide whether the
    scenario forces that answer). Score runs are made without plots or decision traces (the
    scorer reads only the outcome table and manifest); ``entente run`` makes a full one.
    Returns the scorecard (``model.analysis.score.Scorecard``) with its folder.
    """
    from model.analysis import score
    from model.errors import InputError, InputIssue
    from model.execution.check import scenario_files
    from model.scenario import load_scenario

    issues: list[InputIssue] = []
    episodes: list[Scenario] = []
    for f in scenario_files(paths, "score"):
        try:
            sc = load_scenario(f)
            if not sc.questions:
                if not opts.quiet:
                    sys.stderr.write(f"{f}: no questions to score\n")
                continue
            episodes.append(execution.apply_overrides(sc, replicates, seed))
        except InputError as exc:
            issues += exc.issues
    if issues:
        raise InputError(issues)
    if not episodes:
        raise InputError.one("command line", f"no scenario in {', '.join(paths)} has questions (questions:) to score")
    names = [s.name for s in episodes]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError.one(
            "command line", f"two scenarios share the name {', '.join(dup)}: episodes need distinct names"
        )
    for s in episodes:
        execution.check_options(opts, s.replicates)
    light = RunOptions(**{**opts.__dict__, "analyse": False, "records": False, "trace": ()})
    runs: list[score.EpisodeRuns] = []
    for s in episodes:
        folders = {"model": _cached_run(s, Path(out), light, fresh, command, "")}
        certain = score.certain_questions(folders["model"])
        if controls or certain:
            if certain and not controls and not opts.quiet:
                sys.stderr.write(
                    f"{s.name}: {len(certain)} certain answer(s); running the inert, hawk and random controls to see if the "
                    "scenario forces them\n"
                )
            for policy in score.CONTROLS:
                folders[policy] = _cached_run(
                    execution.with_policy(s, policy), Path(out), light, fresh, command, policy
                )
        runs.append(score.EpisodeRuns(s.name, folders))
    card = score.score_runs(runs, controls, seed=seed or 0)
    score.write(card, Path(out), command or ["entente", *sys.argv[1:]], opts.quiet)
    return card


def _cached_run(sc: Scenario, out: Path, opts: RunOptions, fresh: bool, command: list[str] | None, policy: str) -> Path:
    """A complete run of exactly this scenario under ``out``: reused when one exists (unless ``fresh``), else made."""
    what = f"{sc.name}" + (f" under the {policy} control" if policy else "")
    found = None if fresh else find_reusable(sc, out)
    if found is not None:
        if not opts.quiet:
            sys.stderr.write(f"reusing {found} ({what})\n")
        return found
    if not opts.quiet:
        sys.stderr.write(f"running {what} ({sc.replicates} replicates)...\n")
    return run_scenario(sc, out, opts, command)
