"""Forecast scores: the model's probabilities for yes/no questions against what happened.

A model earns trust the way forecasters do: scored with proper scoring rules, on many
questions, against a simple reference. This module reads run folders only (the questions and
their outcome columns are in each run's manifest and outcome table) and computes

* the **Brier score**, the mean of (p - y)^2 (0 is perfect, 0.25 is always saying 50%);
* the **log score**, the mean log-likelihood of what happened, mean(y ln p + (1 - y) ln(1 - p)):
  a certain answer that turned out wrong gives -inf, reported as such (never clipped), because
  that is what a proper scoring rule says of a forecaster who was certain and wrong;
* the **Brier skill score** against the base rate of the question set: the reference forecaster
  says the set's share of yes answers ȳ for every question, so BS_ref = ȳ(1 - ȳ) and
  skill = 1 - BS / BS_ref (0 for the reference itself, 1 for a perfect forecaster, negative for
  worse than the base rate). Per episode the reference is the same forecaster (the whole set's
  ȳ), so an episode whose questions all resolved alike still has a reference;
* percentile **bootstrap intervals** over questions (the reference's ȳ is refitted in every
  resample, as it would be on another question set).

It also classifies certain answers (honest probabilities): an ensemble share of exactly 0 or 1 is
**by construction** when the inert control (nobody decides) and the random control (any feasible
option) give the same answer, so that the scenario's events, constraints or the model's structure
force it; any other is **unforced** and flagged, and stated as (k + 1/2) / (n + 1) (``stated``):
n replicates can show an outcome is rare, never that it is impossible. The pure functions are
tested on hand-computed examples; the writer turns a scorecard into ``scorecard.md``,
``scores.csv``, ``scores.json`` and ``reliability.png``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis import data
from model.analysis.stats import wilson
from model.files import safe_component, utc_now, utc_stamp, write_json, write_text

CONTROLS = ("inert", "hawk", "random")
FORECASTERS = {
    "model": "model",
    "ensemble": "model's ensemble share, not recalibrated",
    "inert": "inert control (nobody decides)",
    "hawk": "hawk control (most escalatory option)",
    "random": "random control (any feasible option)",
    "constant": "constant forecaster (the base rate)",
}
BY_CONSTRUCTION = "by construction"
UNFORCED = "unforced certainty"
RESAMPLES = 2000
LEVEL = 0.95


# ------------------------------------------------------------------ scoring rules (pure)
def brier(p: Any, y: Any) -> float:
    """Mean squared difference between probabilities and outcomes (0/1); NaN for no questions."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(p) else float("nan")


