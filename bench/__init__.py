"""Benchmarks: scripts that print their figures (`python -m bench.run_all`); not tests."""
