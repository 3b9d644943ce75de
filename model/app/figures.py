"""Fan charts as SVG text (matplotlib, no network): the page inlines them.

Drawn on the server so the page needs no plotting library (nothing from a CDN) and the
charts look like those of the run reports. Output is deterministic (fixed hash salt, no
date in the metadata): the same data give the same SVG, so a test can tell a change.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

BAND = "#4c72b0"
REFERENCE = "#c44e52"


def fan_svg(data: dict[str, Any], reference: dict[str, Any] | None = None, tiers: list[str] | None = None) -> str:
    """One fan chart: median, 50% and 90% bands; the pinned reference's median dashed."""
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
    fig, ax = plt.subplots(figsize=(6.4, 2.7), dpi=100)
    ax.fill_between(x, data["p5"], data["p95"], color=BAND, alpha=0.18, linewidth=0, label="90% of replicates")
    ax.fill_between(x, data["p25"], data["p75"], color=BAND, alpha=0.38, linewidth=0, label="50% of replicates")
    ax.plot(x, data["median"], color=BAND, linewidth=2, label="median")
    if reference is not None:
        ax.plot(x, reference["median"], color=REFERENCE, linewidth=1.6, linestyle="--", label="reference median")
    ax.set_title(f"{data['label']} ({data['unit']})" if not data["integer"] else data["label"], fontsize=11, loc="left")
    if data["integer"]:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        top = max(3, int(max(data["p95"])) + 1)
        ax.set_ylim(-0.2, top + 0.2)
        if tiers:
            ax.set_yticks(range(top + 1))
            ax.set_yticklabels([f"{i} {tiers[i]}" if i < len(tiers) else str(i) for i in range(top + 1)], fontsize=8)
    else:
        ax.set_ylabel(data["unit"], fontsize=9)
    if isinstance(x[0], dt.date):
        loc = mdates.AutoDateLocator(minticks=4, maxticks=8)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    else:
        ax.set_xlabel("weeks since the start", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=4, frameon=False, bbox_to_anchor=(0, -0.13))
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]