def log_likelihoods(p: Any, y: Any) -> np.ndarray:
    """The log-likelihood of each outcome: ln p for a yes, ln(1 - p) for a no (-inf if certain and wrong)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=bool)
    with np.errstate(divide="ignore"):
        return np.where(y, np.log(p), np.log1p(-p))


def log_score(p: Any, y: Any) -> float:
    """Mean log-likelihood of what happened (higher is better; -inf if any certain answer was wrong)."""
    ll = log_likelihoods(p, y)
    return float(np.mean(ll)) if len(ll) else float("nan")


def base_rate(y: Any) -> float:
    """Share of questions that resolved yes."""
    y = np.asarray(y, dtype=float)
    return float(np.mean(y)) if len(y) else float("nan")


def reference_brier(y: Any, rate: float | None = None) -> float:
    """The Brier score of the constant forecaster at ``rate`` (default the set's own: ȳ(1 - ȳ))."""
    y = np.asarray(y, dtype=float)
    if rate is None:
        r = base_rate(y)
        return r * (1.0 - r)
    return brier(np.full(len(y), rate), y)


def skill(bs: float, ref: float) -> float:
    """Brier skill 1 - BS / BS_ref; NaN when the reference is perfect (every question resolved alike)."""
    return 1.0 - bs / ref if ref > 0 and np.isfinite(bs) else float("nan")


@dataclass(frozen=True)
class Summary:
    """Scores of one forecaster on one set of questions, with bootstrap intervals."""

    n: int
    yes: int
    brier: float
    log: float
    skill: float
    reference: float  # the constant forecaster's Brier score on these questions
    brier_low: float = float("nan")
    brier_high: float = float("nan")
    skill_low: float = float("nan")
    skill_high: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {k: _finite_or_text(v) for k, v in self.__dict__.items()}


def _finite_or_text(v: Any) -> Any:
    """JSON has no -inf: a non-finite score is written as text ("-inf", "nan")."""
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v


def summarise(
    p: Any,
    y: Any,
    rate: float | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
    constant: bool = False,
) -> Summary:
    """Brier, log score and skill of forecasts ``p`` for outcomes ``y``, with bootstrap intervals.

    Args:
        p: probabilities, one per question.
        y: what happened (1 yes, 0 no).
        rate: the constant forecaster's rate; None uses the set's own base rate (refitted in
            every resample), a number keeps it fixed (an episode scored against the whole set).
        resamples: bootstrap resamples over questions (0 for none).
        seed: the bootstrap's seed (the intervals are reproducible).
        level: the intervals' coverage.
        constant: ``p`` is the constant forecaster itself, which says each resample's own base
            rate (its skill is 0 in every resample, as on the set).
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    n = len(p)
    bs = brier(p, y)
    ref = reference_brier(y, rate)
    out = {"n": n, "yes": int(y.sum()), "brier": bs, "log": log_score(p, y), "skill": skill(bs, ref), "reference": ref}
    if n and resamples > 0:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(resamples, n))
        pb, yb = p[idx], y[idx]
        if constant:
            pb = np.broadcast_to(yb.mean(axis=1, keepdims=True), yb.shape)
        bs_b = np.mean((pb - yb) ** 2, axis=1)
        if rate is None:
            yr = yb.mean(axis=1)
            ref_b = yr * (1.0 - yr)
        else:
            ref_b = np.mean((rate - yb) ** 2, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            sk_b = np.where(ref_b > 0, 1.0 - bs_b / ref_b, np.nan)
        tail = 100 * (1 - level) / 2
        out["brier_low"], out["brier_high"] = (float(v) for v in np.percentile(bs_b, [tail, 100 - tail]))
        if np.isfinite(sk_b).any():
            out["skill_low"], out["skill_high"] = (float(v) for v in np.nanpercentile(sk_b, [tail, 100 - tail]))
    return Summary(**out)


def certainty(p_model: float, p_inert: float | None, p_random: float | None) -> str:
    """'' for an uncertain answer; 'by construction' when the scenario itself settles it; else flagged.

    The scenario settles a certain answer when nobody deciding (the inert control) and everybody choosing
    at random among what is feasible (the random control) give the same answer: its events force it, or
    its constraints and the model's structure rule it out whatever the actors want. (The hawk control is
    no test of this: taking only the most escalatory option, it never takes a lesser one.)
    """
    if p_model not in (0.0, 1.0):
        return ""
    if p_inert is not None and p_random is not None and p_inert == p_model and p_random == p_model:
        return BY_CONSTRUCTION
    return UNFORCED


def stated(yes: int, n: int, settled: bool) -> float:
    """The probability an ensemble of n replicates states when k = ``yes`` of them answered yes.

    The share k/n, except that a share of exactly 0 or 1 the scenario does not settle (``settled``
    False: not by construction) is stated as (k + 1/2) / (n + 1), the Jeffreys estimate: n
    replicates that never (or always) saw something cannot show it is impossible (or certain),
    only that it is rarer than about 1 in n. A forecaster who says 0% and is wrong scores -inf on
    the log score; one who says 0.1% pays what the evidence warrants.
    """
    if n <= 0:
        return float("nan")
    if settled or 0 < yes < n:
        return yes / n
    return (yes + 0.5) / (n + 1)


def recalibrate(p: Any, shift: float = 0.0, slope: float = 1.0, hedge: float = 0.0, base: float = 0.5) -> np.ndarray:
    """A forecast from an ensemble's stated share: (1 - hedge) * logistic(shift + slope * logit(share)) + hedge * base.

    Why: the ensemble's share is what the mechanisms say; its track record on the scored history
    says how far to trust it (scripts/calibrate.py fits the numbers on a training half of the
    episodes and measures them on the held-out half, as forecasters recalibrate a model's output
    against its record: Platt scaling). A slope below 1 tempers shares the record showed too sure;
    a shift moves every forecast toward the side the record showed too rare. The hedge is the
    weight of the family's base rate (``base``) in every forecast: the share of questions on which
    the model's mechanisms say nothing the record bears out (an act no mechanism produces, a world
    the scenario does not describe). It keeps every unforced forecast at least hedge * base from 0
    and hedge * (1 - base) from 1, so no share of 0.95 becomes a certain answer that can be wrong.
    Shares of exactly 0 or 1 (answered by construction) stay 0 or 1: a recalibration cannot unforce
    an event.
    """
    p = np.asarray(p, dtype=float)
    if shift == 0.0 and slope == 1.0 and hedge == 0.0:
        return p.copy()
    out = p.copy()
    inner = (p > 0.0) & (p < 1.0)
    z = np.log(p[inner]) - np.log1p(-p[inner])
    out[inner] = (1.0 - hedge) / (1.0 + np.exp(-(shift + slope * z))) + hedge * base
    return out


# Question families: what the ensemble's share is a share of. A question on an actor's choice
# (`chose:`, or a `when:` that counts actions) reads the decision model, whose shares the record
# found too timid; a question on the world's state (a price, a front's state, a deal) reads the
# price process and the fronts' bookkeeping, whose shares the record found about right. One
# recalibration for both pushed the Brent questions (0.48 predicted, 0.46 observed) to 0.68.
FAMILIES = ("choice", "state")
IDENTITY = (0.0, 1.0, 0.0, 0.5)  # shift, slope, hedge, base
RECAL_KEYS = ("shift", "slope", "hedge", "base")
MIN_FAMILY_QUESTIONS = 10  # fewer questions than this in a family: its recalibration stays the identity


def question_family(form: str, expr: str) -> str:
    """``choice`` for a question on what actors do (``chose:`` or a count of actions), else ``state``."""
    return "choice" if form == "chose" or "count." in str(expr) else "state"


def _recal_tuple(v: Any) -> tuple[float, float, float, float]:
    """(shift, slope, hedge, base) from a mapping or a sequence of two to four numbers (the rest: the identity's)."""
    if isinstance(v, dict):
        return tuple(float(v.get(k, d)) for k, d in zip(RECAL_KEYS, IDENTITY, strict=True))  # type: ignore[return-value]
    v = [float(x) for x in v]
    return tuple(v + list(IDENTITY[len(v) :]))  # type: ignore[return-value]


def is_identity(r: Any) -> bool:
    """Whether a recalibration leaves every share as it is (shift 0, slope 1, no hedge)."""
    a, b, h, _ = _recal_tuple(r)
    return a == 0.0 and b == 1.0 and h == 0.0


def as_recal(recal: Any) -> dict[str, tuple[float, float, float, float]]:
    """A recalibration per family, each (shift, slope, hedge, base), from one for both families or a mapping family -> one.

    One is a mapping with the keys of ``RECAL_KEYS`` or a sequence (shift, slope[, hedge, base]).
    """
    if recal is None:
        return dict.fromkeys(FAMILIES, IDENTITY)
    if isinstance(recal, dict) and not any(k in RECAL_KEYS for k in recal):
        return {f: _recal_tuple(recal.get(f, IDENTITY)) for f in FAMILIES}
    return dict.fromkeys(FAMILIES, _recal_tuple(recal))


def recalibrate_by_family(p: Any, families: Any, recal: Any) -> np.ndarray:
    """``recalibrate`` with each question's family's (shift, slope)."""
    p = np.asarray(p, dtype=float)
    fam = np.asarray(families)
    rc = as_recal(recal)
    out = p.copy()
    for f in FAMILIES:
        m = fam == f
        if m.any():
            out[m] = recalibrate(p[m], *rc[f])
    return out


def fit_recalibration_by_family(p: Any, y: Any, families: Any) -> dict[str, tuple[float, float]]:
    """``fit_recalibration`` on each family's questions (the identity for a family with too few)."""
    p, y, fam = np.asarray(p, dtype=float), np.asarray(y, dtype=float), np.asarray(families)
    out = {}
    for f in FAMILIES:
        m = fam == f
        out[f] = fit_recalibration(p[m], y[m]) if m.sum() >= MIN_FAMILY_QUESTIONS else IDENTITY
    return out


# The grid fit_recalibration searches (catalog FORECAST_BOUNDS mirrors its edges).
FIT_SHIFTS = np.round(np.arange(-50, 51) * 0.05, 10)  # -2.5 .. 2.5
FIT_SLOPES = np.round(0.3 + np.arange(49) * 0.025, 10)  # 0.3 .. 1.5
FIT_HEDGES = np.round(np.arange(16) * 0.02, 10)  # 0 .. 0.3


def fit_recalibration(p: Any, y: Any) -> tuple[float, float, float, float]:
    """The (shift, slope, hedge, base) of ``recalibrate`` with the highest likelihood of outcomes ``y``.

    ``base`` is the questions' own base rate; the other three come from a grid (shift in
    [-2.5, 2.5] by 0.05, slope in [0.3, 1.5] by 0.025, hedge in [0, 0.3] by 0.02): deterministic,
    and bounded so that no fit can invert the shares (slope > 0) or drown them (slope >= 0.3, hedge
    <= 0.3). Fitted by likelihood (the log score; Platt's own criterion), not by the Brier score:
    a certain answer that was wrong costs the log score without bound and the Brier score at most
    1, and a fit by Brier put shares of 0.95 at 0.998 and lost five of them. Out of sample (the
    training half's fit scored on the held-out half, 60 random halves of the 16 episodes), the
    likelihood fit with a hedge scored Brier skill 0.431 and log score -0.469 against 0.421 and
    -0.553 for the Brier fit without one.
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    if len(p) == 0:
        return IDENTITY
    base = float(np.clip(y.mean(), 0.01, 0.99))
    inner = (p > 0.0) & (p < 1.0)
    p_in, y_in = p[inner], y[inner]
    z = np.log(p_in) - np.log1p(-p_in)
    yes = y_in > 0.5

    def search(shifts: np.ndarray, slopes: np.ndarray, hedges: np.ndarray) -> tuple[float, float, float, float]:
        # (shift, slope, question) logistic part once; each hedge mixes it with the base rate
        core = 1.0 / (1.0 + np.exp(-(shifts[:, None, None] + slopes[None, :, None] * z[None, None, :])))
        top = (-np.inf, 0.0, 1.0, 0.0)
        for h in hedges:
            q = np.clip((1.0 - h) * core + h * base, 1e-12, 1.0 - 1e-12)
            ll = np.where(yes, np.log(q), np.log1p(-q)).sum(axis=2)
            i, j = np.unravel_index(int(np.argmax(ll)), ll.shape)
            if ll[i, j] > top[0] + 1e-9:
                top = (float(ll[i, j]), float(shifts[i]), float(slopes[j]), float(h))
        return top

    # coarse to fine: every fifth shift, fourth slope and second hedge, then the full grid around the best,
    # twice (the likelihood is smooth in all three: the full grid's answer, 0.005 s against 0.14 s on 163 questions)
    _, a0, b0, h0 = search(FIT_SHIFTS[::5], FIT_SLOPES[::4], FIT_HEDGES[::2])
    for _ in range(2):
        best = search(
            FIT_SHIFTS[np.abs(FIT_SHIFTS - a0) <= 0.5 + 1e-9],
            FIT_SLOPES[np.abs(FIT_SLOPES - b0) <= 0.25 + 1e-9],
            FIT_HEDGES[np.abs(FIT_HEDGES - h0) <= 0.06 + 1e-9],
        )
        _, a0, b0, h0 = best
    return best[1], best[2], best[3], base


# ------------------------------------------------------------------ reliability (pure)
def reliability(p: Any, y: Any, bins: int = 5, adaptive: bool = False) -> list[dict[str, Any]]:
    """Predicted probability against observed frequency, by bins of the forecasts.

    Fixed bins split [0, 1] into ``bins`` equal widths (a forecast of exactly 1 falls in the
    last); adaptive bins hold near-equal numbers of forecasts (sorted, then split). Empty bins
    are left out. Each bin: its range, the number of questions, the mean forecast, the share
    that resolved yes and that share's 95% Wilson interval.
    """
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    groups: list[tuple[float, float, np.ndarray]] = []
    if adaptive:
        order = np.argsort(p, kind="stable")
        for part in np.array_split(order, min(bins, len(p))) if len(p) else []:
            if len(part):
                groups.append((float(p[part].min()), float(p[part].max()), part))
    else:
        edges = np.arange(bins + 1) / bins  # k / bins exactly (0.6, not 0.6000000000000001)
        which = np.minimum((p * bins).astype(int), bins - 1)
        for b in range(bins):
            part = np.flatnonzero(which == b)
            if len(part):
                groups.append((float(edges[b]), float(edges[b + 1]), part))
    out = []
    for lo, hi, part in groups:
        freq, low, high = wilson(float(y[part].sum()), len(part))
        out.append(
            {
                "low": lo,
                "high": hi,
                "n": len(part),
                "forecast": float(p[part].mean()),
                "observed": freq,
                "observed_low": low,
                "observed_high": high,
            }  # fmt: skip
        )
    return out


def forecast_histogram(p: Any, y: Any, bins: int = 10) -> dict[str, list[Any]]:
    """How many forecasts fall in each tenth of [0, 1], split by what happened (for the panel below)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=bool)
    edges = np.arange(bins + 1) / bins  # k / bins exactly (0.6, not 0.6000000000000001)
    which = np.minimum((p * bins).astype(int), bins - 1)
    return {
        "low": [float(e) for e in edges[:-1]],
        "high": [float(e) for e in edges[1:]],
        "yes": [int(np.sum((which == b) & y)) for b in range(bins)],
        "no": [int(np.sum((which == b) & ~y)) for b in range(bins)],
    }


