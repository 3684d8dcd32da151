"""Reading customer files as TikTok does: hashes only, one user per line, errors 40062, 40905-40910.

TikTok documents the 4090x range as "file errors" without a per-code table; the emulator's
mapping is: 40905 empty, 40906 not .csv/.txt, 40907 not UTF-8 text, 40908 over the size limit,
40909 bad MULTIPLE_TYPES header, 40910 no ids at all.
"""

from __future__ import annotations

import hashlib

from tiktok_ads.emulator.audiences import CALCULATE_TYPES, hash_name, is_hashed
from tiktok_ads.emulator.envelope import ApiError

FILE_EXTENSIONS = (".csv", ".txt")


def check_signature(content: bytes, signature: str) -> None:
    """`file_signature` is the hex MD5 of the bytes; anything else is 40900."""
    if hashlib.md5(content).hexdigest() != signature.strip().lower():
        raise ApiError(
            40900, "File signature does not match: file_signature must be the file's MD5."
        )


def read_members(
    content: bytes, filename: str, calculate_type: str, signature: str, max_bytes: int
) -> frozenset[str]:
    """The distinct users of a signed customer file, as lower-case hashes."""
    if not filename.lower().endswith(FILE_EXTENSIONS):
        raise ApiError(40906, "Unsupported file type: upload a .csv or .txt file.")
    if len(content) > max_bytes:
        raise ApiError(40908, f"The file exceeds the size limit of {_size(max_bytes)}.")
    if not content.strip():
        raise ApiError(40905, "The file is empty.")
    check_signature(content, signature)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(40907, "The file cannot be read: it must be UTF-8 text.") from exc
    if "\x00" in text:
        raise ApiError(40907, "The file cannot be read: it must be UTF-8 text.")
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)]
    lines = [(number, line) for number, line in lines if line]
    if calculate_type == "MULTIPLE_TYPES":
        members = _multiple_types(lines)
    else:
        members = _single_type(lines, calculate_type)
    if not members:
        raise ApiError(40910, "The file contains no IDs.")
    return frozenset(members)


def _single_type(lines: list[tuple[int, str]], calculate_type: str) -> set[str]:
    # A header naming the type is tolerated; anything else on line 1 is data.
    if lines and lines[0][1].lower() == calculate_type.lower():
        lines = lines[1:]
    members = set()
    for number, line in lines:
        if not is_hashed(line, calculate_type):
            raise _unhashed(number, calculate_type)
        members.add(line.lower())
    return members


def _multiple_types(lines: list[tuple[int, str]]) -> set[str]:
    """A header of id types, then one user per row; the first id of a row keys the user."""
    if not lines:
        return set()
    header = [cell.strip().upper() for cell in lines[0][1].split(",")]
    unknown = [cell for cell in header if cell not in CALCULATE_TYPES or cell == "MULTIPLE_TYPES"]
    if unknown:
        raise ApiError(40909, f"Invalid file header: unknown ID type {unknown[0]!r}.")
    members = set()
    for number, line in lines[1:]:
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) != len(header):
            raise ApiError(
                40909, f"Line {number} has {len(cells)} columns; the header has {len(header)}."
            )
        key = None
        for id_type, cell in zip(header, cells, strict=True):
            if not cell:
                continue
            if not is_hashed(cell, id_type):
                raise _unhashed(number, id_type)
            key = key or cell.lower()
        if key is not None:
            members.add(key)
    return members


def _unhashed(number: int, id_type: str) -> ApiError:
    return ApiError(
        40062, f"PII is not hashed: line {number} is not a valid {hash_name(id_type)} hash."
    )


def _size(limit: int) -> str:
    megabytes, rest = divmod(limit, 1024 * 1024)
    return f"{megabytes} MB" if megabytes and not rest else f"{limit} bytes"
