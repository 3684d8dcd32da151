"""The pure audience rules: id types, ids hashed as events are, rows to members, the sync
plan, the file-update floor, CSV read in pieces, request bodies, and job retry decisions."""

from __future__ import annotations

from hashlib import sha256

import pytest

from tiktok_ads.domain.audience_jobs import (
    HOLD_RETRY_SECONDS,
    JobFailure,
    JobRetry,
    after_failed_call,
)
from tiktok_ads.domain.audience_requests import read_apply, read_lookalike, read_sync
from tiktok_ads.domain.audiences import (
    IdType,
    RowProblem,
    SyncAction,
    file_update_refusal,
    hash_id,
    hash_rows,
    parse_id_schema,
    plan_sync,
)
from tiktok_ads.domain.customer_list import CsvBlocks, Row, block_rows, hash_block
from tiktok_ads.domain.delivery import TrackAnswer
from tiktok_ads.domain.normalize import hash_email, hash_phone
from tiktok_ads.domain.retry import RetryPolicy
from tiktok_ads.errors import ValidationFailed

IDFA = "6d92078a-8246-4ba4-ae5b-76104861e7dc"
NOT_EMAIL = "not an email address (expected name@domain.tld)"
EMAIL, PHONE = IdType.EMAIL_SHA256, IdType.PHONE_SHA256


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in exc.value.errors]


def test_id_schema_takes_any_case_and_refuses_repeats_and_unknown_types_by_index() -> None:
    """Lower case is fine; a repeat or an unknown name is refused as id_schema.<i>."""
    assert (EMAIL, IdType.AAID_SHA256) == parse_id_schema(["email_sha256", " AAID_SHA256 "])
    with pytest.raises(ValidationFailed) as repeated:
        parse_id_schema(["EMAIL_SHA256", "PHONE_SHA256", "email_sha256", "GAID_MD5"])
    assert ["id_schema.2", "id_schema.3"] == fields(repeated)
    with pytest.raises(ValidationFailed) as empty:
        parse_id_schema([])
    assert ["id_schema"] == fields(empty)


def test_ids_are_hashed_exactly_as_events_hash_them() -> None:
    """Email and phone go through the events' own functions; hashes pass through lower-cased."""
    assert hash_email(" A@Example.com ") == hash_id(EMAIL, " A@Example.com ", None)
    assert hash_phone("0721 234 567", "RO") == hash_id(PHONE, "0721 234 567", "RO")
    assert sha256(b"+40721234567").hexdigest() == hash_id(PHONE, "0721234567", "RO")
    hashed = sha256(b"x").hexdigest()
    assert [hashed] * 3 == [
        hash_id(t, hashed.upper(), None) for t in (EMAIL, PHONE, IdType.IDFA_SHA256)
    ]


def test_advertising_ids_are_cased_as_tiktok_asks_before_hashing() -> None:
    """IDFA upper-cased, AAID lower-cased; the all-zero id and non-UUIDs are refused."""
    upper = sha256(IDFA.upper().encode()).hexdigest()
    assert [upper, upper] == [hash_id(IdType.IDFA_SHA256, v, None) for v in (IDFA, IDFA.upper())]
    lower = sha256(IDFA.encode()).hexdigest()
    assert lower == hash_id(IdType.AAID_SHA256, IDFA.upper(), None)
    for bad in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        with pytest.raises(ValueError):
            hash_id(IdType.IDFA_SHA256, bad, None)


def test_rows_become_members_and_every_bad_value_is_reported() -> None:
    """An empty cell is a missing id; a bad one is named by row and column; an empty row too."""
    rows = [(1, ["a@b.co", ""]), (2, ["nope", "+40721234567"]), (3, ["", " "]), (4, ["c@d.co"])]
    hashed = hash_rows(rows, (EMAIL, PHONE), None)
    assert [
        (EMAIL.value, hash_email("a@b.co")),
        (EMAIL.value, hash_email("c@d.co")),
        (PHONE.value, hash_phone("+40721234567", None)),
    ] == list(hashed.members())
    assert [RowProblem(2, 0, NOT_EMAIL), RowProblem(3, -1, "the row holds no id")] == (
        hashed.problems
    )
    assert (4, 2) == (hashed.rows, hashed.invalid_values)


def test_problems_are_listed_up_to_the_cap_and_all_counted() -> None:
    """A thousand bad values: 100 listed, 1,000 counted."""
    hashed = hash_rows([(i, ["bad"]) for i in range(1000)], (EMAIL,), None)
    assert (100, 1000) == (len(hashed.problems), hashed.invalid_values)


def test_the_sync_plan_is_the_difference_and_an_identical_replace_is_empty() -> None:
    """APPEND adds what is new, REMOVE removes what is held, REPLACE both; same set: nothing."""
    a, b, c = ((1, "a"), (1, "b"), (2, "c"))
    held = {a, b}
    append = plan_sync(held, SyncAction.APPEND, {b, c})
    remove = plan_sync(held, SyncAction.REMOVE, {b, c})
    replace = plan_sync(held, SyncAction.REPLACE, {b, c})
    assert ({c}, set()) == (append.adds, append.removes)
    assert (set(), {b}) == (remove.adds, remove.removes)
    assert ({c}, {a}) == (replace.adds, replace.removes)
    assert plan_sync(held, SyncAction.REPLACE, set(held)).empty


