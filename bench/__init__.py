"""`make bench`: the performance figures, each measured beside its baseline in one run.

Run it with `uv run python -m bench` (see `bench/__main__.py`). The app never
imports anything here; the tests import its pure helpers and `bench.seaweedfs`,
the S3 server they share with the benchmark.
"""
