"""``entente app``: a local, offline browser view of a live ensemble.

``logic`` holds everything the page shows as pure functions (settings -> scenario document ->
simulation -> figure data -> verdicts) so the normal test suite checks it; ``figures`` draws
the fan charts as SVG; ``server`` is a thin stdlib HTTP layer that serves one static page and
a JSON API. Nothing is fetched from the network.
"""
