"""Thin drawing functions (matplotlib, Agg). Each takes plot data and returns a figure.

Every figure has a title, axis labels with units and a legend where more than one thing
is drawn. Colours for scenarios come from one palette in scenario order, so a report's
plots agree with each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from model.analysis.plotdata import LADDER_GROUPS  # noqa: E402

PALETTE = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#8c564b", "#3d5a80", "#7f7f7f", "#bc5090", "#17becf"]
TIER_COLOURS = ["#f0f0f0", "#c6dbef", "#9ecae1", "#6baed6", "#fdae6b", "#e6550d", "#a50f15", "#3f007d"]
LADDER_COLOURS = ["#f0f0f0", "#c7e9c0", "#fdd49e", "#fc8d59", "#7f0000"]


def scenario_colours(names: list[str]) -> dict[str, str]:
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def _grid(n: int, cols: int, width: float, height: float) -> tuple[plt.Figure, np.ndarray]:
    """A grid of n panels, unused ones hidden; returns the figure and the panels in order."""
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()[:n]


def fan_chart(series: dict[str, dict[str, np.ndarray]], title: str, ylabel: str, colours: dict[str, str]) -> plt.Figure:
    """Median lines with 50% (dark) and 90% (light) bands; one colour per scenario."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    multi = len(series) > 1
    for name, d in series.items():
        c = colours[name]
        ax.fill_between(
            d["x"], d["p5"], d["p95"], color=c, alpha=0.12 if multi else 0.18, linewidth=0, label=f"{name}: 90% band"
        )
        if not multi:
            ax.fill_between(d["x"], d["p25"], d["p75"], color=c, alpha=0.3, linewidth=0, label="50% band")
        ax.plot(d["x"], d["median"], color=c, linewidth=2, label=f"{name}: median" if multi else "median")
    ax.set_title(title)
    ax.set_xlabel("week since start")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if multi:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="scenario")
    else:
        ax.legend(fontsize=8, loc="best")
    return fig


def stacked_shares(x: np.ndarray, shares: np.ndarray, labels: list[str], colours: list[str], title: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.stackplot(x, shares.T, labels=labels, colors=colours[: shares.shape[1]], edgecolor="white", linewidth=0.3)
    ax.set_ylim(0, 1)
    ax.set_xlim(x[0], x[-1])
    ax.set_title(title)
    ax.set_xlabel("week since start")
    ax.set_ylabel("share of replicates")
    handles, labs = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labs[::-1], fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def tier_chart(x: np.ndarray, shares: np.ndarray, tier_names: list[str], title: str) -> plt.Figure:
    labels = [f"{i} {n}" for i, n in enumerate(tier_names)]
    return stacked_shares(x, shares, labels, TIER_COLOURS, title)


def ladder_chart(x: np.ndarray, shares: np.ndarray, title: str) -> plt.Figure:
    return stacked_shares(x, shares, [g[0] for g in LADDER_GROUPS], LADDER_COLOURS, title)


def outcome_distributions(
    values: dict[str, dict[str, np.ndarray]],
    names: list[str],
    units: dict[str, str],
    colours: dict[str, str],
    title: str,
) -> plt.Figure:
    """One panel per continuous outcome: a histogram per scenario (step outlines)."""
    fig, axes = _grid(len(names), 3, 4.2, 3.2)
    for ax, name in zip(axes, names):
        allv = np.concatenate([np.asarray(v[name], float) for v in values.values()])
        allv = allv[np.isfinite(allv)]
        lo, hi = (float(allv.min()), float(allv.max())) if len(allv) else (0.0, 1.0)
        if len(allv) and np.allclose(allv, np.round(allv)) and hi - lo <= 60:
            bins = np.arange(lo - 0.5, hi + 1.5)  # whole-number outcomes: one bin per value
        else:
            bins = np.linspace(lo, hi if hi > lo else lo + 1, 31)
        for scen, v in values.items():
            x = np.asarray(v[name], float)
            x = x[np.isfinite(x)]
            ax.hist(x, bins=bins, histtype="step", linewidth=1.8, color=colours[scen], label=scen, density=False)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(units.get(name, ""))
        ax.set_ylabel("replicates")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def probability_chart(
    rows: list[dict[str, Any]], scenarios: list[str], colours: dict[str, str], title: str
) -> plt.Figure:
    """Horizontal dot-and-whisker chart: probability with 95% Wilson interval per scenario."""
    outcomes = list(dict.fromkeys(r["outcome"] for r in rows))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(outcomes) * max(1, len(scenarios)) ** 0.5 + 1.5))
    k = len(scenarios)
    for j, scen in enumerate(scenarios):
        sub = {r["outcome"]: r for r in rows if r["scenario"] == scen}
        ys = [i + (j - (k - 1) / 2) * 0.8 / max(k, 1) for i in range(len(outcomes))]
        p = [sub[o]["p"] for o in outcomes]
        lo = [max(0.0, sub[o]["p"] - sub[o]["low"]) for o in outcomes]
        hi = [max(0.0, sub[o]["high"] - sub[o]["p"]) for o in outcomes]
        ax.errorbar(p, ys, xerr=[lo, hi], fmt="o", color=colours[scen], label=scen, capsize=2, markersize=4)
    ax.set_yticks(range(len(outcomes)))
    ax.set_yticklabels(outcomes, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("probability over the horizon (95% Wilson interval)")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="scenario")
    return fig


