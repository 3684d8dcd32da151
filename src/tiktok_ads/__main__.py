"""`python -m tiktok_ads` is the `tiktok-ads` command."""

from tiktok_ads.entrypoints.cli import main

main()