# ------------------------------------------------------------------ reading runs
def question_probabilities(folder: Path) -> dict[str, dict[str, Any]]:
    """Each question of a run: its manifest record and the share of replicates that answered yes."""
    meta = data.manifest(folder)
    table = data.read_outcomes(folder)
    out = {}
    for q in meta.get("questions") or []:
        v = np.nan_to_num(np.asarray(table[q["column"]], dtype=float), nan=0.0) != 0
        out[q["id"]] = {**q, "yes_replicates": int(v.sum()), "replicates": len(v), "p": float(v.mean())}
    return out


def certain_questions(folder: Path) -> list[str]:
    """Ids of the questions a run answers with probability exactly 0 or 1 (the controls decide why)."""
    return [qid for qid, q in question_probabilities(folder).items() if q["p"] in (0.0, 1.0)]


@dataclass
class EpisodeRuns:
    """One scenario with questions and its run folders: the model's and, when run, the controls'."""

    name: str
    folders: dict[str, Path]  # policy -> run folder ("model" always)


@dataclass
class Scorecard:
    """Every question's forecasts and scores, per episode and in all, for the model and its references."""

    rows: list[dict[str, Any]]
    episodes: list[dict[str, Any]]
    summary: dict[str, Summary]  # forecaster -> scores over all questions
    base_rate: float
    controls: bool
    runs: dict[str, dict[str, str]]
    resamples: int
    seed: int
    without_constructed: Summary | None = None
    folder: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def unforced(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["certainty"] == UNFORCED]

    @property
    def constructed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["certainty"] == BY_CONSTRUCTION]


