"""Workarounds for Mesa versions the project allows (``mesa>=3.3,<4``), each a no-op where not needed.

``release(model)`` gives a finished model's memory back at once. Two things keep it:

* Mesa 3.3's ``Agent`` counts agent ids in a class-level ``_ids`` dictionary keyed by the model
  (mesa issue #3179, fixed in Mesa 3.4 by PR #3180, which moved the counter onto the model). That
  dictionary lives as long as the process, so every model ever built stayed reachable with all
  its per-replicate arrays: the app grew by about 510 MB per update at 20,000 replicates.
* Every Mesa 3.x model sits in reference cycles of its own making: ``Model.__init__`` stores its
  bound ``_wrapped_step`` on itself, agents point to their model and the model to its agents
  (Mesa 3.5 adds event generators and a scenario that point back). Only Python's cyclic garbage
  collector frees such a model, at a time of its choosing, so memory climbs by a few models'
  worth of arrays between collections. Breaking the cycles lets reference counting free it when
  the last name for it goes away.

The function only reads attributes it finds, so it is correct on Mesa 3.3 (registry present) and on
3.4 and later (no registry; the cycles are broken all the same).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import mesa

__all__ = ["release"]


def _id_registries(model: Any) -> list[dict[Any, Any]]:
    """Class-level dictionaries keyed by model instances (Mesa 3.3's ``Agent._ids``), if any."""
    classes: set[type] = {mesa.Agent}
    agents = getattr(model, "_agents", None)
    if isinstance(agents, dict):
        classes.update(type(a) for a in agents)
    out: list[dict[Any, Any]] = []
    for cls in classes:
        for klass in cls.__mro__:
            reg = vars(klass).get("_ids")
            if isinstance(reg, dict) and all(reg is not r for r in out):
                out.append(reg)
    return out


def release(model: Any) -> None:
    """Free a finished model: drop it from Mesa's registries and break its reference cycles.

    Call it once everything the caller needs has been taken out of the model (the arrays a result
    keeps are referenced by the result itself and survive); the model is unusable afterwards.

    Args:
        model: a ``mesa.Model`` whose run is over.
    """
    for reg in _id_registries(model):
        reg.pop(model, None)
    with suppress(AttributeError):
        for agent in list(model.agents):
            with suppress(AttributeError, KeyError):
                agent.__dict__.clear()  # the agent's own cycle through its model (and its array views)
    with suppress(AttributeError, TypeError):
        vars(model).clear()  # the model's bound step method, agent sets, event generators, scenario
