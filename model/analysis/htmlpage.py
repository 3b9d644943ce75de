"""Self-contained HTML pages from the markdown reports (compare, sweep): plots embedded, no network.

The reports are written once in markdown (report.md) and turned into one HTML file a reader can
mail or open offline: tables, headings, lists, emphasis, code and images (PNG or SVG, embedded as
base64); a PDF figure becomes a link.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path


def html_page(md: str, folder: Path, title: str = "entente comparison") -> str:
    """A self-contained HTML page (plots embedded as base64) from a markdown report (compare, sweep)."""
    body: list[str] = []
    in_table = in_list = in_code = False
    for line in md.splitlines():
        if line.startswith("```"):  # a fenced block (the sweep's headline): kept as it is, monospaced
            body.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            body.append(html.escape(line) + "\n")
            continue
        numbered = re.match(r"^(\d+)\. (.*)$", line)
        if in_list and not numbered:
            body.append("</ol>")
            in_list = False
        if numbered:  # consecutive numbered lines are one list (the headline's rankings)
            if not in_list:
                body.append(f'<ol start="{numbered.group(1)}">')
                in_list = True
            body.append(f"<li>{_inline(numbered.group(2))}</li>")
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            if not in_table:
                body.append("<table>")
                in_table = True
                body.append("<tr>" + "".join(f"<th>{_inline(c)}</th>" for c in cells) + "</tr>")
            else:
                body.append("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            body.append("</table>")
            in_table = False
        if line.startswith("!["):
            alt, src = line[2:].split("](", 1)
            src = src.rstrip(")")
            mime = "image/svg+xml" if src.endswith(".svg") else "image/png"
            blob = base64.b64encode((folder / src).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(alt)}" src="data:{mime};base64,{blob}">')
        elif line.startswith("### "):
            body.append(f"<h3>{_inline(line[4:])}</h3>")
        elif line.startswith("## "):
            body.append(f"<h2>{_inline(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{_inline(line[2:])}</h1>")
        elif line.startswith("[") and "](" in line:
            text, href = line[1:].split("](", 1)
            body.append(f'<p><a href="{html.escape(href.rstrip(")"))}">{_inline(text)}</a></p>')
        elif line.startswith("- "):
            body.append(f"<p>&bull; {_inline(line[2:])}</p>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
    if in_table:
        body.append("</table>")
    if in_list:
        body.append("</ol>")
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;text-align:left}"
        "th{background:#f3f3f3}img{max-width:100%;margin:0.5em 0}code{background:#f3f3f3;padding:0 3px}"
        "ol{margin:0.2em 0 0.8em}li{margin:0.1em 0}pre{background:#f6f6f6;padding:0.6em;font-size:12px;overflow:auto}"
    )
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n"


def _inline(text: str) -> str:
    t = html.escape(text, quote=False).replace("\\|", "|")
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"`(.+?)`", r"<code>\1</code>", t)
    t = re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"<i>\1</i>", t)
    return t
