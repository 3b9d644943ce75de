"""Run a scenario into a run folder, and rebuild a run's scenario from its manifest.

This layer validates the run's settings, creates and locks the folder, simulates its chunks
and stops cleanly. The manifest records the resolved scenario (after ``extends``, levers and command-line
options), so ``entente rerun`` and ``entente run --resume`` rebuild exactly the same
configuration without the original files. What happens after the chunks (decision traces,
analysis, sealing the folder) is composed above this layer, in ``model.workflow``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

import model
import model.engine as _engine
from model import files
from model.catalog import load_catalog
from model.engine.outcomes import OUTCOMES
from model.errors import InputError, InputIssue, RunError
from model.execution import runner, store
from model.scenario import MAX_HORIZON, MAX_REPLICATES, Scenario, compile_document
from model.scenario.questions import beyond

MAX_WORKERS = 256
SEED_LIMIT = 2**64  # seeds are 64-bit; the scenario file may be stricter (then its limit applies)
COMMAND_LINE = "command line"
OPTION_OF = {"seed": "--seed", "horizon": "--steps", "replicates": "--replicates"}


@dataclass
class RunOptions:
    """How to run (never what to simulate: that is the scenario)."""

    workers: int = 0  # 0 = all cores
    chunk_size: int = 0  # 0 = automatic
    executor: str = "local"
    scheduler: str | None = None
    trace: tuple[int, ...] = ()
    precision: float | None = None
    max_replicates: int = runner.DEFAULT_MAX_REPLICATES
    quiet: bool = False
    analyse: bool = True
    plot_format: str = "png"  # png, svg or pdf (figures; their data is always CSV beside them)
    records: bool = True  # decisions.jsonl: full decision records of the traced replicates (re-simulated)


class RunStopped(RunError):
    """A run stopped before it was complete; ``exit_code`` follows the cause (130 Ctrl-C, 143 SIGTERM, else 1)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# ------------------------------------------------------------------ one validation for run settings
