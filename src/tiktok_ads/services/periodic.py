"""Named periodic tasks beside the send loop, each on its own interval (procrastinate's style).

A task is a name, an interval and a coroutine function taking the current time. Adding one is
`tasks.add(PeriodicTask("refresh-audiences", 3600, audiences.refresh_due))` in bootstrap.
Each task runs in its own asyncio task, so a slow one never delays the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tiktok_ads.services.ports import Clock

log = logging.getLogger(__name__)

# A task is due by the injected clock; this is how often a sleeping task looks at it again,
# so a clock moved by hand (tests) or a wall clock jump is noticed soon enough.
_LOOK_AGAIN_S = 1.0


@dataclass(frozen=True, slots=True)
class PeriodicTask:
    name: str
    every_s: float
    run: Callable[[float], Awaitable[object]]


class PeriodicTasks:
    def __init__(self, clock: Clock, tasks: list[PeriodicTask] | None = None) -> None:
        self._clock = clock
        self._tasks: dict[str, PeriodicTask] = {}
        for task in tasks or []:
            self.add(task)

    def add(self, task: PeriodicTask) -> None:
        if task.name in self._tasks:
            raise ValueError(f"a periodic task named {task.name!r} exists already")
        if task.every_s <= 0:
            raise ValueError(f"periodic task {task.name!r}: the interval must be positive")
        self._tasks[task.name] = task

    @property
    def names(self) -> list[str]:
        return list(self._tasks)

    async def run_now(self, name: str) -> None:
        """Run one task at once (the CLI, tests), whatever its schedule."""
        await self._tasks[name].run(self._clock.now())

    async def run(self, stop: asyncio.Event) -> None:
        """Every task on its interval, first at once, until `stop` is set."""
        await asyncio.gather(*(self._loop(task, stop) for task in self._tasks.values()))

    async def _loop(self, task: PeriodicTask, stop: asyncio.Event) -> None:
        due = self._clock.now()
        while not stop.is_set():
            now = self._clock.now()
            if now >= due:
                try:
                    await task.run(now)
                except Exception:
                    # Housekeeping state lives in the database; the next round tries again.
                    log.exception("periodic task %s failed; next in %g s", task.name, task.every_s)
                due = now + task.every_s
            nap = min(max(due - self._clock.now(), 0.0), _LOOK_AGAIN_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=nap)
