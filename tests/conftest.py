"""Shared test setup. Every test runs offline (pytest-socket, see pytest.ini) and headless.

The simulated events that notebooks and tests share are cached by `mms_mp.synthetic.demo_event_dir`
under `mms_mp.core.cache_root()` ($MMS_MP_CACHE when set).
The suite points that cache at a fresh temporary folder, so a run never depends on what an earlier
run (or the user's own cache) left behind, and each scenario is simulated at most once per run.
"""
import os
import shutil
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (derandomize): CI is reproducible, and a statistical
# assertion cannot pass on one clean clone and fail on the next. The set is drawn afresh whenever a test's
# source or the Hypothesis version changes, so statistical thresholds must hold for any draw (CONTRIBUTING.md,
# "Property tests and random draws"). HYPOTHESIS_PROFILE=explore draws new examples on every run (the way to
# search for new failing cases locally).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_CACHE = None


def pytest_configure(config):
    global _CACHE
    if not os.environ.get("MMS_MP_TEST_KEEP_CACHE"):
        _CACHE = tempfile.mkdtemp(prefix="mms_mp_test_cache_")
        os.environ["MMS_MP_CACHE"] = _CACHE


def pytest_unconfigure(config):
    if _CACHE:
        shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def repo_root():
    from pathlib import Path
    return Path(__file__).resolve().parents[1]
