"""Fixtures for the pipeline tests; the helpers live in pipeline_lib.py so tests can import them by a unique name."""
from pipeline_lib import *  # noqa: F401,F403  (fixture: lib)
