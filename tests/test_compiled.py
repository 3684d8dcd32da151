"""The ingest hot path runs compiled (setup.py, mypyc), and the build is the source's."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import pytest
from tests.compiled import compiled_sources, stale_builds

REPO = Path(__file__).resolve().parent.parent


def _module_name(source: Path) -> str:
    return ".".join(source.relative_to(REPO / "src").with_suffix("").parts)


@pytest.mark.skipif(
    bool(os.environ.get("TIKTOK_ADS_PURE_PYTHON")), reason="installed as pure Python on purpose"
)
def test_every_listed_module_is_imported_from_its_compiled_build() -> None:
    sources = compiled_sources(REPO)
    assert sources, "setup.py compiles nothing"
    for source in sources:
        module = importlib.import_module(_module_name(source))
        assert str(module.__file__).endswith(".so"), f"{module.__name__} runs as pure Python"


@pytest.mark.skipif(
    bool(os.environ.get("TIKTOK_ADS_PURE_PYTHON")), reason="installed as pure Python on purpose"
)
def test_the_per_event_records_have_native_constructors() -> None:
    """NewEvent and PreparedEvent write their `__init__` out: the one `dataclass` generates
    would be interpreted even in a compiled module (~0.9 µs a call, two calls an event)."""
    from tiktok_ads.domain.events import NewEvent
    from tiktok_ads.domain.inbound import PreparedEvent

    for record in (NewEvent, PreparedEvent):
        assert not hasattr(record.__init__, "__code__"), f"{record.__name__}.__init__ is bytecode"


def test_a_source_edited_after_its_build_is_reported_stale(tmp_path: Path) -> None:
    source = tmp_path / "src" / "pkg" / "hot.py"
    source.parent.mkdir(parents=True)
    (tmp_path / "setup.py").write_text('COMPILED = [\n    "src/pkg/hot.py",\n]\n')
    source.write_text("x = 1\n")
    built = source.parent / "hot.cpython-311-x86_64-linux-gnu.so"
    built.write_bytes(b"")
    past = time.time() - 60
    os.utime(source, (past, past))
    assert [] == stale_builds(tmp_path)
    os.utime(source, None)  # edited now, after the build
    assert ["src/pkg/hot.py"] == stale_builds(tmp_path)


def test_a_build_of_a_module_no_longer_compiled_is_reported(tmp_path: Path) -> None:
    """Left by another checkout, or by a build before the module left the list: Python would
    still import it instead of the source."""
    (tmp_path / "setup.py").write_text("COMPILED = [\n]\n")
    source = tmp_path / "src" / "pkg" / "cold.py"
    source.parent.mkdir(parents=True)
    source.write_text("x = 1\n")
    past = time.time() - 60
    os.utime(source, (past, past))
    (source.parent / "cold.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    (tmp_path / "src" / "abc__mypyc.cpython-311-x86_64-linux-gnu.so").write_bytes(b"")
    assert ["src/pkg/cold.py"] == stale_builds(tmp_path)
