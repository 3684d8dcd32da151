"""A faithful in-memory TikTok Business API v1.3 (the parts tiktok_ads uses), for tests and sandbox.

Serves TikTok's paths under `/open_api/v1.3/` (trailing slash optional), checks the
`Access-Token` header, and answers with TikTok's envelope `{"code", "message", "request_id",
"data"}` — API-level errors as HTTP 200 with a non-zero code, as TikTok does:

    event/track/                     Events API 2.0 (validation, 48 h dedup, rate limits)
    pixel/track/, pixel/batch/       Events API 1.0;  pixel/list/ lists usable pixels
    dmp/custom_audience/...          file/upload, create, update, list, get, delete,
                                     lookalike/create, lookalike/update, rule/create, apply
    segment/audience/, segment/mapping/   partner audiences

In Python, `EmulatorState` reads what TikTok holds: `delivered_events()`, `event_count()`,
`audience_ids(name=...)` and `audience_members(audience_id)` (the users' hashes).

Inspection and control (no auth):

    GET    /_emulator/events?pixel_code=&event=&event_id=&test=true|false&limit=
    GET    /_emulator/requests?limit=          recorded calls, token masked
    GET    /_emulator/audiences                audiences with sizes, uploaded files
    GET    /_emulator/faults                   what is scripted
    POST   /_emulator/faults                   {"kind": "http_503", "count": 2,
                                                "path": "event/track/"}, or
                                               {"reject_events": {"event_id": "bad-42"},
                                                "name_index": true, "batch_prefix": false}
    DELETE /_emulator/faults
    POST   /_emulator/reset
    GET    /_emulator/stats                    counters (work with store_events=False too)

A rejection names the event `Invalid value for data.<i>.<field>: <problem>`, or with
`batch_prefix` as seen in the wild, `Batch.<i>.<field>: <problem>`.

Fault kinds: http_503, http_500 (nginx HTML pages), code_40100, code_40105, code_40700,
code_50000 (HTTP 200 envelopes), code_20001 (the request is handled, the events count, and
the answer says 20001 "Partial success."), latency (opt `ms`), hang (opt `seconds`, default
30; ends early when the client gives up, then answers 504), drop (the socket is closed with
no answer — under `run_in_thread` or the `emulator` command; in-process via
httpx.ASGITransport a `DroppedConnection`, an `httpx.RemoteProtocolError`, is raised instead).

Environment (read by `EmulatorConfig.from_env()`): TIKTOK_EMULATOR_TOKENS,
TIKTOK_EMULATOR_ACCEPT_ANY_TOKEN, TIKTOK_EMULATOR_REVOKED_TOKENS, TIKTOK_EMULATOR_QPS,
TIKTOK_EMULATOR_DAILY_QUOTA, TIKTOK_EMULATOR_AUDIENCE_MIN_MEMBERS,
TIKTOK_EMULATOR_LOOKALIKE_MIN_SOURCE, TIKTOK_EMULATOR_MAX_AUDIENCES,
TIKTOK_EMULATOR_STORE_EVENTS, TIKTOK_EMULATOR_MAX_STORED_EVENTS, TIKTOK_EMULATOR_MAX_DEDUP_KEYS,
TIKTOK_EMULATOR_LATENCY_MS, TIKTOK_EMULATOR_PIXEL_CODES, TIKTOK_EMULATOR_MAX_UPLOAD_BYTES (see
`config.ENV_VARS`); the `emulator` command also reads TIKTOK_EMULATOR_HOST,
TIKTOK_EMULATOR_PORT and TIKTOK_EMULATOR_LOG_LEVEL.

Memory stays bounded for a sandbox that runs for days: the request log keeps the last 10,000
calls, stored events the newest `max_stored_events` (100,000), and dedup keys expire after
48 h and are capped at `max_dedup_keys` (1,000,000), oldest first.
"""

from tiktok_ads.emulator.app import create_app
from tiktok_ads.emulator.config import ENV_VARS, EmulatorConfig, TokenGrant
from tiktok_ads.emulator.faults import FAULT_KINDS, FaultPlan
from tiktok_ads.emulator.gateway import DroppedConnection
from tiktok_ads.emulator.server import RunningEmulator, run_in_thread
from tiktok_ads.emulator.state import EmulatorState, RecordedRequest, StoredEvent

__all__ = [
    "ENV_VARS",
    "FAULT_KINDS",
    "DroppedConnection",
    "EmulatorConfig",
    "EmulatorState",
    "FaultPlan",
    "RecordedRequest",
    "RunningEmulator",
    "StoredEvent",
    "TokenGrant",
    "create_app",
    "run_in_thread",
]
