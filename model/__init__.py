"""entente: a scenario and stance simulation of the Russia-Iran entente and Middle East escalation.

The package is layered; each layer imports only those below it:
``catalog`` (cited data) -> ``engine`` (vectorised Mesa model) -> ``scenario`` (YAML format)
-> ``execution`` (batches, workers, run folders) -> ``analysis`` / ``explain`` -> ``cli``.
Analysis reads run folders and never imports the engine.
"""

__version__ = "0.1.0"
