"""The machine a run is made on, recorded in its manifest and compared when the run is read again.

Results are identical bit for bit on one machine; another numpy, Python, architecture or set of
SIMD kernels can change the last digits of floats, so resuming or re-running elsewhere says so.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

import numpy as np


def _simd() -> tuple[dict[str, bool], list[str], list[str]]:
    """The CPU features numpy sees, its baseline SIMD and its dispatched kernels (its module moved in numpy 2)."""
    try:
        from numpy._core import _multiarray_umath as mu  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.26
        from numpy.core import _multiarray_umath as mu  # type: ignore[no-redef]
    return (
        dict(getattr(mu, "__cpu_features__", {})),
        list(getattr(mu, "__cpu_baseline__", [])),
        list(getattr(mu, "__cpu_dispatch__", [])),
    )


def machine() -> dict[str, Any]:
    """What can change float results between machines: numpy, Python, platform, the SIMD code numpy uses."""
    feats, baseline, dispatch = _simd()
    return {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": platform.system(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "simd_baseline": baseline,
        "simd_dispatch": [d for d in dispatch if feats.get(d)],  # numpy's optimised kernels in use
        "cpu_features": sorted(k for k, v in feats.items() if v),
    }


def machine_differences(recorded: Any, here: dict[str, Any] | None = None) -> list[str]:
    """How this machine differs from the recorded one, in the ways that can change float results."""
    here = here or machine()
    if not isinstance(recorded, dict):
        return ["the manifest does not record the machine"]
    out = []
    for key, label in (("numpy", "numpy"), ("python", "Python"), ("system", "system"), ("machine", "architecture")):
        if recorded.get(key) != here[key]:
            out.append(f"{label} {recorded.get(key)} there, {here[key]} here")
    for key, label, pick in (
        ("simd_dispatch", "numpy SIMD kernels", lambda f: True),
        ("cpu_features", "AVX-512 features", lambda f: f.startswith("AVX512")),
    ):
        there = {f for f in recorded.get(key) or [] if isinstance(f, str) and pick(f)}
        mine = {f for f in here[key] if pick(f)}
        if there != mine:
            parts = []
            if there - mine:
                parts.append("missing here: " + " ".join(sorted(there - mine)))
            if mine - there:
                parts.append("extra here: " + " ".join(sorted(mine - there)))
            out.append(f"{label} differ ({'; '.join(parts)})")
    return out


def warn_if_other_machine(meta: dict[str, Any], what: str) -> None:
    """Warn on stderr when ``what`` (resuming, re-running) happens on another machine than the run's.

    A warning, not an error: the results stay valid, only their last digits may differ.
    """
    diffs = machine_differences(meta.get("machine"))
    if diffs:
        sys.stderr.write(
            f"warning: {what} on a different machine than the run was made on ({'; '.join(diffs)});"
            " floating-point results may differ in the last digits\n"
        )
