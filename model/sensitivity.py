"""Sensitivity of outcomes to the claims (switch each off) and to the uncertainties (SALib).

Claims: every claim that drives some part of the model (the first claim cited by an
interest, stance, response, grievance or constraint) is switched off in turn; the scenario is
run without it on the same replicates as the full model (common random numbers) and its
paired effect on each outcome is ranked, with 95% intervals, in a table and a tornado plot.

Parameters: Morris screening or Sobol indices over the scenario's uncertainties (including
the disputed values the catalog samples by default), sampled and analysed with SALib. Every
design point is simulated with the same noise stream (replicate 0 of the master seed), so the
indices describe the parameters, not Monte Carlo noise; ``--replicates K`` averages K streams.
"""

from __future__ import annotations

import copy
import csv
import io
import sys
import time
from argparse import Namespace
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis.stats import paired_difference
from model.catalog.glossary import label
from model.engine import Config, simulate
from model.engine.outcomes import OUTCOMES
from model.engine.tables import claim_switches
from model.errors import InputError, did_you_mean
from model.execution import runner
from model.files import new_stamped_folder, safe_component, write_text
from model.scenario import Scenario

DEFAULT_OUTCOMES = [
    "peak_escalation",
    "peak_brent",
    "mean_support_tier",
    "max_support_tier",
    "final_cohesion",
    "weeks_of_war",
]


# ------------------------------------------------------------------ shared helpers
def _outcomes(args: tuple[Config, np.ndarray, dict[str, np.ndarray] | None]) -> dict[str, np.ndarray]:
    config, reps, samples = args
    if samples is not None:
        config = copy.copy(config)
        config.samples = samples
    return simulate(config, reps).outcomes


def _map(
    tasks: list[tuple[Config, np.ndarray, dict[str, np.ndarray] | None]], workers: int, progress: runner.Progress
) -> list[dict[str, np.ndarray]]:
    """Simulate tasks in order, on worker processes when there are several."""
    out: list[dict[str, np.ndarray]] = []
    if workers <= 1 or len(tasks) <= 1:
        for t in tasks:
            out.append(_outcomes(t))
            progress.add(len(t[1]))
        return out
    results: dict[int, dict[str, np.ndarray]] = {}
    with closing(runner.pool_map(_outcomes, None, [(t,) for t in tasks], workers)) as done:  # workers die with us
        for i, res in done:
            results[i] = res
            progress.add(len(tasks[i][1]))
    return [results[i] for i in range(len(tasks))]


def switchable_claims(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Claims whose encoding can be switched off, with the parameter paths each drives."""
    return dict(sorted(claim_switches(spec).items()))


def claims_sensitivity(
    sc: Scenario,
    outcomes: list[str],
    replicates: int,
    workers: int = 1,
    claims: list[str] | None = None,
    quiet: bool = False,
) -> list[dict[str, Any]]:
    """Paired effect on each outcome of switching each claim off, largest first."""
    switches = switchable_claims(sc.config.spec)
    todo = claims or list(switches)
    reps = np.arange(replicates)
    configs = [sc.config] + [_with_claims_off(sc.config, c) for c in todo]
    chunk = max(1, min(replicates, 2000))
    tasks = [(cfg, reps[a:b], None) for cfg in configs for a, b in runner.plan_chunks(0, replicates, chunk)]
    progress = runner.Progress(
        len(tasks) * chunk if replicates >= chunk else len(configs) * replicates, "replicate runs", quiet
    )
    results = _map(tasks, workers, progress)
    per_cfg = len(runner.plan_chunks(0, replicates, chunk))
    merged = []
    for i in range(len(configs)):
        parts = results[i * per_cfg : (i + 1) * per_cfg]
        merged.append({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})
    full = merged[0]
    rows = []
    for claim, res in zip(todo, merged[1:], strict=True):
        for o in outcomes:
            a, b = full[o], res[o]
            if OUTCOMES[o]["kind"] == "event":
                a, b = np.isfinite(a).astype(float), np.isfinite(b).astype(float)
            d = paired_difference(a, b)
            rows.append(
                {
                    "claim": claim,
                    "outcome": o,
                    "effect": d.mean,
                    "low": d.low,
                    "high": d.high,
                    "distinguishable": d.distinguishable,
                    "parts": switches.get(claim, []),
                }
            )
    rows.sort(key=lambda r: -abs(r["effect"]) if np.isfinite(r["effect"]) else 0)
    return rows


def _with_claims_off(config: Config, claim: str) -> Config:
    c = copy.copy(config)
    c.claims_off = frozenset({*config.claims_off, claim})
    return c


# ------------------------------------------------------------------ SALib
def salib_problem(sc: Scenario) -> tuple[dict[str, Any], list[str]]:
    """The SALib problem over the scenario's uncertainties and the catalog's disputed values."""
    spec = sc.config.spec
    uncs = {u.path: (u.dist, u.params) for u in sc.config.uncertainties}
    fixed = set(spec.get("_fixed", []))
    for path, d in spec["world"].get("disputed", {}).items():
        if path not in uncs and path not in fixed:
            uncs[path] = (d["dist"], {k: v for k, v in d.items() if k not in ("dist", "claims", "doc")})
    names, bounds, dists = [], [], []
    for path, (dist, p) in uncs.items():
        if dist == "uniform":
            bounds.append([p["low"], p["high"]])
            dists.append("unif")
        elif dist == "triangular":
            span = p["high"] - p["low"]
            bounds.append([p["low"], p["high"], (p["mode"] - p["low"]) / span if span else 0.5])
            dists.append("triang")
        elif dist == "normal":
            bounds.append([p["low"], p["high"], p["mean"], p["sd"]])
            dists.append("truncnorm")
        else:
            raise InputError.one(
                sc.source,
                f"uncertainty '{path}' uses '{dist}', which global sensitivity does not support (use uniform, triangular or normal)",
            )
        names.append(path)
    if len(names) < 2:
        raise InputError.one(
            sc.source, "global sensitivity needs at least two uncertainties (add some under 'uncertainties:')"
        )
    return {"num_vars": len(names), "names": names, "bounds": bounds, "dists": dists}, names


def design_outcomes(
    sc: Scenario, X: np.ndarray, names: list[str], streams: int, workers: int, quiet: bool = False
) -> dict[str, np.ndarray]:
    """Simulate every row of a design matrix; average over ``streams`` noise streams."""
    n = len(X)
    chunk = max(250, min(5000, int(np.ceil(n / max(1, 4 * workers)))))
    tasks = []
    for s in range(streams):
        for a, b in runner.plan_chunks(0, n, chunk):
            samples = {p: X[a:b, j] for j, p in enumerate(names)}
            tasks.append((sc.config, np.full(b - a, s, dtype=np.int64), samples))
    progress = runner.Progress(n * streams, "design points", quiet)
    results = _map(tasks, workers, progress)
    per = len(runner.plan_chunks(0, n, chunk))
    acc: dict[str, np.ndarray] = {}
    for s in range(streams):
        parts = results[s * per : (s + 1) * per]
        merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        for k, v in merged.items():
            v = (
                np.where(np.isfinite(v), v, sc.horizon * sc.step_days / 7.0 + 1)
                if OUTCOMES[k]["kind"] == "event"
                else v
            )
            acc[k] = acc.get(k, 0.0) + v / streams
    return acc


def global_sensitivity(
    sc: Scenario,
    method: str,
    samples: int,
    outcomes: list[str],
    streams: int,
    workers: int,
    quiet: bool = False,
    second_order: bool = False,
) -> dict[str, Any]:
    """Morris or Sobol indices (SALib) of each outcome with respect to each uncertainty.

    Sobol needs N (D + 2) runs for first and total indices, N (2D + 2) with second order.
    """
    problem, names = salib_problem(sc)
    t0 = time.perf_counter()
    if method == "sobol":
        from SALib.analyze import sobol as analyze  # SALib pulls in scipy and pandas: only when this runs
        from SALib.sample import sobol as sample

        X = sample.sample(problem, samples, calc_second_order=second_order, seed=sc.seed % 2**32)
    else:
        from SALib.analyze import morris as analyze
        from SALib.sample import morris as sample

        X = sample.sample(problem, samples, num_levels=4, seed=sc.seed % 2**32)
    Y = design_outcomes(sc, X, names, streams, workers, quiet)
    t_sim = time.perf_counter() - t0
    result: dict[str, Any] = {
        "method": method,
        "parameters": names,
        "runs": int(len(X) * streams),
        "seconds_simulating": t_sim,
        "indices": {},
    }
    for o in outcomes:
        y = np.asarray(Y[o], dtype=float)
        if np.allclose(y, y[0]):
            rows = [{"parameter": p, "first": 0.0, "first_conf": 0.0, "total": 0.0, "total_conf": 0.0} for p in names]
        elif method == "sobol":
            si = analyze.analyze(
                problem, y, calc_second_order=second_order, seed=sc.seed % 2**32, print_to_console=False
            )
            rows = [
                {
                    "parameter": p,
                    "first": float(si["S1"][i]),
                    "first_conf": float(si["S1_conf"][i]),
                    "total": float(si["ST"][i]),
                    "total_conf": float(si["ST_conf"][i]),
                }
                for i, p in enumerate(names)
            ]
        else:
            si = analyze.analyze(problem, X, y, num_levels=4, seed=sc.seed % 2**32, print_to_console=False)
            rows = [
                {
                    "parameter": p,
                    "first": float(si["mu_star"][i]),
                    "first_conf": float(si["mu_star_conf"][i]),
                    "total": float(si["sigma"][i]),
                    "total_conf": 0.0,
                }
                for i, p in enumerate(names)
            ]
        rows.sort(key=lambda r: -r["total"] if method == "sobol" else -r["first"])
        result["indices"][o] = rows
    result["seconds_total"] = time.perf_counter() - t0
    return result


# ------------------------------------------------------------------ command
def run_sensitivity(sc: Scenario, args: Namespace, out: Path) -> Path:
    """The ``entente sensitivity`` command: compute, then write table, plots and report."""
    outcomes = args.outcome or DEFAULT_OUTCOMES
    for o in outcomes:
        if o not in OUTCOMES:
            raise InputError.one("command line", f"unknown outcome '{o}'{did_you_mean(o, list(OUTCOMES))}")
    workers = args.workers or runner.default_workers()
    kind = "claims" if args.claims else args.method
    folder = new_stamped_folder(out / "sensitivity", f"{safe_component(sc.name)}-{kind}")
    t0 = time.perf_counter()
    lines = [f"# Sensitivity of `{sc.name}` ({kind})", ""]
    if args.claims:
        lines += _claims_report(sc, args, outcomes, workers, folder)
    else:
        lines += _global_report(sc, args, outcomes, workers, folder)
    took = time.perf_counter() - t0
    lines.append(f"Total time: {took:.1f} s.")
    write_text(folder / "report.md", "\n".join(lines) + "\n")
    if not args.quiet:
        sys.stderr.write(f"sensitivity took {took:.1f} s\n")
    return folder


def _claims_report(sc: Scenario, args: Namespace, outcomes: list[str], workers: int, folder: Path) -> list[str]:
    """Switch each claim off; write claims.csv and a tornado plot per outcome; return the report's lines."""
    replicates = args.replicates or min(sc.replicates, 500)
    rows = claims_sensitivity(sc, outcomes, replicates, workers, quiet=args.quiet)
    write_text(folder / "claims.csv", _claims_csv(rows))
    claims = sorted({r["claim"] for r in rows})
    inert = [c for c in claims if not any(r["distinguishable"] for r in rows if r["claim"] == c)]
    lines = [
        f"Each claim that drives part of the model was switched off in turn and the scenario re-run on the same {replicates}"
        " replicates (common random numbers). Effects are paired differences (claim off minus full model) with 95% intervals.",
        "",
    ]
    for o in outcomes:
        lines += _claims_section(sc, o, rows, folder)
    lines += ["## Claims whose removal changes nothing distinguishable", "", ", ".join(inert) or "(none)", ""]
    return lines


def _claims_csv(rows: list[dict[str, Any]]) -> str:
    """claims.csv: every claim's effect on every outcome, with the settings it switches off."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["claim", "outcome", "effect", "low", "high", "distinguishable", "parts"])
    for r in rows:
        w.writerow(
            [
                r["claim"],
                r["outcome"],
                f"{r['effect']:.6g}",
                f"{r['low']:.6g}",
                f"{r['high']:.6g}",
                r["distinguishable"],
                " ".join(r["parts"]),
            ]
        )
    return buf.getvalue()


def _claims_section(sc: Scenario, o: str, rows: list[dict[str, Any]], folder: Path) -> list[str]:
    """One outcome's part of the report: the 15 largest effects as a tornado plot (with its data) and a table."""
    from model.analysis import plots  # matplotlib: loaded only when a report is drawn

    spec = sc.config.spec
    sub = sorted([r for r in rows if r["outcome"] == o], key=lambda r: -abs(r["effect"]))[:15]
    # "settings" are the catalog values a claim drives (its parameter paths), all switched off together
    data = [
        {**r, "label": f"{r['claim']} {label(spec, 'claim', r['claim'])} ({len(r['parts'])} settings off)"} for r in sub
    ]
    unit = OUTCOMES[o]["unit"]
    ol = label(spec, "outcome", o)
    fig = plots.tornado(data, f"{sc.name}: effect of switching each claim off on {ol}", f"change in {ol} ({unit})")
    plots.save(
        fig,
        folder / "plots" / f"tornado_{o}.png",
        {
            "claim": [r["claim"] for r in sub],
            "title": [label(spec, "claim", r["claim"]) for r in sub],
            "effect": [r["effect"] for r in sub],
            "low": [r["low"] for r in sub],
            "high": [r["high"] for r in sub],
            "settings_switched_off": [" ".join(r["parts"]) for r in sub],
        },
    )
    lines = [
        f"## {ol} (`{o}`)",
        "",
        f"![tornado](plots/tornado_{o}.png)",
        "",
        "Each bar switches one claim off: every catalog setting the claim drives (the count in brackets,"
        " listed in claims.csv) is set to its claim-free value at once.",
        "",
        "| claim | effect | 95% interval | distinguishable from zero? |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['claim']} {label(spec, 'claim', r['claim'])} | {r['effect']:+.4g} | [{r['low']:+.4g}, {r['high']:+.4g}]"
        f" | {'yes' if r['distinguishable'] else 'no'} |"
        for r in sub
    ]
    lines.append("")
    return lines


def _global_report(sc: Scenario, args: Namespace, outcomes: list[str], workers: int, folder: Path) -> list[str]:
    """Morris or Sobol indices; write indices.csv and a chart per outcome; return the report's lines."""
    streams = args.replicates or 1
    res = global_sensitivity(
        sc, args.method, args.samples, outcomes, streams, workers, args.quiet, getattr(args, "second_order", False)
    )
    first, total = (
        ("S1 (first order)", "ST (total)")
        if args.method == "sobol"
        else ("mu* (mean |elementary effect|)", "sigma (interactions, non-linearity)")
    )
    _write_indices(sc, args.method, res, first, total, folder)
    lines = [
        f"Method: {args.method} (SALib), base sample N = {args.samples}, {len(res['parameters'])} parameters, {res['runs']} model runs"
        f" of {sc.horizon} steps; simulation took {res['seconds_simulating']:.1f} s, the whole analysis {res['seconds_total']:.1f} s"
        f" on {workers} worker(s).",
        "",
        "Parameters: " + ", ".join(f"`{p}`" for p in res["parameters"]),
        "",
    ]
    for o, rows in res["indices"].items():
        lines += [
            f"## {o}",
            "",
            f"![indices](plots/indices_{o}.png)",
            "",
            f"| parameter | {first} | {total} |",
            "|---|---|---|",
        ]
        lines += [
            f"| {r['parameter']} | {r['first']:.3g} ± {r['first_conf']:.2g} | {r['total']:.3g} ± {r['total_conf']:.2g} |"
            for r in rows
        ]
        lines.append("")
    return lines


def _write_indices(sc: Scenario, method: str, res: dict[str, Any], first: str, total: str, folder: Path) -> None:
    """indices.csv (every outcome and parameter) and one indices chart per outcome."""
    from model.analysis import plots  # matplotlib: loaded only when a report is drawn

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["outcome", "parameter", first, "conf", total, "conf"])
    for o, rows in res["indices"].items():
        for r in rows:
            w.writerow(
                [
                    o,
                    r["parameter"],
                    f"{r['first']:.5g}",
                    f"{r['first_conf']:.5g}",
                    f"{r['total']:.5g}",
                    f"{r['total_conf']:.5g}",
                ]
            )
        fig = plots.indices_chart(rows, f"{sc.name}: {method} indices for {o}", first, total)
        plots.save(fig, folder / "plots" / f"indices_{o}.png")
    write_text(folder / "indices.csv", buf.getvalue())
