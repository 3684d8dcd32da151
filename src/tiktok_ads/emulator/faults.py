"""Scriptable failures: one-shot faults consumed in order, and standing event-rejection rules."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

API_PREFIX = "/open_api/v1.3/"
#: Faults hit the Events API unless told otherwise.
DEFAULT_FAULT_PATH = "/open_api/v1.3/event/track"

#: Kinds accepted by `FaultPlan.add` and what each does to the request it hits.
FAULT_KINDS: dict[str, str] = {
    "http_503": "HTTP 503 with nginx's HTML page",
    "http_500": "HTTP 500 with nginx's HTML page",
    "code_20001": "HTTP 200, code 20001 (partial success); the request is still handled",
    "code_40100": "HTTP 200, code 40100 (rate limited)",
    "code_40105": "HTTP 200, code 40105 (access token incorrect or revoked)",
    "code_40700": "HTTP 200, code 40700 (internal service timeout; peers retry)",
    "code_50000": "HTTP 200, code 50000 (system error)",
    "latency": "answer normally after opts ms (default 1000)",
    "late_answer": "handle the request at once, answer after opts ms (default 1000): done at "
    "TikTok, though the caller may never hear it",
    "hang": "no answer for opts seconds (default 30) or until the client gives up; then 504",
    "drop": "close the connection without an answer",
}

_MISSING = object()


def normalise_path(path: str) -> str:
    """`event/track/` and `/open_api/v1.3/event/track` name the same prefix."""
    if not path.startswith("/"):
        path = API_PREFIX + path
    return path.rstrip("/") or "/"


def route_path(scope: Mapping[str, Any]) -> str:
    """The path inside the emulator app, also when it is mounted under a prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def path_matches(prefix: str, path: str) -> bool:
    return prefix == "/" or path == prefix or path.startswith(prefix + "/")


@dataclass(slots=True)
class Fault:
    """One scripted failure; `remaining` None means it never runs out."""

    kind: str
    remaining: int | None
    path: str
    opts: dict[str, float] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "remaining": self.remaining, "path": self.path, **self.opts}


@dataclass(frozen=True, slots=True)
class RejectRule:
    """Reject any batch holding an event whose (dotted) fields equal `match`.

    The message names the event as TikTok's docs do, `Invalid value for data.<i>.<field>:
    <problem>`, or with `batch_prefix` as seen in the wild, `Batch.<i>.<field>: <problem>`.
    """

    match: tuple[tuple[str, Any], ...]
    name_index: bool
    path: str
    problem: str
    http_status: int
    batch_prefix: bool = False

    def matches(self, event: object) -> bool:
        return all(_lookup(event, key) == expected for key, expected in self.match)

    def message(self, list_name: str, index: int | None) -> str:
        field_name = self.match[0][0]
        named = self.name_index and index is not None
        if self.batch_prefix:
            where = f"Batch.{index}.{field_name}" if named else field_name
            return f"{where}: {self.problem}"
        if named:
            field_name = f"{list_name}.{index}.{field_name}"
        return f"Invalid value for {field_name}: {self.problem}"

    def describe(self) -> dict[str, Any]:
        return {
            "reject_events": dict(self.match),
            "name_index": self.name_index,
            "path": self.path,
            "problem": self.problem,
            "http_status": self.http_status,
            "batch_prefix": self.batch_prefix,
        }


def _lookup(value: object, dotted: str) -> object:
    for part in dotted.split("."):
        if isinstance(value, dict):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


class FaultPlan:
    """The failures the emulator will inject; safe to script from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rules: list[RejectRule] = []

    def add(
        self,
        kind: str,
        count: int | None = 1,
        *,
        path: str = DEFAULT_FAULT_PATH,
        **opts: float,
    ) -> None:
        """Queue `count` (None: endless) failures of `kind` for requests under `path`."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or None for no end)")
        for name, value in opts.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"fault option {name} must be a non-negative number")
        with self._lock:
            self._faults.append(Fault(kind, count, normalise_path(path), dict(opts)))

    def reject_events(
        self,
        match: Mapping[str, Any],
        *,
        name_index: bool = True,
        path: str = DEFAULT_FAULT_PATH,
        problem: str = "value rejected.",
        http_status: int = 200,
        batch_prefix: bool = False,
    ) -> None:
        """Until cleared, refuse (40002) any batch holding an event that matches `match`."""
        if not match:
            raise ValueError("match needs at least one field")
        rule = RejectRule(
            tuple(match.items()),
            name_index,
            normalise_path(path),
            problem,
            http_status,
            batch_prefix,
        )
        with self._lock:
            self._rules.append(rule)

    def take(self, path: str) -> Fault | None:
        """Consume the first queued fault aimed at `path`, if any."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if path_matches(fault.path, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining == 0:
                            del self._faults[index]
                    return fault
        return None

    def rejection(self, path: str, events: Sequence[object]) -> tuple[RejectRule, int] | None:
        """The first standing rule that refuses one of `events`, with that event's index."""
        with self._lock:
            rules = [rule for rule in self._rules if path_matches(rule.path, path)]
        if not rules:
            return None
        for index, event in enumerate(events):
            for rule in rules:
                if rule.matches(event):
                    return rule, index
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rules.clear()

    def describe(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {
                "faults": [fault.describe() for fault in self._faults],
                "rules": [rule.describe() for rule in self._rules],
            }

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults) + len(self._rules)
