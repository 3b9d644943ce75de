"""Sweep reports: response curves of outcomes against a lever's options or a parameter's values.

``entente sweep`` runs a scenario once per value with the same master seed, so replicate r of
every run meets the same random numbers (common random numbers) and each value's difference
from the reference value is a paired estimate. This module reads those run folders (never the
simulation) and writes ``runs/sweep/<stamp>-<scenario>-<parameter>/``: ``report.md``,
``report.html`` (self-contained), ``headline.txt`` (what the terminal prints), ``sweep.csv``
(every number of the report) and ``response_curves.png`` with its data in ``response_curves.csv``.

The statistics are the comparison's (:mod:`model.analysis.headline`): a probability or a mean
for every value, differences from the reference value with simultaneous (Bonferroni) intervals,
Newcombe's paired score interval for probabilities, and the same verdicts. Outcomes that are the
same quantity are merged. :func:`response_rows` is the pure data (tested against hand-computed
values); :func:`draw_response_curves` only draws it.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from model.analysis import data
from model.analysis import headline as headline_mod
from model.analysis.htmlpage import html_page
from model.analysis.stats import Z95, wilson
from model.catalog import load_catalog, reporting
from model.files import new_stamped_folder, safe_component, write_text

MAX_PANELS = 6
CSV_COLUMNS = [
    "value",
    "outcome",
    "label",
    "unit",
    "kind",
    "statistic",
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


def value_text(v: Any) -> str:
    """A swept value as a label: options as they are, numbers to three significant digits."""
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _meta(meta_outcomes: dict[str, dict[str, Any]], outcomes: list[str]) -> dict[str, dict[str, Any]]:
    """Outcome definitions with their kind and a smallest meaningful difference (a default when none is declared)."""
    out = {}
    for o in outcomes:
        info = dict(meta_outcomes.get(o, {}))
        info["kind"] = str(info.get("kind", "continuous"))
        if info.get("smallest") is None:  # scenario-defined outcomes may declare none (null)
            info["smallest"] = default_smallest(info["kind"])
        out[o] = info
    return out


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
        outcomes: outcome names to report (merge duplicates first).
        meta_outcomes: the manifest's outcome dictionary (kind, label, unit, smallest).
        reference: index of the value the differences are taken against.

    Differences get the comparison's simultaneous intervals: Bonferroni over every (value,
    outcome) difference, Newcombe's paired score interval for probabilities (inside
    [-100, +100] points), the normal interval of the paired differences for means.
    """
    ref = ensembles[reference]
    for t in ensembles:
        if not np.array_equal(ref["replicate"], t["replicate"]):
            raise ValueError("the sweep's runs do not share their replicates; they cannot be paired")
    keys = [value_text(v) for v in values]
    present = [o for o in outcomes if all(o in t for t in ensembles)]
    meta = _meta(meta_outcomes, present)
    pairing = headline_mod.Pairing(True, np.asarray(ref["replicate"]), {k: len(ref["replicate"]) for k in keys}, "",
                                   dict(zip(keys, ensembles, strict=True)))  # fmt: skip
    effects, _z = headline_mod.effect_table(pairing, keys[reference], present, meta)
    by = {(r["scenario"], r["outcome"]): r for r in effects}
    rows = []
    for o in present:
        info = meta[o]
        kind = info["kind"]
        for i, (key, value) in enumerate(zip(keys, values, strict=True)):
            e = by[(key, o)]
            is_ref = i == reference
            rows.append(
                {
                    "value": value,
                    "outcome": o,
                    "label": _label(str(info.get("label", o)), kind),
                    "unit": str(info.get("unit", "")) if kind not in ("binary", "event") else "share",
                    "kind": kind,
                    "statistic": e["statistic"],
                    "estimate": e["value"],
                    "low": e["value_low"],
                    "high": e["value_high"],
                    "n": int(np.sum(np.isfinite(as_share(ensembles[i][o], kind)))),
                    "difference": 0.0 if is_ref else e["diff"],
                    "difference_low": 0.0 if is_ref else e["low"],
                    "difference_high": 0.0 if is_ref else e["high"],
                    "smallest": float(info["smallest"]),
                    "verdict": "reference" if is_ref else e["verdict"],
                }
            )
    return rows


