"""`make bench`: every figure, each measured beside its baseline in one run.

Run it with `uv run python -m bench` (see `bench/__main__.py`); nothing here is
imported by the app or collected by pytest.
"""
