"""Access tokens encrypted at rest (Fernet), with the secret they are encrypted under."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import tempfile
from pathlib import Path

import orjson
from cryptography.fernet import Fernet, InvalidToken

from tiktok_ads.errors import ConfigurationError


class TokenCipher:
    def __init__(self, secret: str) -> None:
        # Any operator-chosen secret works: it is stretched into a Fernet key.
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
        self._fernet = Fernet(key)

    def encrypt(self, token: str) -> bytes:
        return self._fernet.encrypt(token.encode())

    def decrypt(self, blob: bytes) -> str:
        try:
            return self._fernet.decrypt(blob).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "a stored access token cannot be decrypted: TIKTOK_ADS_SECRET_KEY changed?"
            ) from exc


def load_or_create_secret(secret: str | None, sqlite_path: Path | None) -> str:
    """The configured secret; beside a SQLite database, a generated 0600 key file."""
    if secret:
        return secret
    if sqlite_path is None:
        raise ConfigurationError(
            "TIKTOK_ADS_SECRET_KEY must be set when the database is not a local SQLite file "
            "(every machine needs the same key to read stored access tokens)"
        )
    key_file = sqlite_path.with_name(sqlite_path.name + ".key")
    if not key_file.exists():
        _create_key_file(key_file)
    secret = key_file.read_text().strip()
    if not secret:
        raise ConfigurationError(
            f"the key file {key_file} is empty (a start interrupted while writing it?): "
            "remove it if no access token is stored yet, or set TIKTOK_ADS_SECRET_KEY"
        )
    return secret


def _create_key_file(key_file: Path) -> None:
    """A new secret, written whole to a private temporary file and then linked into place.

    The link is atomic and refuses to replace a file: among processes starting together the
    first one wins, the others read its key, and nobody ever reads a half-written file.
    """
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=key_file.name + ".", dir=key_file.parent)  # 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, key_file)
    finally:
        os.unlink(temporary)


class SessionCipher:
    """Sealed (encrypted and signed) console sessions, with their age checked on opening.

    Keyed from the same secret as the tokens, under a label of its own: a sealed session can
    never be mistaken for a sealed token, nor the other way round.
    """

    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(b"tiktok-ads console session\0" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, data: dict[str, str], now: float) -> str:
        return self._fernet.encrypt_at_time(orjson.dumps(data), int(now)).decode()

    def open(self, sealed: str, max_age_s: int, now: float) -> dict[str, str] | None:
        """The session's data; None when forged, damaged or older than `max_age_s`."""
        try:
            data = orjson.loads(self._fernet.decrypt_at_time(sealed, max_age_s, int(now)))
        except (InvalidToken, ValueError):
            return None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            return None
        return data
