"""Sweep reports: response curves of outcomes against a lever's options or a parameter's values.

``entente sweep`` runs a scenario once per value with the same master seed, so replicate r of
every run meets the same random numbers (common random numbers) and each value's difference
from the reference value is a paired estimate. This module reads those run folders (never the
simulation) and writes ``runs/sweep/<stamp>-<scenario>-<parameter>/``: ``report.md``,
``report.html`` (self-contained), ``sweep.csv`` (every number of the report) and
``response_curves.png`` with the data behind it in ``response_curves.csv``.

:func:`response_rows` is the pure data (tested against hand-computed values);
:func:`draw_response_curves` only draws it.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis import data
from model.analysis.htmlpage import html_page
from model.analysis.stats import Z95, paired_difference, verdict, wilson
from model.files import safe_component, utc_stamp, write_text

MAIN_OUTCOMES = ("peak_escalation", "us_war_on_iran", "max_support_tier", "peak_brent", "nuclear_sites_struck")
MAX_PANELS = 6
CSV_COLUMNS = [
    "value",
    "outcome",
    "label",
    "unit",
    "kind",
    "estimate",
    "low",
    "high",
    "n",
    "difference",
    "difference_low",
    "difference_high",
    "smallest",
    "verdict",
]


def as_share(values: np.ndarray, kind: str) -> np.ndarray:
    """An event outcome (weeks until something, empty if never) as 1/0: did it happen by the horizon?

    Sweeps compare the share in which it happened, which pairs replicate by replicate; mean
    weeks over the replicates where it happened would compare different replicates per value.
    """
    v = np.asarray(values, dtype=float)
    return np.isfinite(v).astype(float) if kind == "event" else v


def estimate(values: np.ndarray, kind: str) -> tuple[float, float, float, int]:
    """Estimate with its 95% interval: a share (Wilson) for binary and event outcomes, else a mean (normal)."""
    v = as_share(values, kind)
    kind = "binary" if kind == "event" else kind
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    if kind == "binary":
        p, lo, hi = wilson(float(v.sum()), n)
        return p, lo, hi, n
    m = float(v.mean())
    if n < 2:
        return m, float("nan"), float("nan"), n
    half = Z95 * float(v.std(ddof=1)) / np.sqrt(n)
    return m, m - half, m + half, n


def default_smallest(kind: str) -> float:
    """The smallest meaningful difference when an outcome declares none: 5 points for a share, else 0.

    An event outcome is compared as the share in which the event happened (:func:`as_share`).
    """
    return 0.05 if kind in ("binary", "event") else 0.0


def response_rows(
    ensembles: list[dict[str, np.ndarray]],
    values: list[Any],
    outcomes: list[str],
    meta_outcomes: dict[str, dict[str, Any]],
    reference: int = 0,
) -> list[dict[str, Any]]:
    """One row per (value, outcome): estimate and interval, paired difference from the reference, verdict.

    Args:
        ensembles: each value's outcome table (``read_outcomes``), in the order of ``values``;
            they share replicate indices and seed (common random numbers), so differences pair
            replicate by replicate.
        values: the lever's options or the parameter's values.
        outcomes: outcome names to report.
        meta_outcomes: the manifest's outcome dictionary (kind, label, unit, smallest).
        reference: index of the value the differences are taken against.
    """
    rows = []
    ref = ensembles[reference]
    for o in outcomes:
        info = meta_outcomes.get(o, {})
        kind = str(info.get("kind", "continuous"))
        declared = info.get("smallest")  # scenario-defined outcomes may declare none (null)
        smallest = float(declared) if declared is not None else default_smallest(kind)
        for i, (value, table) in enumerate(zip(values, ensembles, strict=True)):
            if o not in table:
                continue
            est, lo, hi, n = estimate(table[o], kind)
            if i == reference:
                d_mean = d_lo = d_hi = 0.0
                word = "reference"
            else:
                if not np.array_equal(ref["replicate"], table["replicate"]):
                    raise ValueError("the sweep's runs do not share their replicates; they cannot be paired")
                d = paired_difference(as_share(ref[o], kind), as_share(table[o], kind))
                d_mean, d_lo, d_hi = d.mean, d.low, d.high
                word = verdict(d.low, d.high, smallest)
            rows.append(
                {
                    "value": value,
                    "outcome": o,
                    "label": str(info.get("label", o)),
                    "unit": str(info.get("unit", "")) if kind not in ("binary", "event") else "share",
                    "kind": kind,
                    "estimate": est,
                    "low": lo,
                    "high": hi,
                    "n": n,
                    "difference": d_mean,
                    "difference_low": d_lo,
                    "difference_high": d_hi,
                    "smallest": smallest,
                    "verdict": word,
                }
            )
    return rows


def main_outcomes(rows: list[dict[str, Any]], reported: list[str], top: int = MAX_PANELS) -> list[str]:
    """The outcomes to draw: the main ones that moved, then others that moved most, then the main ones.

    "Moved most" is measured in units of each outcome's smallest meaningful difference; event
    outcomes (weeks until something, averaged where it happened) come after the others because
    they are conditional means.
    """
    score: dict[str, float] = {}
    for r in rows:
        if r["verdict"] in ("meaningful", "detectable but small"):
            s = abs(r["difference"]) / (r["smallest"] or 1.0)
            s += 1e6 if r["verdict"] == "meaningful" else 0.0
            s -= 1e9 if r["kind"] == "event" else 0.0  # restates a binary outcome (X happened at all)
            score[r["outcome"]] = max(score.get(r["outcome"], -np.inf), s)
    moved = sorted(score, key=lambda o: -score[o])
    main_moved = [o for o in moved if o in MAIN_OUTCOMES and score[o] > 0]
    order = main_moved + [o for o in moved if o not in main_moved]
    order += [o for o in MAIN_OUTCOMES if o in reported and o not in order]
    order += [o for o in reported if o not in order]
    return order[:top]


def _fmt(v: float, kind: str, signed: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    if kind in ("binary", "event"):
        return f"{v * 100:+.1f} pts" if signed else f"{v:.1%}"
    text = f"{v:+.3g}" if signed else f"{v:.3g}"
    return text


def _value_text(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def sweep_report(points: list[tuple[Any, Path]], axis: dict[str, Any], out: Path, command: list[str]) -> Path:
    """Write the sweep folder (report.md, report.html, sweep.csv, sweep.json, the plot and its CSV)."""
    values = [v for v, _ in points]
    folders = [Path(f) for _, f in points]
    metas = [data.manifest(f) for f in folders]
    ref_i = values.index(axis["reference"]) if axis["reference"] in values else 0
    meta = metas[ref_i]
    name = meta["scenario"]["name"]
    seeds = {m["seed"] for m in metas}
    if len(seeds) != 1:
        raise ValueError("a sweep's runs must share their master seed (common random numbers)")
    ensembles = [data.read_outcomes(f) for f in folders]
    reported = list(meta["reported_outcomes"])
    rows = response_rows(ensembles, values, reported, meta["outcomes"], ref_i)
    folder = out / "sweep" / f"{utc_stamp()}-{safe_component(name)[:40]}-{safe_component(axis['name'])[:40]}"
    folder.mkdir(parents=True, exist_ok=False)
    panels = main_outcomes(rows, reported)
    curves = [r for r in rows if r["outcome"] in panels]
    _write_csv(folder / "sweep.csv", rows, folders, values)
    _write_csv(folder / "response_curves.csv", curves, folders, values)
    plot = folder / "response_curves.png"
    draw_response_curves(curves, panels, axis, plot)
    info = {
        "scenario": name,
        "axis": axis,
        "reference": axis["reference"],
        "runs": [{"value": v, "folder": str(f)} for v, f in points],
        "seed": meta["seed"],
        "replicates": meta["replicates"],
        "command": command,
    }
    write_text(folder / "sweep.json", json.dumps(info, indent=2, default=str) + "\n")
    md = _markdown(info, meta, rows, panels, folders, values)
    write_text(folder / "report.md", md)
    write_text(folder / "report.html", html_page(md, folder, "entente sweep"))
    return folder


def _write_csv(path: Path, rows: list[dict[str, Any]], folders: list[Path], values: list[Any]) -> None:
    where = {str(v): str(f) for v, f in zip(values, folders, strict=True)}
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([*CSV_COLUMNS, "run_folder"])
    for r in rows:
        w.writerow([f"{r[c]:.6g}" if isinstance(r[c], float) else r[c] for c in CSV_COLUMNS] + [where[str(r["value"])]])
    write_text(path, buf.getvalue())


def _axis_title(axis: dict[str, Any]) -> str:
    unit = f" ({axis['unit']})" if axis.get("unit") and axis["kind"] != "lever" else ""
    return f"{axis['label']}{unit} [{axis['name']}]"


def draw_response_curves(rows: list[dict[str, Any]], panels: list[str], axis: dict[str, Any], path: Path) -> Path:
    """Small multiples: each outcome against the swept value, with 95% intervals (thin drawing of ``rows``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, max(1, len(panels)))
    nrows = int(np.ceil(len(panels) / cols)) or 1
    fig, axes = plt.subplots(nrows, cols, figsize=(4.6 * cols, 3.4 * nrows), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    categorical = axis["kind"] == "lever"
    for ax, o in zip(axes.ravel(), panels, strict=False):
        rs = [r for r in rows if r["outcome"] == o]
        if not rs:
            ax.axis("off")
            continue
        y = np.array([r["estimate"] for r in rs], dtype=float)
        lo = np.array([r["low"] for r in rs], dtype=float)
        hi = np.array([r["high"] for r in rs], dtype=float)
        scale = 100.0 if rs[0]["kind"] in ("binary", "event") else 1.0
        if categorical:
            x = np.arange(len(rs))
            ax.errorbar(
                x,
                y * scale,
                yerr=np.clip([(y - lo) * scale, (hi - y) * scale], 0, None),
                fmt="o",
                color="#1b6ca8",
                capsize=4,
                lw=1.5,
            )
            ax.set_xticks(x, [str(r["value"]) for r in rs])
            ref = [i for i, r in enumerate(rs) if r["verdict"] == "reference"]
            if ref:
                ax.plot(x[ref], y[ref] * scale, "o", mfc="white", mec="#1b6ca8", ms=9, zorder=3, label="reference")
        else:
            x = np.array([float(r["value"]) for r in rs])
            ax.fill_between(x, lo * scale, hi * scale, color="#1b6ca8", alpha=0.2, lw=0, label="95% interval")
            ax.plot(x, y * scale, "o-", color="#1b6ca8", lw=1.5, ms=3.5, label="estimate")
            ref = [i for i, r in enumerate(rs) if r["verdict"] == "reference"]
            if ref:
                ax.axvline(x[ref[0]], color="#7f7f7f", lw=0.8, ls="--", label="reference")
        # the axis spans at least twice the smallest meaningful difference, so a move that is
        # statistically clear but too small to matter does not fill the panel
        lo_y, hi_y = np.nanmin(lo * scale), np.nanmax(hi * scale)
        need = 2.0 * float(rs[0]["smallest"]) * scale
        if np.isfinite(lo_y) and np.isfinite(hi_y) and hi_y - lo_y < need:
            mid = (lo_y + hi_y) / 2
            bottom = mid - need / 2
            if scale == 100.0:
                bottom = min(max(bottom, 0.0), 100.0 - need)
            ax.set_ylim(bottom, bottom + need)
        unit = "%" if scale == 100.0 else rs[0]["unit"]
        ax.set_title(rs[0]["label"] + (": happened by the horizon" if rs[0]["kind"] == "event" else ""), fontsize=10)
        ax.set_ylabel(f"{'share of replicates' if scale == 100 else 'mean'} ({unit})" if unit else "mean", fontsize=8)
        ax.set_xlabel(_axis_title(axis), fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(f"Response to: {axis['label']} (estimates with 95% intervals)", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def _markdown(
    info: dict[str, Any],
    meta: dict[str, Any],
    rows: list[dict[str, Any]],
    panels: list[str],
    folders: list[Path],
    values: list[Any],
) -> str:
    axis = info["axis"]
    ref = _value_text(axis["reference"])
    n = meta["replicates"]
    lines = [
        f"# Sweep: {axis['label']} in {info['scenario']}",
        "",
        f"*{meta['scenario'].get('title', '')}* {' '.join(str(meta['scenario'].get('question', '')).split())}",
        "",
        f"**Varied:** {axis['label']} (`{axis['name']}`"
        + (f", {axis['unit']}" if axis.get("unit") and axis["kind"] != "lever" else "")
        + f"): {', '.join(_value_text(v) for v in values)}. "
        + (f"{axis['doc']}. " if axis.get("doc") else "")
        + f"Differences are taken against **{ref}**.",
        "",
        f"{n} replicates per value, master seed {info['seed']}, {meta['steps']} steps of {meta['step_days']:g} days."
        " Every value ran with the same replicates and random numbers (common random numbers), so each"
        " difference is paired replicate by replicate; its 95% interval is much narrower than the two"
        " estimates' intervals suggest.",
        "",
        "## What moved",
        "",
    ]
    moved = [r for r in rows if r["verdict"] == "meaningful"]
    by_outcome: dict[str, list[dict[str, Any]]] = {}
    for r in moved:
        by_outcome.setdefault(r["outcome"], []).append(r)
    ranked = [o for o in main_outcomes(rows, list(by_outcome), top=len(rows)) if o in by_outcome]
    if not ranked:
        lines.append(
            "No outcome moved by more than its smallest meaningful difference at any value "
            "(verdicts: meaningful, detectable but small, noise; see the tables)."
        )
    for o in ranked:
        rs = by_outcome[o]
        big = max(rs, key=lambda r: abs(r["difference"]))
        base = next(r for r in rows if r["outcome"] == o and r["verdict"] == "reference")
        lines.append(
            f"- **{big['label']}{' (happened by the horizon)' if big['kind'] == 'event' else ''}**: {_fmt(base['estimate'], big['kind'])} at {ref} vs"
            f" {_fmt(big['estimate'], big['kind'])} at {_value_text(big['value'])},"
            f" {_fmt(big['difference'], big['kind'], True)}"
            f" [{_fmt(big['difference_low'], big['kind'], True)}, {_fmt(big['difference_high'], big['kind'], True)}]"
            f" (meaningful at {len(rs)} of {len(values) - 1} values)"
        )
    lines += [
        "",
        "Verdicts: **meaningful** when the paired 95% interval lies wholly beyond the outcome's smallest"
        " meaningful difference (declared in the catalog, shown per table), **detectable but small** when it"
        " excludes zero but not that threshold, **noise** when it contains zero. No correction for the"
        f" {len(values) - 1} x {len({r['outcome'] for r in rows})} comparisons is applied: read a lone"
        " 'detectable but small' with care.",
        "",
        "## Response curves",
        "",
        "![Response curves](response_curves.png)",
        "",
        "The data behind the figure: `response_curves.csv`; every number of this report: `sweep.csv`.",
        "",
        "## Tables",
        "",
    ]
    for o in dict.fromkeys(r["outcome"] for r in rows):
        rs = [r for r in rows if r["outcome"] == o]
        kind = rs[0]["kind"]
        unit = "" if kind in ("binary", "event") else f", {rs[0]['unit']}" if rs[0]["unit"] else ""
        note = ": share of replicates in which it happened by the horizon" if kind == "event" else ""
        lines += [
            f"### {rs[0]['label']} (`{o}`{unit}){note}",
            "",
            f"Smallest meaningful difference: {_fmt(rs[0]['smallest'], kind, True)}.",
            "",
            f"| {axis['label']} | estimate [95%] | difference from {ref} [95%, paired] | verdict |",
            "|---|---|---|---|",
        ]
        for r in rs:
            diff = (
                "-"
                if r["verdict"] == "reference"
                else f"{_fmt(r['difference'], kind, True)} [{_fmt(r['difference_low'], kind, True)},"
                f" {_fmt(r['difference_high'], kind, True)}]"
            )
            lines.append(
                f"| {_value_text(r['value'])} | {_fmt(r['estimate'], kind)}"
                f" [{_fmt(r['low'], kind)}, {_fmt(r['high'], kind)}] | {diff} | {r['verdict']} |"
            )
        lines.append("")
    lines += ["## Run folders", "", "| value | run folder |", "|---|---|"]
    lines += [f"| {_value_text(v)} | `{f}` |" for v, f in zip(values, folders, strict=True)]
    lines += [
        "",
        f"Explain a replicate of any of them: `entente explain {folders[0]} --pick worst --by peak_escalation`.",
        f"Command: `{' '.join(info['command'])}`",
        "",
    ]
    return "\n".join(lines)