def test_a_file_update_under_1000_users_is_refused_with_the_count() -> None:
    """TikTok's floor on update/: the reason states what the audience would hold."""
    assert None is file_update_refusal(1000, 5, 5)
    refusal = file_update_refusal(1000, 0, 1)
    assert refusal is not None and "would hold 999" in refusal


def feed(data: bytes, size: int, block_chars: int = 1 << 20) -> tuple[list[Row], CsvBlocks]:
    """Feed `data` in pieces of `size` bytes; the rows of every block, read and hashed."""
    reader = CsvBlocks(block_chars=block_chars)
    blocks = []
    for start in range(0, len(data), size):
        blocks.extend(reader.feed(data[start : start + size]))
    blocks.extend(reader.finish())
    assert reader.columns is not None
    return [row for block in blocks for row in block_rows(block, reader.columns)[0]], reader


def test_csv_read_in_any_pieces_gives_the_same_rows() -> None:
    """Byte by byte or whole, in small blocks or one: BOM, CRLF, quotes, blank lines, a
    multi-byte character split across pieces: the same rows, numbered by line."""
    data = '\ufeffEmail,Name,PHONE\r\n"a@b.co",Zoë,+40721234567\r\n\r\nc@d.co,"X, Y",\r\n'.encode()
    whole, reader = feed(data, len(data))
    assert whole == feed(data, 1)[0] == feed(data, 3, block_chars=5)[0]
    assert [(2, ["a@b.co", "+40721234567"]), (4, ["c@d.co", ""])] == whole
    assert reader.columns is not None
    assert ((EMAIL, PHONE), ("Name",)) == (reader.columns.schema, reader.columns.ignored)


def test_a_csv_block_is_hashed_with_its_bad_lines_reported_by_number() -> None:
    """A short line and an invalid email are reported by line; the rest become ids."""
    reader = CsvBlocks()
    blocks = reader.feed(b"\nemail,phone\na@b.co\nnope,+40721234567\n") + reader.finish()
    assert reader.columns is not None
    hashed = hash_block(blocks[0], reader.columns, None)
    assert [RowProblem(3, -1, "has 1 columns; the header has 2"), RowProblem(4, 0, NOT_EMAIL)] == (
        hashed.problems
    )
    assert ([(PHONE.value, hash_phone("+40721234567", None))], 2, 2) == (
        list(hashed.members()),
        hashed.rows,
        hashed.invalid_values,
    )


def test_bad_csv_files_are_refused_naming_what_is_wrong() -> None:
    """No id column, text that is not UTF-8, nothing at all: refused, naming header or file."""
    for bad, where in ((b"name\nx\n", "header"), (b"email\n\xff\n", "file"), (b"", "file")):
        with pytest.raises(ValidationFailed) as refused:
            feed(bad, 3)
        assert [where] == fields(refused)


def test_sync_bodies_are_checked_by_field() -> None:
    """Rows must match id_schema's length; cells are strings, numbers or null."""
    body = {"action": "replace", "id_schema": ["PHONE_SHA256"], "members": [[40721234567], [None]]}
    request = read_sync(body)
    assert (SyncAction.REPLACE, [(0, ["40721234567"]), (1, [""])]) == (
        request.action,
        request.rows,
    )
    with pytest.raises(ValidationFailed) as refused:
        read_sync(
            {"action": "APPEND", "id_schema": ["EMAIL_SHA256"], "members": [["a", "b"], [{}]]}
        )
    assert ["members.0", "members.1.0"] == fields(refused)


def test_lookalike_and_apply_bodies() -> None:
    """Sizes in any case, location ids required; apply needs usage_mode with Apply only."""
    lookalike = read_lookalike(
        {"custom_audience_name": "L", "audience_size": "broad", "location_ids": [6252001]}
    )
    assert ("BROAD", ("6252001",)) == (lookalike.audience_size, lookalike.location_ids)
    with pytest.raises(ValidationFailed) as refused:
        read_lookalike({"custom_audience_name": "", "location_ids": []})
    assert ["custom_audience_name", "location_ids"] == fields(refused)
    assert None is read_apply({"adgroup_ids": ["1"], "action_mode": "disconnect"}).usage_mode
    with pytest.raises(ValidationFailed) as missing:
        read_apply({"adgroup_ids": ["1"]})
    assert ["usage_mode"] == fields(missing)


POLICY = RetryPolicy(base_seconds=1, cap_seconds=60)


def decide(
    code: int | None, http: int | None = 200, attempts: int = 1, deadline: float = 1e9
) -> JobRetry | JobFailure:
    answer = TrackAnswer(http, code, "said", "R1")
    return after_failed_call(
        answer, attempts=attempts, deadline_at=deadline, now=100.0, rand=0.0, policy=POLICY
    )


def test_tiktoks_code_decides_what_becomes_of_a_job() -> None:
    """5xx, 50000, 40100, 61000 back off; a refused token waits 5 minutes uncounted; 40002
    fails with TikTok's words; past the deadline the job gives up."""
    assert [JobRetry(100.5)] * 4 == [decide(None, 503), decide(50000), decide(40100), decide(61000)]
    assert JobRetry(100 + HOLD_RETRY_SECONDS, count_attempt=False) == decide(40105)
    assert JobFailure("TikTok: 40002 said") == decide(40002)
    given_up = decide(50000, deadline=100.2)
    assert isinstance(given_up, JobFailure) and given_up.message.startswith("gave up")
