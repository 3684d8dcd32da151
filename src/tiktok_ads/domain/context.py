"""An inbound event's `context`: page URL, referrer, IP address and user agent, each checked.

A value TikTok would refuse later (a page URL of "(", an IP of "999.1.1.1") is reported as a
FieldError here, so the caller can drop it with a warning or refuse the event.
"""

from __future__ import annotations

import re
from functools import lru_cache
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from tiktok_ads.domain.fields import fail, text
from tiktok_ads.errors import FieldError

MAX_URL_CHARS = 2048
_WEB_SCHEMES = ("http", "https")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


# The context details that passed their checks, a failed one None: page URL, referrer, IP
# address, user agent. A plain tuple: a frozen dataclass costs ~1.5 µs per event to build.
EventContext = tuple[str | None, str | None, str | None, str | None]
_NO_CONTEXT: EventContext = (None, None, None, None)


def read_context(context: dict[str, Any], errors: list[FieldError]) -> EventContext:
    """(page_url, referrer, ip, user_agent), each None when absent or failing its check."""
    if not context:
        return _NO_CONTEXT
    # Each reader takes a plain string that passes at once; anything else goes through the
    # general checks, which record the problem: the same verdict either way.
    page_url = _web_url(context, "page_url", errors) if "page_url" in context else None
    referrer = _web_url(context, "referrer", errors) if "referrer" in context else None
    ip = _ip(context, errors) if "ip" in context else None
    user_agent = context.get("user_agent")
    if type(user_agent) is not str or not (user_agent := user_agent.strip()):
        user_agent = text(context, "user_agent", "context.user_agent", errors)
    return page_url, referrer, ip, user_agent


def _is_web_url(value: str) -> bool:
    """An absolute http(s) URL with a host, at most 2,048 characters, no whitespace."""
    # isprintable() refuses control characters and every whitespace but the plain space.
    if len(value) > MAX_URL_CHARS or " " in value or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)  # memoised by the standard library
    except ValueError:
        return False
    if parts.scheme not in _WEB_SCHEMES:
        return False
    if "@" in parts.netloc:  # a user name (or password) in it: checked, never remembered
        return _is_web_host(parts.netloc)
    return _is_remembered_web_host(parts.netloc)


def _is_web_host(netloc: str) -> bool:
    """A URL's authority with a host name and, if any, a numeric port."""
    try:
        parts = urlsplit("//" + netloc)
        if not parts.hostname:
            return False
        if ":" in netloc:
            parts.port  # noqa: B018 -- reading it raises ValueError for a port that is no number
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1024)
def _is_remembered_web_host(netloc: str) -> bool:
    """`_is_web_host`, remembered: a shop's pages share a few hosts, and reading `.hostname`
    and `.port` parses again (~2 µs). Keyed on the host alone, not the URL: paths and query
    strings can carry personal data (emails, order ids), which must not outlive the event."""
    return _is_web_host(netloc)


def _web_url(context: dict[str, Any], key: str, errors: list[FieldError]) -> str | None:
    value = context.get(key)
    if type(value) is str and (value := value.strip()) and _is_web_url(value):
        return value
    field = "context." + key
    value = text(context, key, field, errors)
    if value is None or _is_web_url(value):
        return value
    fail(errors, field, f"not an absolute http(s) URL of at most {MAX_URL_CHARS} characters")
    return None


def _ip(context: dict[str, Any], errors: list[FieldError]) -> str | None:
    value = context.get("ip")
    if type(value) is str and _CANONICAL_IPV4.fullmatch(value := value.strip()):
        return value  # the common case, ~10x cheaper than ipaddress and the same verdict
    value = text(context, "ip", "context.ip", errors)
    if value is None:
        return None
    try:
        return _ip_text(value)
    except ValueError:
        fail(errors, "context.ip", "not an IPv4 or IPv6 address")
        return None


@lru_cache(maxsize=4096)
def _ip_text(text: str) -> str:
    """The canonical form (compressed IPv6; a dual-stack socket's ::ffff:a.b.c.d as a.b.c.d,
    the address the browser really had); ValueError when not an address."""
    address = ip_address(text)
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)
