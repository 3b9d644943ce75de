"""Thin drawing functions (matplotlib, Agg). Each takes plot data and returns a figure.

Every figure has a title, axis labels with units and a legend where more than one thing
is drawn. Colours for scenarios come from one palette in scenario order, so a report's
plots agree with each other.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "entente"  # SVG element ids the same on every run (reproducible files)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from model.analysis.plotdata import LADDER_GROUPS  # noqa: E402

PALETTE = ["#1b6ca8", "#d1495b", "#2a9d8f", "#e9a03b", "#6a4c93", "#8c564b", "#3d5a80", "#7f7f7f", "#bc5090", "#17becf"]
TIER_COLOURS = ["#f0f0f0", "#c6dbef", "#9ecae1", "#6baed6", "#fdae6b", "#e6550d", "#a50f15", "#3f007d"]
LADDER_COLOURS = ["#f0f0f0", "#c7e9c0", "#fdd49e", "#fc8d59", "#7f0000"]


REFERENCE_COLOUR = "black"
REFERENCE_LINE: dict[str, Any] = {"color": REFERENCE_COLOUR, "linestyle": "--", "linewidth": 2.0, "zorder": 10}
FORMATS = ("png", "svg", "pdf")


def scenario_colours(names: list[str], reference: str | None = None) -> dict[str, str]:
    """One colour per scenario in order; the reference is always black (and drawn dashed, on top)."""
    out: dict[str, str] = {}
    i = 0
    for n in names:
        if n == reference:
            out[n] = REFERENCE_COLOUR
        else:
            out[n] = PALETTE[i % len(PALETTE)]
            i += 1
    return out


def save(fig: plt.Figure, path: Path, table: dict[str, list[Any]] | None = None) -> Path:
    """Write the figure (format from the suffix: png, svg or pdf) and, given, its data as CSV beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"Software": None} if path.suffix != ".pdf" else {"Creator": None, "Producer": None, "CreationDate": None}
    if path.suffix == ".svg":
        meta = {"Creator": None, "Date": None}
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata=meta)
    plt.close(fig)
    if table is not None:
        write_csv(path.with_suffix(".csv"), table)
    return path


def write_csv(path: Path, table: dict[str, list[Any]]) -> None:
    """Columns of equal length as a CSV file (floats to 6 significant digits, NaN empty)."""
    import csv
    import io

    from model.files import write_text

    buf = io.StringIO()
    w = csv.writer(buf)
    cols = list(table)
    w.writerow(cols)
    n = len(table[cols[0]]) if cols else 0
    for i in range(n):
        row = []
        for c in cols:
            v = table[c][i]
            if isinstance(v, float | np.floating):
                row.append("" if not np.isfinite(v) else f"{float(v):.6g}")
            else:
                row.append("" if v is None else str(v))
        w.writerow(row)
    write_text(path, buf.getvalue())


def _grid(n: int, cols: int, width: float, height: float, share: bool = False) -> tuple[plt.Figure, np.ndarray]:
    """A grid of n panels, unused ones hidden; returns the figure and the panels in order."""
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False, sharey=share)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    return fig, axes.ravel()[:n]


def _time_axis(ax: plt.Axes, x: np.ndarray, xlabel: str) -> None:
    """Dates on the axis when x holds dates (concise month labels), else plain weeks."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.datetime64) and len(x) > 1 and x[-1] > x[0]:
        import matplotlib.dates as mdates

        loc = mdates.AutoDateLocator(minticks=4, maxticks=8)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.set_xlabel(xlabel)


def _integer_ticks(ax: plt.Axes, axis: str = "y") -> None:
    from matplotlib.ticker import MaxNLocator

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_locator(MaxNLocator(integer=True))


def _level_ticks(ax: plt.Axes, levels: list[str]) -> None:
    """A discrete scale's levels named on the axis ("3 intelligence and technology"), not bare numbers."""
    lo, hi = ax.get_ylim()
    ks = [k for k in range(len(levels)) if lo - 0.5 <= k <= hi + 0.5]
    ax.set_yticks(ks)
    ax.set_yticklabels([f"{k} {levels[k]}" for k in ks], fontsize=7)


