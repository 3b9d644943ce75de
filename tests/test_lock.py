"""constraints.txt (the lock) and pyproject.toml (the ranges) must agree.

A fresh machine installs with ``-c constraints.txt`` (README, .ci/run): a dependency the lock
forgets is resolved to whatever was released last, and a pin outside pyproject's range makes
the install fail. scripts/refresh_lock.py writes the lock; these tests catch a pyproject edit
that was not followed by a refresh, and a hand edit.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
PIN = re.compile(r'^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+) ; python_version == "(?P<py>\d+\.\d+)"$')


def direct_requirements() -> list[Requirement]:
    """What pyproject asks for: the dependencies and the test extra (what the README installs)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]


def lock_sections(text: str) -> dict[str, dict[str, Version]]:
    """Python version -> {canonical name: pinned version}; raises on a line the script does not write."""
    sections: dict[str, dict[str, Version]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = PIN.match(line)
        assert m, f"constraints.txt:{n}: not a pin scripts/refresh_lock.py writes: {line!r}"
        pins = sections.setdefault(m["py"], {})
        name = canonicalize_name(m["name"])
        assert name not in pins, f"constraints.txt:{n}: {name} pinned twice for Python {m['py']}"
        pins[name] = Version(m["version"])
    return sections


def disagreements(requirements: list[Requirement], sections: dict[str, dict[str, Version]]) -> list[str]:
    out = []
    for py, pins in sections.items():
        for req in requirements:
            name = canonicalize_name(req.name)
            if req.marker is not None and not req.marker.evaluate({"python_version": py, "extra": "test"}):
                continue
            if name not in pins:
                out.append(f"Python {py}: {req} is not pinned")
            elif not req.specifier.contains(pins[name], prereleases=True):
                out.append(f"Python {py}: {name}=={pins[name]} is outside pyproject's range {req}")
    return out


def test_every_dependency_is_pinned_inside_its_range():
    sections = lock_sections(LOCK.read_text())
    assert "3.11" in sections, (
        "constraints.txt has no pins for Python 3.11 (the reference): run scripts/refresh_lock.py"
    )
    problems = disagreements(direct_requirements(), sections)
    assert not problems, "pyproject.toml and constraints.txt disagree (run scripts/refresh_lock.py):\n" + "\n".join(
        problems
    )


def test_the_check_catches_a_missing_pin_and_a_pin_outside_its_range():
    reqs = [Requirement("pyyaml>=6"), Requirement("mesa>=3.3,<4")]
    assert disagreements(reqs, {"3.11": {"pyyaml": Version("6.0.2"), "mesa": Version("3.3.1")}}) == []
    assert disagreements(reqs, {"3.11": {"mesa": Version("3.3.1")}}) == ["Python 3.11: pyyaml>=6 is not pinned"]
    assert disagreements(reqs, {"3.11": {"pyyaml": Version("6.0.2"), "mesa": Version("4.0")}}) == [
        "Python 3.11: mesa==4.0 is outside pyproject's range mesa<4,>=3.3"
    ]


def test_pins_apply_only_to_the_python_they_were_resolved_on():
    """A pin without its marker would be forced on every Python (Mesa 3.3 on 3.12, where 3.5 is right)."""
    with pytest.raises(AssertionError, match="not a pin"):
        lock_sections("mesa==3.3.1\n")
    assert lock_sections('Mesa==3.3.1 ; python_version == "3.11"\n') == {"3.11": {"mesa": Version("3.3.1")}}
