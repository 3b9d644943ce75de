"""Refresh constraints.txt: the exact versions the test suite passes with, per Python version.

Usage (from the repository root)::

    python3 scripts/refresh_lock.py              # resolve, install, run the suite, then write the pins
    python3 scripts/refresh_lock.py --no-test    # write the pins without running the suite
    python3.12 scripts/refresh_lock.py           # add (or refresh) the pins for Python 3.12

Why a lock: pyproject.toml gives ranges, right for people who use entente as a library, but a
fresh machine resolving those ranges gets whatever was released last (PyYAML 6.0.4 broke the
suite that way). The README's two commands and ``.ci/run`` install with ``-c constraints.txt``,
so a fresh clone gets the versions recorded here, and tests/test_lock.py fails when the pins
and pyproject's ranges disagree.

How: a throwaway virtual environment of the running Python installs ``.[test]`` from the
ranges alone (the newest releases pip finds), the suite runs in it, and only if it passes is
``pip freeze`` of that environment written, each pin marked ``python_version == "X.Y"``. A pin
resolved on one Python is not applied on another (Mesa 3.3 is the last for 3.11, 3.12 gets
3.5): there pip resolves the ranges, until this script is run with that Python. The pins of
the other Python versions already in the file are kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
PIN = re.compile(r'^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+) ; python_version == "(?P<py>\d+\.\d+)"$')
HEADER = """\
# The exact versions the test suite passed with, one section per Python version.
# Written by scripts/refresh_lock.py from a resolved environment: run it again rather than edit.
# The README's commands and .ci/run install with `pip install -c constraints.txt ...`;
# pyproject.toml keeps its ranges for library users. tests/test_lock.py checks the two agree.
# A Python without a section here gets pyproject's ranges (pins apply only to their version).
"""


def read_sections(path: Path) -> dict[str, tuple[str, list[str]]]:
    """The lock's sections: Python version -> (its comment line, its pin lines)."""
    sections: dict[str, tuple[str, list[str]]] = {}
    if not path.exists():
        return sections
    comment = ""
    for line in path.read_text().splitlines():
        if line.startswith("# python "):
            comment = line
        m = PIN.match(line)
        if m:
            sections.setdefault(m["py"], (comment, []))[1].append(line)
    return sections


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=False, text=True, **kwargs)


def resolve(test: bool) -> list[str]:
    """Install .[test] from pyproject's ranges in a new environment; its ``pip freeze`` (after the suite passes)."""
    with tempfile.TemporaryDirectory(prefix="entente-lock-") as tmp:
        venv = Path(tmp) / "venv"
        if run([sys.executable, "-m", "venv", str(venv)]).returncode:
            sys.exit("could not create a virtual environment")
        python = str(venv / "bin" / "python")
        env = {k: v for k, v in os.environ.items() if k != "PIP_CONSTRAINT"}
        env["VIRTUAL_ENV"] = str(venv)  # as if activated: the suite finds ruff and friends on PATH
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        if run([python, "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"], env=env).returncode:
            sys.exit("pip could not install .[test] from pyproject's ranges; the lock is unchanged")
        if test and run([python, "-m", "pytest", "-p", "no:cacheprovider"], cwd=ROOT, env=env).returncode:
            sys.exit(
                "the suite failed with the newest versions; the lock is unchanged (fix, or pin a range in pyproject)"
            )
        frozen = run([python, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, env=env)
        if frozen.returncode:
            sys.exit(frozen.stderr)
    return [line for line in frozen.stdout.splitlines() if "==" in line and not line.startswith(("-", "#"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-test", action="store_true", help="write the pins without running the suite first")
    args = parser.parse_args(argv)
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    frozen = resolve(test=not args.no_test)
    pins = sorted((f'{line} ; python_version == "{py}"' for line in frozen), key=str.lower)
    tested = "the suite passed" if not args.no_test else "the suite NOT run"
    comment = (
        f"# python {py}: {len(pins)} packages, resolved {dt.date.today().isoformat()} with"
        f" Python {platform.python_version()} on {platform.system()} {platform.machine()}; {tested}"
    )
    sections = read_sections(LOCK)
    sections[py] = (comment, pins)
    body = [HEADER.rstrip("\n")]
    for version in sorted(sections, key=lambda v: tuple(int(x) for x in v.split("."))):
        note, lines = sections[version]
        body += ["", note or f"# python {version}", *lines]
    LOCK.write_text("\n".join(body) + "\n")
    print(f"{LOCK.relative_to(ROOT)}: {len(pins)} pins for Python {py} ({tested})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
