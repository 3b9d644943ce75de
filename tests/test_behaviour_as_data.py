"""Behaviour as data: the engine names no actor, interest, issue or action; a renamed actor runs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from model.catalog import load_catalog
from model.engine import Config, simulate

ENGINE = Path(__file__).resolve().parent.parent / "model" / "engine"


def test_engine_source_names_no_catalog_entity():
    spec = load_catalog()
    names = set(spec["actors"]) | set(spec["world"]["issues"]) | set(spec["actions"])
    names |= {t for a in spec["actors"].values() for t in a["interests"]}
    names -= {"hold"}  # also an English word in comments; the engine reads it from roles.hold
    found = []
    for f in ENGINE.glob("*.py"):
        text = f.read_text()
        for n in names:
            if re.search(rf"(?<![A-Za-z_.]){re.escape(n)}(?![A-Za-z_])", text):
                found.append(f"{f.name}: {n}")
    assert not found, found


def _rename(spec, old, new):
    """Rename an actor everywhere in the catalog, as a user editing only YAML would."""
    import json

    text = json.dumps(spec)
    text = re.sub(rf"(?<![A-Za-z_]){old}(?![A-Za-z_])", new, text)
    return json.loads(text)


def test_renaming_an_actor_in_the_catalog_changes_nothing_but_the_name():
    spec = load_catalog()
    renamed = _rename(spec, "russia", "moscow")
    a = simulate(Config(spec, steps=6, seed=5), 200)
    b = simulate(Config(renamed, steps=6, seed=5), 200)
    assert "moscow:supply" in b.units and "russia:supply" not in b.units
    assert np.array_equal(a.choices, b.choices)
    assert np.allclose(a.series, b.series)
