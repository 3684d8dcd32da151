"""Which modules setup.py compiles with mypyc, and whether what Python imports is current."""

from __future__ import annotations

import re
from pathlib import Path


def compiled_sources(repo: Path) -> list[Path]:
    """The sources setup.py's COMPILED list names."""
    listing = re.search(r"COMPILED = \[(.*?)\]", (repo / "setup.py").read_text(), re.S)
    assert listing is not None, "setup.py has no COMPILED list"
    return [repo / name for name in re.findall(r'"([^"]+\.py)"', listing.group(1))]


def stale_builds(repo: Path) -> list[str]:
    """Built modules Python would import instead of the source beside them, when they are not
    that source's: older than it (edited since), or not on the list any more (left by another
    checkout or build)."""
    listed = set(compiled_sources(repo))
    stale = []
    for built in sorted((repo / "src").rglob("*.so")):
        source = built.parent / (built.name.split(".", 1)[0] + ".py")
        if not source.exists():
            continue  # mypyc's shared runtime: imported only by the modules built with it
        if source not in listed or built.stat().st_mtime < source.stat().st_mtime:
            stale.append(str(source.relative_to(repo)))
    return stale
