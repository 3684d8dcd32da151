"""A segment from tracked events: the identifiers of the rule's events grouped into people,
and the people the rule keeps. Pure; the store feeds it the rows its SQL selected.

Who is one person: the email, phone and external_id hashes sent together on one event belong
to one person, and so, transitively, do all identifiers linked that way across the events the
rule reads (an external_id on a purchase and on a cart ties the email of one to the phone of
the other). external_id is no audience id type (TikTok matches emails and phones), but it is
what links a logged-in customer's events. A person qualifies with at least `min_count` events
of the rule's type (their values adding up to `min_value`) and none of `without_event_type`;
their members are all their email and phone hashes. People we hold no email or phone hash for
cannot be in a TikTok audience: they are counted, never sent.

Events under limited data use (`limited_data_use: true`) never make anybody a member: the
customer asked that their data be used for measurement only. They still count as the event a
rule excludes (somebody who paid under LDU is no cart abandoner).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import orjson

from tiktok_ads.domain.audiences import IdType, Member


@dataclass(frozen=True, slots=True)
class SegmentCounts:
    """What a refresh found: people matching the rule, those of them with an email hash, with
    a phone hash, with either (`reachable`: the ones TikTok can match), and the ids staged."""

    people: int = 0
    with_email: int = 0
    with_phone: int = 0
    reachable: int = 0
    ids: int = 0

    @property
    def unreachable(self) -> int:
        """Matching people of whom we hold neither an email nor a phone hash."""
        return self.people - self.reachable


def identifiers(value: object) -> Sequence[str]:
    """A stored user field (one hash or a list of them) as a list of hashes."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return ()


#: One event as the store reads it: whether it is of the rule's type (else of the type the
#: rule excludes), its value, and the JSON text of `[user, limited_data_use]`, `user` being
#: the stored payload's user object (its email, phone and external_id each one hash or a
#: list of them) or null.
EventRow = tuple[object, float | None, str]
_KEYS = ((0, "email"), (1, "phone"), (2, "external_id"))


class SegmentBuilder:
    """Union-find over identifiers: `add_events` as they are read, `finish`, `members()`.

    Runs over hundreds of thousands of events per refresh, hence plain loops over plain data.
    """

    def __init__(self, *, min_count: int, min_value: float | None) -> None:
        self._min_count = min_count
        self._min_value = min_value
        # Per kind (email, phone, external_id): hash → node.
        self._nodes: tuple[dict[str, int], ...] = ({}, {}, {})
        self._parent: list[int] = []
        self._matches: list[tuple[int, float]] = []  # (node, value) of each qualifying event
        self._excluding: list[int] = []  # a node of each event of `without_event_type`
        self._members: list[Member] = []

    def add_events(self, rows: Iterable[EventRow]) -> None:
        matches, excluding, link = self._matches, self._excluding, self._link
        for of_type, value, who in rows:
            node, limited = link(who)
            if node < 0:
                continue  # nobody we could ever recognise
            if not of_type:
                excluding.append(node)
            elif not limited:
                matches.append((node, value or 0.0))

    def _link(self, who: str) -> tuple[int, bool]:
        """One node for all identifiers of an event (-1: none), and its limited_data_use."""
        user, limited = orjson.loads(who)
        if not isinstance(user, dict):
            return -1, False
        parent, nodes, first = self._parent, self._nodes, -1
        for kind, key in _KEYS:
            hashes = user.get(key)
            if hashes is None:
                continue
            table = nodes[kind]
            for hashed in (hashes,) if isinstance(hashes, str) else identifiers(hashes):
                node = table.get(hashed)
                if node is None:
                    node = table[hashed] = len(parent)
                    parent.append(node)
                elif parent[node] != node:
                    node = self._root(node)
                if first < 0:
                    first = node
                elif node != first:
                    parent[node] = first
        return first, limited is True

    def _root(self, node: int) -> int:
        parent = self._parent
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:  # path compression: later finds are one step
            parent[node], node = root, parent[node]
        return root

    def finish(self) -> SegmentCounts:
        """Decide who qualifies, once every event is in; CPU work, best off the event loop."""
        person_of = self._parent
        for node, up in enumerate(person_of):  # every node pointing at its root from now on
            if person_of[up] != up:
                person_of[node] = self._root(up)
        counts: dict[int, int] = {}
        values: dict[int, float] = {}
        for node, value in self._matches:
            person = person_of[node]
            counts[person] = counts.get(person, 0) + 1
            values[person] = values.get(person, 0.0) + value
        excluded = {person_of[node] for node in self._excluding}
        floor = self._min_value
        kept = {
            person
            for person, count in counts.items()
            if count >= self._min_count
            and (floor is None or values[person] >= floor)
            and person not in excluded
        }
        reached: list[set[int]] = [set(), set()]
        for kind, id_type in ((0, IdType.EMAIL_SHA256.value), (1, IdType.PHONE_SHA256.value)):
            for hashed, node in self._nodes[kind].items():
                if (person := person_of[node]) in kept:
                    self._members.append((id_type, hashed))
                    reached[kind].add(person)
        self._matches, self._excluding = [], []
        email, phone = reached
        return SegmentCounts(
            len(kept), len(email), len(phone), len(email | phone), len(self._members)
        )

    def members(self) -> Iterator[Member]:
        """(IdType, hash) of every email and phone of every qualifying person (after finish)."""
        return iter(self._members)
