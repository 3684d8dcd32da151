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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tiktok_ads.domain.audiences import IdType, Member

_EMAIL, _PHONE, _EXTERNAL = "e", "p", "x"
_TYPE_OF = {_EMAIL: IdType.EMAIL_SHA256.value, _PHONE: IdType.PHONE_SHA256.value}


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


class SegmentBuilder:
    """Union-find over identifiers: `add` each event the rule reads, `finish`, `members()`."""

    def __init__(self, *, min_count: int, min_value: float | None) -> None:
        self._min_count = min_count
        self._min_value = min_value
        self._node: dict[str, int] = {}  # kind letter + hash → node
        self._parent: list[int] = []
        self._matches: list[tuple[int, float]] = []  # (node, value) of each qualifying event
        self._excluding: list[int] = []  # a node of each event of `without_event_type`
        self._member_tokens: list[str] = []

    def add(
        self,
        *,
        matches: bool,
        value: float | None,
        emails: object,
        phones: object,
        external_ids: object,
        limited: bool = False,
    ) -> None:
        """One event: of the rule's type (`matches`) or of the type it excludes."""
        if matches and limited:
            return
        nodes = [
            self._find_or_make(kind + hashed)
            for kind, found in ((_EMAIL, emails), (_PHONE, phones), (_EXTERNAL, external_ids))
            for hashed in identifiers(found)
        ]
        if not nodes:
            return  # nobody we could ever recognise
        root = nodes[0]
        for other in nodes[1:]:
            if other != root:
                self._parent[other] = root
        if matches:
            self._matches.append((root, value or 0.0))
        else:
            self._excluding.append(root)

    def _find_or_make(self, token: str) -> int:
        node = self._node.get(token)
        if node is None:
            node = self._node[token] = len(self._parent)
            self._parent.append(node)
            return node
        return self._root(node)

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
        counts: dict[int, list[float]] = {}
        for node, value in self._matches:
            total = counts.setdefault(self._root(node), [0, 0.0])
            total[0] += 1
            total[1] += value
        excluded = {self._root(node) for node in self._excluding}
        floor = self._min_value
        kept = {
            root
            for root, (count, value) in counts.items()
            if count >= self._min_count
            and (floor is None or value >= floor)
            and root not in excluded
        }
        email: set[int] = set()
        phone: set[int] = set()
        self._member_tokens = []
        for token, node in self._node.items():
            if token[0] != _EXTERNAL and (root := self._root(node)) in kept:
                self._member_tokens.append(token)
                (email if token[0] == _EMAIL else phone).add(root)
        self._matches, self._excluding = [], []
        reachable = len(email | phone)
        return SegmentCounts(len(kept), len(email), len(phone), reachable, len(self._member_tokens))

    def members(self) -> Iterator[Member]:
        """(IdType, hash) of every email and phone of every qualifying person (after finish)."""
        for token in self._member_tokens:
            yield _TYPE_OF[token[0]], token[1:]
