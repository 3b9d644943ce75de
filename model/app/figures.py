"""Fan charts as SVG text (matplotlib, no network): the page inlines them.

Drawn on the server so the page needs no plotting library (nothing from a CDN) and the
charts look like those of the run reports. Output is deterministic (fixed hash salt, no
date in the metadata): the same data give the same SVG, so a test can tell a change.

Individual replicates are drawn as thin lines, each in an SVG group whose id names it
(``rep-<replicate>``, with a wide transparent twin that catches the mouse), so the page can open
a replicate's story when its line is clicked.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

BAND = "#4c72b0"
REFERENCE = "#c44e52"
LINE = "#33415c"


def fan_svg(data: dict[str, Any], reference: dict[str, Any] | None = None, tiers: list[str] | None = None) -> str:
    """One fan chart: median, 50% and 90% bands, replicate lines; the pinned reference's median and 90% band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    plt.rcParams["svg.hashsalt"] = "entente"
    plt.rcParams["svg.fonttype"] = "none"  # text as text: smaller, faster, searchable in the page
    if data["dates"] and data["dates"][0]:
        x: list[Any] = [dt.date.fromisoformat(d) for d in data["dates"]]
    else:
        x = list(data["weeks"])
    fig, ax = plt.subplots(figsize=(6.4, 3.1), dpi=100)
    ax.fill_between(x, data["p5"], data["p95"], color=BAND, alpha=0.18, linewidth=0, label="90% of replicates")
    ax.fill_between(x, data["p25"], data["p75"], color=BAND, alpha=0.38, linewidth=0, label="50% of replicates")
    for k, line in enumerate(data.get("lines", [])):
        rep = line["replicate"]
        (seen,) = ax.plot(x, line["values"], color=LINE, linewidth=0.7, alpha=0.55,
                          label="single replicates (click one)" if k == 0 else None)  # fmt: skip
        seen.set_gid(f"repline-{rep}")
        (hit,) = ax.plot(x, line["values"], color=LINE, linewidth=7, alpha=0.0)
        hit.set_gid(f"rep-{rep}")
    ax.plot(x, data["median"], color=BAND, linewidth=2, label="median")
    if reference is not None:
        ax.fill_between(x, reference["p5"], reference["p95"], facecolor="none", edgecolor=REFERENCE, hatch="////",
                        linewidth=0, alpha=0.45, label="reference: 90% band")  # fmt: skip
        ax.plot(x, reference["median"], color=REFERENCE, linewidth=1.6, linestyle="--", label="reference: median")
    title = data["label"] if data["integer"] else f"{data['label']} ({data['unit']})"
    fig.text(0.01, 0.97, title, fontsize=11, fontweight="bold", va="top")
    if data.get("words") and not tiers:
        import textwrap

        fig.text(0.01, 0.905, "\n".join(textwrap.wrap(data["words"], 105)[:2]), fontsize=7, color="#555", va="top")
    left = 0.09
    if data["integer"]:
        top = max(3, int(max(data["p95"] + [v for line in data.get("lines", []) for v in line["values"]])) + 1)
        ax.set_ylim(-0.2, top + 0.2)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if tiers:
            ax.set_yticks(range(top + 1))
            ax.set_yticklabels([f"{i} {tiers[i]}" if i < len(tiers) else str(i) for i in range(top + 1)], fontsize=8)
            left = 0.3
    if isinstance(x[0], dt.date):
        ax.xaxis.set_major_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator(), show_offset=False))
        ax.set_xlabel(f"{x[0]:%d %b %Y} to {x[-1]:%d %b %Y}", fontsize=8, color="#555")
    else:
        ax.set_xlabel("weeks since the start", fontsize=8, color="#555")
    ax.set_xlim(x[0], x[-1])
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    fig.subplots_adjust(left=left, right=0.98, top=0.8, bottom=0.34)
    fig.legend(fontsize=7.5, loc="lower center", ncol=3, frameon=False, bbox_to_anchor=(0.5, 0.0))
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]
