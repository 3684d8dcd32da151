"""The `tiktok-ads` console script's target, importing nothing until the command runs.

A process that multiprocessing spawns (the upload hashing workers, `serve --workers` children)
first runs its parent's main script again, as `__mp_main__`, so that what the script defines
can be unpickled (the multiprocessing guide's "safe importing of main module"). The installed
script is `from tiktok_ads.entrypoints.script import main` behind an `if __name__ ==
"__main__"` guard: with the CLI imported here at the top, every hashing process would load
click, pydantic and httpx (~25 MB) and never use them. So the import waits for `main()`.
"""

from __future__ import annotations


def main() -> None:
    from tiktok_ads.entrypoints.cli import main as command

    command()