def _int_issue(source: str, key: str, value: Any, lo: int, hi: int | None, what: str = "") -> InputIssue | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return InputIssue(source, None, None, key, f"expected a whole number, found {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
        return InputIssue(source, None, None, key, f"must be {rng}{what}, found {value}")
    return None


def option_issues(
    source: str = COMMAND_LINE,
    *,
    workers: Any = None,
    chunk_size: Any = None,
    max_replicates: Any = None,
    precision: Any = None,
    trace: Any = None,
    replicates: int | None = None,
    names: dict[str, str] | None = None,
) -> list[InputIssue]:
    """Every problem with how-to-run settings, from the command line or a manifest (``None`` = not given)."""
    key = {"workers": "--workers", "chunk_size": "--chunk-size", "max_replicates": "--max-replicates",
           "precision": "--precision", "trace": "--trace", **(names or {})}  # fmt: skip
    out = [
        _int_issue(source, key["workers"], workers, 1, MAX_WORKERS) if workers is not None else None,
        _int_issue(source, key["chunk_size"], chunk_size, 1, MAX_REPLICATES) if chunk_size is not None else None,
        _int_issue(source, key["max_replicates"], max_replicates, 1, MAX_REPLICATES)
        if max_replicates is not None
        else None,
    ]
    if precision is not None and not (
        isinstance(precision, int | float) and not isinstance(precision, bool) and 0 < precision < 0.5
    ):
        out.append(InputIssue(source, None, None, key["precision"], f"must lie in (0, 0.5), found {precision!r}"))
    if trace is not None and not isinstance(trace, list | tuple):
        out.append(InputIssue(source, None, None, key["trace"], f"expected a list of replicates, found {trace!r}"))
        trace = ()
    for k in trace or ():
        hi = None if replicates is None else replicates - 1
        what = " (a replicate of this run)" if replicates is not None else ""
        out.append(_int_issue(source, key["trace"], k, 0, hi, what))
    return [i for i in out if i is not None]


def check_options(opts: RunOptions, replicates: int | None, source: str = COMMAND_LINE) -> None:
    """Raise InputError when a how-to-run setting is out of range (0 means automatic for workers and chunk size)."""
    issues = option_issues(
        source,
        workers=opts.workers or None,
        chunk_size=opts.chunk_size or None,
        max_replicates=opts.max_replicates if opts.precision is not None else None,
        precision=opts.precision,
        trace=opts.trace,
        replicates=replicates,
    )
    if opts.executor not in ("local", "dask", "dask-local"):
        issues.append(InputIssue(source, None, None, "--executor", f"unknown executor {opts.executor!r}"))
    if issues:
        raise InputError(issues)


def _step_of(event: Any, start: Any, step_days: Any) -> int | None:
    """The step of a scheduled event (None when it is conditional or malformed: compiling reports that)."""
    if not isinstance(event, dict) or "at" not in event:
        return None
    at = event["at"]
    if isinstance(at, int) and not isinstance(at, bool):
        return at
    try:
        d = dt.date.fromisoformat(str(at))
        s = dt.date.fromisoformat(str(start))
        return max(1, math.ceil((d - s).days / float(step_days)))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None


def apply_overrides(
    sc: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    source: str = COMMAND_LINE,
) -> Scenario:
    """The scenario with replicates, seed or steps replaced, validated exactly as the file's own values.

    The resolved document with the new values is compiled again (the same validation a scenario
    file and a manifest go through), so whatever runs can be resumed and re-run. A shorter
    horizon drops the scheduled events after it, in the recorded document too.
    """
    if replicates is None and seed is None and steps is None:
        return sc
    issues = [
        i
        for i in (
            _int_issue(source, OPTION_OF["replicates"], replicates, 1, MAX_REPLICATES)
            if replicates is not None
            else None,
            _int_issue(source, OPTION_OF["horizon"], steps, 1, MAX_HORIZON, " (the scenario format's limit)")
            if steps is not None
            else None,
        )
        if i is not None
    ]
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < SEED_LIMIT):
        issues.append(InputIssue(source, None, None, OPTION_OF["seed"], f"must lie in [0, 2^64), found {seed}"))
    if issues:
        raise InputError(issues)
    doc = _with_run_values(sc.resolved, replicates, seed, steps)
    levers = doc.pop("levers_chosen", {})
    try:
        new = compile_document(doc, {}, source)
    except InputError as exc:
        raise InputError(
            [
                InputIssue(source, None, None, OPTION_OF[i.key], i.message) if i.key in OPTION_OF else i
                for i in exc.issues
            ]
        ) from None
    new.resolved["levers_chosen"] = levers
    new.chain, new.source = list(sc.chain), sc.source
    if sc.document is not None:  # settings applied later (sweeps, overrides) keep these run values
        new.document, new.marks = _with_run_values(sc.document, replicates, seed, steps), sc.marks
    return new


def _with_run_values(
    document: dict[str, Any], replicates: int | None, seed: int | None, steps: int | None
) -> dict[str, Any]:
    """A copy of a scenario document with run values replaced; what falls after a shorter horizon leaves it."""
    doc = copy.deepcopy(document)
    if replicates is not None:
        doc["replicates"] = replicates
    if seed is not None:
        doc["seed"] = seed
    if steps is not None:
        doc["horizon"] = steps
        for key in ("events", "changes"):
            if isinstance(doc.get(key), list) and isinstance(steps, int):
                doc[key] = [
                    e
                    for e in doc[key]
                    if (k := _step_of(e, doc.get("start_date"), doc.get("step_days", 7))) is None or k <= steps
                ]
        if isinstance(doc.get("questions"), list) and isinstance(steps, int):  # dated beyond: dropped like events
            try:
                end = steps * float(doc.get("step_days", 7))
            except (TypeError, ValueError):
                end = None
            if end is not None:
                gone = set(beyond(doc["questions"], doc.get("start_date"), end))
                doc["questions"] = [q for i, q in enumerate(doc["questions"]) if i not in gone]
    return doc


