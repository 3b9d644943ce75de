"""Workflows the commands run: simulate a scenario into a run folder, trace, analyse and seal it.

This is the layer above execution, explain and analysis (only the command line imports it):
execution simulates the chunks, explain re-simulates the traced replicates with their full
decision records, analysis writes the tables, plots and summary, and the folder is sealed
(every file's digest in the manifest) and renamed into place.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
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
            for note in execution.redo_broken_chunks(partial, sc.horizon):
                sys.stderr.write(f"warning: {note}\n")
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


def check_reproduces(folder: Path, meta: dict[str, Any]) -> Scenario:
    """The run's scenario, validated, after checking that it reproduces the run's first stored replicate.

    A manifest whose scenario was edited and whose digests were recomputed passes the folder's
    seal; what it can no longer do is reproduce the data beside it. ``explain``, ``narrate`` and
    ``rerun`` rebuild the scenario anyway; ``discover`` reads only the outcome table, so it asks
    for this check (one replicate re-simulated, well under a second).

    Raises:
        InputError: the scenario does not validate or does not reproduce the stored trajectory.
    """
    from model.engine import simulate as engine_simulate
    from model.errors import InputError

    where = str(Path(folder) / files.MANIFEST)
    sc = execution.scenario_from_manifest(meta, where)
    res = engine_simulate(sc.config, [0])
    stored = files.read_replicate_series(folder, 0, res.variables)
    if stored is None or not np.array_equal(res.series[:, 0, :].astype(np.float32), stored):
        raise InputError.one(
            where,
            "the scenario in the manifest does not reproduce the run's stored data (replicate 0);"
            " the manifest was edited after the run, or the catalog has changed since",
        )
    return sc


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


def gather(
    items: Any,
    settings: dict[str, Any] | None = None,
    reference: str | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    source: str = "compare",
) -> tuple[list[Any], str]:
    """What a comparison compares, validated the same way for ``entente compare`` and ``compare()``.

    Scenario files are loaded with ``settings`` (``--set``), run folders verified, Scenario objects
    taken as they are (with ``settings`` applied); then the names must differ, the reference be
    among them, and every scenario gets the run values (the reference's seed by default: common
    random numbers). Returns the items (Scenarios and run folders) and the reference's name.

    Raises:
        InputError: an empty or malformed list, a bad item, setting or run value (one line each).
    """
    from model.errors import InputError
    from model.execution import apply_overrides, with_settings
    from model.scenario.settings import check_settings, load_with_settings

    check_settings(settings, "--set" if source == "command line" else "overrides")
    if isinstance(items, str | Path | Scenario) or not isinstance(items, list | tuple):
        raise InputError.one(
            source, f"expected a list of scenario files, Scenario objects or run folders, found {type(items).__name__}"
        )
    if not items:
        raise InputError.one(source, "nothing to compare: give scenario files, Scenario objects or run folders")
    loaded: list[Any] = []
    for item in items:
        if isinstance(item, Scenario):
            loaded.append(with_settings(item, settings, "overrides"))
        elif isinstance(item, str | Path) and str(item):
            if Path(item).is_dir():
                if settings:
                    first = next(iter(settings))
                    raise InputError.one(
                        f"--set {first}={settings[first]}" if source == "command line" else "overrides",
                        f"settings apply to scenario files; {item} is a run folder (it ran as it ran)",
                    )
                files.verify_run(item)
                loaded.append(Path(item))
            else:
                loaded.append(load_with_settings(item, settings, "--set" if source == "command line" else "overrides"))
        else:
            raise InputError.one(
                source,
                f"expected a scenario file, a Scenario or a run folder, found {type(item).__name__} {item!r:.40}",
            )
    names = [str(files.read_manifest(i)["scenario"]["name"]) if isinstance(i, Path) else i.name for i in loaded]
    if len(set(names)) != len(names):
        raise InputError.one(source, f"scenario names must differ to be compared: {', '.join(names)}")
    if reference is not None and not isinstance(reference, str):
        raise InputError.one(source, f"reference: expected a scenario name, found {type(reference).__name__}")
    reference = reference or names[0]
    if reference not in names:
        where = "--reference" if source == "command line" else "reference"
        raise InputError.one(source, f"{where} '{reference}' is not among {', '.join(names)}")
    ref = loaded[names.index(reference)]
    if seed is None:
        seed = ref.seed if isinstance(ref, Scenario) else files.read_manifest(ref)["seed"]
    cmd = "command line" if source == "command line" else source
    return [
        apply_overrides(i, replicates, seed, steps, cmd) if isinstance(i, Scenario) else i for i in loaded
    ], reference


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
    overrides: dict[str, Any] | None = None,
) -> Any:
    """Compare scenarios from Python, as ``entente compare`` does; returns the comparison.

    ``scenarios`` are scenario files, loaded :class:`Scenario` objects or complete run folders;
    ``overrides`` are ``--set``'s settings for every scenario. Everything is validated by
    :func:`gather`, the command line's own path. Scenarios run with the reference's seed (common
    random numbers) unless a matching run is found under ``out`` and ``fresh`` is false. The
    result has ``folder`` (the report), ``headlines``, ``rows`` and ``to_frame()`` (a tidy pandas
    frame: one row per outcome and scenario with levels, difference, simultaneous interval and
    verdict). ``figures=False`` skips the plots (the slowest part) for a quick look::

        from model.workflow import compare
        cmp = compare(["scenarios/baseline.yaml", "scenarios/us_joins_strikes.yaml"], replicates=500)
        print(cmp.summary())
        cmp.to_frame().query("verdict == 'meaningful'")
    """
    from model.analysis.compare import compare_folders
    from model.errors import InputError

    if not isinstance(out, str | Path) or not str(out):
        raise InputError.one("compare", f"out: expected a folder, found {type(out).__name__} {out!r:.40}")
    if plot_format not in ("png", "svg", "pdf"):
        raise InputError.one("compare", f"plot_format must be png, svg or pdf, found {plot_format!r:.20}")
    try:
        items, reference = gather(scenarios, overrides, reference, replicates, seed, steps, "compare")
        opts = RunOptions(workers=workers, quiet=quiet, plot_format=plot_format)
        for it in items:
            if isinstance(it, Scenario):
                execution.check_options(opts, it.replicates, "compare")
    except InputError as exc:  # the command line's checks, named as the function's arguments
        raise InputError([replace(i, key=i.key.removeprefix("--").replace("-", "_")) for i in exc.issues]) from None
    writable(Path(out), "out")
    folders, reused = prepare_runs(items, Path(out), opts, fresh)
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


def writable(folder: Path, name: str = "--out") -> None:
    """Refuse, before anything runs, an output folder that cannot be created or written (one line, exit 2)."""
    import tempfile

    from model.errors import InputError

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError.one(
            f"{name} {folder}", f"cannot write there ({exc.strerror or exc}); choose another folder"
        ) from None


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
    from model.catalog import load_catalog

    fc = load_catalog()["reporting"].get("forecast") or {}
    card = score.score_runs(
        runs, controls, seed=seed or 0, recal=score.as_recal({f: fc.get(f) or {} for f in score.FAMILIES})
    )
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
