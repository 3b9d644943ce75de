"""A run's manifest: what was run, on what, and how to rebuild exactly that scenario from it.

The manifest records the resolved scenario (after ``extends``, levers and command-line options)
with its digest, so ``entente rerun`` and ``entente run --resume`` rebuild the same configuration
without the original files, and refuse a manifest whose scenario was edited.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import model
from model import files
from model.catalog import load_catalog
from model.engine.outcomes import OUTCOMES
from model.errors import InputError, InputIssue
from model.execution import store
from model.execution.host import machine
from model.execution.options import RunOptions, option_issues
from model.execution.variants import apply_overrides
from model.scenario import Scenario, compile_document


def catalog_hash() -> str:
    """A short digest of the catalog as loaded (calibration applied): a run says which data it used."""
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
    """The manifest of a run as it starts: enough to reproduce it, plus the dictionary analysis reads."""
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
