"""The store under group commits and settles of every size, as real traffic makes them.

The HTTP benchmarks post 1,000-event batches, so their group commits are multiples of 1,000
and their statements always the same. A shop's traffic is not: batches of 37 or 412 events,
single events grouped by the timing of their arrival, TikTok batches of whatever was queued.
Each distinct multi-row statement is compiled anew by SQLite and kept (128 per connection).

One process, no HTTP: the store's own API (SqlStore) on a fresh SQLite file; groups of
1..1,000 events (sizes from a seeded random generator, the same for every checkout), each event
with a hashed identity and a click id (so the click memory is read and written), then claims
and settles of 1..1,000 events until the queue is empty. Prints events per second for each
half, SQLite's own memory (sqlite3_memory_used, now and at its peak) and the process's peak
RSS. With `--compare DIR` the same script runs on DIR's checkout (its .venv), alternating.

Run: .venv/bin/python -m bench.bench_group_sizes [--runs 3] [--events 150000] [--compare DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import rss
from bench.harness import REPO, Figure, median, report, run_main

_CHILD = "--child"
PIXEL = "CBENCH00000000000001"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == _CHILD:
        print(json.dumps(asyncio.run(child(int(sys.argv[2]), int(sys.argv[3])))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compare", type=Path, help="another checkout with its own .venv")
    args = parser.parse_args()
    run_main("group_sizes", lambda: bench(args))


def bench(args: argparse.Namespace) -> None:
    pythons = {"this": Path(sys.executable)}
    if args.compare is not None:
        pythons["base"] = args.compare.resolve() / ".venv" / "bin" / "python"
    results: dict[str, list[dict[str, float]]] = {label: [] for label in pythons}
    for i in range(args.runs):
        for label, python in pythons.items():
            # The script is this checkout's; `tiktok_ads` is whatever that venv installed.
            out = subprocess.run(
                [str(python), str(Path(__file__).resolve()), _CHILD, str(args.events),
                 str(args.seed)],
                capture_output=True, text=True, cwd=tempfile.gettempdir(),
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )  # fmt: skip
            if out.returncode:
                raise SystemExit(f"{label} failed:\n{out.stderr[-3000:]}")
            got = json.loads(out.stdout.strip().splitlines()[-1])
            results[label].append(got)
            print(
                f"  run {i + 1} {label:>5}: store {got['ingest']:8.0f} events/s, settle "
                f"{got['settle']:8.0f} events/s; SQLite memory {got['sqlite_mb']:.1f} MB "
                f"(peak {got['sqlite_peak_mb']:.1f}); peak RSS {got['rss_peak_mb']:.0f} MB",
                flush=True,
            )
    figures: list[Figure] = []
    for label, got in results.items():
        for key, name, unit in (
            ("ingest", "group commits of 1..1,000 events", "events/s"),
            ("settle", "claims and settles of 1..1,000 events", "events/s"),
            ("sqlite_peak_mb", "SQLite's memory, peak", "MB"),
            ("rss_peak_mb", "peak RSS of the process", "MB"),
        ):
            runs = [g[key] for g in got]
            figures.append(Figure(f"{label}: {name}", median(runs), unit, runs=runs))
    report("group_sizes", figures)


async def child(total: int, seed: int) -> dict[str, float]:
    import sqlite3 as driver

    from tiktok_ads.adapters.store import SqlStore
    from tiktok_ads.domain.delivery import Outcome
    from tiktok_ads.domain.events import NewEvent

    sqlite = ctypes.CDLL("libsqlite3.so.0")
    sqlite.sqlite3_memory_used.restype = ctypes.c_int64
    sqlite.sqlite3_memory_highwater.restype = ctypes.c_int64
    sqlite.sqlite3_libversion.restype = ctypes.c_char_p
    # Only the library Python's driver uses tells its memory (not a statically linked one).
    shared = sqlite.sqlite3_libversion().decode() == driver.sqlite_version
    rng = random.Random(seed)
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{tmp}/bench.db")
        await store.migrate()
        await store.upsert_connection(
            pixel_id=PIXEL, access_token_enc=b"x", advertiser_id=None, test_mode=False,
            test_event_code=None, is_default=True, now=now,
        )  # fmt: skip

        def event(n: int) -> Any:
            return NewEvent(
                pixel_id=PIXEL, event_name="CompletePayment", event_id=f"e{n}",
                event_time=int(now), status="queued",
                payload={"event": "CompletePayment", "event_id": f"e{n}",
                         "event_time": int(now), "user": {"ttclid": f"E.C.P.{n}"},
                         "properties": {"value": 25.0, "currency": "EUR"}},
                ip="203.0.113.9", user_agent="Mozilla/5.0", match_keys="email,ttclid",
                identity_hashes=(f"{n % 20_000:064x}",), has_ttclid=True, has_ttp=False,
                value=25.0, currency="EUR",
            )  # fmt: skip

        made = 0
        started = time.perf_counter()
        while made < total:
            size = min(rng.randint(1, 1000), total - made)
            await store.add_events([event(made + i) for i in range(size)], now, 28 * 86400)
            made += size
        ingest_s = time.perf_counter() - started
        settled = 0
        started = time.perf_counter()
        while True:
            claimed = await store.claim_batch(PIXEL, rng.randint(1, 1000), now, now + 60, False)
            if not claimed:
                break
            await store.settle(Outcome(now, 0, "OK", delivered=tuple(c.pk for c in claimed)))
            settled += len(claimed)
        settle_s = time.perf_counter() - started
        await store.close()
    _, hwm_mb = rss.rss_mb(os.getpid())
    return {
        "ingest": total / ingest_s,
        "settle": settled / settle_s,
        "sqlite_mb": sqlite.sqlite3_memory_used() / 1e6 if shared else float("nan"),
        "sqlite_peak_mb": sqlite.sqlite3_memory_highwater(0) / 1e6 if shared else float("nan"),
        "rss_peak_mb": hwm_mb,
    }


if __name__ == "__main__":
    main()
