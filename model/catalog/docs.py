"""Generate the reference tables of docs/model.md from the catalog, so they cannot drift.

``python -m model.catalog.docs docs/model.md`` rewrites the block between the
``<!-- GENERATED -->`` markers; tests/test_docs.py fails when the block is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from model.catalog import load_catalog

START, END = (
    "<!-- GENERATED: do not edit by hand; python -m model.catalog.docs docs/model.md -->",
    "<!-- /GENERATED -->",
)


def _cite(node: dict[str, Any]) -> str:
    claims = ", ".join(node.get("claims", []) or [])
    assumption = node.get("assumption")
    if claims and assumption:
        return f"{claims}; assumption: {assumption}"
    return claims or (f"assumption: {assumption}" if assumption else "")


def _esc(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def tables(spec: dict[str, Any]) -> str:
    """Markdown tables of variables, parameters, disputed values, actors, actions, constraints."""
    out = [
        "### World variables",
        "",
        "| name | initial | range | unit | meaning | claims / assumption |",
        "|---|---|---|---|---|---|",
    ]
    for name, v in spec["world"]["variables"].items():
        out.append(
            f"| `{name}` | {v['initial']} | [{v['lower']}, {v['upper']}] | {_esc(v['unit'])} | {_esc(v.get('doc', ''))} | {_esc(_cite(v))} |"
        )
    out += [
        "",
        "### World parameters (rates per day)",
        "",
        "| path | value | unit | meaning | claims / assumption |",
        "|---|---|---|---|---|",
    ]
    for name, p in spec["world"]["parameters"].items():
        out.append(
            f"| `world.{name}` | {p['value']} | {_esc(p.get('unit', ''))} | {_esc(p.get('doc', ''))} | {_esc(_cite(p))} |"
        )
    out += [
        "",
        "### Disputed values (sampled per replicate by default)",
        "",
        "| path | distribution | claims | why |",
        "|---|---|---|---|",
    ]
    for path, d in spec["world"].get("disputed", {}).items():
        params = ", ".join(f"{k} {v}" for k, v in d.items() if k not in ("dist", "claims", "doc"))
        out.append(f"| `{path}` | {d['dist']} ({params}) | {', '.join(d['claims'])} | {_esc(d.get('doc', ''))} |")
    out += [
        "",
        "### Actors: interests",
        "",
        "| actor | interest | kind | variable | weight | shape | claims |",
        "|---|---|---|---|---|---|---|",
    ]
    for a, actor in spec["actors"].items():
        for t, it in actor["interests"].items():
            shape = {
                "peak": f"target {it.get('target')}, width {it.get('width')}",
                "above": f"threshold {it.get('threshold')}",
            }.get(it["kind"], "")
            out.append(
                f"| {a} | `{t}` | {it['kind']} | `{it['var']}` | {it['weight']} | {shape} | {', '.join(it['claims'])} |"
            )
    out += [
        "",
        "### Actors: stances and responses",
        "",
        "| actor | response | " + " | ".join(spec["world"]["issues"]) + " |",
        "|---|---|" + "---|" * len(spec["world"]["issues"]),
    ]
    for a, actor in spec["actors"].items():
        cells = [f"{actor['stances'][i]['value']:+.2f}" for i in spec["world"]["issues"]]
        out.append(f"| {a} | {actor['response']['weight']} | " + " | ".join(cells) + " |")
    out += [
        "",
        "### Actions and escalation scales",
        "",
        "| action | CAMEO | Goldstein | Kahn rung | takers | claims / assumption |",
        "|---|---|---|---|---|---|",
    ]
    for act, sa in spec["actions"].items():
        sc = spec["scales"][act]
        takers = ", ".join(sa.get("takers", {}))
        out.append(
            f"| `{act}` | {sc['cameo']} {_esc(sc['cameo_label'])} | {sc['goldstein']:+.1f} | {sc['kahn_rung']} {_esc(sc['kahn_label'])} | {takers} | {_esc(_cite(sa))} |"
        )
    out += [
        "",
        "### Constraints",
        "",
        "| id | kind | actor | actions | rule | claims | sentence |",
        "|---|---|---|---|---|---|---|",
    ]
    for cid, c in spec["constraints"].items():
        rule = c.get("condition") or c.get("penalty") or c.get("stock") or "never"
        params = f" ({', '.join(f'{k}={v}' for k, v in (c.get('params') or {}).items())})" if c.get("params") else ""
        acts = (
            ", ".join(c["actions"])
            if isinstance(c["actions"], list)
            else ", ".join(f"{k}×{v}" for k, v in c["actions"].items())
        )
        out.append(
            f"| `{cid}` | {c['kind']} | {c['actor']} | {acts} | `{_esc(rule)}`{params} | {', '.join(c['claims'])} | {_esc(c['text'])} |"
        )
    out += ["", "### Claims not modelled", "", "| claim | reason |", "|---|---|"]
    for cid, reason in spec["not_modelled"].items():
        out.append(f"| {cid} | {_esc(reason)} |")
    return "\n".join(out) + "\n"


def render(doc: str) -> str:
    """The document with its generated block replaced by fresh tables."""
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n\n{tables(load_catalog())}\n{END}{tail}"


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/model.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
