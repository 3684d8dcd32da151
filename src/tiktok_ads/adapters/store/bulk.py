"""Multi-row statements as plain SQL, built once per shape and run on the driver.

Compiling a 500-row INSERT through SQLAlchemy on every group commit cost more than SQLite's
own work (bench/ profiles); these strings are cached per (dialect, shape) instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import TextClause


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
    """INSERT … VALUES (…), (…) … [tail]; returns the rows of a RETURNING tail, if any."""
    if not rows:
        return []
    sql = values_sql(placeholder(conn), head, len(rows[0]), len(rows), tail)
    params = [value for row in rows for value in row]
    params.extend(tail_params)
    return raw_query(conn, sql, params)


def run_flat(
    conn: Connection,
    head: str,
    values: list[Any],
    columns: int,
    tail: str = "",
    tail_params: Sequence[Any] = (),
) -> list[Any]:
    """run_values with the rows' values given flat, row after row (as compiled code builds
    them, without a tuple a row); `values` is extended with `tail_params`."""
    if len(values) % columns:
        raise ValueError(f"{len(values)} values do not make rows of {columns}")
    rows = len(values) // columns
    if not rows:
        return []
    values.extend(tail_params)
    return raw_query(conn, values_sql(placeholder(conn), head, columns, rows, tail), values)


def raw_query(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    """Run on the DBAPI cursor of the transaction's connection: plain tuples back, no Result
    objects (fetching 1,000 RETURNING rows through them cost more than the insert itself)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description is not None else []
    finally:
        cursor.close()
