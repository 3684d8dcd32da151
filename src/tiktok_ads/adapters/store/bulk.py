"""Multi-row statements as plain SQL, built once per shape and run on the driver.

Compiling a 500-row INSERT through SQLAlchemy on every group commit cost more than SQLite's
own work (bench/ profiles); these strings are cached per (dialect, shape) instead.

And the shapes are few. SQLite compiles every statement it has not seen (a 500-row INSERT of
events: ~5 ms, against ~1.5 ms to run it compiled) and each connection keeps its last 128
compiled, the big ones ~0.75 MB each. A group commit of any size used to end with a statement
of its own size: compiled anew nearly every time, and a long-running server's memory filled
with them. Rows now go in statements of STATEMENT_ROWS sizes (up to 31 rows exactly) and
`IN (…)` lists are padded to a few sizes: at most ~36 shapes of each statement, the big ones
(the costly ones) the same at every commit.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import TextClause

# The sizes of a statement's rows beyond 31 (most first); 31 rows or fewer go as they are.
STATEMENT_ROWS = (500, 256, 128, 64, 32)


def row_counts(rows: int) -> list[int]:
    """How many rows each statement takes, in order, for `rows` rows: the largest of
    STATEMENT_ROWS as often as it fits, then the next…, then what is left (< 32) at once."""
    counts: list[int] = []
    for size in STATEMENT_ROWS:
        while rows >= size:
            counts.append(size)
            rows -= size
    if rows:
        counts.append(rows)
    return counts


def padded(values: Sequence[Any]) -> list[Any]:
    """An `IN (…)` list of more than 32 values, padded to 64, 128, 256, 512 or 1,024 values by
    repeating its last value (the same set: a lookup or an update matches the same rows); a
    shorter list as it is. For lists of at most IN_LIST_MOST values."""
    count = len(values)
    out = list(values)
    if count > 32:
        size = min((s for s in _IN_LIST_SIZES if s >= count), default=count)
        out.extend([out[-1]] * (size - count))
    return out


# SQLite binds at most 32,766 values per statement; lists are cut at 900 (claims.chunks).
IN_LIST_MOST = 1024
_IN_LIST_SIZES = (64, 128, 256, 512, IN_LIST_MOST)


@functools.lru_cache(maxsize=256)
def values_sql(placeholder: str, head: str, columns: int, rows: int, tail: str) -> str:
    row = "(" + ", ".join([placeholder] * columns) + ")"
    return f"{head} VALUES {', '.join([row] * rows)} {tail}"


@functools.lru_cache(maxsize=256)
def in_list_sql(placeholder: str, head: str, count: int, tail: str = "") -> str:
    return f"{head} ({', '.join([placeholder] * count)}) {tail}"


@functools.lru_cache(maxsize=64)
def pinned(sql: str, dialect: str) -> TextClause:
    """`sql` keeping its `INDEXED BY` hints on SQLite, without them elsewhere.

    SQLite plans without table statistics and, left to itself, searches old settled events
    through the (status, id) index: a walk over every delivered row. PostgreSQL's planner has
    statistics (and no such syntax).
    """
    if dialect != "sqlite":
        sql = re.sub(r"\s+INDEXED BY \w+", "", sql)
    return text(sql)


def placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def run_values(
    conn: Connection,
    head: str,
    rows: Sequence[Sequence[Any]],
    tail: str = "",
    tail_params: Sequence[Any] = (),
) -> list[Any]:
    """INSERT … VALUES (…), (…) … [tail], in statements of row_counts' sizes; returns the rows
    of a RETURNING tail, if any."""
    if not rows:
        return []
    return run_flat(conn, head, [v for row in rows for v in row], len(rows[0]), tail, tail_params)


def run_flat(
    conn: Connection,
    head: str,
    values: list[Any],
    columns: int,
    tail: str = "",
    tail_params: Sequence[Any] = (),
) -> list[Any]:
    """run_values with the rows' values given flat, row after row (as compiled code builds
    them, without a tuple a row). `tail_params` follow each statement's values; the statements
    run in row order, so ids a RETURNING tail gives back ascend with the rows."""
    if len(values) % columns:
        raise ValueError(f"{len(values)} values do not make rows of {columns}")
    counts = row_counts(len(values) // columns)
    ph = placeholder(conn)
    if len(counts) == 1:
        values.extend(tail_params)
        return raw_query(conn, values_sql(ph, head, columns, counts[0], tail), values)
    returned: list[Any] = []
    start = 0
    for count in counts:
        end = start + count * columns
        part = values[start:end]
        part.extend(tail_params)
        returned.extend(raw_query(conn, values_sql(ph, head, columns, count, tail), part))
        start = end
    return returned


def raw_query(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    """Run on the DBAPI cursor of the transaction's connection: plain tuples back, no Result
    objects (fetching 1,000 RETURNING rows through them cost more than the insert itself)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description is not None else []
    finally:
        cursor.close()
