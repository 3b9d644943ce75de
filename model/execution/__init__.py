"""Run a scenario into a run folder; resume or re-run one from its manifest.

The manifest records the resolved scenario (after ``extends``, levers and command-line
options), so ``entente rerun`` and ``entente run --resume`` rebuild exactly the same
configuration without the original files.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import model
from model.catalog import load_catalog
from model.engine.outcomes import OUTCOMES
from model.errors import RunError
from model.execution import runner, store
from model.scenario import Scenario, compile_document


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
        "support_tiers": spec["world"]["support_tiers"],
        "war_states": spec["world"]["war_states"],
    }


def build_manifest(sc: Scenario, opts: RunOptions, chunk_size: int, workers: int, command: list[str]) -> dict[str, Any]:
    return {
        "format": 1,
        "status": "running",
        "entente_version": model.__version__,
        "git_commit": store.git_commit(),
        "catalog_hash": catalog_hash(),
        "command": command,
        "started": store.utc_now(),
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
        "uncertainties": [{"path": u.path, "dist": u.dist, "params": u.params} for u in sc.config.uncertainties],
        "disputed": sc.config.spec["world"].get("disputed", {}),
        "fixed_paths": sc.config.spec.get("_fixed", []),
        "replicate_seeds": "column 'seed' of outcomes.csv (64-bit, derived from the master seed and the replicate index)",
        "sampled_values": "columns 'sampled:<path>' of outcomes.csv",
        "traced": {},
        "precision": None,
        **dictionary(sc),
    }


def scenario_from_manifest(meta: dict[str, Any]) -> Scenario:
    """Rebuild the exact configuration a run used from its manifest."""
    doc = json.loads(json.dumps(meta["scenario"]["resolved"]))
    sc = compile_document(doc, {}, f"{meta['scenario']['source']} (from manifest)")
    sc.chain = meta["scenario"].get("chain", [])
    return sc.with_run_options(replicates=meta["replicates"], seed=meta["seed"], steps=meta["steps"])


def run_scenario(sc: Scenario, out: Path, opts: RunOptions, command: list[str] | None = None) -> Path:
    """Simulate a scenario into a new run folder; return the completed folder."""
    workers = opts.workers or runner.default_workers()
    chunk = opts.chunk_size or runner.default_chunk_size(sc.replicates, workers)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        runner.check_disk(out, sc.replicates, sc.horizon, len(sc.config.spec["world"]["variables"]))
        partial, _final = store.new_run_folder(out, sc.name, sc.digest)
    except OSError as exc:
        raise RunError(f"cannot create a run folder under {out}: {exc}") from None
    meta = build_manifest(sc, opts, chunk, workers, command or sys.argv)
    store.write_json(partial / "manifest.json", meta)
    return _complete(partial, sc, meta, opts)


def resume(folder: Path, opts: RunOptions) -> Path:
    """Finish an interrupted run; the result equals a run that was never interrupted."""
    folder = Path(folder)
    if not (folder / "manifest.json").exists():
        raise RunError(f"{folder} is not a run folder (no manifest.json)")
    if not store.is_partial(folder):
        raise RunError(f"{folder} is already complete; nothing to resume")
    meta = store.read_manifest(folder)
    sc = scenario_from_manifest(meta)
    opts.trace = tuple(meta.get("trace_requested", opts.trace))
    if meta.get("precision_requested"):
        opts.precision = meta["precision_requested"]["target"]
        opts.max_replicates = meta["precision_requested"]["ceiling"]
    return _complete(folder, sc, meta, opts)


def rerun(folder: Path, out: Path | None, opts: RunOptions, command: list[str] | None = None) -> Path:
    """Run again exactly what a manifest records, into a new folder."""
    meta = store.read_manifest(Path(folder))
    if meta.get("catalog_hash") != catalog_hash():
        sys.stderr.write("warning: the catalog has changed since this run; results may differ\n")
    sc = scenario_from_manifest(meta)
    opts.chunk_size = opts.chunk_size or meta.get("chunk_size", 0)
    opts.trace = tuple(meta.get("trace_requested", ()))
    if meta.get("precision_requested"):
        opts.precision = meta["precision_requested"]["target"]
        opts.max_replicates = meta["precision_requested"]["ceiling"]
    target = Path(out) if out else Path(folder).resolve().parent.parent
    return run_scenario(sc, target, opts, command)


def _complete(partial: Path, sc: Scenario, meta: dict[str, Any], opts: RunOptions) -> Path:
    workers = meta["workers"] if opts.workers == 0 else opts.workers
    chunk = meta["chunk_size"]
    meta["trace_requested"] = list(opts.trace)
    if opts.precision is not None:
        meta["precision_requested"] = {"target": opts.precision, "ceiling": opts.max_replicates}
    store.write_json(partial / "manifest.json", meta)
    t0 = time.perf_counter()
    total = sc.replicates
    progress = runner.Progress(total, quiet=opts.quiet)
    progress.add(sum(b - a for a, b in store.finished_chunks(partial) if b <= total))
    try:
        runner.execute(
            sc.config, runner.plan_chunks(0, total, chunk), partial, workers, opts.executor, opts.scheduler, progress
        )
        if opts.precision is not None:
            total = _until_precise(sc, partial, meta, opts, chunk, workers, total, progress)
    except KeyboardInterrupt:
        done = len(store.finished_chunks(partial))
        raise RunError(
            f"interrupted: {done} chunk(s) are complete and kept in {partial}\n"
            f"resume with: entente run --resume {partial}"
        ) from None
    except runner.ChunkFailure as exc:
        raise RunError(
            f"replicates {exc.start}-{exc.stop - 1} failed inside the model: {exc.message}\n"
            f"first failing replicate: {exc.replicate} (seed {exc.seed}); the other chunks are kept in {partial}\n"
            f"reproduce it alone with: entente explain {partial} --replicate {exc.replicate}"
        ) from None
    except OSError as exc:
        raise RunError(f"writing the run failed ({exc}); completed chunks are kept in {partial}") from None
    meta["replicates"] = total
    meta["seconds_simulating"] = round(time.perf_counter() - t0, 3)
    _traces(partial, sc, meta, opts)
    meta["status"] = "complete"
    meta["finished"] = store.utc_now()
    store.write_json(partial / "manifest.json", meta)
    if opts.analyse:
        from model.analysis.report import analyse_run

        analyse_run(partial)
    return store.finalize(partial)


def _until_precise(
    sc: Scenario,
    folder: Path,
    meta: dict[str, Any],
    opts: RunOptions,
    chunk: int,
    workers: int,
    total: int,
    progress: runner.Progress,
) -> int:
    kinds = {k: v["kind"] for k, v in {**OUTCOMES, **sc.config.outcome_defs}.items()}
    while True:
        n, widths = runner.binary_halfwidths(folder, sc.outcomes, kinds)
        worst = max(widths.values(), default=0.0)
        met = worst < opts.precision
        if met or total >= opts.max_replicates:
            meta["precision"] = {
                "target": opts.precision,
                "ceiling": opts.max_replicates,
                "replicates": n,
                "achieved": worst,
                "met": met,
                "widths": widths,
            }
            return total
        new_total = min(opts.max_replicates, total * 2)
        progress.total = new_total
        runner.execute(
            sc.config,
            runner.plan_chunks(total, new_total, chunk),
            folder,
            workers,
            opts.executor,
            opts.scheduler,
            progress,
        )
        total = new_total


def pick_replicates(outcomes: dict[str, np.ndarray], by: str = "peak_escalation") -> dict[str, int]:
    """The median replicate and the most extreme one by an outcome (lowest index on ties)."""
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
    from model.analysis.data import read_outcomes
    from model.explain.records import decision_records

    table = read_outcomes(folder)
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
    store.write_text(folder / "decisions.jsonl", "\n".join(lines) + "\n")
    meta["traced"] = traced
