"""The calendar the model supports: the one place that says which dates a scenario may start on.

The catalog describes these years (its claims, history, Brent prices and actors), and the
forecasting timeline runs inside them; a scenario that starts far outside them is not a
question the model can answer, and its dates overflow the plots' calendar (year 9999 plus
a horizon). Widen the range here, and only here, when the catalog covers more years.
"""

from __future__ import annotations

import datetime as dt

FIRST_START_DATE = dt.date(2018, 5, 1)  # the start of docs/research/timeline.yaml (the US leaves the JCPOA on 8 May)
LAST_START_DATE = dt.date(2030, 12, 31)  # forecasts from the timeline's end (May 2025) for about five years