def survival_chart(
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], colours: dict[str, str], title: str
) -> plt.Figure:
    """Kaplan-Meier style curves: share of replicates in which the event has not yet happened."""
    fig, axes = _grid(len(curves), 2, 5.2, 3.4)
    for ax, (event, by_scen) in zip(axes, curves.items()):
        for scen, (xs, ys) in by_scen.items():
            ax.step(xs, ys, where="post", color=colours[scen], label=scen, linewidth=1.8)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(event.replace("_week", "").replace("_", " "), fontsize=10)
        ax.set_xlabel("week since start")
        ax.set_ylabel("share not yet happened")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def audit_chart(rows: list[dict[str, Any]], title: str, top: int = 12) -> plt.Figure:
    """Share of replicates in which each constraint bound at least once."""
    rows = [r for r in rows if r["share_of_replicates"] > 0][:top] or rows[:1]
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(rows) + 1.4))
    labels = [f"{r['actor']}: {r['constraint']} ({', '.join(r['claims'][:3])})" for r in rows]
    vals = [r["share_of_replicates"] for r in rows]
    ax.barh(range(len(rows)), vals, color="#6a4c93", label="bound at least once")
    for i, r in enumerate(rows):
        ax.text(
            r["share_of_replicates"] + 0.01,
            i,
            f"{r['share_of_replicates']:.0%}, median first week {r['median_first_week']:.0f}",
            va="center",
            fontsize=7,
        )
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.3)
    ax.set_xlabel("share of replicates in which the constraint bound")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig


def audit_comparison(
    audits: dict[str, list[dict[str, Any]]], scenarios: list[str], colours: dict[str, str], title: str, top: int = 10
) -> plt.Figure:
    """Grouped bars: for the constraints that bind most, the share of replicates per scenario."""
    share: dict[str, dict[str, float]] = {}
    for scen, rows in audits.items():
        for r in rows:
            share.setdefault(f"{r['actor']}: {r['constraint']} ({', '.join(r['claims'][:2])})", {})[scen] = r[
                "share_of_replicates"
            ]
    labels = sorted(share, key=lambda k: -max(share[k].values()))[:top]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(labels) + 1.6))
    k = len(scenarios)
    for j, scen in enumerate(scenarios):
        ys = [i + (j - (k - 1) / 2) * 0.8 / k for i in range(len(labels))]
        ax.barh(ys, [share[lab].get(scen, 0.0) for lab in labels], height=0.8 / k, color=colours[scen], label=scen)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of replicates in which the constraint bound at least once")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="scenario")
    ax.grid(axis="x", alpha=0.3)
    return fig


def tornado(rows: list[dict[str, Any]], title: str, xlabel: str) -> plt.Figure:
    """Horizontal bars of effects with 95% intervals, largest first."""
    fig, ax = plt.subplots(figsize=(7.5, 0.38 * len(rows) + 1.4))
    ys = range(len(rows))
    vals = [r["effect"] for r in rows]
    err = [[max(0.0, r["effect"] - r["low"]) for r in rows], [max(0.0, r["high"] - r["effect"]) for r in rows]]
    colours = ["#d1495b" if r.get("distinguishable") else "#bbbbbb" for r in rows]
    ax.barh(
        list(ys),
        vals,
        xerr=err,
        color=colours,
        capsize=2,
        label="effect of switching the claim off (grey: not distinguishable)",
    )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(list(ys))
    ax.set_yticklabels([r["label"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig


def indices_chart(rows: list[dict[str, Any]], title: str, first: str, total: str) -> plt.Figure:
    """Sensitivity indices (first-order and total, or mu* and sigma) with confidence bars."""
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rows) + 1.5))
    ys = np.arange(len(rows))
    ax.barh(
        ys - 0.18,
        [r["first"] for r in rows],
        height=0.35,
        xerr=[r["first_conf"] for r in rows],
        label=first,
        color="#1b6ca8",
        capsize=2,
    )
    ax.barh(
        ys + 0.18,
        [r["total"] for r in rows],
        height=0.35,
        xerr=[r["total_conf"] for r in rows],
        label=total,
        color="#e9a03b",
        capsize=2,
    )
    ax.set_yticks(ys)
    ax.set_yticklabels([r["parameter"] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("index (95% confidence bar)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig
