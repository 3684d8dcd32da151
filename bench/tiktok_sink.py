"""TikTok for the speed benchmarks: a simple Python HTTP server that parses each request.

It plays TikTok's Events API 2.0 `event/track/` with no rate limit: every body is parsed
(orjson), each `data[]` item must carry an event_id, and the answer is TikTok's success
envelope (`code` 0). It counts requests, items and distinct event_ids (so "TikTok has all" can
be told apart from "TikTok got some twice"), and the time of the last request, on
`GET /_sink/stats`. Light on purpose: the emulator validates like TikTok and costs CPU that
the service under test would otherwise get (both share the benchmark's cores).

Run: .venv/bin/python -m bench.tiktok_sink --port 9100
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from bench.harness import HOST

TRACK_PATH = "/open_api/v1.3/event/track/"
STATS_PATH = "/_sink/stats"


class Counts:
    """What TikTok received; the handler threads share it under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.items = 0
        self.event_ids: set[str] = set()
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.max_items = 0
        self.bad = 0

    def add(self, ids: list[str], at: float) -> None:
        with self.lock:
            self.requests += 1
            self.items += len(ids)
            self.event_ids.update(ids)
            self.max_items = max(self.max_items, len(ids))
            self.first_at = at if self.first_at is None else self.first_at
            self.last_at = at

    def snapshot(self) -> dict[str, object]:
        with self.lock:
            return {
                "requests": self.requests,
                "items": self.items,
                "distinct": len(self.event_ids),
                "max_items": self.max_items,
                "bad": self.bad,
                "first_at": self.first_at,
                "last_at": self.last_at,
            }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as TikTok's servers
    counts: Counts

    def log_message(self, format: str, *args: object) -> None:
        return

    def _answer(self, status: int, body: dict[str, object]) -> None:
        payload = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if self.path == STATS_PATH:
            self._answer(200, self.counts.snapshot())
        else:
            self._answer(200, {"status": "ok"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.rstrip("/") != TRACK_PATH.rstrip("/"):
            self._answer(404, {"code": 40404, "message": "unknown path"})
            return
        try:
            body = orjson.loads(raw)
            ids = [str(item["event_id"]) for item in body["data"]]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            with self.counts.lock:
                self.counts.bad += 1
            self._answer(200, {"code": 40002, "message": f"bad body: {exc}"})
            return
        self.counts.add(ids, time.time())
        request_id = f"sink{self.counts.requests}"
        self._answer(200, {"code": 0, "message": "OK", "request_id": request_id, "data": {}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    Handler.counts = Counts()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
