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
