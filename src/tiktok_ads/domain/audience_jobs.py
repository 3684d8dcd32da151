"""Audiences and their jobs as the store hands them back, TikTok's answers to audience calls,
and what a failed call means for a job: the event rules (`domain.delivery.classify`,
`RetryPolicy`) applied to a job instead of a batch. Pure; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tiktok_ads.domain.delivery import TrackAnswer, Verdict, classify
from tiktok_ads.domain.retry import GiveUp, RetryPolicy

#: A job still failing this long after it was accepted fails for good (kept, with the reason).
JOB_DEADLINE_SECONDS = 48 * 3600.0
#: A token TikTok refuses (40001, 40105, ...) is tried again at most this often, like a held
#: connection's events: the operator has to fix it first.
HOLD_RETRY_SECONDS = 300.0
#: TikTok's "custom audience does not exist": for a delete, the work is already done.
CODE_NOT_EXIST = 40007


class AudienceStatus(StrEnum):
    PENDING = "pending"  # not at TikTok yet
    SYNCING = "syncing"  # a job is queued or running
    READY = "ready"  # the last job is done
    FAILED = "failed"  # the last job failed (see last_code / last_message)
    DELETING = "deleting"  # a delete job is queued: nothing else is taken


class JobStatus(StrEnum):
    STAGING = "staging"  # members still arriving: not claimable, not yet acknowledged
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobAction(StrEnum):
    APPEND = "APPEND"
    REMOVE = "REMOVE"
    REPLACE = "REPLACE"
    DELETE = "DELETE"
    LOOKALIKE = "LOOKALIKE"  # create this (lookalike) audience at TikTok
    APPLY = "APPLY"  # apply/ or disconnect the audience on ad groups


SYNC_ACTIONS = frozenset({JobAction.APPEND, JobAction.REMOVE, JobAction.REPLACE})
OPEN_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


@dataclass(frozen=True, slots=True)
class AudienceRow:
    id: int
    advertiser_id: str
    name: str
    audience_type: str
    source: str  # "list" (uploads and syncs), "rule" (segments), "lookalike"
    rule: str | None  # JSON of a rule segment
    backend: str  # "file" (customer-file API) or "segment" (partner segment API)
    lookalike_of: int | None
    lookalike_spec: str | None  # JSON
    tiktok_audience_id: str | None
    status: str
    member_count: int
    cover_num: int | None
    last_sync_at: float | None
    last_code: int | None
    last_message: str | None
    last_request_id: str | None
    created_at: float
    updated_at: float
    refresh_due_at: float | None = None  # rule segments: the next periodic refresh
    refreshed_at: float | None = None  # rule segments: the last refresh
    segment_counts: str | None = None  # JSON of domain.segments.SegmentCounts
    erasures: int = 0


@dataclass(frozen=True, slots=True)
class AudienceJob:
    id: int
    audience_id: int
    action: str
    status: str
    params: str | None  # JSON (apply's ad groups and modes)
    attempts: int
    accepted_at: float | None
    next_attempt_at: float
    lease_until: float | None
    deadline_at: float
    row_count: int
    staged: int
    invalid: int
    added: int
    removed: int
    report: str | None  # JSON: the first invalid rows
    last_code: int | None
    last_message: str | None
    last_request_id: str | None
    created_at: float
    updated_at: float
    finished_at: float | None
    sealed: bool

    @property
    def fence(self) -> tuple[int, int]:
        """(job id, attempts): a worker's writes count only while the job is still its claim."""
        return self.id, self.attempts


@dataclass(frozen=True, slots=True)
class AudienceAnswer:
    """TikTok's answer to an audience call (or the lack of one) and its `data`."""

    answer: TrackAnswer
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return classify(self.answer) is Verdict.DELIVERED


@dataclass(frozen=True, slots=True)
class JobRetry:
    at: float
    count_attempt: bool = True


@dataclass(frozen=True, slots=True)
class JobFailure:
    message: str


def after_failed_call(
    answer: TrackAnswer,
    *,
    attempts: int,
    deadline_at: float,
    now: float,
    rand: float,
    policy: RetryPolicy,
) -> JobRetry | JobFailure:
    """TikTok's body code decides, as for events: retry with backoff, hold, or fail."""
    verdict = classify(answer)
    said = f"TikTok: {answer.code} {answer.message}" if answer.code is not None else answer.message
    if verdict is Verdict.RETRY:
        decision = policy.decide(attempts, deadline_at, now, rand)
        if isinstance(decision, GiveUp):
            return JobFailure(f"gave up: still failing 48 h after the job was accepted ({said})")
        return JobRetry(decision.at)
    if verdict is Verdict.HOLD:
        if now + HOLD_RETRY_SECONDS >= deadline_at:
            return JobFailure(f"gave up: TikTok refused the token for 48 h ({said})")
        # The attempt is not counted: the token is at fault, not the job.
        return JobRetry(now + HOLD_RETRY_SECONDS, count_attempt=False)
    return JobFailure(said)
