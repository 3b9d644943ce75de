"""Generate the reference tables of docs/model.md from the catalog, so they cannot drift.

``python -m model.catalog.docs docs/model.md`` rewrites the block between the
``<!-- GENERATED -->`` markers; tests/test_docs.py fails when the block is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from model.catalog.calibration import calibration_nodes
from model.catalog.citations import provenance
from model.catalog.load import load_catalog
from model.catalog.outcomes import outcome_table

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
    """Markdown tables of variables, parameters, disputed values, actors, actions, constraints.

    One helper per table, in the order docs/model.md presents them, so a table is changed in one place.
    """
    sections = [
        _variables(spec),
        _parameters(spec),
        _tracks(spec),
        _roles(spec),
        _outcomes(spec),
        _history(spec),
        _disputed(spec),
        _calibratable(spec),
        _interests(spec),
        _stances(spec),
        _actions(spec),
        _constraints(spec),
        _claims(spec),
        _not_modelled(spec),
    ]
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"  # a blank line between sections


def _variables(spec: dict[str, Any]) -> list[str]:
    out = [
        "### World variables",
        "",
        "| name | label | initial | range | unit | dynamics (per day) | meaning | provenance |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, v in spec["world"]["variables"].items():
        out.append(
            f"| `{name}` | {_esc(v.get('label', ''))} | {v['initial']} | [{v['lower']}, {v['upper']}] | {_esc(v['unit'])} "
            f"| {_esc(_dynamics(v))} | {_esc(v.get('doc', ''))} | {_esc(provenance(v))} |"
        )
    return out


def _parameters(spec: dict[str, Any]) -> list[str]:
    out = [
        "### World parameters (rates per day)",
        "",
        "Provenance: *article* names the claims that give a value its direction or size, *calibrated*",
        "the history band it was tuned to (scenarios/history, `entente check`), *assumption* why it exists.",
        "",
        "| path | label | value | unit | meaning | provenance |",
        "|---|---|---|---|---|---|",
    ]
    for name, p in spec["world"]["parameters"].items():
        out.append(
            f"| `world.{name}` | {_esc(p.get('label', ''))} | {p['value']} | {_esc(p.get('unit', ''))} | {_esc(p.get('doc', ''))} | {_esc(provenance(p))} |"
        )
    return out


def _tracks(spec: dict[str, Any]) -> list[str]:
    out = [
        "### Decision tracks",
        "",
        "| track | rate parameter | rate (per day) | what is decided on it |",
        "|---|---|---|---|",
    ]
    for tr, d in spec["world"]["tracks"].items():
        rate = spec["world"]["parameters"][d["rate"]]["value"]
        out.append(
            f"| {tr} | `world.{d['rate']}` | {rate:.4g} (once every {1 / rate:.3g} days) | {_esc(d.get('doc', ''))} |"
        )
    return out


def _roles(spec: dict[str, Any]) -> list[str]:
    out = [
        "### Roles (what the engine's generic mechanisms act on)",
        "",
        "| role | binding | provenance |",
        "|---|---|---|",
    ]
    for role, d in spec["world"]["roles"].items():
        binding = ", ".join(f"{k}: {v}" for k, v in d.items() if k not in ("claims", "doc", "assumption"))
        out.append(f"| {role} | {_esc(binding)} | {_esc(provenance(d))} |")
    return out


def _outcomes(spec: dict[str, Any]) -> list[str]:
    out = [
        "### Outcomes",
        "",
        "Every outcome reduces an expression over the steps after the start (step 0 excluded); weeks are calendar weeks.",
        "",
        "| name | label | definition | unit | kind | smallest meaningful difference | claims |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, o in outcome_table(spec).items():
        out.append(
            f"| `{name}` | {_esc(o.get('label', ''))} | {o['reduce']} of `{_esc(o['expr'])}`: {_esc(o.get('doc', ''))} "
            f"| {_esc(o['unit'])} | {o['kind']} | {o.get('smallest', '')} | {', '.join(o.get('claims', []))} |"
        )
    return out


def _history(spec: dict[str, Any]) -> list[str]:
    out = [
        "### History (dated changes applied to runs whose calendar covers them)",
        "",
        "| date | change | label | claims |",
        "|---|---|---|---|",
    ]
    for h in spec["world"].get("history", []):
        change = ", ".join(f"{k} = {v}" for k, v in h["set"].items())
        out.append(f"| {h['at']} | {_esc(change)} | {_esc(h.get('label', ''))} | {', '.join(h.get('claims', []))} |")
    return out


def _disputed(spec: dict[str, Any]) -> list[str]:
    out = [
        "### Disputed values (sampled per replicate by default)",
        "",
        "| path | distribution | claims | why |",
        "|---|---|---|---|",
    ]
    for path, d in spec["world"].get("disputed", {}).items():
        params = ", ".join(f"{k} {v}" for k, v in d.items() if k not in ("dist", "claims", "doc"))
        out.append(f"| `{path}` | {d['dist']} ({params}) | {', '.join(d['claims'])} | {_esc(d.get('doc', ''))} |")
    return out


def _calibratable(spec: dict[str, Any]) -> list[str]:
    nodes = calibration_nodes(spec)
    out = [
        "### Calibratable values (searched by scripts/calibrate.py)",
        "",
    ]
    if nodes:
        out += ["| path | value | range searched | provenance |", "|---|---|---|---|"]
        for path, (holder, key, node, decl) in nodes.items():
            out.append(
                f"| `{path}` | {holder.get(key)} | [{decl.get('low')}, {decl.get('high')}] | {_esc(provenance(node))} |"
            )
    else:
        out.append(
            "None yet: a value becomes calibratable when its catalog entry declares `calibrate: {low, high}` "
            "(model/catalog/calibration.py describes the format)."
        )
    return out


def _interests(spec: dict[str, Any]) -> list[str]:
    out = [
        "### Actors: interests",
        "",
        "| actor | interest | kind | variable | weight | shape | provenance |",
        "|---|---|---|---|---|---|---|",
    ]
    for a, actor in spec["actors"].items():
        for t, it in actor["interests"].items():
            shape = {
                "peak": f"target {it.get('target')}, width {it.get('width')}",
                "above": f"threshold {it.get('threshold')}",
            }.get(it["kind"], "")
            out.append(
                f"| {a} | `{t}` | {it['kind']} | `{it['var']}` | {it['weight']} | {shape} | {_esc(provenance(it))} |"
            )
    return out


def _stances(spec: dict[str, Any]) -> list[str]:
    out = [
        "### Actors: stances and responses",
        "",
        "| actor | label | response | " + " | ".join(spec["world"]["issues"]) + " |",
        "|---|---|---|" + "---|" * len(spec["world"]["issues"]),
    ]
    for a, actor in spec["actors"].items():
        cells = [f"{actor['stances'][i]['value']:+.2f}" for i in spec["world"]["issues"]]
        out.append(
            f"| {a} | {_esc(actor.get('label', ''))} | {actor['response']['weight']} | " + " | ".join(cells) + " |"
        )
    return out


def _actions(spec: dict[str, Any]) -> list[str]:
    out = [
        "### Actions and escalation scales",
        "",
        "| action | label | CAMEO | Goldstein | Kahn rung | takers | claims / assumption |",
        "|---|---|---|---|---|---|---|",
    ]
    for act, sa in spec["actions"].items():
        sc = spec["scales"][act]
        takers = ", ".join(sa.get("takers", {}))
        out.append(
            f"| `{act}` | {_esc(sa.get('label', ''))} | {sc['cameo']} {_esc(sc['cameo_label'])} | {sc['goldstein']:+.1f} | {sc['kahn_rung']} {_esc(sc['kahn_label'])} | {takers} | {_esc(_cite(sa))} |"
        )
    return out


def _constraints(spec: dict[str, Any]) -> list[str]:
    out = [
        "### Constraints",
        "",
        "| id | label | kind | actor | actions | rule | claims | sentence |",
        "|---|---|---|---|---|---|---|---|",
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
            f"| `{cid}` | {_esc(c.get('label', ''))} | {c['kind']} | {c['actor']} | {acts} | `{_esc(rule)}`{params} | {', '.join(c['claims'])} | {_esc(c['text'])} |"
        )
    return out


def _claims(spec: dict[str, Any]) -> list[str]:
    out = ["### Claims (short titles; `entente claims ID` prints the full text and where it is used)", ""]
    out += ["| claim | title | kind | text |", "|---|---|---|---|"]
    for cid, c in spec["claims"].items():
        out.append(f"| {cid} | {_esc(c.get('title', ''))} | {c['kind']} | {_esc(c['text'])} |")
    return out


def _not_modelled(spec: dict[str, Any]) -> list[str]:
    out = ["### Claims not modelled", "", "| claim | reason |", "|---|---|"]
    for cid, reason in spec["not_modelled"].items():
        out.append(f"| {cid} | {_esc(reason)} |")
    return out


def _dynamics(v: dict[str, Any]) -> str:
    parts = []
    if "decay" in v:
        parts.append(f"decays (half-life `{v['decay']}`)")
    if "revert" in v:
        parts.append(f"reverts to `{v['revert']['to']}` at `{v['revert']['rate']}`")
    if "rate" in v:
        parts.append(f"+ `{v['rate']}`")
    if "noise" in v:
        parts.append(f"noise `{v['noise']}`·√dt")
    if "derived" in v:
        parts.append(f"= `{v['derived']}`")
    if "relation" in v:
        parts.append(f"is relation {v['relation']}")
    if "tier_of" in v:
        parts.append(f"highest tier of {v['tier_of']}'s actions in `tier_window_days`")
    return "; ".join(parts) or "set by actions"


def render(doc: str) -> str:
    """The document with its generated block replaced by fresh tables."""
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n\n{tables(load_catalog())}\n{END}{tail}"


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/model.md")
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
