"""Diagnose a scenario: how often each actor takes each action, and the state at the start.

    python scripts/diagnose.py scenarios/baseline.yaml [--replicates 500] [--set path=value ...]

A development aid for reading what the mechanisms do (not part of the package).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.engine import simulate  # noqa: E402
from model.engine.model import EntenteModel  # noqa: E402
from model.scenario import load_scenario  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--replicates", type=int, default=400)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--policy", default="model")
    args = ap.parse_args()
    sc = load_scenario(args.scenario)
    cfg = sc.config
    cfg.policy = args.policy
    for item in args.set:
        path, value = item.split("=")
        from model.engine import set_value

        set_value(cfg.spec, path, float(value))
        cfg.spec.setdefault("_fixed", []).append(path)
    m = EntenteModel(cfg, 3)
    m._start()
    ai = m.tables.actor_index
    print("start state (replicate 0):")
    for v in (
        "escalation",
        "war_state",
        "iran_israel.heat",
        "lebanon.state",
        "us_iran.state",
        "red_sea.state",
        "gulf.state",
        "gaza_war",
        "brent",
        "oil_premium",
        "iran.regime_threat",
        "proxy_strength",
        "us.posture",
    ):
        print(f"  {v:22s} {m.x[0, m.vi[v]]:.3f}")
    g = m.griev[0]
    print("grievances (holder -> target) above 0.05:")
    for h in m.tables.actors:
        for t in m.tables.actors:
            if g[ai[t], ai[h]] > 0.05:
                print(f"  {h:>14s} -> {t:<14s} {g[ai[t], ai[h]]:.3f}")
    res = simulate(cfg, args.replicates)
    R = args.replicates
    print(f"\nper replicate, mean count of each action over {cfg.steps} steps ({R} replicates):")
    names = sorted(n for n in m._count_cols)
    cfg.outcome_defs = {n.replace(".", "_"): {"expr": n, "reduce": "final"} for n in names if n.count(".") == 3}
    res = simulate(cfg, args.replicates)
    rows = []
    for n in names:
        if n.count(".") != 3:
            continue
        v = res.outcomes[n.replace(".", "_")]
        if v.mean() > 0.005:
            rows.append((n[6:], v.mean(), (v > 0).mean()))
    for n, mean, share in sorted(rows):
        print(f"  {n:48s} mean {mean:6.2f}   in {100 * share:5.1f}% of runs")
    print("\noutcomes:")
    for k in (
        "peak_escalation",
        "iran_strikes",
        "sustained_war",
        "us_war_on_iran",
        "max_support_tier",
        "calm_at_end",
        "peak_brent",
        "final_brent",
        "gulf_struck",
        "hormuz_threatened",
    ):
        if k in res.outcomes:
            print(f"  {k:22s} {np.nanmean(res.outcomes[k]):.3f}")


if __name__ == "__main__":
    main()
