"""Which modules setup.py compiles with mypyc, and whether their builds are current."""

from __future__ import annotations

import re
from pathlib import Path


def compiled_sources(repo: Path) -> list[Path]:
    """The sources setup.py's COMPILED list names."""
    listing = re.search(r"COMPILED = \[(.*?)\]", (repo / "setup.py").read_text(), re.S)
    assert listing is not None, "setup.py has no COMPILED list"
    return [repo / name for name in re.findall(r'"([^"]+\.py)"', listing.group(1))]


def built_module(source: Path) -> Path | None:
    """The extension module built in place for `source`, if any."""
    found = sorted(source.parent.glob(f"{source.stem}.*.so"))
    return found[0] if found else None


def stale_builds(repo: Path) -> list[str]:
    """Sources edited after their compiled module was built (what Python would not run)."""
    stale = []
    for source in compiled_sources(repo):
        built = built_module(source)
        if built is not None and built.stat().st_mtime < source.stat().st_mtime:
            stale.append(str(source.relative_to(repo)))
    return stale
