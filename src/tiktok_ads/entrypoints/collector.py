"""Python's cyclic garbage collector, set for a long-running server (`serve`, `worker`).

Our objects die by reference counting; the collector only finds the few cycles. What start-up
made (modules, the app, its wiring: some 500,000 objects) is never garbage, yet every full
collection walked it again. Frozen, it is left out of every collection.

Collecting less often as well: with the default thresholds (700, 10, 10) the collector took
~9% of the service's CPU in bench_end_to_end (3,074 young, 280 middle and 26 full collections,
the full ones ~20 ms each) to find ~8,000 objects in all. Most of those were httpx's: each
answer from TikTok sits in a cycle (Response.stream <-> its BoundAsyncStream) holding the
~700 KB request body; adapters.tiktok_client breaks it, so that body no longer waits for a
collection (waiting, it had raised the peak RSS by ~27 MB when collections were rarer).
"""

from __future__ import annotations

import ctypes
import gc

# Young collections every 10,000 container allocations (not 700), middle ones every 50 of
# those; a full one still waits for the long-lived objects to grow by a quarter.
GC_THRESHOLDS = (10_000, 50, 10)


def tune_for_server() -> None:
    """Freeze the objects made so far and collect less often; call once, after the app is
    built."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


# glibc's mallopt parameter number for M_ARENA_MAX (malloc.h).
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Let glibc's malloc keep at most `arenas` arenas; call before threads start.

    glibc gives each thread that allocates under contention an arena of its own (up to eight
    per core), and memory freed in one is not reused by another: with the store's threads,
    the HTTP loop and the delivery loop, the peak RSS of bench_end_to_end was ~20 MB higher
    than with two. Returns whether glibc took it (not glibc: nothing to do).
    """
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
