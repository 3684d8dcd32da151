"""Build hook: the ingest hot path compiled to C with mypyc; metadata is in pyproject.toml.

`prepare_event` (check, normalise and hash each inbound event) is most of the service's CPU per
event; compiled, it takes about half the time (bench/bench_prepare_event.py). The modules stay
plain, typed Python: mypyc compiles them as they are, and without a C compiler, or with
TIKTOK_ADS_PURE_PYTHON=1, the package installs as pure Python and behaves the same.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup

# The modules prepare_event runs, and the per-event steps of storing and sending (the event
# rows, click-id attribution, TikTok's item bytes); each imports only these, the standard
# library, errors.py, orjson and phonenumbers.
COMPILED = [
    "src/tiktok_ads/domain/attribution.py",
    "src/tiktok_ads/domain/consent.py",
    "src/tiktok_ads/domain/context.py",
    "src/tiktok_ads/domain/events.py",
    "src/tiktok_ads/domain/fields.py",
    "src/tiktok_ads/domain/inbound.py",
    "src/tiktok_ads/domain/normalize.py",
    "src/tiktok_ads/domain/properties.py",
    "src/tiktok_ads/domain/tiktok_item.py",
    "src/tiktok_ads/domain/user_data.py",
]


def ext_modules() -> list[object]:
    if os.environ.get("TIKTOK_ADS_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:  # mypy missing from the build environment: pure Python
        print("mypyc not available: installing pure Python", file=sys.stderr)
        return []
    # Its own small config: the project's (pydantic plugin, every file) is for type checking.
    try:
        return list(mypycify(["--config-file", "mypyc.ini", *COMPILED], opt_level="3"))
    except (SystemExit, Exception) as exc:  # mypyc refused: pure Python still works
        print(f"mypyc failed ({exc}): installing pure Python", file=sys.stderr)
        return []


setup(ext_modules=ext_modules())