def score_runs(
    episodes: list[EpisodeRuns],
    controls: bool = False,
    resamples: int = RESAMPLES,
    seed: int = 0,
    recal: Any = IDENTITY,
) -> Scorecard:
    """Score every question of the episodes' runs (read from their folders).

    ``controls`` adds the inert, hawk and random controls and the constant forecaster to the summary
    (their runs must be among the folders); certain answers are classified whenever both
    controls' runs are there. ``recal`` is the (shift, slope), or one per question family
    (``as_recal``), that turns the ensemble's stated share into the model's forecast
    (``recalibrate``; the catalog's reporting.forecast); the ensemble's own
    share is scored beside it ("ensemble"), so what the mechanisms say and what the recalibration
    adds are both on the card.
    """
    rc = as_recal(recal)
    rows: list[dict[str, Any]] = []
    meta_ep: list[dict[str, Any]] = []
    for ep in episodes:
        meta = data.manifest(ep.folders["model"])
        rows += _question_rows(ep, rc)
        meta_ep.append(_episode_record(ep, meta))
    if not rows:
        raise ValueError("no questions to score")
    y = np.array([r["resolution"] for r in rows], dtype=float)
    p = np.array([r["p"] for r in rows], dtype=float)
    rate = base_rate(y)
    have_controls = all(r[f"p_{pol}"] is not None for r in rows for pol in CONTROLS)
    summary = _forecasters(rows, p, y, rate, rc, controls, controls and have_controls, resamples, seed)
    for e in meta_ep:
        _score_episode(e, rows, p, y, rate, controls and have_controls, resamples, seed)
    kept = np.array([r["certainty"] != BY_CONSTRUCTION for r in rows])
    without = summarise(p[kept], y[kept], None, resamples, seed) if 0 < kept.sum() < len(rows) else None
    runs = {ep.name: {pol: str(f) for pol, f in ep.folders.items()} for ep in episodes}
    card = Scorecard(rows, meta_ep, summary, rate, controls, runs, resamples, seed, without)
    card.extra["recalibration"] = {f: dict(zip(RECAL_KEYS, rc[f], strict=True)) for f in FAMILIES}
    return card