def _label(text: str, kind: str) -> str:
    """An event outcome ("Weeks until X") is read as "X by the horizon", as the comparison reads it."""
    if kind != "event":
        return text
    head = text[len("Weeks until ") :] if text.startswith("Weeks until ") else text
    return f"{head[:1].upper()}{head[1:]} by the horizon"


def main_outcomes(rows: list[dict[str, Any]], reported: list[str], top: int = MAX_PANELS) -> list[str]:
    """The outcomes to draw: the key ones (reporting.yaml) that moved, then others that moved most, then the key ones.

    "Moved most" is measured in units of each outcome's smallest meaningful difference.
    """
    key = [k["name"] for k in reporting.key_outcomes(load_catalog())]
    score: dict[str, float] = {}
    for r in rows:
        if r["verdict"] in ("meaningful", "detectable but small"):
            s = abs(r["difference"]) / (r["smallest"] or 1.0)
            s += 1e6 if r["verdict"] == "meaningful" else 0.0
            score[r["outcome"]] = max(score.get(r["outcome"], -np.inf), s)
    moved = sorted(score, key=lambda o: -score[o])
    main_moved = [o for o in moved if o in key and score[o] > 0]
    order = main_moved + [o for o in moved if o not in main_moved]
    order += [o for o in key if o in reported and o not in order]
    order += [o for o in reported if o not in order]
    return order[:top]


