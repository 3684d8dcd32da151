"""A customer list as CSV, read as it arrives: the header, then blocks of whole lines that a
worker process turns into ids (`hash_block`), so the server itself only splits text.

The header names the columns (`email`, `phone`, `idfa`, `aaid`, or the id types themselves);
other columns (`external_id`, names, ...) are not TikTok audience ids: they are skipped and
listed, so a misspelt header shows in the answer. One record per line; quoted cells work.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass, field

from tiktok_ads.domain.audiences import HashedRows, IdType, RowProblem, hash_rows
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
#: Text per block handed to a worker: about 25,000 rows of email and phone.
BLOCK_CHARS = 1024 * 1024

Row = tuple[int, list[str]]  # (line number, cells aligned with the schema)


@dataclass(frozen=True, slots=True)
class CsvColumns:
    schema: tuple[IdType, ...]
    names: tuple[str, ...]  # the header's name of each schema column
    positions: tuple[int, ...]  # where each schema column is in a line
    ignored: tuple[str, ...]
    width: int


@dataclass(frozen=True, slots=True)
class CsvBlock:
    """Whole lines of the file, the first of them being line `first_line`."""

    text: str
    first_line: int


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
        raise ValidationFailed(
            [FieldError("header", "no id column: the first line must name email, phone, ...")]
        )
    return CsvColumns(tuple(schema), tuple(chosen), tuple(positions), tuple(ignored), len(names))


@dataclass(slots=True)
class CsvBlocks:
    """Feed bytes as they come; get back blocks of whole lines. `columns` is known once the
    header has passed. Call `finish()` at the end."""

    columns: CsvColumns | None = None
    block_chars: int = BLOCK_CHARS
    _line: int = 0  # lines handed out so far
    _pending: list[str] = field(default_factory=list)
    _pending_chars: int = 0
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8-sig")()
    )

    def feed(self, chunk: bytes) -> list[CsvBlock]:
        try:
            text = self._decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                [FieldError("file", f"not UTF-8 text (after line {self._line})")]
            ) from exc
        if "\n" not in text:
            return self._hold(text)
        head, _, rest = text.rpartition("\n")
        blocks = self._take(head + "\n")
        blocks.extend(self._hold(rest))
        return blocks

    def finish(self) -> list[CsvBlock]:
        rest = self._decoder.decode(b"", final=True)
        blocks = self._take(rest) if rest or self._pending else []
        if self.columns is None:
            raise ValidationFailed([FieldError("file", "empty: expected a header line")])
        return blocks

    def _hold(self, text: str) -> list[CsvBlock]:
        self._pending.append(text)
        self._pending_chars += len(text)
        if self._pending_chars > MAX_LINE_CHARS and "\n" not in text:
            raise ValidationFailed(
                [FieldError("file", f"line {self._line + 1} is longer than {MAX_LINE_CHARS}")]
            )
        return []

    def _take(self, text: str) -> list[CsvBlock]:
        """`text` (whole lines) joins what was held; the header is read off the first line."""
        self._pending.append(text)
        whole = "".join(self._pending)
        self._pending, self._pending_chars = [], 0
        if self.columns is None:
            whole = self._read_header(whole)
        blocks: list[CsvBlock] = []
        start = 0
        while start < len(whole):
            end = whole.find("\n", start + self.block_chars)
            end = len(whole) if end < 0 else end + 1
            blocks.append(CsvBlock(whole[start:end], self._line + 1))
            self._line += whole.count("\n", start, end)
            start = end
        return blocks

    def _read_header(self, text: str) -> str:
        while text and self.columns is None:
            line, newline, text = text.partition("\n")
            self._line += 1 if newline else 0
            cells = next(csv.reader([line]), [])
            if cells and any(cell.strip() for cell in cells):
                self.columns = read_header(cells)
        return text


def block_rows(
    block: CsvBlock, columns: CsvColumns, max_problems: int = 100
) -> tuple[list[Row], list[RowProblem], int]:
    """(rows aligned with the schema, problems, lines of the wrong width) of one block."""
    rows: list[Row] = []
    problems: list[RowProblem] = []
    malformed = 0
    positions, width = columns.positions, columns.width
    # split("\n"), not splitlines(): a cell may hold \x0b or \u2028, which are no line ends.
    for offset, cells in enumerate(csv.reader(block.text.split("\n"))):
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank line
        number = block.first_line + offset
        if len(cells) != width:
            malformed += 1
            if len(problems) < max_problems:
                message = f"has {len(cells)} columns; the header has {width}"
                problems.append(RowProblem(number, -1, message))
            continue
        rows.append((number, [cells[p].strip() for p in positions]))
    return rows, problems, malformed


def hash_block(
    block: CsvBlock, columns: CsvColumns, phone_region: str | None, max_problems: int = 100
) -> HashedRows:
    """A block's lines as ids (run in a worker process: plain arguments, plain result)."""
    rows, problems, malformed = block_rows(block, columns, max_problems)
    hashed = hash_rows(rows, columns.schema, phone_region, max_problems)
    hashed.rows += malformed
    hashed.invalid_values += malformed
    hashed.problems = sorted(problems + hashed.problems, key=lambda p: p.row)[:max_problems]
    return hashed
