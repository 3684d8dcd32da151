"""Run tests against the sources as plain Python, without the modules mypyc built in place.

`make test` runs the domain tests this way as well: the compiled build is what `serve` runs
and what the rest of the suite tests, and an install without a C compiler runs the same
sources interpreted; both must pass.

Run: .venv/bin/python -m tests.pure tests/domain [pytest options]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tiktok-ads-pure-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(REPO / "src", src, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), str(REPO)])}
        check = "import tiktok_ads.domain.inbound as m; print(m.__file__)"
        where = subprocess.run(
            [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        if not where.startswith(str(src)) or not where.endswith(".py"):
            print(f"not the plain sources: {where}", file=sys.stderr)
            return 2
        print(f"pure Python: {where}", flush=True)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *sys.argv[1:]]
        return subprocess.run(argv, env=env, cwd=REPO, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