# ------------------------------------------------------------------ the recording machine
def _simd() -> tuple[dict[str, bool], list[str], list[str]]:
    try:
        from numpy._core import _multiarray_umath as mu  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.26
        from numpy.core import _multiarray_umath as mu  # type: ignore[no-redef]
    return (
        dict(getattr(mu, "__cpu_features__", {})),
        list(getattr(mu, "__cpu_baseline__", [])),
        list(getattr(mu, "__cpu_dispatch__", [])),
    )


def machine() -> dict[str, Any]:
    """What can change float results between machines: numpy, Python, platform, the SIMD code numpy uses."""
    import platform

    feats, baseline, dispatch = _simd()
    return {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.system(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "simd_baseline": baseline,
        "simd_dispatch": [d for d in dispatch if feats.get(d)],  # numpy's optimised kernels in use
        "cpu_features": sorted(k for k, v in feats.items() if v),
    }


def machine_differences(recorded: Any, here: dict[str, Any] | None = None) -> list[str]:
    """How this machine differs from the recorded one, in the ways that can change float results."""
    here = here or machine()
    if not isinstance(recorded, dict):
        return ["the manifest does not record the machine"]
    out = []
    for key, label in (("numpy", "numpy"), ("python", "Python"), ("system", "system"), ("machine", "architecture")):
        if recorded.get(key) != here[key]:
            out.append(f"{label} {recorded.get(key)} there, {here[key]} here")
    for key, label, pick in (
        ("simd_dispatch", "numpy SIMD kernels", lambda f: True),
        ("cpu_features", "AVX-512 features", lambda f: f.startswith("AVX512")),
    ):
        there = {f for f in recorded.get(key) or [] if isinstance(f, str) and pick(f)}
        mine = {f for f in here[key] if pick(f)}
        if there != mine:
            parts = []
            if there - mine:
                parts.append("missing here: " + " ".join(sorted(there - mine)))
            if mine - there:
                parts.append("extra here: " + " ".join(sorted(mine - there)))
            out.append(f"{label} differ ({'; '.join(parts)})")
    return out


def warn_if_other_machine(meta: dict[str, Any], what: str) -> None:
    diffs = machine_differences(meta.get("machine"))
    if diffs:
        sys.stderr.write(
            f"warning: {what} on a different machine than the run was made on ({'; '.join(diffs)});"
            " floating-point results may differ in the last digits\n"
        )


# ------------------------------------------------------------------ manifest
def catalog_hash() -> str:
    blob = json.dumps(load_catalog(), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def dictionary(sc: Scenario) -> dict[str, Any]:
    """The data dictionary analysis needs (so it never imports the engine)."""
    spec = sc.config.spec
    return {
        "variables": {v: {"unit": d["unit"], "doc": d["doc"]} for v, d in spec["world"]["variables"].items()},
        "outcomes": {**OUTCOMES, **sc.config.outcome_defs},
        "actors": {a: {"label": d["label"], "claims": d.get("claims", [])} for a, d in spec["actors"].items()},
        "options": {
            f"{a}:{tr}": [["hold", "none"]]
            + [
                [act, t]
                for act, sa in spec["actions"].items()
                if act != "hold" and sa.get("track") == tr
                for t in sa.get("takers", {}).get(a, [])
            ]
            for a in spec["actors"]
            for tr in spec["world"]["tracks"]
        },
        "events": [
            {
                "index": k,
                "label": e.label or f"{e.actor} {e.action} {e.target}",
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "at": e.step,
                "when": e.when,
            }
            for k, e in enumerate(sc.config.events)
        ],
        "changes": [{"step": c.step, "set": c.values, "label": c.label} for c in sc.config.changes],
        "actions": {
            act: {
                "narrate": sa.get("narrate"),
                "claims": sa.get("claims", []),
                **{k: spec["scales"][act][k] for k in ("cameo", "cameo_label", "goldstein", "kahn_rung", "kahn_label")},
            }
            for act, sa in spec["actions"].items()
        },
        "constraints": [
            {
                "id": cid,
                "kind": c["kind"],
                "actor": c["actor"],
                "claims": c["claims"],
                "text": c["text"],
                "lifted": bool(c.get("lifted", False)),
            }
            for cid, c in spec["constraints"].items()
        ],
        "claims": {cid: {"text": c["text"], "source": c["source"]} for cid, c in spec["claims"].items()},
        "sources": spec["sources"],
        "questions": [q.manifest() for q in sc.questions],  # what `entente score` reads
        "policy": sc.config.policy,
        "support_tiers": spec["world"]["support_tiers"],
        "war_states": spec["world"]["war_states"],
    }


def build_manifest(sc: Scenario, opts: RunOptions, chunk_size: int, workers: int, command: list[str]) -> dict[str, Any]:
    return {
        "format": files.FORMAT,
        "status": "running",
        "entente_version": model.__version__,
        "git_commit": store.git_commit(),
        "catalog_hash": catalog_hash(),
        "command": command,
        "started": files.utc_now(),
        "finished": None,
        "scenario": {
            "name": sc.name,
            "title": sc.title,
            "question": sc.question,
            "claims": sc.claims,
            "source": sc.source,
            "chain": sc.chain,
            "digest": sc.digest,
            "levers_chosen": sc.resolved.get("levers_chosen", {}),
            "resolved": {k: v for k, v in sc.resolved.items() if k != "levers_chosen"},
        },
        "seed": sc.seed,
        "replicates": sc.replicates,
        "steps": sc.horizon,
        "step_days": sc.step_days,
        "start_date": sc.start_date,
        "reported_outcomes": sc.outcomes,
        "chunk_size": chunk_size,
        "workers": workers,
        "executor": opts.executor,
        "machine": machine(),
        "uncertainties": [{"path": u.path, "dist": u.dist, "params": u.params} for u in sc.config.uncertainties],
        "disputed": sc.config.spec["world"].get("disputed", {}),
        "fixed_paths": sc.config.spec.get("_fixed", []),
        "replicate_seeds": "column 'seed' of outcomes.csv (64-bit, derived from the master seed and the replicate index)",
        "sampled_values": "columns 'sampled:<path>' of outcomes.csv",
        "traced": {},
        "precision": None,
        **dictionary(sc),
    }


def scenario_digest(meta: dict[str, Any]) -> str:
    """The digest of the scenario as the manifest records it (resolved document and levers)."""
    sc = meta["scenario"]
    doc = {**sc["resolved"], "levers_chosen": sc.get("levers_chosen", {})}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:12]


def scenario_from_manifest(meta: dict[str, Any], where: str = "manifest.json") -> Scenario:
    """Rebuild the exact configuration a run used from its manifest, validated like a scenario file.

    Refuses (InputError) a manifest whose scenario does not match its recorded digest or whose
    run settings do not validate.
    """
    try:
        scen = meta["scenario"]
        doc = copy.deepcopy(scen["resolved"])
        recorded = scen["digest"]
        if not isinstance(doc, dict):
            raise TypeError
        actual = scenario_digest(meta)
    except (KeyError, TypeError, ValueError):
        raise InputError.one(where, "the manifest records no valid resolved scenario") from None
    if actual != recorded:
        raise InputError.one(
            where,
            f"the scenario in the manifest was edited: its digest is {actual}, the run recorded {recorded}",
        )
    sc = compile_document(doc, {}, f"{where} (scenario.resolved)")
    sc.resolved["levers_chosen"] = copy.deepcopy(scen.get("levers_chosen", {}))
    sc.chain = list(scen.get("chain", []) or [])
    sc.source = str(scen.get("source", where))
    if (meta.get("seed"), meta.get("steps")) != (sc.seed, sc.horizon):
        raise InputError.one(where, "the manifest's seed or steps differ from its resolved scenario")
    reps = meta.get("replicates")
    if reps != sc.replicates:  # --precision adds replicates to a run: validated like a command-line value
        sc = apply_overrides(sc, replicates=reps, source=where)
    return sc


def check_recorded_options(meta: dict[str, Any], where: str) -> None:
    """The how-to-run values a manifest records pass the same checks as the command line's."""
    names = {"workers": "workers", "chunk_size": "chunk_size", "max_replicates": "precision_requested.ceiling",
             "precision": "precision_requested.target", "trace": "trace_requested"}  # fmt: skip
    prec = meta.get("precision_requested") or {}
    issues = option_issues(
        where,
        workers=meta.get("workers"),
        chunk_size=meta.get("chunk_size"),
        max_replicates=prec.get("ceiling") if isinstance(prec, dict) and prec else None,
        precision=prec.get("target") if isinstance(prec, dict) and prec else None,
        trace=meta.get("trace_requested") or (),
        replicates=meta.get("replicates") if isinstance(meta.get("replicates"), int) else None,
        names=names,
    )
    if not isinstance(prec, dict):
        issues.append(InputIssue(where, None, None, "precision_requested", "expected a mapping"))
    if issues:
        raise InputError(issues)


# ------------------------------------------------------------------ the run folder while it is written
def start(sc: Scenario, parent: Path, opts: RunOptions, command: list[str]) -> tuple[Path, dict[str, Any], IO[bytes]]:
    """Create and lock a new partial run folder directly under ``parent``; write its manifest."""
    workers = opts.workers or runner.default_workers()
    chunk = opts.chunk_size or runner.default_chunk_size(sc.replicates, workers)
    parent = Path(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        runner.check_disk(parent, sc.replicates, sc.horizon, len(sc.config.spec["world"]["variables"]))
        partial, _final = store.new_run_folder(parent, sc.digest)
        handle = store.lock(partial)
        meta = build_manifest(sc, opts, chunk, workers, command)
        meta["trace_requested"] = list(opts.trace)
        if opts.precision is not None:
            meta["precision_requested"] = {"target": opts.precision, "ceiling": opts.max_replicates}
        files.write_json(partial / files.MANIFEST, meta)
    except OSError as exc:
        raise RunError(f"cannot create a run folder under {parent}: {exc}") from None
    return partial, meta, handle


def open_partial(folder: Path) -> tuple[dict[str, Any], IO[bytes]]:
    """Lock an interrupted run folder for resuming; return its manifest (validated) and the lock."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError.one(str(folder), "not a run folder (no such directory)")
    if not files.is_partial(folder):
        if (folder / files.MANIFEST).exists():
            raise InputError.one(str(folder), "already complete; nothing to resume")
        raise InputError.one(str(folder), "not a run folder (no manifest.json)")
    files.read_manifest(folder)  # a clear error before taking the lock
    handle = store.lock(folder)
    try:
        if not folder.is_dir():
            raise InputError.one(str(folder), "the run folder no longer exists (finished by another process?)")
        meta = files.read_manifest(folder)
        check_recorded_options(meta, str(folder / files.MANIFEST))
    except BaseException:
        handle.close()
        raise
    return meta, handle


@dataclass
class Plan:
    """The chunks a run is made of (grows when --precision adds replicates)."""

    total: int
    chunk: int
    done: set[tuple[int, int]] = field(default_factory=set)

    def chunks(self) -> list[tuple[int, int]]:
        return runner.plan_chunks(0, self.total, self.chunk)


def drop_incomplete(partial: Path) -> None:
    """Remove the files of chunks that did not finish (and temporaries), so every part on disk is complete."""
    files.remove_temporaries(partial)
    done = {files.chunk_name(a, b) for a, b in files.finished_chunks(partial)}
    for table in files.TABLES:
        for f in (partial / table).glob("part-*.parquet"):
            if f.name not in done:
                f.unlink(missing_ok=True)


def redo_broken_chunks(partial: Path, steps: int) -> list[str]:
    """Remove every finished chunk whose files cannot be trusted, so it is simulated again; say which.

    A chunk is written file by file and renamed into place, but a disk that filled, a copy cut
    short or an edit can still leave a truncated Parquet file; resuming on it would fail inside
    pyarrow on every attempt. Its three files go, and the run redoes those replicates (the same
    numbers: a replicate depends only on the scenario, the seed and its index).
    """
    notes = []
    for a, b in sorted(files.finished_chunks(partial)):
        why = files.chunk_problem(partial, a, b, steps)
        if why is not None:
            for table in files.TABLES:
                (partial / table / files.chunk_name(a, b)).unlink(missing_ok=True)
            notes.append(f"replicates {a}-{b - 1}: {why}; they are simulated again")
    return notes


def state(partial: Path, plan: Plan) -> str:
    """'3 of 20 chunks (15,000 of 100,000 replicates) are complete and kept in <folder>'.

    Called once every worker has stopped: the files of unfinished chunks are removed first.
    """
    with suppress(OSError):
        drop_incomplete(partial)
    planned = plan.chunks()
    done = files.finished_chunks(partial)
    n = sum(1 for c in planned if c in done)
    reps = sum(b - a for a, b in planned if (a, b) in done)
    return f"{n} of {len(planned)} chunks ({reps:,} of {plan.total:,} replicates) are complete and kept in {partial}"


@contextmanager
def stopping_cleanly(partial: Path, plan: Plan) -> Iterator[None]:
    """Turn Ctrl-C, SIGTERM, a full disk, a dead worker or a model failure into a message and the resume command.

    Every worker has stopped when the message is written, so the count of complete chunks is final.
    """
    main = runner._main_thread()
    old = signal.signal(signal.SIGTERM, runner._sigterm) if main else None
    resume = f"resume with: entente run --resume {partial}"
    try:
        yield
    except KeyboardInterrupt as exc:
        term = isinstance(exc, runner.Terminated)
        raise RunStopped(
            f"interrupted ({'SIGTERM' if term else 'Ctrl-C'}): {state(partial, plan)}\n{resume}",
            143 if term else 130,
        ) from None
    except runner.ChunkFailure as exc:
        raise RunStopped(
            f"replicates {exc.start}-{exc.stop - 1} failed inside the model: {exc.message}\n"
            f"first failing replicate: {exc.replicate} (seed {exc.seed}); {state(partial, plan)}\n"
            f"the failure is deterministic: fix the scenario or the model, then {resume}"
        ) from None
    except runner.WorkerLost as exc:
        raise RunStopped(f"{exc}; {state(partial, plan)}\n{resume}") from None
    except OSError as exc:
        raise RunStopped(f"writing the run failed: {exc}; {state(partial, plan)}\n{resume}") from None
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def simulate_chunks(
    sc: Scenario, partial: Path, plan: Plan, opts: RunOptions, workers: int, progress: runner.Progress, start: int = 0
) -> None:
    """Simulate the plan's chunks from ``start`` that are not on disk yet."""
    runner.execute(
        sc.config,
        runner.plan_chunks(start, plan.total, plan.chunk),
        partial,
        workers,
        opts.executor,
        opts.scheduler,
        progress,
    )


def tidy(partial: Path, plan: Plan) -> None:
    """Remove what is not part of the finished run: temporary files and chunk files outside the plan."""
    files.remove_temporaries(partial)
    keep = {files.chunk_name(a, b) for a, b in plan.chunks()}
    for table in files.TABLES:
        for f in (partial / table).glob("part-*.parquet"):
            if f.name not in keep:
                f.unlink()


def now() -> float:
    return time.perf_counter()


def with_policy(sc: Scenario, policy: str) -> Scenario:
    """The same scenario decided by another policy: ``inert`` or ``hawk`` (the negative controls) or ``model``.

    The policy is written into the resolved document (``policy:``) and compiled again, so it is
    part of the scenario's digest and manifest: a control's run is cached, reused and re-run
    like any other, beside the model's run of the same scenario, with the same seed and
    replicates (common random numbers).
    """
    doc = copy.deepcopy(sc.resolved)
    levers = doc.pop("levers_chosen", {})
    if policy == "model":
        doc.pop("policy", None)
    else:
        doc["policy"] = policy
    new = compile_document(doc, {}, f"{sc.source} (policy {policy})")
    new.resolved["levers_chosen"] = levers
    new.chain, new.source = list(sc.chain), sc.source
    return new


def with_settings(sc: Scenario, settings: dict[str, Any] | None, source: str = "--set") -> Scenario:
    """``sc`` with more settings (levers, parameter paths) applied, validated like the file.

    The settings are applied to the scenario's document before its levers, so a lever option
    and a parameter path are set exactly as ``entente run --set`` sets them; the run values
    (replicates, seed, steps) already given stay.
    """
    from model.scenario.settings import check_settings, compile_with_settings

    check_settings(settings, source)
    if not settings:
        return sc
    if sc.document is not None:
        doc, marks = sc.document, sc.marks
    else:  # a scenario rebuilt from a manifest: its levers are already applied
        doc = {k: v for k, v in sc.resolved.items() if k != "levers_chosen"}
        marks = {}
    new = compile_with_settings(doc, marks, sc.source, settings, source)
    new.chain = list(sc.chain)
    if sc.document is None:
        new.resolved["levers_chosen"] = dict(sc.resolved.get("levers_chosen", {}))
    return new


def simulate(
    scenario: Scenario | str | Path | Any,
    replicates: int | list[int] | np.ndarray | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    detail: bool = False,
) -> Any:
    """Simulate a scenario in memory (no run folder), with optional overrides; return the engine's Result.

    Args:
        scenario: a Scenario (``model.scenario.load_scenario``), a scenario file's path, or an
            engine ``Config`` (then without overrides).
        replicates: a count n (replicates 0..n-1) or a list of replicate indices; default the
            scenario's own count. Replicate r is the same draw whatever else is simulated with it.
        overrides: ``{lever: option}`` or ``{path: value}``, the syntax of ``entente run --set``
            (``{"us_restraint": "firm", "world.temperature": 0.1}``), validated like the file;
            errors name the override (InputError).
        detail: keep every decision's utilities (for a few replicates).

    Example::

        from model.execution import simulate
        res = simulate("scenarios/us_restrains_israel.yaml", 500, overrides={"us_restraint": "none"})
        res.to_frame("outcomes").mean(numeric_only=True)
    """
    from model.engine import Config
    from model.engine import simulate as engine_simulate
    from model.scenario.settings import check_settings, load_with_settings

    check_settings(overrides, "overrides")
    if isinstance(scenario, Config):
        if overrides:
            raise InputError.one(
                "overrides",
                "overrides need the scenario, not its Config (levers and validation live in the scenario): "
                "pass load_scenario(path) or the path itself",
            )
        config, default = scenario, 1
    else:
        if isinstance(scenario, str | Path):
            sc = load_with_settings(scenario, overrides, "overrides")
        elif isinstance(scenario, Scenario):
            sc = with_settings(scenario, overrides, "overrides")
        else:
            raise InputError.one(
                "scenario", f"simulate() takes a Scenario, a path or a Config, not {type(scenario).__name__}"
            )
        config, default = sc.config, sc.replicates
    reps = default if replicates is None else replicates
    _check_replicates(reps)
    return engine_simulate(config, reps, detail=detail)


# One validation of replicate counts for the API and the CLI: the engine's (model.engine.check_replicates)
MAX_IN_MEMORY = _engine.MAX_IN_MEMORY
_check_replicates = _engine.check_replicates