def _finish_panels(fig: plt.Figure, ax: plt.Axes, names: list[str], reference: str | None, title: str) -> plt.Figure:
    """One legend below a grid of panels (scenarios in ``names`` order, the reference marked) and the title."""
    handles, labs = ax.get_legend_handles_labels()
    order = [labs.index(n) for n in names if n in labs]
    fig.legend(
        [handles[i] for i in order],
        [labs[i] + (" (reference)" if labs[i] == reference else "") for i in order],
        fontsize=8,
        loc="lower center",
        ncol=min(4, len(order)),
        bbox_to_anchor=(0.5, -0.04),
    )
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _fan_panel(
    ax: plt.Axes,
    series: dict[str, dict[str, np.ndarray]],
    colours: dict[str, str],
    reference: str | None,
    bands50: bool,
) -> None:
    for name, d in series.items():
        c = colours[name]
        if name == reference:
            ax.plot(d["x"], d["p5"], color=REFERENCE_COLOUR, linestyle=":", linewidth=1.0, zorder=9)
            ax.plot(d["x"], d["p95"], color=REFERENCE_COLOUR, linestyle=":", linewidth=1.0, zorder=9)
            ax.plot(d["x"], d["median"], **REFERENCE_LINE)
            continue
        ax.fill_between(d["x"], d["p5"], d["p95"], color=c, alpha=0.15, linewidth=0)
        if bands50:
            ax.fill_between(d["x"], d["p25"], d["p75"], color=c, alpha=0.3, linewidth=0)
        ax.plot(d["x"], d["median"], color=c, linewidth=2)


