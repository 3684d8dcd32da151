"""Whether an access token can travel in TikTok's `Access-Token` header at all."""

from __future__ import annotations


def header_problem(token: str) -> str | None:
    """Why `token` cannot be sent as an HTTP header value, or None when it can.

    The reason never quotes the token: it ends up in logs and on /connection.
    """
    if not token:
        return "the access token is empty"
    if any(ch in "\r\n" for ch in token):
        return "the access token contains a line break, which an HTTP header cannot carry"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in token):
        return "the access token contains a control character, which an HTTP header cannot carry"
    if not token.isascii():
        return "the access token contains non-ASCII characters, which an HTTP header cannot carry"
    if token != token.strip():
        return "the access token starts or ends with whitespace"
    return None
