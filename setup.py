"""Build hook: the ingest hot path compiled to C with mypyc; metadata is in pyproject.toml.

`prepare_event` (check, normalise and hash each inbound event) was most of the service's CPU
per event; compiled, it takes less than half the time (bench/bench_prepare_event.py). The
modules stay plain, typed Python: mypyc compiles them as they are. Without a working C
compiler, when mypyc refuses them, or with TIKTOK_ADS_PURE_PYTHON=1, the package installs as
pure Python (`make test` runs the domain tests that way too) and says so on stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError, PlatformError

# The modules prepare_event runs, and the per-event steps of storing and sending (the event
# rows, click-id attribution, TikTok's item bytes); each imports only these, the standard
# library, errors.py, orjson and phonenumbers.
COMPILED = [
    "src/tiktok_ads/adapters/event_rows.py",
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
HERE = Path(__file__).resolve().parent


def _remove_built_in_place() -> None:
    """An editable install builds next to the sources, and Python imports a built module before
    its source: going pure, leave none behind."""
    for source in COMPILED:
        path = HERE / source
        for built in path.parent.glob(f"{path.stem}.*.so"):
            built.unlink()
    for shared in (HERE / "src").glob("*__mypyc.*.so"):
        shared.unlink()


def _pure(reason: str) -> list[object]:
    print(f"tiktok-ads-integration: installing pure Python ({reason})", file=sys.stderr)
    _remove_built_in_place()
    return []


class BuildOrFallBack(build_ext):
    """build_ext that installs pure Python when the C compiler fails."""

    def run(self) -> None:
        try:
            super().run()
        except (CCompilerError, CompileError, ExecError, LinkError, PlatformError, OSError) as exc:
            _pure(f"compiling failed: {exc}")
            self.extensions = []


def ext_modules() -> list[object]:
    if os.environ.get("TIKTOK_ADS_PURE_PYTHON"):
        return _pure("TIKTOK_ADS_PURE_PYTHON is set")
    try:
        from mypyc.build import mypycify
    except ImportError:
        return _pure("mypyc is not available")
    # Its own small config: the project's (pydantic plugin, every file) is for type checking.
    try:
        return list(mypycify(["--config-file", "mypyc.ini", *COMPILED], opt_level="3"))
    except (SystemExit, Exception) as exc:  # mypyc refused the code
        return _pure(f"mypyc failed: {exc}")


setup(ext_modules=ext_modules(), cmdclass={"build_ext": BuildOrFallBack})