def _fmt(v: float, kind: str, signed: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    if kind in ("binary", "event"):
        return f"{v * 100:+.1f} pts" if signed else f"{v:.1%}"
    text = f"{v:+.3g}" if signed else f"{v:.3g}"
    return text


def sweep_headline(
    rows: list[dict[str, Any]], axis: dict[str, Any], meta: dict[str, Any], aliases: dict[str, str]
) -> list[str]:
    """The sweep's headline, as the comparison words it: per key outcome, each value against the reference value.

    Values keep the swept order (the lines read as a response curve); the outcomes are the
    scenario's own, then the catalog's key ones, with their direction (higher or lower is worse).
    """
    spec = {**load_catalog()}
    spec["outcomes"] = {**spec["outcomes"], **meta["outcomes"]}
    ref = value_text(axis["reference"])
    effect = [
        {
            "scenario": value_text(r["value"]),
            "outcome": r["outcome"],
            "kind": r["kind"],
            "smallest": r["smallest"],
            "unit": r["unit"],
            "value": r["estimate"],
            "reference_value": next(
                x["estimate"] for x in rows if x["outcome"] == r["outcome"] and x["verdict"] == "reference"
            ),
            "diff": r["difference"],
            "low": r["difference_low"],
            "high": r["difference_high"],
            "verdict": r["verdict"],
        }
        for r in rows
    ]
    present = list(dict.fromkeys(r["outcome"] for r in rows))
    catalog = set(load_catalog()["outcomes"])
    direction = {aliases.get(k["name"], k["name"]): k["worse"] for k in reporting.key_outcomes(spec)}
    order = [o for o in present if o not in catalog] + [o for o in direction if o in present]
    ranked = headline_mod.rank(effect, ref, [(o, direction.get(o, "")) for o in dict.fromkeys(order)], keep_order=True)
    return headline_mod.headline_text(spec, ranked, meta["outcomes"], f"{ref} (reference) =", markdown=False)


def sweep_report(points: list[tuple[Any, Path]], axis: dict[str, Any], out: Path, command: list[str]) -> Path:
    """Write the sweep folder (report.md, report.html, headline.txt, sweep.csv, sweep.json, the plot and its CSV)."""
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
    reported, aliases = headline_mod.merge_duplicates(list(meta["reported_outcomes"]), meta["outcomes"])
    rows = response_rows(ensembles, values, reported, meta["outcomes"], ref_i)
    folder = new_stamped_folder(out / "sweep", f"{safe_component(name)[:40]}-{safe_component(axis['name'])[:40]}")
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
    head = sweep_headline(rows, axis, meta, aliases)
    family = (len(values) - 1) * len(reported)
    intro = (
        f"Headline: {axis['label']} in {name}, against {value_text(axis['reference'])} (the reference value);"
        f" {meta['replicates']:,} paired replicates per value. Each line: value vs reference (the same statistic),"
        f" difference [simultaneous 95% interval, Bonferroni over {family} differences], verdict."
    )
    write_text(folder / "headline.txt", "\n".join([intro, "", *head]).rstrip() + "\n")
    md = _markdown(info, meta, rows, folders, values, intro, head, aliases, family)
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


def tick_labels(values: list[Any]) -> list[str]:
    """Readable tick labels of the swept values: three significant digits, no float noise (0.4286, not 0.428571428)."""
    return [value_text(float(v)) if isinstance(v, int | float) else str(v) for v in values]


def draw_response_curves(rows: list[dict[str, Any]], panels: list[str], axis: dict[str, Any], path: Path) -> Path:
    """Small multiples: each outcome against the swept value, with 95% intervals (thin drawing of ``rows``).

    The swept parameter is named once under the grid (wrapped), not under every panel where long
    labels collide; ticks show the values themselves, rotated when there are many.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, max(1, len(panels)))
    nrows = int(np.ceil(len(panels) / cols)) or 1
    fig, axes = plt.subplots(nrows, cols, figsize=(4.6 * cols, 3.4 * nrows + 0.4), squeeze=False)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    categorical = axis["kind"] == "lever"
    for ax, o in zip(axes.ravel(), panels, strict=False):
        rs = [r for r in rows if r["outcome"] == o]
        if not rs:
            ax.axis("off")
            continue
        _response_panel(ax, rs, categorical)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.supxlabel("\n".join(textwrap.wrap(_axis_title(axis), 110)), fontsize=9, y=0.045)
    fig.suptitle(f"Response to: {axis['label']} (estimates with 95% intervals)", fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def _response_panel(ax: Any, rs: list[dict[str, Any]], categorical: bool) -> None:
    """One outcome's response: points with intervals (options) or a line with a band (values)."""
    y = np.array([r["estimate"] for r in rs], dtype=float)
    lo = np.array([r["low"] for r in rs], dtype=float)
    hi = np.array([r["high"] for r in rs], dtype=float)
    scale = 100.0 if rs[0]["kind"] in ("binary", "event") else 1.0
    labels = tick_labels([r["value"] for r in rs])
    ref = [i for i, r in enumerate(rs) if r["verdict"] == "reference"]
    if categorical:
        x = np.arange(len(rs))
        err = np.clip([(y - lo) * scale, (hi - y) * scale], 0, None)
        ax.errorbar(x, y * scale, yerr=err, fmt="o", color="#1b6ca8", capsize=4, lw=1.5)
        ax.set_xticks(x, labels)
        if ref:
            ax.plot(x[ref], y[ref] * scale, "o", mfc="white", mec="#1b6ca8", ms=9, zorder=3, label="reference")
    else:
        x = np.array([float(r["value"]) for r in rs])
        ax.fill_between(x, lo * scale, hi * scale, color="#1b6ca8", alpha=0.2, lw=0, label="95% interval")
        ax.plot(x, y * scale, "o-", color="#1b6ca8", lw=1.5, ms=3.5, label="estimate")
        step = max(1, int(np.ceil(len(x) / 6)))  # at most six ticks: the values themselves, never crowded
        ax.set_xticks(x[::step], labels[::step])
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
    ax.set_title("\n".join(textwrap.wrap(rs[0]["label"], 45)), fontsize=10)
    what = "probability" if scale == 100 else "mean"
    ax.set_ylabel(f"{what} ({unit})" if unit else what, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)


def _markdown(
    info: dict[str, Any],
    meta: dict[str, Any],
    rows: list[dict[str, Any]],
    folders: list[Path],
    values: list[Any],
    intro: str,
    head: list[str],
    aliases: dict[str, str],
    family: int,
) -> str:
    axis = info["axis"]
    ref = value_text(axis["reference"])
    n = meta["replicates"]
    lines = [
        f"# Sweep: {axis['label']} in {info['scenario']}",
        "",
        f"*{meta['scenario'].get('title', '')}* {' '.join(str(meta['scenario'].get('question', '')).split())}",
        "",
        "## Headline",
        "",
        intro,
        "",
        "```",
        *head,
        "```",
        "",
        "![Response curves](response_curves.png)",
        "",
        "## What was varied",
        "",
        f"**{axis['label']}** (`{axis['name']}`"
        + (f", {axis['unit']}" if axis.get("unit") and axis["kind"] != "lever" else "")
        + f"): {', '.join(value_text(v) for v in values)}. "
        + (f"{axis['doc']}. " if axis.get("doc") else "")
        + f"Differences are taken against **{ref}**.",
        "",
        f"{n} replicates per value, master seed {info['seed']}, {meta['steps']} steps of {meta['step_days']:g} days."
        " Every value ran with the same replicates and random numbers (common random numbers), so each"
        " difference is paired replicate by replicate.",
        "",
        "Statistics: a probability (share of replicates) or the mean over the replicates for every value, with its"
        " 95% interval; differences from the reference value with simultaneous 95% intervals (Bonferroni over"
        f" {family} value x outcome differences), Newcombe's paired score interval for probabilities. Verdicts:"
        " **meaningful** when the interval lies wholly beyond the outcome's smallest meaningful difference,"
        " **detectable but small** when it excludes zero but not that threshold, **noise** when it contains zero.",
        "",
    ]
    if aliases:
        lines += ["Merged (the same quantity): " + "; ".join(f"`{a}` is `{k}`" for a, k in aliases.items()) + ".", ""]
    lines += [
        "The data behind the figure: `response_curves.csv`; every number of this report: `sweep.csv`.",
        "",
        "## Tables",
        "",
    ]
    for o in dict.fromkeys(r["outcome"] for r in rows):
        lines += _outcome_table(o, [r for r in rows if r["outcome"] == o], axis, ref)
    lines += ["## Run folders", "", "| value | run folder |", "|---|---|"]
    lines += [f"| {value_text(v)} | `{f}` |" for v, f in zip(values, folders, strict=True)]
    by = reporting.pick_by(load_catalog())
    lines += [
        "",
        f"Explain a replicate of any of them: `entente explain {folders[0]} --pick worst --by {by}`.",
        f"Command: `{' '.join(info['command'])}`",
        "",
    ]
    return "\n".join(lines)


def _outcome_table(o: str, rs: list[dict[str, Any]], axis: dict[str, Any], ref: str) -> list[str]:
    kind = rs[0]["kind"]
    stat = "probability" if kind in ("binary", "event") else "mean"
    unit = "" if kind in ("binary", "event") else f", {rs[0]['unit']}" if rs[0]["unit"] else ""
    note = " (share of replicates in which it happened)" if kind == "event" else ""
    lines = [
        f"### {rs[0]['label']} (`{o}`{unit}){note}",
        "",
        f"Smallest meaningful difference: {_fmt(rs[0]['smallest'], kind, True)}.",
        "",
        f"| {axis['label']} | {stat} [95%] | difference from {ref} [simultaneous 95%, paired] | verdict |",
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
            f"| {value_text(r['value'])} | {_fmt(r['estimate'], kind)}"
            f" [{_fmt(r['low'], kind)}, {_fmt(r['high'], kind)}] | {diff} | {r['verdict']} |"
        )
    return [*lines, ""]
