"""Package-level contracts: light import, offline guard works, README's commands are what CI runs."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_light():
    "`import mms_mp` (and its core modules) must not import pyspedas or matplotlib."
    code = ("import sys, mms_mp, mms_mp.core\n"
            "import importlib, pkgutil\n"
            "bad = [m for m in ('pyspedas', 'matplotlib', 'matplotlib.pyplot') if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"eager heavy imports: {out.stdout.strip()}"


def test_sockets_are_blocked():
    "The suite really is offline: opening an internet socket fails under pytest-socket."
    import socket
    from pytest_socket import SocketBlockedError
    with pytest.raises(SocketBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=0.1)


def test_ci_runs_readme_test_command():
    "`.ci/run` runs the README's test command and the README gives exactly two quick-start commands."
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    assert "\nmake test\n" in ci