def _question_rows(ep: EpisodeRuns, rc: dict[str, tuple[float, float, float, float]]) -> list[dict[str, Any]]:
    """One row per question of an episode: the forecast, what happened, and the controls' answers beside it.

    The controls' shares are read here, per question, because they decide whether a certain
    answer is forced by the scenario (stated as 0 or 1) or not (stated as (k + 1/2) / (n + 1)).
    """
    probs = {pol: question_probabilities(f) for pol, f in ep.folders.items()}
    rows = []
    for qid, q in probs["model"].items():
        others = {pol: probs[pol][qid]["p"] if qid in probs.get(pol, {}) else None for pol in CONTROLS}
        y = bool(q["resolution"])
        cert = certainty(q["p"], others["inert"], others["random"])
        p_ens = stated(q["yes_replicates"], q["replicates"], cert == BY_CONSTRUCTION)
        family = question_family(q.get("form", ""), q.get("expr", ""))
        p_q = float(recalibrate([p_ens], *rc[family])[0])
        rows.append(
            {
                "episode": ep.name,
                "id": qid,
                "ask": q["ask"],
                "resolution": y,
                "p": p_q,
                "p_ensemble": p_ens,
                "share": q["p"],
                "yes_replicates": q["yes_replicates"],
                "replicates": q["replicates"],
                "brier": (p_q - y) ** 2,
                "log_likelihood": float(log_likelihoods([p_q], [y])[0]),
                "p_inert": others["inert"],
                "p_hawk": others["hawk"],
                "certainty": cert,
                "p_random": others["random"],
                "form": q.get("form", ""),
                "family": family,
                "asks_about": q.get("expr", ""),
                "after": q.get("after"),
                "by": q.get("by"),
                "on": q.get("on"),
                "tags": list(q.get("tags") or []),
                "source": q.get("source", ""),
            }
        )
    return rows


def _episode_record(ep: EpisodeRuns, meta: dict[str, Any]) -> dict[str, Any]:
    """What the scorecard says of an episode before its scores: its title, start, replicates and seed."""
    return {
        "name": ep.name,
        "title": meta["scenario"].get("title", ep.name),
        "start_date": meta.get("start_date"),
        "replicates": meta.get("replicates"),
        "seed": meta.get("seed"),
    }


def _forecasters(
    rows: list[dict[str, Any]],
    p: np.ndarray,
    y: np.ndarray,
    rate: float,
    rc: dict[str, tuple[float, float, float, float]],
    controls: bool,
    score_controls: bool,
    resamples: int,
    seed: int,
) -> dict[str, Summary]:
    """Every forecaster's scores over all questions, in the order the card lists them: the model first.

    The ensemble's own share is scored only when a recalibration changes it (else it is the model);
    the controls only when asked for and run for every episode; the constant forecaster whenever
    controls are asked for, since it needs no run.
    """
    summary = {"model": summarise(p, y, None, resamples, seed)}
    if not all(is_identity(v) for v in rc.values()):
        pe = np.array([r["p_ensemble"] for r in rows], dtype=float)
        summary["ensemble"] = summarise(pe, y, None, resamples, seed)
    if score_controls:
        for pol in CONTROLS:
            summary[pol] = summarise(np.array([r[f"p_{pol}"] for r in rows]), y, None, resamples, seed)
    if controls:
        summary["constant"] = summarise(np.full(len(y), rate), y, None, resamples, seed, constant=True)
    return summary


def _score_episode(
    e: dict[str, Any],
    rows: list[dict[str, Any]],
    p: np.ndarray,
    y: np.ndarray,
    rate: float,
    score_controls: bool,
    resamples: int,
    seed: int,
) -> None:
    """Add an episode's scores (and its controls', without intervals) to its record, against the whole set's base rate.

    Why the whole set's rate: an episode whose questions all resolved alike would otherwise have a
    perfect reference and no skill to speak of.
    """
    mask = np.array([r["episode"] == e["name"] for r in rows])
    e["summary"] = summarise(p[mask], y[mask], rate, resamples, seed)
    if score_controls:
        e["controls"] = {
            pol: summarise(np.array([r[f"p_{pol}"] for r in rows])[mask], y[mask], rate, 0) for pol in CONTROLS
        }


