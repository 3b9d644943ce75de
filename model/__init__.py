"""entente: a scenario and stance simulation of the Russia-Iran entente and Middle East escalation.

The package is layered; each layer imports only its own and those below it (tests/test_layers.py
checks every import, those inside functions included):
``errors``/``safeyaml``/``expr``/``files`` (low helpers) -> ``catalog`` (cited data) -> ``engine``
(vectorised Mesa model) -> ``scenario`` (YAML format) -> ``execution`` (run settings, batches,
workers, run folders while written) -> ``explain`` -> ``analysis`` -> ``workflow`` / ``sensitivity``
-> ``cli``. Analysis reads run folders and never imports the engine.
"""

__version__ = "0.1.0"
