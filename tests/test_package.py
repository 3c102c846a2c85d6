"""Package-level contracts: light import, offline guard works, README's commands are what CI runs."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_is_light():
    "Importing every mms_mp module loads neither pyspedas nor matplotlib: both wait until a function needs them."
    code = ("import sys, pkgutil, importlib, mms_mp\n"
            "names = [m.name for m in pkgutil.iter_modules(mms_mp.__path__) if not m.name.startswith('_')]\n"
            "for n in names: importlib.import_module('mms_mp.' + n)\n"
            "bad = [m for m in ('pyspedas', 'matplotlib', 'matplotlib.pyplot', 'papermill', 'distributed')"
            " if m in sys.modules]\n"
            "print(len(names), ','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, _, bad = out.stdout.strip().partition(" ")
    assert int(n) >= 15, f"only {n} modules found"
    assert bad == "", f"eager heavy imports: {bad}"


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
