"""``python -m model`` is the same program as ``entente``."""

from model.cli import main

raise SystemExit(main())
