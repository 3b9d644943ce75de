"""Scenario discovery: which combinations of sampled uncertainties lead to an outcome of interest.

Uses the maintained ``prim`` package (Patient Rule Induction Method). Reads the run's
outcomes table only: the sampled values (``sampled:<path>`` columns) are the inputs and a
condition on outcomes, written in entente's expression grammar, defines the cases of interest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model import expr
from model.analysis import data
from model.catalog import load_catalog
from model.catalog.glossary import label
from model.errors import InputError


def _name(spec: dict, path: str) -> str:
    """A sampled path with its plain-English label first (``world.x``, ``constraints.ID.param``, ``initial.v``)."""
    head, _, rest = path.partition(".")
    what = None
    if head == "world":
        what = label(spec, "parameter", rest)
    elif head == "initial":
        what = label(spec, "variable", rest)
    elif head == "constraints":
        cid, _, param = rest.partition(".")
        what = f"{label(spec, 'constraint', cid)}: {param}"
    return f"{what} ({path})" if what else path


def cases(table: dict[str, np.ndarray], condition: str) -> np.ndarray:
    """Boolean per replicate: does the outcome condition hold?"""
    names = {k for k in table if not k.startswith("sampled:") and k not in ("seed",)}
    try:
        node = expr.parse(condition, names, set())
    except expr.ExprError as exc:
        raise InputError.one("--outcome", exc.message, 1, exc.column) from None
    vals = {k: np.nan_to_num(np.asarray(v, dtype=float), nan=np.inf) for k, v in table.items() if k in names}
    return np.broadcast_to(expr.truth(expr.evaluate(node, vals.__getitem__)), (len(table["replicate"]),)).copy()


def discover(run: Path, condition: str, threshold: float = 0.5) -> str:
    """Find a PRIM box and describe it with coverage and density."""
    import pandas as pd
    import prim

    table = data.read_outcomes(run)
    inputs = [k for k in table if k.startswith("sampled:")]
    if not inputs:
        raise InputError.one(
            str(run), "this run sampled no uncertainties; scenario discovery needs some (add 'uncertainties:')"
        )
    y = cases(table, condition)
    n = len(y)
    hits = int(y.sum())
    head = f"Scenario discovery (PRIM) in {run.name}: '{condition}' holds in {hits} of {n} replicates ({hits / n:.1%})."
    if hits == 0 or hits == n:
        return head + "\nNothing to discover: the outcome is " + ("never" if hits == 0 else "always") + " true."
    x_all = pd.DataFrame({k.removeprefix("sampled:"): np.asarray(table[k], dtype=float) for k in inputs})
    # PRIM peels greedily over every sampled dimension and finds dense boxes in noise when there are
    # many: the box is found on half the replicates and its density checked on the other half
    fit = np.random.default_rng(0).permutation(n) < (n + 1) // 2
    x, y_fit = x_all[fit].reset_index(drop=True), y[fit]
    if y_fit.all() or not y_fit.any():
        return head + "\nNothing to discover: the outcome does not vary in the half PRIM fits on."
    p = prim.Prim(x, y_fit.astype(float), threshold=threshold, threshold_type=">")
    box = p.find_box()
    if box is None:
        return head + f"\nNo box reaches a density above {threshold:.0%}."
    traj = box.peeling_trajectory
    last = traj.iloc[-1]
    inside = np.ones(n, dtype=bool)
    for name, row in box.limits.iterrows():
        col = x_all[name].to_numpy()
        inside &= (col >= float(row["min"])) & (col <= float(row["max"]))
    test = ~fit & inside
    held_density = float(y[test].mean()) if test.any() else 0.0
    held_coverage = float(y[test].sum() / max(1, y[~fit].sum()))
    weak = float(last["density"]) < threshold or held_density < threshold
    lines = [head]
    if weak:
        lines.append(
            f"WARNING: no box reaches the density threshold of {threshold:.0%} on the replicates it was not"
            f" fitted on. The box below (density {last['density']:.1%} where it was found, {held_density:.1%} on"
            " the other half) is the best PRIM found; it is shown for orientation, not as a finding."
        )
    lines += [
        f"Box{' (below the threshold)' if weak else ''}: coverage {last['coverage']:.1%} (share of all cases inside the box), density {last['density']:.1%}"
        f" (share of the box that are cases), mass {last['mass']:.1%} of replicates.",
        f"On the other half of the replicates (not used to find it): coverage {held_coverage:.1%}, density"
        f" {held_density:.1%}, {int(test.sum())} replicates inside.",
        "Restricted uncertainties (the box):",
    ]
    limits = box.limits
    spec = load_catalog()
    for name, row in limits.iterrows():
        lo, hi = float(row["min"]), float(row["max"])
        full_lo, full_hi = float(x[name].min()), float(x[name].max())
        lines.append(
            f"  {_name(spec, str(name))}: [{lo:.4g}, {hi:.4g}]   (sampled range [{full_lo:.4g}, {full_hi:.4g}])"
        )
    lines.append("Peeling trajectory (coverage vs density trade-off):")
    step = max(1, len(traj) // 8)
    for _, r in traj.iloc[::step].iterrows():
        lines.append(
            f"  coverage {r['coverage']:.2f}  density {r['density']:.2f}  restricted dimensions {int(r['res dim'])}"
        )
    return "\n".join(lines)
