"""Counter-based random numbers keyed by (master seed, replicate, step, purpose, index).

A replicate's draws depend only on those keys, never on how many replicates share a batch
or which process runs them: that is what lets ``entente explain`` re-run replicate 7381
alone and get exactly the trajectory it had inside a batch of 10,000. The generator is
SplitMix64's finaliser applied twice to a combination of the keys; it is vectorised over
replicates and indices with numpy's wrapping uint64 arithmetic.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)

PURPOSES = {
    "choice": 1,
    "tremble": 2,
    "tremble_pick": 3,
    "brent": 4,
    "uncertainty": 5,
    "replicate": 6,
    "opportunity": 7,
    "noise": 8,
    "noise_late": 9,
    "taste": 10,
}


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@np.errstate(over="ignore")
def replicate_keys(seed: int, replicates: np.ndarray) -> np.ndarray:
    """The 64-bit key (the replicate's own seed) of each replicate index under a master seed."""
    reps = np.asarray(replicates, dtype=np.uint64)
    base = _mix(np.array([np.uint64(seed % 2**64) ^ np.uint64(PURPOSES["replicate"]) * _GOLDEN], dtype=np.uint64))
    return _mix(_mix(reps * _GOLDEN + base))


@np.errstate(over="ignore")
def _bits(keys: np.ndarray, step: int, purpose: str, n: int) -> np.ndarray:
    """64 random bits per (replicate, index): one SplitMix64 finaliser over mixed keys."""
    salt = _mix(np.array([np.uint64(step) * _M2 + np.uint64(PURPOSES[purpose]) * _GOLDEN], dtype=np.uint64))
    idx = np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN
    return _mix((keys[:, None] ^ salt) + idx[None, :])


def uniforms(keys: np.ndarray, step: int, purpose: str, n: int) -> np.ndarray:
    """Uniform draws in (0, 1) with 53 random bits, shape (len(keys), n), for one step and purpose."""
    return ((_bits(keys, step, purpose, n) >> _S11).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def gumbel(keys: np.ndarray, step: int, purpose: str, n: int) -> np.ndarray:
    """Standard Gumbel draws in float32 (23 random bits, so that u < 1 exactly in float32)."""
    u = ((_bits(keys, step, purpose, n) >> np.uint64(41)).astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-23)
    return -np.log(-np.log(u))


def normal(keys: np.ndarray, step: int, purpose: str) -> np.ndarray:
    """One standard normal draw per replicate (Box-Muller on two keyed uniforms)."""
    return normals(keys, step, purpose, 1)[:, 0]


def normals(keys: np.ndarray, step: int, purpose: str, n: int) -> np.ndarray:
    """Independent standard normal draws, n per replicate, shape (len(keys), n) (Box-Muller)."""
    u = uniforms(keys, step, purpose, 2 * n)
    return np.sqrt(-2.0 * np.log(u[:, :n])) * np.cos(2.0 * np.pi * u[:, n:])


@np.errstate(over="ignore")
def _bits_ids(keys: np.ndarray, key: int, purpose: str, ids: np.ndarray) -> np.ndarray:
    """64 random bits per (replicate, id): like ``_bits`` but indexed by stable label ids, not positions."""
    salt = _mix(np.array([np.uint64(key % 2**64) * _M2 + np.uint64(PURPOSES[purpose]) * _GOLDEN], dtype=np.uint64))
    return _mix((keys[:, None] ^ salt) + _mix(np.asarray(ids, dtype=np.uint64) * _GOLDEN)[None, :])


def gumbel_ids(keys: np.ndarray, key: int, purpose: str, ids: np.ndarray) -> np.ndarray:
    """Standard Gumbel draws (float32) for each replicate and label id: shape (len(keys), len(ids))."""
    u = ((_bits_ids(keys, key, purpose, ids) >> np.uint64(41)).astype(np.float32) + np.float32(0.5)) * np.float32(
        2.0**-23
    )
    return -np.log(-np.log(u))


def uniforms_ids(keys: np.ndarray, key: int, purpose: str, ids: np.ndarray) -> np.ndarray:
    """Uniform draws in (0, 1) for each replicate and label id: shape (len(keys), len(ids))."""
    return ((_bits_ids(keys, key, purpose, ids) >> _S11).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def normals_ids(keys: np.ndarray, key: int, purpose: str, ids: np.ndarray) -> np.ndarray:
    """Standard normal draws for each replicate and label id (Box-Muller on two keyed uniforms)."""
    u1 = uniforms_ids(keys, 2 * key, purpose, ids)
    u2 = uniforms_ids(keys, 2 * key + 1, purpose, ids)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
