"""What the engine is asked to simulate: the resolved catalog plus scenario inputs.

A ``Config`` is plain data (it pickles to worker processes and into nothing else): the
catalog after scenario overrides, horizon, master seed, events, uncertainties and any
explicit per-replicate parameter values (sensitivity designs). Numeric parameters are
addressed by dotted *paths* (``world.temperature``, ``actors.<actor>.interests.<term>.weight``),
the same names scenario files use for uncertainties and constants.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.engine import rng

DISTRIBUTIONS = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd", "low", "high"),
    "choice": ("values",),
}


@dataclass(frozen=True)
class Event:
    """An action an actor takes whatever its utility: at a step, or when a condition holds."""

    actor: str
    action: str
    target: str = "none"
    step: int | None = None
    when: str | None = None
    once: bool = True
    label: str = ""


@dataclass(frozen=True)
class Uncertainty:
    """A parameter drawn once per replicate from a distribution."""

    path: str
    dist: str
    params: dict[str, Any]

    def sample(self, keys: np.ndarray) -> np.ndarray:
        """Draw one value per replicate key; keyed by the path so scenarios share draws."""
        stream = zlib.crc32(self.path.encode()) + 2**33
        u = rng.uniforms(keys, stream, "uncertainty", 1)[:, 0]
        p = self.params
        if self.dist == "uniform":
            return p["low"] + u * (p["high"] - p["low"])
        if self.dist == "triangular":
            lo, mode, hi = p["low"], p["mode"], p["high"]
            c = (mode - lo) / (hi - lo) if hi > lo else 0.5
            left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
            right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - mode))
            return np.where(u < c, left, right)
        if self.dist == "normal":
            from scipy.special import ndtr, ndtri

            lo = ndtr((p["low"] - p["mean"]) / p["sd"])
            hi = ndtr((p["high"] - p["mean"]) / p["sd"])
            return np.clip(p["mean"] + p["sd"] * ndtri(lo + u * (hi - lo)), p["low"], p["high"])
        if self.dist == "choice":
            values = np.asarray(p["values"], dtype=float)
            return values[np.minimum((u * len(values)).astype(int), len(values) - 1)]
        raise ValueError(f"unknown distribution {self.dist}")


@dataclass(frozen=True)
class Change:
    """Values that change at a step (a dated change of the world).

    Keys are parameter paths, ``variables.X``, ``relations.a-b``, ``actors.A.active`` (an actor
    leaves the game) or ``axis.A`` (an actor switches sides).
    """

    step: int
    values: dict[str, Any]
    label: str = ""


@dataclass
class Config:
    """Everything one simulation needs; replicate r depends only on this, ``seed`` and r."""

    spec: dict[str, Any]
    steps: int = 26
    seed: int = 0
    events: list[Event] = field(default_factory=list)
    uncertainties: list[Uncertainty] = field(default_factory=list)
    samples: dict[str, np.ndarray] = field(
        default_factory=dict
    )  # explicit values, one per simulated replicate (designs)
    claims_off: frozenset[str] = frozenset()
    name: str = "custom"
    changes: list[Change] = field(default_factory=list)
    outcome_defs: dict[str, dict[str, Any]] = field(default_factory=dict)  # scenario-defined outcomes
    # who decides: "model" (the actors' utilities), "inert" (every unit holds unless an event forces it) or
    # "hawk" (every unit takes its most escalatory feasible option); the last two are the scorer's controls
    policy: str = "model"
    marks: list[float] = field(default_factory=list)  # days (since the start) at which the state is also recorded


# ---------------------------------------------------------------- parameter paths
def _locate(spec: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    """The dict holding a path's value and the key of the value in it."""
    parts = path.split(".")
    head = parts[0]
    if head == "world" and len(parts) == 2:
        return spec["world"]["parameters"][parts[1]], "value"
    if head == "initial" and len(parts) >= 2:
        return spec["world"]["variables"][".".join(parts[1:])], "initial"
    if head == "relations" and len(parts) == 2:
        return spec["relations"][parts[1]], "value"
    if head == "constraints" and len(parts) == 3:
        con = spec["constraints"][parts[1]]
        if parts[2] == "lifted":
            return con, "lifted"
        return con["params"], parts[2]
    if head == "actors" and len(parts) >= 3:
        actor = spec["actors"][parts[1]]
        if parts[2] == "response" and len(parts) == 3:
            return actor["response"], "weight"
        if parts[2] == "stances" and len(parts) == 4:
            return actor["stances"][parts[3]], "value"
        if parts[2] == "interests" and len(parts) == 5 and parts[4] in ("weight", "target", "width", "threshold"):
            return actor["interests"][parts[3]], parts[4]
        if parts[2] == "initial_grievance" and len(parts) == 4:
            return actor["initial_grievance"][parts[3]], "value"
    raise KeyError(path)


def numeric_paths(spec: dict[str, Any]) -> list[str]:
    """Every parameter path that an uncertainty, constant or sensitivity study may address."""
    out = [f"world.{p}" for p in spec["world"]["parameters"]]
    # derived variables have no initial value of their own (brent = fundamentals + premia)
    out += [f"initial.{v}" for v, d in spec["world"]["variables"].items() if "derived" not in d and "tier_of" not in d]
    out += [f"relations.{r}" for r in spec["relations"]]
    for cid, con in spec["constraints"].items():
        out += [f"constraints.{cid}.{p}" for p in (con.get("params") or {})]
    for a, actor in spec["actors"].items():
        out.append(f"actors.{a}.response")
        out += [f"actors.{a}.stances.{s}" for s in actor["stances"]]
        for term, it in actor["interests"].items():
            fields = {"peak": ("weight", "target", "width"), "above": ("weight", "threshold")}.get(
                it["kind"], ("weight",)
            )
            out += [f"actors.{a}.interests.{term}.{f}" for f in fields]
        out += [f"actors.{a}.initial_grievance.{b}" for b in actor.get("initial_grievance", {})]
    return out


def samplable_paths(spec: dict[str, Any]) -> list[str]:
    """Parameter paths that may vary per replicate (uncertainties, designs): all but the clock.

    Every other numeric path is used per replicate by the engine; ``world.step_days`` is the
    length of the step itself and so one value for a whole batch (its catalog entry says
    ``samplable: false``).
    """
    fixed = {f"world.{p}" for p, d in spec["world"]["parameters"].items() if d.get("samplable") is False}
    return [p for p in numeric_paths(spec) if p not in fixed]


def get_value(spec: dict[str, Any], path: str) -> Any:
    """The catalog value at a parameter path (KeyError if the path does not exist)."""
    holder, key = _locate(spec, path)
    if key == "lifted":
        return bool(holder.get("lifted", False))
    return holder[key]


def set_value(spec: dict[str, Any], path: str, value: Any) -> None:
    """Set the catalog value at a parameter path."""
    holder, key = _locate(spec, path)
    holder[key] = value


def path_claims(spec: dict[str, Any], path: str) -> list[str]:
    """Claim ids behind the value at a path (for reports and sensitivity tables)."""
    try:
        holder, _ = _locate(spec, path)
    except KeyError:
        return []
    if path.startswith("constraints."):
        return list(spec["constraints"][path.split(".")[1]].get("claims", []))
    return list(holder.get("claims", []) if isinstance(holder, dict) else [])
