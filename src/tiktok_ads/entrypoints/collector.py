"""Python's cyclic garbage collector, set for a long-running server (`serve`, `worker`).

Our objects die by reference counting; the collector only finds the few cycles. What start-up
made (modules, the app, its wiring: some 500,000 objects) is never garbage, yet every full
collection walked it again. Frozen, it is left out of every collection.

Collecting less often as well (young collections every 10,000 allocations instead of 700)
saved CPU but raised the service's peak RSS by ~27 MB in bench_end_to_end: httpx leaves each
request to TikTok in a reference cycle with its ~700 KB body, and those waited longer.
"""

from __future__ import annotations

import ctypes
import gc


def tune_for_server() -> None:
    """Freeze the objects made so far; call once, after the app is built."""
    gc.collect()
    gc.freeze()


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
