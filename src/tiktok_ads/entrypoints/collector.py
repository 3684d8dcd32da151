"""Python's cyclic garbage collector, set for a long-running server (`serve`, `worker`).

Our objects die by reference counting; the collector only finds the few cycles. With its
defaults it ran every 700 new objects and walked the whole young heap each time: a
1,000-event body makes ~25,000 containers, so a third of the ingest CPU and a fifth of the
delivery CPU went to collections that found almost nothing (bench/profile_pipeline.py).
"""

from __future__ import annotations

import gc

# Young-generation collections every 10,000 net allocations rather than 700. Higher saved a
# little more CPU but let cycles (SQLAlchemy statements, futures) hold tens of MB longer.
YOUNG_THRESHOLD = 10_000


def tune_for_server() -> None:
    """Freeze what start-up made (modules, the app, its wiring: never garbage, so never walked
    again) and collect less often; call once, after the app is built."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
