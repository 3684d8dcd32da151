"""TikTok's 48-hour deduplication memory, bounded: keys expire with the clock and are capped."""

from __future__ import annotations

from collections import OrderedDict

#: TikTok drops a repeated (pixel, event, event_id) for 48 hours after the first one.
DEDUP_WINDOW_SECONDS = 48 * 3600


class DedupWindow:
    """When each dedup key was first seen, oldest first, so expiry and the cap trim the front.

    Keys are hashes of (pixel, event, event_id, test): a million entries stay near 150 MB, and
    a false match needs a 64-bit collision, which a test run will not meet. An OrderedDict,
    not a dict, because dropping the oldest key must stay O(1) in a sandbox that runs for days.
    """

    def __init__(self, window_seconds: float = DEDUP_WINDOW_SECONDS) -> None:
        self.window_seconds = window_seconds
        self._first_seen: OrderedDict[int, float] = OrderedDict()

    def expire(self, now: float) -> None:
        """Forget keys whose window has closed by `now`."""
        first_seen = self._first_seen
        while first_seen:
            key, first = next(iter(first_seen.items()))
            if now - first < self.window_seconds:
                return
            del first_seen[key]

    def flag_duplicates(self, keys: list[int | None], now: float, max_keys: int) -> list[bool]:
        """For each key (None: the event has no event_id), whether TikTok drops it as a repeat.

        A key not seen within the window opens a new one at `now`. Beyond `max_keys` the
        oldest key is forgotten: a repeat of it would count again, the price of bounded memory.
        One call per batch, with locals bound, because this runs for every event delivered.
        """
        first_seen = self._first_seen
        window = self.window_seconds
        get = first_seen.get
        move_to_end = first_seen.move_to_end
        flags = []
        for key in keys:
            if key is None:
                flags.append(False)
                continue
            first = get(key)
            if first is not None and now - first < window:
                flags.append(True)
                continue
            first_seen[key] = now
            if first is not None:
                # Re-opened after its window but not yet expired: to the back, with its new time.
                move_to_end(key)
            flags.append(False)
        while len(first_seen) > max_keys:
            first_seen.popitem(last=False)
        return flags

    def clear(self) -> None:
        self._first_seen.clear()

    def __len__(self) -> int:
        return len(self._first_seen)
