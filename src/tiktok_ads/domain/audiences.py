"""Audience members: TikTok's id types, each raw id normalised and hashed exactly as events
are, and the sync plan (what TikTok must add and remove) as a pure function.

A member is one id, `(IdType, sha256 hex)`: TikTok matches each id on its own, so we keep and
send ids one by one; adds and removes are then plain set operations, and sending one twice
changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from tiktok_ads.domain.normalize import hash_advertising_id, hash_email, hash_phone
from tiktok_ads.errors import FieldError, ValidationFailed


class IdType(IntEnum):
    """The id types of TikTok's audience APIs (tiktok-api.md §8); the value is stored."""

    EMAIL_SHA256 = 1
    PHONE_SHA256 = 2
    IDFA_SHA256 = 3
    AAID_SHA256 = 4


class SyncAction(StrEnum):
    APPEND = "APPEND"
    REMOVE = "REMOVE"
    REPLACE = "REPLACE"


#: What customer files call each type (their `calculate_type` names Android's id GAID).
FILE_COLUMN = {
    IdType.EMAIL_SHA256: "EMAIL_SHA256",
    IdType.PHONE_SHA256: "PHONE_SHA256",
    IdType.IDFA_SHA256: "IDFA_SHA256",
    IdType.AAID_SHA256: "GAID_SHA256",
}
#: TikTok refuses a customer-file update/ that leaves an audience under this many users.
FILE_UPDATE_MIN_USERS = 1000
#: A lookalike needs a source of at least this many users (lookalike/create/).
LOOKALIKE_MIN_SOURCE = 100

Member = tuple[int, str]  # (IdType value, lower-case SHA-256 hex)


def parse_id_schema(value: object, where: str = "id_schema") -> tuple[IdType, ...]:
    """The id types of a sync's columns: known names, any case, each at most once."""
    if not isinstance(value, list) or not value:
        raise ValidationFailed([FieldError(where, "must be a non-empty list of id types")])
    names = ", ".join(IdType.__members__)
    schema: list[IdType] = []
    errors: list[FieldError] = []
    for index, item in enumerate(value):
        name = item.strip().upper() if isinstance(item, str) else ""
        if name not in IdType.__members__:
            errors.append(FieldError(f"{where}.{index}", f"must be one of {names}"))
        elif IdType[name] in schema:
            errors.append(
                FieldError(f"{where}.{index}", f"{name} is repeated; each id type may appear once")
            )
        else:
            schema.append(IdType[name])
    if errors:
        raise ValidationFailed(errors)
    return tuple(schema)


def hash_id(id_type: IdType, raw: str, phone_region: str | None) -> str:
    """The id as TikTok matches it; a value already 64 hex characters passes through."""
    if id_type is IdType.EMAIL_SHA256:
        return hash_email(raw)
    if id_type is IdType.PHONE_SHA256:
        return hash_phone(raw, phone_region)
    return hash_advertising_id(raw, upper=id_type is IdType.IDFA_SHA256)


@dataclass(frozen=True, slots=True)
class RowProblem:
    """An invalid id: the row it is on, its column (position in the schema), and why."""

    row: int
    column: int
    message: str


#: The bucket of an id: the first two hex digits of its hash (256 buckets). A job's ids are
#: kept, sorted and added a bucket at a time, which bounds the memory (1/256 of the job) and
#: the length of each transaction.
BUCKET_OF = {f"{value:02x}": value for value in range(256)}

Packed = dict[tuple[int, int], str]  # (IdType value, bucket) -> concatenated hex digests


def unpack(packed: str) -> list[str]:
    return [packed[start : start + 64] for start in range(0, len(packed), 64)]


@dataclass(slots=True)
class HashedRows:
    """Rows turned into ids; problems are listed up to a cap and always counted.

    The ids travel packed, one string per (type, bucket) of concatenated hex digests: from a
    worker process that is a few objects to copy where a million tuples cost seconds, and
    they are stored so too.
    """

    ids: Packed = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    invalid_values: int = 0
    rows: int = 0

    @property
    def count(self) -> int:
        return sum(len(packed) for packed in self.ids.values()) // 64

    def members(self) -> Iterator[Member]:
        for (id_type, _), packed in sorted(self.ids.items()):
            for id_hash in unpack(packed):
                yield id_type, id_hash


def hash_rows(
    rows: Sequence[tuple[int, Sequence[str]]],
    schema: Sequence[IdType],
    phone_region: str | None,
    max_problems: int = 100,
) -> HashedRows:
    """(row number, cells aligned with `schema`) → ids; an empty cell is a missing id.

    Runs in a worker process for big uploads, hence plain arguments and a plain result.
    """
    out = HashedRows(rows=len(rows))
    found: dict[tuple[int, int], list[str]] = {}
    for number, cells in rows:
        anything = False
        for column, (id_type, raw) in enumerate(zip(schema, cells, strict=False)):
            if not raw or raw.isspace():
                continue
            anything = True  # a bad id is reported below, so the row is not also "without id"
            try:
                hashed = hash_id(id_type, raw, phone_region)
            except ValueError as exc:
                out.invalid_values += 1
                if len(out.problems) < max_problems:
                    out.problems.append(RowProblem(number, column, str(exc)))
            else:
                found.setdefault((id_type.value, BUCKET_OF[hashed[:2]]), []).append(hashed)
        if not anything:
            out.invalid_values += 1
            if len(out.problems) < max_problems:
                out.problems.append(RowProblem(number, -1, "the row holds no id"))
    out.ids = {key: "".join(hashes) for key, hashes in found.items()}
    return out


@dataclass(frozen=True, slots=True)
class SyncPlan:
    adds: frozenset[Member]
    removes: frozenset[Member]

    @property
    def empty(self) -> bool:
        return not self.adds and not self.removes


def plan_sync(held: Set[Member], action: SyncAction, job: Set[Member]) -> SyncPlan:
    """What TikTok must add and remove so that it holds what `action` asks for.

    The store computes the same in SQL, chunk by chunk, for jobs too big for memory.
    """
    if action is SyncAction.APPEND:
        return SyncPlan(frozenset(job - held), frozenset())
    if action is SyncAction.REMOVE:
        return SyncPlan(frozenset(), frozenset(job & held))
    return SyncPlan(frozenset(job - held), frozenset(held - job))


def file_update_refusal(held: int, adds: int, removes: int) -> str | None:
    """Why TikTok would refuse this customer-file update/ (None when it would not)."""
    after = held + adds - removes
    if after >= FILE_UPDATE_MIN_USERS:
        return None
    return (
        f"TikTok refuses a customer-file update that leaves fewer than "
        f"{FILE_UPDATE_MIN_USERS:,} users; after this sync the audience would hold {after:,} "
        f"(+{adds:,} / -{removes:,} on {held:,}). Nothing was sent; the members are unchanged."
    )
