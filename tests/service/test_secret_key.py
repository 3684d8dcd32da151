"""The generated secret key file: created once, whole, however many starters race for it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tiktok_ads.adapters.crypto import load_or_create_secret
from tiktok_ads.errors import ConfigurationError


def _race_threads(db: Path, starters: int) -> list[str | BaseException]:
    """`starters` threads call load_or_create_secret on `db` at the same moment."""
    barrier = threading.Barrier(starters)
    results: list[str | BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            results.append(load_or_create_secret(None, db))
        except BaseException as exc:  # collected: the test shows every failure
            results.append(exc)

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_threads_starting_together_share_one_whole_secret(tmp_path: Path) -> None:
    """16 threads on a fresh database, 50 times: one non-empty secret each time, the file's."""
    for round_ in range(50):
        db = tmp_path / f"round-{round_}.db"
        results = _race_threads(db, 16)
        secret = (tmp_path / f"round-{round_}.db.key").read_text().strip()
        assert (True, [secret] * 16) == (len(secret) > 20, results)
    assert [] == [p.name for p in tmp_path.iterdir() if not p.name.endswith(".key")]


_STARTER = """
import json, sys
from pathlib import Path
from tiktok_ads.adapters.crypto import load_or_create_secret
print("ready", flush=True)
sys.stdin.readline()  # released by the test, with the other starters
secrets = []
for db in sys.argv[1:]:
    try:
        secrets.append(load_or_create_secret(None, Path(db)))
    except Exception as exc:
        secrets.append(repr(exc))
print(json.dumps(secrets))
"""


@pytest.mark.slow
def test_processes_starting_together_share_one_whole_secret(tmp_path: Path) -> None:
    """6 processes released at once on 100 fresh databases all read the same secrets."""
    dbs = [str(tmp_path / f"db-{i}.db") for i in range(100)]
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", _STARTER, *dbs],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    for proc in starters:
        assert proc.stdout is not None and "ready\n" == proc.stdout.readline()
    for proc in starters:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [json.loads(proc.communicate(timeout=60)[0]) for proc in starters]
    secrets = [Path(db + ".key").read_text().strip() for db in dbs]
    assert [secrets] * 6 == outputs
    assert all(secrets)


def test_generated_key_file_is_private(tmp_path: Path) -> None:
    """The key file is readable by its owner only (0600) and read back on the next start."""
    db = tmp_path / "shop.db"
    secret = load_or_create_secret(None, db)
    key_file = tmp_path / "shop.db.key"
    mode = stat.S_IMODE(os.stat(key_file).st_mode)
    assert (0o600, secret) == (mode, key_file.read_text().strip())
    assert secret == load_or_create_secret(None, db)


def test_empty_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    """An empty key file (an interrupted start) is refused rather than used as the secret."""
    (tmp_path / "shop.db.key").write_text("")
    with pytest.raises(ConfigurationError, match="empty"):
        load_or_create_secret(None, tmp_path / "shop.db")


@pytest.mark.slow
def test_serve_workers_checks_the_secret_before_starting_processes(tmp_path: Path) -> None:
    """`serve --workers 2` on PostgreSQL without a secret stops at once with a clear error."""
    env = {k: v for k, v in os.environ.items() if k != "TIKTOK_ADS_SECRET_KEY"}
    env["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/unused"
    serve = Path(sys.executable).with_name("tiktok-ads")
    result = subprocess.run(
        [str(serve), "serve", "--workers", "2", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (1, "Error: TIKTOK_ADS_SECRET_KEY must be set") == (
        result.returncode,
        result.stderr.splitlines()[-1][:40],
    )
