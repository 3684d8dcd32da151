"""A customer list as CSV, read piece by piece as it arrives: header, then rows of ids.

The header names the columns (`email`, `phone`, `idfa`, `aaid`, or the id types themselves);
other columns (`external_id`, names, ...) are not TikTok audience ids: they are skipped and
listed, so a misspelt header shows in the answer. One record per line; quoted cells work.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field

from tiktok_ads.domain.audiences import IdType, RowProblem
from tiktok_ads.errors import FieldError, ValidationFailed

COLUMN_TYPES: dict[str, IdType] = {
    "email": IdType.EMAIL_SHA256,
    "email_sha256": IdType.EMAIL_SHA256,
    "phone": IdType.PHONE_SHA256,
    "phone_number": IdType.PHONE_SHA256,
    "phone_sha256": IdType.PHONE_SHA256,
    "idfa": IdType.IDFA_SHA256,
    "idfa_sha256": IdType.IDFA_SHA256,
    "aaid": IdType.AAID_SHA256,
    "gaid": IdType.AAID_SHA256,
    "aaid_sha256": IdType.AAID_SHA256,
    "gaid_sha256": IdType.AAID_SHA256,
}
#: A line longer than this is not a customer record; refusing it bounds the memory we use.
MAX_LINE_CHARS = 64 * 1024

Row = tuple[int, list[str]]  # (line number, cells aligned with the schema)


@dataclass(slots=True)
class CsvColumns:
    schema: tuple[IdType, ...]
    names: tuple[str, ...]  # the header's name of each schema column
    positions: tuple[int, ...]  # where each schema column is in a line
    ignored: tuple[str, ...]
    width: int


def read_header(cells: list[str]) -> CsvColumns:
    names = [cell.strip() for cell in cells]
    schema: list[IdType] = []
    chosen: list[str] = []
    positions: list[int] = []
    ignored: list[str] = []
    for position, name in enumerate(names):
        id_type = COLUMN_TYPES.get(name.lower())
        if id_type is None:
            ignored.append(name)
        elif id_type in schema:
            raise ValidationFailed(
                [FieldError("header", f"column {name!r} repeats {id_type.name}; keep one")]
            )
        else:
            schema.append(id_type)
            chosen.append(name)
            positions.append(position)
    if not schema:
        known = ", ".join(sorted({"email", "phone", "idfa", "aaid"}))
        raise ValidationFailed(
            [FieldError("header", f"no id column: the first line must name some of {known}")]
        )
    return CsvColumns(tuple(schema), tuple(chosen), tuple(positions), tuple(ignored), len(names))


@dataclass(slots=True)
class CsvRows:
    """Feed bytes as they come; get back complete rows. Call `finish()` at the end."""

    columns: CsvColumns | None = None
    problems: list[RowProblem] = field(default_factory=list)
    malformed_rows: int = 0
    max_problems: int = 100
    _line: int = 0
    _carry: str = ""
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8-sig")()
    )

    def feed(self, chunk: bytes) -> list[Row]:
        try:
            text = self._carry + self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                [FieldError("file", f"not UTF-8 text (after line {self._line})")]
            ) from exc
        lines = text.split("\n")
        self._carry = lines.pop()
        if len(self._carry) > MAX_LINE_CHARS:
            raise ValidationFailed(
                [FieldError("file", f"line {self._line + 1} is longer than {MAX_LINE_CHARS}")]
            )
        return self._rows(lines)

    def finish(self) -> list[Row]:
        rest = self._carry + self._decoder.decode(b"", final=True)
        self._carry = ""
        rows = self._rows([rest]) if rest else []
        if self.columns is None:
            raise ValidationFailed([FieldError("file", "empty: expected a header line")])
        return rows

    def _rows(self, lines: list[str]) -> list[Row]:
        rows: list[Row] = []
        for cells in csv.reader(lines):
            self._line += 1
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line
            if self.columns is None:
                self.columns = read_header(cells)
                continue
            columns = self.columns
            if len(cells) != columns.width:
                self.malformed_rows += 1
                if len(self.problems) < self.max_problems:
                    message = f"has {len(cells)} columns; the header has {columns.width}"
                    self.problems.append(RowProblem(self._line, -1, message))
                continue
            rows.append((self._line, [cells[p].strip() for p in columns.positions]))
        return rows