def _legend_handles(names: list[str], colours: dict[str, str], reference: str | None, bands50: bool) -> list[Any]:
    """One legend entry per scenario (line and band together), and one for the reference."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    for n in names:
        if n == reference:
            handles.append(
                Line2D([], [], **{**REFERENCE_LINE, "zorder": 1}, label=f"{n} (reference): median, dotted 90% band")
            )
        else:
            handles.append((Patch(color=colours[n], alpha=0.25), Line2D([], [], color=colours[n], linewidth=2)))
    labels = [
        f"{n} (reference): median, dotted 90% band" if n == reference else f"{n}: median and 90% band" for n in names
    ]
    if bands50:
        labels = [lab.replace("90% band", "50% and 90% bands") for lab in labels]
    return list(zip(handles, labels, strict=True))


def fan_chart(
    series: dict[str, dict[str, np.ndarray]],
    title: str,
    ylabel: str,
    colours: dict[str, str],
    reference: str | None = None,
    discrete: bool = False,
    xlabel: str = "week since start",
    levels: list[str] | None = None,
) -> plt.Figure:
    """Median lines with 90% bands, one colour per scenario; the reference black, dashed, on top.

    ``levels`` names the values of a discrete scale (Russia's support tiers) on the y axis.

    One scenario also gets its 50% band. With four or more scenarios the bands would merge, so
    each other scenario gets its own panel (small multiples, shared axes), each with the reference.
    """
    names = list(series)
    others = [n for n in names if n != reference]
    single = len(names) == 1
    ylabel = textwrap.fill(ylabel, 38)  # a unit in words ("ladder points (10: ...)") would overrun the panel
    if len(names) >= 4 and reference in series:
        fig, axes = _grid(len(others), 2, 5.0, 3.2, share=True)
        for i, (ax, n) in enumerate(zip(axes, others)):
            _fan_panel(ax, {reference: series[reference], n: series[n]}, colours, reference, False)
            ax.set_title(n, fontsize=10, color=colours[n])
            ax.grid(alpha=0.3)
            _time_axis(ax, series[n]["x"], xlabel if i >= len(others) - 2 else "")
            ax.set_ylabel(ylabel, fontsize=8)
            if discrete:
                _integer_ticks(ax)
            if levels:
                _level_ticks(ax, levels)
        pairs = _legend_handles([reference, *others], colours, reference, False)
        fig.legend(
            [h for h, _ in pairs],
            [lab for _, lab in pairs],
            fontsize=8,
            loc="lower center",
            ncol=2,
            bbox_to_anchor=(0.5, -0.02 - 0.03 * (len(pairs) // 2)),
        )
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        return fig
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    _fan_panel(ax, series, colours, reference, single)
    ax.set_title(title)
    _time_axis(ax, series[names[0]]["x"], xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if discrete:
        _integer_ticks(ax)
    if levels:
        _level_ticks(ax, levels)
    pairs = _legend_handles(names, colours, reference, single)
    if single:
        pairs = [(h, lab.split(": ", 1)[1] if ": " in lab else lab) for h, lab in pairs]
    ax.legend(
        [h for h, _ in pairs],
        [lab for _, lab in pairs],
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0) if not single else None,
    )
    return fig


def stacked_shares(
    x: np.ndarray,
    shares: np.ndarray,
    labels: list[str],
    colours: list[str],
    title: str,
    xlabel: str = "week since start",
) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.stackplot(x, shares.T, labels=labels, colors=colours[: shares.shape[1]], edgecolor="white", linewidth=0.3)
    ax.set_ylim(0, 1)
    if len(x) > 1 and x[-1] > x[0]:
        ax.set_xlim(x[0], x[-1])
    ax.set_title(title)
    _time_axis(ax, x, xlabel)
    ax.set_ylabel("share of replicates")
    handles, labs = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labs[::-1], fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def tier_chart(
    x: np.ndarray, shares: np.ndarray, tier_names: list[str], title: str, xlabel: str = "week since start"
) -> plt.Figure:
    labels = [f"{i} {n}" for i, n in enumerate(tier_names)]
    return stacked_shares(x, shares, labels, TIER_COLOURS, title, xlabel)


def ladder_chart(x: np.ndarray, shares: np.ndarray, title: str, xlabel: str = "week since start") -> plt.Figure:
    return stacked_shares(x, shares, [g[0] for g in LADDER_GROUPS], LADDER_COLOURS, title, xlabel)


def _order(names: list[str], reference: str | None) -> list[str]:
    """Draw order: the others first, the reference last (on top)."""
    return [n for n in names if n != reference] + ([reference] if reference in names else [])


def outcome_distributions(
    values: dict[str, dict[str, np.ndarray]],
    names: list[str],
    units: dict[str, str],
    colours: dict[str, str],
    title: str,
    reference: str | None = None,
    labels: dict[str, str] | None = None,
) -> plt.Figure:
    """One panel per continuous outcome: a histogram per scenario (step outlines); the reference dashed black."""
    labels = labels or {}
    fig, axes = _grid(len(names), 3, 4.2, 3.2)
    for ax, name in zip(axes, names):
        allv = np.concatenate([np.asarray(v[name], float) for v in values.values()])
        allv = allv[np.isfinite(allv)]
        lo, hi = (float(allv.min()), float(allv.max())) if len(allv) else (0.0, 1.0)
        whole = bool(len(allv) and np.allclose(allv, np.round(allv)) and hi - lo <= 60)
        # whole-number outcomes: one bin per value
        bins = np.arange(lo - 0.5, hi + 1.5) if whole else np.linspace(lo, hi if hi > lo else lo + 1, 31)
        for scen in _order(list(values), reference):
            x = np.asarray(values[scen][name], float)
            x = x[np.isfinite(x)]
            style = {**REFERENCE_LINE} if scen == reference else {"color": colours[scen], "linewidth": 1.8}
            ax.hist(x, bins=bins, histtype="step", label=scen, density=False, **style)
        ax.set_title(labels.get(name, name), fontsize=10)
        ax.set_xlabel(units.get(name, ""))
        ax.set_ylabel("replicates")
        ax.grid(alpha=0.3)
        if whole:
            _integer_ticks(ax, "x")
    return _finish_panels(fig, axes[0], list(values), reference, title)


def probability_chart(
    rows: list[dict[str, Any]],
    scenarios: list[str],
    colours: dict[str, str],
    title: str,
    reference: str | None = None,
    labels: dict[str, str] | None = None,
) -> plt.Figure:
    """Horizontal dot-and-whisker chart: probability with 95% Wilson interval per scenario."""
    labels = labels or {}
    outcomes = list(dict.fromkeys(r["outcome"] for r in rows))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(outcomes) * max(1, len(scenarios)) ** 0.5 + 1.5))
    k = len(scenarios)
    for j, scen in enumerate(scenarios):
        sub = {r["outcome"]: r for r in rows if r["scenario"] == scen}
        ys = [i + (j - (k - 1) / 2) * 0.8 / max(k, 1) for i in range(len(outcomes))]
        p = [sub[o]["p"] for o in outcomes]
        lo = [max(0.0, sub[o]["p"] - sub[o]["low"]) for o in outcomes]
        hi = [max(0.0, sub[o]["high"] - sub[o]["p"]) for o in outcomes]
        ref = scen == reference
        ax.errorbar(
            p,
            ys,
            xerr=[lo, hi],
            fmt="s" if ref else "o",
            color=colours[scen],
            capsize=2,
            markersize=5 if ref else 4,
            label=f"{scen} (reference)" if ref else scen,
            zorder=10 if ref else 3,
        )
    ax.set_yticks(range(len(outcomes)))
    ax.set_yticklabels([labels.get(o, o) for o in outcomes], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("probability over the horizon (95% Wilson interval)")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    if k > 1:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="scenario")
    return fig


def survival_chart(
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]],
    colours: dict[str, str],
    title: str,
    reference: str | None = None,
    start_date: str | None = None,
    labels: dict[str, str] | None = None,
) -> plt.Figure:
    """Kaplan-Meier style curves: share of replicates in which the event has not yet happened."""
    from model.analysis.plotdata import dates, time_label

    labels = labels or {}
    fig, axes = _grid(len(curves), 2, 5.2, 3.4)
    for ax, (event, by_scen) in zip(axes, curves.items()):
        for scen in _order(list(by_scen), reference):
            xs, ys = by_scen[scen]
            style = {**REFERENCE_LINE} if scen == reference else {"color": colours[scen], "linewidth": 1.8}
            ax.step(dates(xs, start_date), ys, where="post", label=scen, **style)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(labels.get(event, event.replace("_week", "").replace("_", " ")), fontsize=10)
        _time_axis(ax, dates(next(iter(by_scen.values()))[0], start_date), time_label(start_date))
        ax.set_ylabel("share not yet happened")
        ax.grid(alpha=0.3)
    return _finish_panels(fig, axes[0], list(next(iter(curves.values()))), reference, title)


def audit_chart(
    rows: list[dict[str, Any]], title: str, top: int = 12, labels: dict[str, str] | None = None
) -> plt.Figure:
    """Share of replicates in which each constraint bound at least once."""
    labels = labels or {}
    rows = [r for r in rows if r["share_of_replicates"] > 0][:top] or rows[:1]
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(rows) + 1.4))
    ticks = [f"{labels.get(r['constraint'], r['constraint'])} ({', '.join(r['claims'][:3])})" for r in rows]
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
    ax.set_yticklabels(ticks, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.3)
    ax.set_xlabel("share of replicates in which the constraint bound")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig


def audit_comparison(
    audits: dict[str, list[dict[str, Any]]],
    scenarios: list[str],
    colours: dict[str, str],
    title: str,
    top: int = 10,
    reference: str | None = None,
    labels: dict[str, str] | None = None,
) -> plt.Figure:
    """Grouped bars: for the constraints that bind most, the share of replicates per scenario."""
    labels = labels or {}
    share: dict[str, dict[str, float]] = {}
    for scen, rows in audits.items():
        for r in rows:
            key = f"{labels.get(r['constraint'], r['constraint'])} ({', '.join(r['claims'][:2])})"
            share.setdefault(key, {})[scen] = r["share_of_replicates"]
    keys = sorted(share, key=lambda k: -max(share[k].values()))[:top]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(keys) + 1.6))
    k = len(scenarios)
    for j, scen in enumerate(scenarios):
        ys = [i + (j - (k - 1) / 2) * 0.8 / k for i in range(len(keys))]
        ref = scen == reference
        ax.barh(
            ys,
            [share[lab].get(scen, 0.0) for lab in keys],
            height=0.8 / k,
            color="white" if ref else colours[scen],
            edgecolor=REFERENCE_COLOUR if ref else colours[scen],
            hatch="///" if ref else None,
            label=f"{scen} (reference)" if ref else scen,
        )
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels(keys, fontsize=7)
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


def reliability_chart(
    bins: list[dict[str, Any]], hist: dict[str, list[Any]], title: str, base_rate: float | None = None
) -> plt.Figure:
    """Predicted probability against observed frequency (with the diagonal), forecasts' histogram below.

    ``bins`` come from ``score.reliability`` (marker area and label: the number of questions in
    the bin; whiskers: the observed share's 95% Wilson interval), ``hist`` from
    ``score.forecast_histogram`` (stacked by what happened).
    """
    fig, (ax, hx) = plt.subplots(
        2, 1, figsize=(6.2, 7.6), gridspec_kw={"height_ratios": [3.2, 1.0], "hspace": 0.08}, sharex=True
    )
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1.2, label="perfect calibration", zorder=1)
    if base_rate is not None and np.isfinite(base_rate):
        ax.axhline(base_rate, color="grey", linestyle=":", linewidth=1.0, label=f"base rate {base_rate:.2f}", zorder=1)
    if bins:
        x = np.array([b["forecast"] for b in bins])
        yv = np.array([b["observed"] for b in bins])
        n = np.array([b["n"] for b in bins], dtype=float)
        lo = np.array([b["observed_low"] for b in bins])
        hi = np.array([b["observed_high"] for b in bins])
        err = [np.maximum(yv - lo, 0.0), np.maximum(hi - yv, 0.0)]  # rounding can put the share a hair outside
        ax.errorbar(x, yv, yerr=err, fmt="none", ecolor=PALETTE[0], alpha=0.5, capsize=3, zorder=2)
        sizes = 40 + 600 * n / n.max()
        ax.scatter(x, yv, s=sizes, color=PALETTE[0], alpha=0.8, edgecolor="white", zorder=3,
                   label="questions binned by forecast")  # fmt: skip
        ax.plot(x, yv, color=PALETTE[0], linewidth=1.0, alpha=0.6, zorder=2)
        for xi, yi, ni, si in zip(x, yv, n, sizes, strict=True):
            gap = np.sqrt(si / np.pi) + 6  # the marker's radius in points, and a little air
            below = yi > 0.85  # keep the label inside the axes, beside its whisker
            ax.annotate(f"n={int(ni)}", (xi, yi), xytext=(4, -gap if below else gap), textcoords="offset points",
                        fontsize=8, ha="left", va="center")  # fmt: skip
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel("observed frequency (share resolved yes)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", markerscale=0.4)
    left = np.asarray(hist["low"], dtype=float)
    width = np.asarray(hist["high"], dtype=float) - left
    yes = np.asarray(hist["yes"], dtype=float)
    no = np.asarray(hist["no"], dtype=float)
    hx.bar(left, yes, width=width, align="edge", color=PALETTE[2], edgecolor="white", label="resolved yes")
    hx.bar(left, no, width=width, bottom=yes, align="edge", color=PALETTE[1], alpha=0.7, edgecolor="white",
           label="resolved no")  # fmt: skip
    hx.set_xlabel("forecast probability (model)")
    hx.set_ylabel("questions")
    hx.grid(axis="y", alpha=0.3)
    hx.set_ylim(0, max(1.0, float((yes + no).max())) * 1.45)  # headroom for the legend
    hx.legend(fontsize=8, loc="upper center", ncol=2)
    _integer_ticks(hx, "y")
    return fig


def headline_chart(panels: list[dict[str, Any]], colours: dict[str, str], title: str) -> plt.Figure:
    """The headline as one figure: per question, each scenario's level with its 95% interval, the reference marked.

    The reference is a black dashed line with its own interval shaded grey, in every panel; a
    scenario's marker is filled when its difference is meaningful, half-filled when detectable but
    small, hollow when noise, and its difference with the simultaneous interval is written beside
    it. Panels sit in two columns, each with room for the scenario names and the written difference.
    """
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    cols = 2 if len(panels) > 1 else 1
    n_rows = max(1, int(np.ceil(len(panels) / cols)))
    k = max((len(p["rows"]) for p in panels), default=1)
    panel_h = 0.32 * k + 1.25  # inches per panel
    fig_h = n_rows * panel_h + 0.9
    fig = plt.figure(figsize=(7.2 * cols, fig_h))
    col_w = 1.0 / cols
    for i, p in enumerate(panels):
        row, col = divmod(i, cols)
        bottom = 1 - (0.55 + (row + 1) * panel_h) / fig_h + 0.55 / fig_h
        ax = fig.add_axes((col * col_w + 0.2 * col_w, bottom, 0.38 * col_w, (panel_h - 0.75) / fig_h))
        ref = p["reference"]
        ax.axvspan(ref["low"], ref["high"], color="#d9d9d9", alpha=0.7, lw=0, zorder=0)
        ax.axvline(ref["value"], **{**REFERENCE_LINE, "linewidth": 1.4, "zorder": 1})
        rows = p["rows"]
        for y, r in enumerate(rows):
            c = colours.get(r["scenario"], "#1b6ca8")
            fill = {
                "meaningful": {"mfc": c},
                "detectable but small": {"fillstyle": "left", "mfc": c, "mfcalt": "white"},
            }
            ax.errorbar(
                r["value"], y, xerr=[[max(0.0, r["value"] - r["low"])], [max(0.0, r["high"] - r["value"])]],
                fmt="o", color=c, ecolor=c, capsize=3, ms=7, zorder=3, **fill.get(r["verdict"], {"mfc": "white"}),
            )  # fmt: skip
            ax.annotate(r["text"], (1.03, y), xycoords=("axes fraction", "data"), va="center", fontsize=7.5, color=c)
        ax.set_yticks(range(len(rows)), [r["scenario"] for r in rows], fontsize=8)
        ax.set_ylim(len(rows) - 0.5, -1.0)
        ax.annotate(f"{ref['scenario']} (reference)", (ref["value"], -0.8), fontsize=7, va="center", ha="left",
                    xytext=(3, 0), textcoords="offset points")  # fmt: skip
        # at least four smallest meaningful differences wide: a clear but negligible move must not fill the panel
        lo, hi = ax.get_xlim()
        need = 4.0 * float(p.get("smallest") or 0.0)
        if need > hi - lo:
            mid = (lo + hi) / 2
            lo, hi = mid - need / 2, mid + need / 2
            if p["xlabel"].startswith("probability"):
                lo, hi = max(-2.0, lo), min(102.0, max(hi, lo + need))
            ax.set_xlim(lo, hi)
        worse = {"higher": " (higher is worse)", "lower": " (lower is worse)"}.get(p["worse"], "")
        ax.set_title(p["title"] + worse, fontsize=9.5, loc="left")
        ax.set_xlabel(p["xlabel"], fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    handles = [
        Line2D([], [], **{**REFERENCE_LINE, "linewidth": 1.4}, label="reference (grey: its 95% interval)"),
        Line2D([], [], marker="o", ls="", color="#555", label="meaningful difference"),
        Line2D([], [], marker="o", ls="", color="#555", fillstyle="left", mfcalt="white", label="detectable but small"),
        Line2D([], [], marker="o", ls="", color="#555", mfc="white", label="noise"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11, y=1 - 0.12 / fig_h, va="top")
    return fig
