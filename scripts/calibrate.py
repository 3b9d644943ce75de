#!/usr/bin/env python3
"""Calibrate entente's declared parameters against the history questions, with a held-out half.

One model for every episode (issue 18, item 4): no parameter is tuned for one episode. The
script searches only the values the catalog declares calibratable (an entry's
``calibrate: {low, high}``, format in model/catalog/calibration.py), scores every candidate set on
the yes/no questions of a *training* half of the episodes, and reports the score of the chosen
set on the *held-out* half, which played no part in choosing it:

1. **Split.** The episodes (scenario files with ``questions:`` in ``--episodes``, default
   scenarios/history) are shuffled with ``--seed`` and split in two halves (train gets the extra
   one); the split is printed and recorded.
2. **Sample.** ``--samples`` parameter sets (default 200) from a Latin hypercube over the declared
   ranges, plus the catalog's current values (set 0, the reference).
3. **Score on the training half** with ``--replicates`` replicates (default 100) and common random
   numbers: every set runs the same replicate indices, so replicate r meets the same random draws
   under every set and the differences between sets are not noise between sets. The score is
   the Brier score over all training questions (pooled), i.e. the Brier skill against their base
   rate (``model.analysis.score``).
4. **Re-score** the best ``--keep`` sets (default 5) and the catalog's set with
   ``--rescore-replicates`` (default 500) on the training half, and choose the best: few
   replicates pick candidates, more replicates pick the winner (less winner's curse).
5. **Held-out.** Score the chosen set and the catalog's set on the held-out half.
6. **Write** the chosen values to ``--output`` (default model/catalog/calibration.yaml, the
   overlay the catalog loader applies on top of the YAML catalog), with a header naming the run
   (date, sample size, train and held-out episodes and scores), and regenerate the reference
   tables of docs/model.md, where each value's provenance then reads
   "calibrated: scripts/calibrate.py (...)". ``--dry-run`` writes nothing.

Why a held-out half: a search over many sets can fit the training questions' noise; the
held-out score is what the calibration is worth on episodes it has not seen (and the model is
scored later on episodes that are not in the repository at all).

``--param PATH=LOW:HIGH`` adds (or narrows) a dimension for a trial; the catalog's overlay may hold
declared values only, so a run with such a dimension writes only with ``--output`` elsewhere or
``--dry-run``. Scenario-fixed or scenario-sampled paths keep the scenario's value in that episode
(a history scenario sets state, never behaviour), and disputed values stay sampled.

Examples::

    python scripts/calibrate.py                                  # defaults: 200 sets x 100 replicates
    python scripts/calibrate.py --samples 400 --keep 8 --seed 7
    python scripts/calibrate.py --param world.grievance_discharge=0.5:1 --dry-run

Runs in a few minutes on two cores with the defaults (it prints its progress). Exit codes: 0 done,
2 bad input (one located line per problem), 1 anything else.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import math
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable from a checkout without installing
    sys.path.insert(0, str(ROOT))

from model import catalog  # noqa: E402
from model.analysis import score  # noqa: E402
from model.errors import InputError, InputIssue  # noqa: E402

SOURCE = "scripts/calibrate.py"


# ------------------------------------------------------------------ inputs
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="calibrate.py",
        description="Calibrate the catalog's declared parameters on a training half of the history episodes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Examples::")[1] if __doc__ else None,
    )
    p.add_argument("--episodes", default=str(ROOT / "scenarios" / "history"), help="folder (or file) of episodes")
    p.add_argument("--samples", type=int, default=200, help="parameter sets sampled (default 200)")
    p.add_argument("--replicates", type=int, default=100, help="replicates per set and episode (default 100)")
    p.add_argument("--keep", type=int, default=5, help="best sets re-scored (default 5)")
    p.add_argument("--rescore-replicates", type=int, default=500, help="replicates when re-scoring (default 500)")
    p.add_argument("--seed", type=int, default=1, help="seed of the split, the sample and the bootstrap (default 1)")
    p.add_argument("--workers", type=int, default=0, help="worker processes (default: all cores)")
    p.add_argument("--batch", type=int, default=2500, help="replicates simulated at once (memory; default 2500)")
    p.add_argument("--param", action="append", default=[], metavar="PATH=LOW:HIGH", help="a trial dimension")
    p.add_argument(
        "--only",
        default="",
        metavar="PATH,PATH",
        help="search only these declared or trial dimensions (the rest keep their values)",
    )
    p.add_argument(
        "--method",
        choices=("coordinate", "sample"),
        default="coordinate",
        help="coordinate: move one value at a time from the catalog's stated values while the training score "
        "improves by more than --min-gain (default); sample: the best of a Latin hypercube",
    )
    p.add_argument("--rounds", type=int, default=4, help="coordinate: rounds of one-at-a-time moves (default 4)")
    p.add_argument("--grid", type=int, default=6, help="coordinate: values tried per dimension and round (default 6)")
    p.add_argument(
        "--min-gain",
        type=float,
        default=0.001,
        help="coordinate: the least fall of the training Brier score that moves a value (default 0.001)",
    )
    p.add_argument(
        "--min-z",
        type=float,
        default=1.0,
        help="coordinate: a move must also gain this many standard errors of its paired difference, "
        "clustered by episode (default 1; 0 turns the test off)",
    )
    p.add_argument(
        "--fit-all",
        action="store_true",
        help="after scoring the split, search again on every episode and write those values (the held-out "
        "score then measures the procedure, not the written values)",
    )
    p.add_argument("--output", default=str(catalog.CALIBRATION), help="overlay to write (default: the catalog's)")
    p.add_argument("--dry-run", action="store_true", help="print the result, write nothing")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p.parse_args(argv)


def check_counts(args: argparse.Namespace) -> None:
    issues = []
    for name, lo, hi in (("samples", 1, 100_000), ("replicates", 1, 100_000), ("keep", 1, 1000),
                         ("rescore_replicates", 1, 1_000_000), ("batch", 1, 1_000_000), ("workers", 0, 256),
                         ("seed", 0, 2**63 - 1)):  # fmt: skip
        v = getattr(args, name)
        if not lo <= v <= hi:
            issues.append(
                InputIssue(
                    "command line", None, None, f"--{name.replace('_', '-')}", f"must lie in {lo}..{hi}, found {v}"
                )
            )
    if issues:
        raise InputError(issues)


def search_space(spec: dict[str, Any], params: list[str]) -> tuple[dict[str, tuple[float, float]], set[str]]:
    """The declared space, with trial dimensions (``--param``) added or narrowed; and which paths are trials."""
    from model.engine.config import samplable_paths
    from model.scenario import ranges

    space = dict(catalog.calibration_space(spec))
    trial: set[str] = set()
    issues = []
    samplable = set(samplable_paths(spec))
    disputed = set(spec["world"].get("disputed", {}))
    for text in params:
        where = f"--param {text}"
        path, _, rng = text.partition("=")
        lo_text, _, hi_text = rng.partition(":")
        try:
            lo, hi = float(lo_text), float(hi_text)
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError
        except ValueError:
            issues.append(InputIssue(where, None, None, "", "expected PATH=LOW:HIGH with numbers LOW < HIGH"))
            continue
        if path not in samplable:
            from model.errors import did_you_mean

            issues.append(
                InputIssue(
                    where, None, None, "", f"unknown parameter path '{path}'{did_you_mean(path, sorted(samplable))}"
                )
            )
            continue
        if path in disputed:
            issues.append(
                InputIssue(
                    where, None, None, "", "a disputed value stays sampled per replicate; it cannot be calibrated"
                )
            )
            continue
        for end in (lo, hi):
            problem = ranges.check(spec, path, end)
            if problem:
                issues.append(InputIssue(where, None, None, "", problem))
        if path not in space:
            trial.add(path)
        space[path] = (lo, hi)
    if issues:
        raise InputError(issues)
    if not space:
        raise InputError.one(
            "catalog",
            "no parameter is declared calibratable: add calibrate: {low: .., high: ..} to catalog entries "
            "(model/catalog/calibration.py describes the format), or try a dimension with --param PATH=LOW:HIGH",
        )
    return space, trial


def load_episodes(where: str) -> list[Any]:
    from model.execution.check import scenario_files
    from model.scenario import load_scenario

    episodes, issues = [], []
    for f in scenario_files([where], "calibrate"):
        try:
            sc = load_scenario(f)
        except InputError as exc:
            issues += exc.issues
            continue
        if sc.questions:
            episodes.append(sc)
    if issues:
        raise InputError(issues)
    if len(episodes) < 2:
        raise InputError.one(
            where,
            f"calibration needs at least two episodes with questions (a train and a held-out half); found {len(episodes)}",
        )
    return episodes


def split(names: list[str], seed: int) -> tuple[list[str], list[str]]:
    """Train and held-out halves, deterministic from the seed (train gets the odd one)."""
    order = [str(n) for n in np.random.default_rng(seed).permutation(sorted(names))]
    k = math.ceil(len(order) / 2)
    return sorted(order[:k]), sorted(order[k:])


def design(space: dict[str, tuple[float, float]], samples: int, seed: int, current: list[float]) -> np.ndarray:
    """Set 0: the catalog's current values; then a Latin hypercube over the ranges (sets x dimensions)."""
    from scipy.stats import qmc

    lows = np.array([lo for lo, _ in space.values()])
    highs = np.array([hi for _, hi in space.values()])
    u = qmc.LatinHypercube(d=len(space), seed=seed).random(samples)
    return np.vstack([np.asarray(current, dtype=float), lows + u * (highs - lows)])


def paired_gain(errors: np.ndarray, a: int, b: int, clusters: np.ndarray | None = None) -> tuple[float, float]:
    """How much set ``b`` lowers set ``a``'s Brier score, and the standard error of that fall.

    Why paired and clustered: both sets ran on common random numbers over the same questions, so
    the per-question differences carry the comparison, and questions of one episode share its
    timeline (they move together), so the error is computed over episodes, not over questions. A
    gain carried by one or two questions has a large error: that is what over-fits a search.

    Args:
        errors: squared errors, (sets x questions).
        a: the set moved from.
        b: the set moved to.
        clusters: each question's episode (any labels); None treats questions as independent.

    Returns:
        (gain, standard error): mean of errors[a] - errors[b], and its cluster-robust standard error.
    """
    d = np.asarray(errors[a], dtype=float) - np.asarray(errors[b], dtype=float)
    n = d.size
    gain = float(d.mean())
    if clusters is None:
        clusters = np.arange(n)
    labels, inv = np.unique(clusters, return_inverse=True)
    g = labels.size
    if g < 2:
        return gain, float("inf")
    sums = np.bincount(inv, weights=d - gain, minlength=g)
    return gain, float(np.sqrt(g / (g - 1) * np.sum(sums**2)) / n)


def coordinate_search(
    score_sets: Any,
    space: dict[str, tuple[float, float]],
    start: np.ndarray,
    rounds: int,
    grid: int,
    min_gain: float,
    say: Any,
    min_z: float = 0.0,
    clusters: np.ndarray | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Move values one dimension at a time from ``start`` (the catalog's stated values) while the score improves.

    Why not the best point of a random sample: with dozens of dimensions and a hundred questions, a
    random point that scores best carries random values for every parameter the questions do not
    inform, and those hurt on episodes it has not seen. Here a value leaves its stated assumption
    only when moving it lowers the training Brier score by more than ``min_gain`` (with common
    random numbers, so the difference is not noise between sets): what the questions cannot tell
    stays where the catalog's reasoning put it.

    Each round scores the current set and, for every dimension, ``grid`` values spread over its
    range (the others held). The moves that gain more than ``min_gain`` and more than ``min_z`` standard
    errors of their paired, episode-clustered difference (``paired_gain``) are ranked; moves interact,
    so the round then scores their cumulative combinations (the best move, the best two, ...) and
    keeps the best combination that passes the same test against the round's start.

    ``score_sets`` returns each set's squared error per question (sets x questions).
    """
    dims = list(space)
    x = np.asarray(start, dtype=float).copy()
    history: list[dict[str, Any]] = []
    for r in range(rounds):
        sets, owner = [x.copy()], [-1]
        for j, p in enumerate(dims):
            lo, hi = space[p]
            for v in np.linspace(lo, hi, grid):
                if abs(v - x[j]) > 1e-9 * max(1.0, abs(hi - lo)):
                    s = x.copy()
                    s[j] = v
                    sets.append(s)
                    owner.append(j)
        E = np.asarray(score_sets(np.array(sets), f"round {r + 1}"), dtype=float)
        b = E.mean(axis=1)

        def passes(errs: np.ndarray, k: int) -> bool:
            g, se = paired_gain(errs, 0, k, clusters)
            return g > min_gain and g > min_z * se

        base = float(b[0])
        best_per_dim: dict[int, tuple[float, int]] = {}
        for k in range(1, len(sets)):
            j = owner[k]
            if j not in best_per_dim or b[k] < best_per_dim[j][0]:
                best_per_dim[j] = (float(b[k]), k)
        gains, rejected = [], 0
        for j, (bk, k) in best_per_dim.items():
            if passes(E, k):
                gains.append((base - bk, j, k))
            elif base - bk > min_gain:
                rejected += 1
        gains.sort(reverse=True)
        if not gains:
            say(f"  round {r + 1}: Brier {base:.4f}; no move gains more than {min_gain:g} and {min_z:g} standard "
                f"errors ({rejected} smaller than their error): done")  # fmt: skip
            history.append({"round": r + 1, "brier": base, "moves": {}, "rejected_as_noise": rejected})
            break
        combos, c = [], x.copy()
        for _, j, k in gains[:12]:
            c = c.copy()
            c[j] = sets[k][j]
            combos.append(c)
        Ec = np.asarray(score_sets(np.array([x, *combos]), f"round {r + 1} combinations"), dtype=float)
        bc_all = Ec.mean(axis=1)
        base = float(bc_all[0])  # the start re-scored beside its combinations (common random numbers)
        bc = bc_all[1:]
        m = int(np.argmin(bc))
        new = combos[m]
        ok = passes(Ec, m + 1)
        moves = {
            dims[j]: {"from": float(x[j]), "to": float(new[j]), "gain_alone": round(g, 5)} for g, j, _ in gains[: m + 1]
        }
        say(f"  round {r + 1}: Brier {base:.4f} -> {bc[m]:.4f} with {m + 1} of {len(gains)} moves: "
            + ", ".join(f"{p} {mv['from']:.4g} -> {mv['to']:.4g}" for p, mv in moves.items()))  # fmt: skip
        history.append(
            {"round": r + 1, "brier": base, "after": float(bc[m]), "moves": moves, "rejected_as_noise": rejected}
        )
        if not ok:
            say(f"  round {r + 1}: the best combination does not pass ({min_z:g} standard errors): kept the start")
            break
        x = new
    return x, history


# ------------------------------------------------------------------ simulation
def _batch(shared: dict[str, Any], name: str, k0: int, k1: int, replicates: int) -> tuple[str, int, np.ndarray]:
    """Question probabilities of sets k0..k1-1 in one episode: (k1 - k0) x questions."""
    from model.engine import simulate

    sc, paths, X = shared["episodes"][name], shared["paths"][name], shared["X"]
    cfg = copy.copy(sc.config)
    k = k1 - k0
    cfg.samples = {}
    for j, p in paths:
        v = np.repeat(X[k0:k1, j], replicates)
        spread, (lo_c, hi_c) = shared["spread"].get(p, 0.0), shared["space"][p]
        if spread:  # drawn per replicate around the set's value, as the engine draws it (structural uncertainty)
            lo = np.maximum(np.minimum(v * (1 - spread), v * (1 + spread)), lo_c)
            hi = np.minimum(np.maximum(v * (1 - spread), v * (1 + spread)), hi_c)
            u = np.tile(np.random.default_rng(zlib.crc32(p.encode())).random(replicates), k)  # the same draws per set
            v = lo + u * np.maximum(hi - lo, 0.0)
        cfg.samples[p] = v
    res = simulate(cfg, np.tile(np.arange(replicates), k))  # common random numbers: the same replicates per set
    cols = [np.nan_to_num(res.outcomes[q.column], nan=0.0).reshape(k, replicates) != 0 for q in sc.questions]
    return name, k0, np.stack([c.mean(axis=1) for c in cols], axis=1)


def probabilities(
    episodes: dict[str, Any],
    X: np.ndarray,
    dims: list[str],
    replicates: int,
    workers: int,
    batch: int,
    label: str,
    quiet: bool,
) -> dict[str, np.ndarray]:
    """Each episode's question probabilities under every set (rows of X): name -> sets x questions."""
    from model.execution import runner

    paths = {}
    for name, sc in episodes.items():
        kept = set(sc.config.spec.get("_fixed", ())) | {u.path for u in sc.config.uncertainties}
        paths[name] = [(j, p) for j, p in enumerate(dims) if p not in kept]  # the scenario's own value wins
    spec = next(iter(episodes.values())).config.spec
    spreads = {
        p: float(d["spread"])
        for p, (_, _, _, d) in catalog.calibration_nodes(spec).items()
        if isinstance(d, dict) and d.get("spread")
    }
    space = {p: catalog.calibration_space(spec).get(p, (-np.inf, np.inf)) for p in dims}
    shared = {"episodes": episodes, "paths": paths, "X": X, "spread": spreads, "space": space}
    per = max(1, batch // replicates)
    tasks = [(name, k0, min(k0 + per, len(X)), replicates) for name in episodes for k0 in range(0, len(X), per)]
    out = {name: np.zeros((len(X), len(sc.questions))) for name, sc in episodes.items()}
    t0 = time.perf_counter()
    workers = workers or runner.default_workers()
    results = (
        ((i, _batch(shared, *t)) for i, t in enumerate(tasks))
        if workers <= 1 or len(tasks) <= 1
        else runner.pool_map(_batch, shared, tasks, workers)
    )
    for done, (_, (name, k0, probs)) in enumerate(results, start=1):
        out[name][k0 : k0 + len(probs)] = probs
        if not quiet and (done == len(tasks) or done % max(1, len(tasks) // 10) == 0):
            sys.stderr.write(
                f"  {label}: {done}/{len(tasks)} batches ({len(X)} sets x {replicates} replicates x "
                f"{len(episodes)} episodes), {time.perf_counter() - t0:.1f} s\n"
            )
    return out


def pooled(probs: dict[str, np.ndarray], episodes: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """All questions of the episodes side by side: (sets x questions) probabilities and the resolutions."""
    names = sorted(probs)
    P = np.concatenate([probs[n] for n in names], axis=1)
    y = np.array([q.resolution for n in names for q in episodes[n].questions], dtype=float)
    return P, y


def clusters(episodes: dict[str, Any]) -> np.ndarray:
    """Each pooled question's episode, in ``pooled``'s order (the clusters of ``paired_gain``)."""
    names = sorted(episodes)
    return np.array([n for n in names for _ in episodes[n].questions])


def families(episodes: dict[str, Any]) -> np.ndarray:
    """Each pooled question's family (model.analysis.score.question_family), in ``pooled``'s order."""
    from model.analysis import score

    names = sorted(episodes)
    return np.array(
        [
            score.question_family("chose" if q.chose is not None else "when", q.expression)
            for n in names
            for q in episodes[n].questions
        ]
    )


def brier_per_set(P: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.mean((P - y[None, :]) ** 2, axis=1)


def scores(p: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    s = score.summarise(p, y, seed=seed)
    return {
        k: v for k, v in s.as_dict().items() if k in ("n", "yes", "brier", "log", "skill", "skill_low", "skill_high")
    }


# ------------------------------------------------------------------ output
def jeffreys(P: np.ndarray, n: int) -> np.ndarray:
    """Shares of n replicates as the scorer states them: exactly 0 or 1 becomes (k + 1/2) / (n + 1)."""
    P = np.asarray(P, dtype=float)
    return np.where((P <= 0) | (P >= 1), (np.round(P * n) + 0.5) / (n + 1), P)


def _pairs(recal: dict[str, tuple[float, ...]]) -> dict[str, dict[str, float]]:
    """A recalibration per family as the overlay writes it: {family: {shift, slope, hedge, base}}."""
    from model.analysis import score

    return {
        f: {k: round(float(v), 4) for k, v in zip(score.RECAL_KEYS, score.as_recal(recal)[f], strict=True)}
        for f in recal
    }


def _pairs_text(recal: Any) -> str:
    from model.analysis import score

    rc = score.as_recal(recal)
    return "; ".join(f"{f}: {score.recal_text(rc[f])}" for f in score.FAMILIES)


def overlay_text(run: dict[str, Any], values: dict[str, float], forecast: dict[str, Any] | None = None) -> str:
    import yaml

    tr, ho = run["train_score"], run["held_out_score"]
    header = [
        f"# Calibrated values, written by {SOURCE} on {run['date']}; the catalog loader",
        "# (model/catalog/calibration.py) applies them on top of the YAML catalog. Do not edit by hand: re-run the script.",
        (
            f"# Sample: {run['samples']} parameter sets x {run['replicates']} replicates (Latin hypercube, seed {run['seed']}),"
            if run.get("method") == "sample"
            else f"# Coordinate search from the catalog's stated values, {run['replicates']} replicates per set (a value moves"
            " only when it lowers the training Brier score),"
        ),
        f"# the chosen set and the previous values re-scored with {run['rescored']['replicates']} replicates"
        + ("; the written values: the same search on every episode (--fit-all)." if run.get("fit_all") else "."),
        f"# Train ({len(run['train'])}): {', '.join(run['train'])}: Brier {_f(tr['brier'])}, skill {_f(tr['skill'])}"
        f" (catalog values: {_f(run['catalog_train_score']['brier'])}, {_f(run['catalog_train_score']['skill'])}).",
        f"# Held out ({len(run['held_out'])}): {', '.join(run['held_out'])}: Brier {_f(ho['brier'])}, skill {_f(ho['skill'])}"
        f" (catalog values: {_f(run['catalog_held_out_score']['brier'])}, {_f(run['catalog_held_out_score']['skill'])}).",
    ]
    doc: dict[str, Any] = {"run": run, "values": values}
    if forecast is not None:
        fr = run.get("forecast") or {}
        ft = (fr.get("fitted_on_train") or {}) if isinstance(fr, dict) else {}
        hs = (fr.get("held_out_score") or {}) if isinstance(fr, dict) else {}
        header.append(
            f"# Forecast recalibration (P = (1 - hedge) logistic(shift + slope logit share) + hedge base, per question"
            " family), fitted on the training"
            f" half: {_pairs_text(ft)}; held out: Brier {_f(hs.get('brier'))}, skill "
            f"{_f(hs.get('skill'))}; written (fitted on every episode): {_pairs_text(forecast)}."
        )
        doc["forecast"] = forecast
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)
    return "\n".join(header) + "\n" + body


def _f(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, int | float) and math.isfinite(x) else str(x)


def regenerate_docs() -> None:
    from model.catalog import docs

    catalog._load_raw.cache_clear()
    path = ROOT / "docs" / "model.md"
    path.write_text(docs.render(path.read_text()))


# ------------------------------------------------------------------ main
def run(args: argparse.Namespace) -> int:
    check_counts(args)
    spec = catalog.load_catalog()
    space, trial = search_space(spec, args.param)
    if args.only:
        wanted = [p.strip() for p in args.only.split(",") if p.strip()]
        unknown = [p for p in wanted if p not in space]
        if unknown:
            from model.errors import did_you_mean

            raise InputError(
                [
                    InputIssue(
                        "--only",
                        None,
                        None,
                        "",
                        f"'{p}' is not a declared or trial dimension{did_you_mean(p, sorted(space))}",
                    )
                    for p in unknown
                ]
            )
        space = {p: space[p] for p in wanted}
    dims = list(space)
    from model.engine.config import get_value

    current = [float(get_value(spec, p)) for p in dims]
    current = [min(max(v, space[p][0]), space[p][1]) for v, p in zip(current, dims, strict=True)]
    out_path = Path(args.output)
    writes_catalog = out_path.resolve() == catalog.CALIBRATION.resolve()
    if trial and writes_catalog and not args.dry_run:
        raise InputError.one(
            "--param",
            f"{', '.join(sorted(trial))} {'is' if len(trial) == 1 else 'are'} not declared calibratable: the catalog's "
            "overlay holds declared values only; add --dry-run or --output elsewhere for a trial",
        )
    episodes = {sc.name: sc for sc in load_episodes(args.episodes)}
    train, held = split(list(episodes), args.seed)
    say = (lambda *a: None) if args.quiet else (lambda m: sys.stderr.write(m + "\n"))
    say(
        f"calibrating {len(dims)} parameters: " + ", ".join(f"{p} in [{lo:g}, {hi:g}]" for p, (lo, hi) in space.items())
    )
    say(f"train ({len(train)}): {', '.join(train)}")
    say(f"held out ({len(held)}): {', '.join(held)}")
    t0 = time.perf_counter()
    tr_eps = {n: episodes[n] for n in train}
    ho_eps = {n: episodes[n] for n in held}

    def scorer(eps: dict[str, Any]) -> Any:
        def score_sets(Xs: np.ndarray, label: str) -> np.ndarray:
            P, y = pooled(
                probabilities(eps, Xs, dims, args.replicates, args.workers, args.batch, label, args.quiet), eps
            )
            return (P - y[None, :]) ** 2  # per question: the search tests each move against its paired error

        return score_sets

    def search(eps: dict[str, Any]) -> tuple[np.ndarray, list[dict[str, Any]]]:
        return coordinate_search(
            scorer(eps), space, np.array(start), args.rounds, args.grid, args.min_gain, say, args.min_z, clusters(eps)
        )

    stated = catalog.load_catalog(calibrated=False)
    start = [min(max(float(get_value(stated, p)), space[p][0]), space[p][1]) for p in dims]
    history: dict[str, Any] = {}
    if args.method == "coordinate":
        say("coordinate search on the training episodes, from the catalog's stated values")
        found, history["train"] = search(tr_eps)
        X = np.vstack([current, found])
        candidates, best = [0, 1], [1]
        P2, y2 = pooled(
            probabilities(tr_eps, X, dims, args.rescore_replicates, args.workers, args.batch, "re-score", args.quiet),
            tr_eps,
        )
        second = brier_per_set(P2, y2)
        win = 1
    else:
        X = design(space, args.samples, args.seed, current)
        candidates, best, P2, y2, second, win = sample_search(tr_eps, X, dims, args, say)
    Xh = X[[0, candidates[win]]]
    P3, y3 = pooled(
        probabilities(ho_eps, Xh, dims, args.rescore_replicates, args.workers, args.batch, "held out", args.quiet),
        ho_eps,
    )
    chosen = {p: float(f"{X[candidates[win], j]:.6g}") for j, p in enumerate(dims)}
    # the forecast recalibration: fitted on the training half's questions at the chosen set, measured on the held-out half
    n_re = args.rescore_replicates
    f2, f3 = families(tr_eps), families(ho_eps)
    recal_train = score.fit_recalibration_by_family(jeffreys(P2[win], n_re), y2, f2)
    recal_held = score.recalibrate_by_family(jeffreys(P3[1], n_re), f3, recal_train)
    recal = recal_train
    if args.fit_all:
        say("coordinate search on every episode (--fit-all), from the catalog's stated values")
        all_eps = {**tr_eps, **ho_eps}
        final, history["all"] = search(all_eps)
        chosen = {p: float(f"{final[j]:.6g}") for j, p in enumerate(dims)}
        Pa, ya = pooled(
            probabilities(all_eps, final[None, :], dims, n_re, args.workers, args.batch, "recalibration", args.quiet),
            all_eps,
        )
        recal = score.fit_recalibration_by_family(jeffreys(Pa[0], n_re), ya, families(all_eps))
    run_record = {
        "script": SOURCE,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "command": " ".join(["python", SOURCE, *sys.argv[1:]]) if sys.argv[0].endswith("calibrate.py") else SOURCE,
        "method": args.method,
        "seed": args.seed,
        "samples": args.samples if args.method == "sample" else None,
        "replicates": args.replicates,
        "rescored": {"sets": len(best), "replicates": args.rescore_replicates},
        "chosen_set": candidates[win],
        "fit_all": bool(args.fit_all),
        "search": history,
        "train": train,
        "held_out": held,
        "train_score": scores(P2[win], y2, args.seed),
        "held_out_score": scores(P3[1], y3, args.seed),
        "catalog_train_score": scores(P2[0], y2, args.seed),
        "catalog_held_out_score": scores(P3[0], y3, args.seed),
        "forecast": {
            "fitted_on_train": _pairs(recal_train),
            "train_score": scores(score.recalibrate_by_family(jeffreys(P2[win], n_re), f2, recal_train), y2, args.seed),
            "held_out_score": scores(recal_held, y3, args.seed),
            "written": _pairs(recal),
        },
        "previous": {p: float(get_value(spec, p)) for p in dims},
        "stated": {p: float(v) for p, v in zip(dims, start, strict=True)},
        "ranges": {p: [lo, hi] for p, (lo, hi) in space.items()},
        "seconds": round(time.perf_counter() - t0, 1),
    }

    print(f"{'parameter':<50} {'catalog':>10} {'chosen':>10}  range")
    for p in dims:
        print(f"{p:<50} {run_record['previous'][p]:>10.4g} {chosen[p]:>10.4g}  [{space[p][0]:g}, {space[p][1]:g}]")
    for key, label in (("train", "train"), ("held_out", "held out")):
        new, old = run_record[f"{key}_score"], run_record[f"catalog_{key}_score"]
        print(
            f"{label} ({len(run_record[key])} episodes, {new['n']} questions): Brier {_f(new['brier'])} (catalog values "
            f"{_f(old['brier'])}), skill {_f(new['skill'])} (catalog values {_f(old['skill'])}), log score {_f(new['log'])}"
        )
    fr = run_record["forecast"]
    print(
        f"forecast recalibration fitted on the training half: {_pairs_text(recal_train)}; "
        f"held out: Brier {_f(fr['held_out_score']['brier'])}, skill {_f(fr['held_out_score']['skill'])} "
        f"(ensemble shares: {_f(run_record['held_out_score']['skill'])}); written: {_pairs_text(recal)}"
    )
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    out_path.parent.mkdir(parents=True, exist_ok=True)
    run_record = {
        k: (v if not isinstance(v, dict) else {a: score._finite_or_text(b) for a, b in v.items()})
        for k, v in run_record.items()
    }
    out_path.write_text(overlay_text(run_record, chosen, _pairs(recal)), encoding="utf-8")
    print(f"wrote {out_path}")
    if writes_catalog:
        regenerate_docs()
        catalog.load_catalog()  # the overlay must load (declared, in range)
        print("regenerated the reference tables of docs/model.md (provenance: calibrated: scripts/calibrate.py (...))")
    return 0


def sample_search(tr_eps: dict[str, Any], X: np.ndarray, dims: list[str], args: argparse.Namespace, say: Any) -> tuple:
    """The best of a Latin hypercube on the training episodes, its few best re-scored with more replicates."""
    P, y = pooled(
        probabilities(tr_eps, X, dims, args.replicates, args.workers, args.batch, "sample", args.quiet), tr_eps
    )
    first = brier_per_set(P, y)
    best = [int(k) for k in np.argsort(first, kind="stable") if k != 0][: args.keep]
    candidates = [0, *best]
    say(f"best {len(best)} of {args.samples} sets by Brier on the training questions: "
        + ", ".join(f"#{k} {first[k]:.4f}" for k in best) + f" (catalog values: {first[0]:.4f})")  # fmt: skip
    Xc = X[candidates]
    P2, y2 = pooled(
        probabilities(tr_eps, Xc, dims, args.rescore_replicates, args.workers, args.batch, "re-score", args.quiet),
        tr_eps,
    )
    second = brier_per_set(P2, y2)
    win = int(np.argmin(second))
    say(
        f"re-scored with {args.rescore_replicates} replicates: "
        + ", ".join(f"#{k} {b:.4f}" for k, b in zip(candidates, second, strict=True))
    )
    return candidates, best, P2, y2, second, win


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code not in (0, None) else 0
    try:
        return run(args)
    except InputError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("calibrate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
