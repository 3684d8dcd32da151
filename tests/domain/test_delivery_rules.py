"""Reading TikTok's answers and deciding retries: pure rules of domain.delivery and domain.retry."""

from __future__ import annotations

import pytest

from tiktok_ads.domain.access_token import header_problem
from tiktok_ads.domain.delivery import TrackAnswer, Verdict, classify, plan_retries, rejected_index
from tiktok_ads.domain.events import ClaimedEvent
from tiktok_ads.domain.retry import (
    DEADLINE_REASON,
    LEASE_DEADLINE_REASON,
    GiveUp,
    RetryAt,
    RetryPolicy,
)

NOW = 1_790_000_000.0
DEADLINE = NOW + 48 * 3600


def answer(code: int | None, http_status: int | None = 200) -> TrackAnswer:
    return TrackAnswer(http_status, code, "message")


@pytest.mark.parametrize(
    ("code", "http_status", "expected"),
    [
        (0, 200, Verdict.DELIVERED),
        (20001, 200, Verdict.DELIVERED),
        (40001, 200, Verdict.HOLD),
        (40102, 200, Verdict.HOLD),
        (40104, 200, Verdict.HOLD),
        (40105, 200, Verdict.HOLD),
        (40002, 200, Verdict.REJECTED),
        (40002, 400, Verdict.REJECTED),
        (40100, 200, Verdict.RETRY),
        (40700, 200, Verdict.RETRY),
        (50000, 200, Verdict.RETRY),
        (50002, 200, Verdict.RETRY),
        (51001, 200, Verdict.RETRY),
        (51999, 200, Verdict.RETRY),
        (None, 503, Verdict.RETRY),
        (None, 404, Verdict.RETRY),
        (None, None, Verdict.RETRY),
        (40000, 200, Verdict.FAILED),
        (40003, 200, Verdict.FAILED),
        (40200, 200, Verdict.FAILED),
    ],
)
def test_classify_reads_each_code_family(
    code: int | None, http_status: int | None, expected: Verdict
) -> None:
    """0/20001 delivered, token codes hold, 40002 rejected, 40100/40700/5xxxx and no envelope
    retried, any other 4xxxx failed."""
    assert expected == classify(answer(code, http_status))


@pytest.mark.parametrize(
    ("message", "batch_len", "expected"),
    [
        ("Invalid value for data.3.event_id: not a valid string.", 10, 3),
        ("Batch.0.properties.contents.0.content_id: Not a valid string", 10, 0),
        ("BATCH.7.event: unknown", 10, 7),
        ("Invalid value for data.12.event_id", 10, None),
        ("Invalid value for event_id: not a valid string.", 10, None),
        ("metadata.3.x: no index of ours", 10, None),
    ],
)
def test_rejected_index_names_the_bad_event(
    message: str, batch_len: int, expected: int | None
) -> None:
    """`data.<i>` and `Batch.<i>` (any case) name the event; out of range or absent: None."""
    assert expected == rejected_index(message, batch_len)


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    """Without jitter the delay is half the ceiling: 1, 2, 4 … capped at 60 s."""
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=60.0)
    assert [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0] == [
        policy.delay(attempts, 0.0) for attempts in (1, 2, 3, 4, 5, 6, 7, 20)
    ]


def test_jitter_stays_between_half_and_the_whole_ceiling() -> None:
    """rand in [0, 1) spreads the delay over [ceiling / 2, ceiling)."""
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=60.0)
    assert (4.0, 6.0, 7.999) == (
        policy.delay(4, 0.0),
        policy.delay(4, 0.5),
        round(policy.delay(4, 0.99975), 3),
    )
    assert 60.0 > policy.delay(30, 0.999999) >= 30.0


def test_decide_retries_inside_the_window_and_gives_up_at_its_end() -> None:
    """The next try when it lands before the deadline; giving up when it would not."""
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=60.0)
    assert RetryAt(NOW + 30.0) == policy.decide(10, DEADLINE, NOW, 0.0)
    assert RetryAt(DEADLINE - 1.0) == policy.decide(10, DEADLINE, DEADLINE - 31.0, 0.0)
    assert GiveUp(DEADLINE_REASON) == policy.decide(10, DEADLINE, DEADLINE - 30.0, 0.0)
    assert GiveUp(DEADLINE_REASON) == policy.decide(1, DEADLINE, DEADLINE + 5.0, 0.0)


def test_a_lost_claim_is_requeued_only_inside_the_window() -> None:
    """A dead worker's claim goes back at once before the deadline, fails after it."""
    assert RetryAt(NOW) == RetryPolicy.after_lost_claim(DEADLINE, NOW)
    assert GiveUp(LEASE_DEADLINE_REASON) == RetryPolicy.after_lost_claim(DEADLINE, DEADLINE)


def claimed(pk: int, attempts: int, deadline_at: float) -> ClaimedEvent:
    return ClaimedEvent(
        pk, f"e{pk}", "ViewContent", "{}", False, None, None, attempts, NOW, deadline_at
    )


def test_plan_retries_decides_per_event_with_one_jitter_for_the_batch() -> None:
    """Each event by its own attempts and deadline; the ones out of time are given up."""
    batch = [claimed(1, 1, DEADLINE), claimed(2, 3, DEADLINE), claimed(3, 1, NOW + 0.4)]
    retries, given_up, reason = plan_retries(batch, RetryPolicy(), NOW, 0.5)
    assert ((1, NOW + 0.75), (2, NOW + 3.0)) == retries
    assert ((3,), DEADLINE_REASON) == (given_up, reason)


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("0123456789abcdef", None),
        ("abc\ndef", "line break"),
        ("abc\r\n", "line break"),
        ("abc\x00def", "control character"),
        ("abcé", "non-ASCII"),
        (" abc", "whitespace"),
        ("", "empty"),
    ],
)
def test_header_problem_names_why_a_token_cannot_be_sent(token: str, problem: str | None) -> None:
    """Tokens an HTTP header cannot carry are named with the reason, never quoted."""
    found = header_problem(token)
    assert (problem is None) == (found is None)
    if problem is not None and found is not None:
        assert problem in found
        assert token.strip() == "" or token.strip() not in found
