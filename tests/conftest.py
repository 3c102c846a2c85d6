"""Shared fixtures. Every test runs offline (pytest-socket, see pytest.ini) and headless."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest


@pytest.fixture(scope="session")
def repo_root():
    from pathlib import Path
    return Path(__file__).resolve().parents[1]