# ------------------------------------------------------------------ words and files
def _num(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    if isinstance(x, float) and np.isinf(x):
        return "-inf" if x < 0 else "inf"
    if abs(x) < 0.5 * 10.0**-digits:  # no "-0.00" for a rounding error of the constant forecaster's skill
        x = 0.0
    return f"{x:.{digits}f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _skill(x: float) -> str:
    return "undefined" if np.isnan(x) else _num(x, 2)


def _interval(lo: float, hi: float, digits: int = 2) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    return f"[{_num(lo, digits)}, {_num(hi, digits)}]"


def _yes(y: bool) -> str:
    return "yes" if y else "no"


def _note(r: dict[str, Any]) -> str:
    if r["certainty"] == UNFORCED:
        k, n = r.get("yes_replicates"), r.get("replicates")
        return f"UNFORCED: {'never' if not k else 'always'} in {n} replicates" if n else "UNFORCED CERTAINTY"
    return r["certainty"]


def text(card: Scorecard) -> str:
    """The printed scorecard: questions by episode, then per episode and in all, controls beside the model."""
    lines: list[str] = []
    width = max(len(r["id"]) for r in card.rows)
    for e in card.episodes:
        rows = [r for r in card.rows if r["episode"] == e["name"]]
        lines.append(f"{e['name']}: {e['title']} ({e['replicates']} replicates)")
        head = f"  {'question'.ljust(width)}  P(yes)  happened  Brier"
        if card.controls:
            head += "   inert    hawk  random"
        lines.append(head + "  note")
        for r in rows:
            line = f"  {r['id'].ljust(width)}  {_num(r['p']):>6}  {_yes(r['resolution']):<8}  {_num(r['brier'])}"
            if card.controls:
                line += f"  {_num(r['p_inert']):>6}  {_num(r['p_hawk']):>6}  {_num(r['p_random']):>6}"
            lines.append((line + f"  {_note(r)}").rstrip())
        s: Summary = e["summary"]
        lines.append(
            f"  episode: Brier {_num(s.brier)}, log score {_num(s.log)}, skill {_skill(s.skill)} "
            f"{_interval(s.skill_low, s.skill_high)} ({_plural(s.n, 'question')}, {s.yes} yes)".rstrip()
        )
        lines.append("")
    n, yes = len(card.rows), int(sum(r["resolution"] for r in card.rows))
    lines.append(
        f"all: {_plural(n, 'question')} in {_plural(len(card.episodes), 'episode')}, {yes} yes (base rate {card.base_rate:.2f}); "
        f"skill = 1 - Brier / {card.summary['model'].reference:.3f} (the constant forecaster's Brier)"
    )
    lines.append(
        f"  {'forecaster':<44} {'Brier':>6} {'95% interval':<15} {'log score':>9}  {'skill':>6} {'95% interval'}"
    )
    for key, s in card.summary.items():
        label = FORECASTERS[key] + (f" at {card.base_rate:.2f}" if key == "constant" else "")
        lines.append(
            f"  {label:<44} {_num(s.brier):>6} {_interval(s.brier_low, s.brier_high, 3):<15} {_num(s.log):>9}  "
            f"{_skill(s.skill):>6} {_interval(s.skill_low, s.skill_high)}".rstrip()
        )
    if card.controls and "inert" not in card.summary:
        lines.append("  (the controls' runs are missing for some episode: controls not scored)")
    formula = _recal_formula(card)
    if formula:
        lines.append(
            f"forecast = the ensemble's share recalibrated: {formula} "
            "(fitted by scripts/calibrate.py on the record; catalog reporting.forecast)"
        )
    lines.append(
        f"ensemble shares of exactly 0 or 1: {len(card.constructed)} by construction (the inert and random controls give "
        f"the same answer; stated as 0 or 1), {len(card.unforced)} not forced by the scenario (stated as (k + 1/2) / (n + 1))"
        + (": " + ", ".join(f"{r['episode']}/{r['id']}" for r in card.unforced) if card.unforced else "")
    )
    if card.without_constructed is not None:
        w = card.without_constructed
        lines.append(
            f"without the {len(card.constructed)} answered by construction: Brier {_num(w.brier)}, log score "
            f"{_num(w.log)}, skill {_skill(w.skill)} {_interval(w.skill_low, w.skill_high)} ({_plural(w.n, 'question')})".rstrip()
        )
    return "\n".join(lines)


def markdown(card: Scorecard, command: list[str] | None = None) -> str:
    """scorecard.md: summary, per-episode table, every question with its source, definitions."""
    out = [
        "# Scorecard",
        "",
        _md_opening(card),
        "",
        "![reliability](reliability.png)",
        "",
        *_md_forecasters(card),
        *_md_episodes(card),
    ]
    for e in card.episodes:
        out += _md_questions(card, e)
    out += _md_how_to_read(card, command)
    return "\n".join(out) + "\n"


def _md_opening(card: Scorecard) -> str:
    """The paragraph a reader who stops after it needs: how many questions, the model's scores, the certain answers."""
    m = card.summary["model"]
    n, yes = len(card.rows), int(sum(r["resolution"] for r in card.rows))
    return (
        f"{_plural(n, 'question')} in {_plural(len(card.episodes), 'episode')}, {yes} resolved yes (base rate {card.base_rate:.2f}). "
        f"Brier {_num(m.brier)} {_interval(m.brier_low, m.brier_high, 3)}, log score {_num(m.log)}, "
        f"Brier skill {_skill(m.skill)} {_interval(m.skill_low, m.skill_high)} against the base rate. "
        f"Ensemble shares of exactly 0 or 1: {len(card.constructed)} by construction, **{len(card.unforced)} not forced** "
        "(stated as (k + 1/2) / (n + 1))." + _recal_words(card)
    )


def _md_forecasters(card: Scorecard) -> list[str]:
    """The model beside its references (and without the answers the scenarios force), so its skill has a scale."""
    out = [
        "## Forecasters",
        "",
        "| forecaster | Brier | 95% interval | log score | Brier skill | 95% interval |",
        "|---|---|---|---|---|---|",
    ]
    for key, s in card.summary.items():
        label = FORECASTERS[key] + (f" at {card.base_rate:.2f}" if key == "constant" else "")
        out.append(
            f"| {label} | {_num(s.brier)} | {_interval(s.brier_low, s.brier_high, 3)} | {_num(s.log)} | "
            f"{_skill(s.skill)} | {_interval(s.skill_low, s.skill_high)} |"
        )
    if card.without_constructed is not None:
        w = card.without_constructed
        out.append(
            f"| model, without the {len(card.constructed)} answered by construction | {_num(w.brier)} | "
            f"{_interval(w.brier_low, w.brier_high, 3)} | {_num(w.log)} | {_skill(w.skill)} | "
            f"{_interval(w.skill_low, w.skill_high)} |"
        )
    return out


def _md_episodes(card: Scorecard) -> list[str]:
    """One line per episode, so a score carried by a few episodes shows."""
    out = ["", "## Episodes", "", "| episode | questions | yes | Brier | log score | skill | 95% interval |"]
    out.append("|---|---|---|---|---|---|---|")
    for e in card.episodes:
        s = e["summary"]
        out.append(
            f"| {e['name']} | {s.n} | {s.yes} | {_num(s.brier)} | {_num(s.log)} | {_skill(s.skill)} | "
            f"{_interval(s.skill_low, s.skill_high)} |"
        )
    return out


def _md_questions(card: Scorecard, e: dict[str, Any]) -> list[str]:
    """An episode's section: every question with its window, forecast, outcome and source, so each can be checked."""
    out = ["", f"## {e['name']}: {e['title']}", "", f"{e['replicates']} replicates, seed {e['seed']}.", ""]
    head = "| question | P(yes) | happened | Brier |"
    sep = "|---|---|---|---|"
    if card.controls:
        head += " inert | hawk | random |"
        sep += "---|---|---|"
    out += [head + " note | source |", sep + "---|---|"]
    for r in card.rows:
        if r["episode"] != e["name"]:
            continue
        cells = f"| **{r['id']}**: {_md(r['ask'])} ({_window(r, e['start_date'])}) | {_num(r['p'])} | {_yes(r['resolution'])} | {_num(r['brier'])} |"
        if card.controls:
            cells += f" {_num(r['p_inert'])} | {_num(r['p_hawk'])} | {_num(r['p_random'])} |"
        out.append(f"{cells} {_note(r)} | {_md(r['source'])} |")
    return out


def _window(r: dict[str, Any], start_date: str | None) -> str:
    """A question's window in words: on a day, by a day (from the episode's start), or from one day to another."""
    if r["on"]:
        return f"on {r['on']}"
    return f"by {r['by']}" if r["after"] == start_date else f"{r['after']} to {r['by']}"


def _md_how_to_read(card: Scorecard, command: list[str] | None) -> list[str]:
    """The definitions a reader needs to trust the numbers: the scores, the reference, the two kinds of certainty."""
    out = [
        "",
        "## How to read it",
        "",
        "- P(yes) is the share of replicates in which the question's condition held (or the actor made the choice) "
        "in its window, except that a share of exactly 0 or 1 the scenario does not force is stated as "
        "(k + 1/2) / (n + 1) (k yes of n replicates: the Jeffreys estimate; n replicates show only that it is rarer "
        "than about 1 in n). Brier is (P - outcome)^2 and the log score the mean of ln P (yes) or ln(1 - P) (no): "
        "a certain answer that was wrong gives -inf, reported as such.",
        "- Brier skill = 1 - Brier / Brier of the constant forecaster who says the base rate for every question "
        "(0: no better than the base rate; the per-episode reference is the same forecaster on the episode's questions). "
        f"Intervals: percentile bootstrap over questions ({card.resamples} resamples, seed {card.seed}).",
        "- **By construction**: a probability of exactly 0 or 1 that the inert control (nobody decides) and the random "
        "control (every feasible option equally likely) give too: the scenario's events force it or its constraints rule "
        "it out, whatever the actors want. **Unforced**: any other share of 0 or 1, an outcome the ensemble never (or "
        "always) produced though the scenario allows both: flagged, and stated as above. The hawk control (everyone takes its most escalatory feasible option) is a negative control for the score.",
        f"- Runs read: {sum(len(v) for v in card.runs.values())} run folders (`scores.json`, key `runs`).",
    ]
    if command:
        out.append(f"- Command: `{' '.join(command)}`")
    return out


def _recal_formula(card: Scorecard) -> str:
    """The recalibration in words, per family ('' when it is the identity)."""
    rc = as_recal(card.extra.get("recalibration"))
    if all(is_identity(v) for v in rc.values()):
        return ""
    words = {
        "choice": "questions on actors' choices",
        "state": "questions on the world's state (prices, fronts, deals)",
    }
    return "; ".join(f"{words[f]}: {recal_text(rc[f])}" for f in FAMILIES)


def recal_text(r: Any) -> str:
    """One family's recalibration as a formula a reader can apply by hand."""
    a, b, h, base = _recal_tuple(r)
    core = f"logistic({a:g} + {b:g} logit(share))"
    return f"P = {1 - h:g} {core} + {h:g} x {base:.3g}" if h else f"P = {core}"


def _recal_words(card: Scorecard) -> str:
    formula = _recal_formula(card)
    if not formula:
        return ""
    return (
        f" P(yes) is the ensemble's stated share recalibrated per question family ({formula})"
        " (scripts/calibrate.py; the share itself is the column `p_ensemble` of scores.csv and the row"
        ' "model\'s ensemble share" below).'
    )


def _md(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def csv_table(card: Scorecard) -> dict[str, list[Any]]:
    """scores.csv: one row per question."""
    keys = ["episode", "id", "ask", "resolution", "p", "p_ensemble", "yes_replicates", "replicates", "brier", "log_likelihood",
            "p_inert", "p_hawk", "p_random", "certainty", "form", "family", "asks_about", "after", "by", "on", "tags", "source"]  # fmt: skip
    out: dict[str, list[Any]] = {k: [] for k in keys}
    for r in card.rows:
        for k in keys:
            v = r[k]
            if k == "resolution":
                v = int(v)
            elif k == "tags":
                v = " ".join(v)
            elif k == "log_likelihood" and np.isinf(v):
                v = "-inf"
            out[k].append(v)
    return out


def as_json(card: Scorecard, command: list[str] | None = None) -> dict[str, Any]:
    """scores.json: every number of the scorecard and the runs it read."""
    rows = [{**r, "log_likelihood": _finite_or_text(r["log_likelihood"])} for r in card.rows]
    return {
        "created": utc_now(),
        "command": command or [],
        "base_rate": card.base_rate,
        "questions": len(card.rows),
        "summary": {k: s.as_dict() for k, s in card.summary.items()},
        "without_constructed": card.without_constructed.as_dict() if card.without_constructed else None,
        "certain": {"by_construction": len(card.constructed), "unforced": len(card.unforced)},
        "episodes": [
            {
                **{k: v for k, v in e.items() if k not in ("summary", "controls")},
                "summary": e["summary"].as_dict(),
                **({"controls": {k: s.as_dict() for k, s in e["controls"].items()}} if "controls" in e else {}),
            }
            for e in card.episodes
        ],  # fmt: skip
        "rows": rows,
        "runs": card.runs,
        "bootstrap": {"resamples": card.resamples, "seed": card.seed, "level": LEVEL},
        "recalibration": card.extra.get("recalibration") or {f: {"shift": 0.0, "slope": 1.0} for f in FAMILIES},
    }


def write(card: Scorecard, out: Path, command: list[str] | None = None, quiet: bool = True) -> Path:
    """Write runs/score/<timestamp>-<hash>/ with scorecard.md, scores.csv, scores.json and reliability.png."""
    from model.analysis import plots

    blob = "\n".join(f"{e}:{pol}:{Path(f).name}" for e, v in sorted(card.runs.items()) for pol, f in sorted(v.items()))
    digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
    folder = Path(out) / "score" / f"{utc_stamp()}-{safe_component(digest)}"
    k = 1
    while folder.exists():
        k += 1
        folder = folder.with_name(f"{folder.name.split('~')[0]}~{k}")
    folder.mkdir(parents=True)
    p = np.array([r["p"] for r in card.rows])
    y = np.array([r["resolution"] for r in card.rows], dtype=float)
    bins = reliability(p, y)
    hist = forecast_histogram(p, y)
    m = card.summary["model"]
    title = (
        f"Reliability: {_plural(len(p), 'question')} in {_plural(len(card.episodes), 'episode')}\n"
        f"Brier {_num(m.brier)}, Brier skill {_skill(m.skill)} {_interval(m.skill_low, m.skill_high)} "
        f"against the base rate {card.base_rate:.2f}"
    )
    fig = plots.reliability_chart(bins, hist, title, card.base_rate)
    table = {
        k: [b[k] for b in bins] for k in ("low", "high", "n", "forecast", "observed", "observed_low", "observed_high")
    }
    plots.save(fig, folder / "reliability.png", table)
    plots.write_csv(folder / "scores.csv", csv_table(card))
    write_json(folder / "scores.json", as_json(card, command))
    write_text(folder / "scorecard.md", markdown(card, command))
    card.folder = folder
    return folder
