"""Query and path parameters shared by the routes, bounded as the database columns are.

A value the database cannot hold (a cursor past 2^63-1, a string longer than its column, a NUL
byte, which PostgreSQL refuses in text) is the caller's mistake: FastAPI answers 422 naming the
parameter, and /openapi.json declares the bounds.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

NO_NUL = r"^[^\x00]*$"
MAX_ROW_ID = 2**63 - 1  # BIGINT / SQLite INTEGER

PixelIdQuery = Annotated[
    str | None, Query(max_length=64, pattern=NO_NUL, description="Only this pixel")
]
EventTypeQuery = Annotated[
    str | None, Query(max_length=100, pattern=NO_NUL, description="Only this event name")
]
EventIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=NO_NUL)]
BeforeIdQuery = Annotated[
    int | None,
    Query(ge=1, le=MAX_ROW_ID, description="Page back: the `cursor` of the previous page"),
]
