"""Run every notebook under nbs/ as a test, exactly as `nbdev_test` does (cells flagged slow/network skipped).

Notebooks are the executable documentation: their lesson cells assert known answers, so a notebook
that fails to run is a failing test. The papermill report template is run by tests/test_report.py.
"""
from pathlib import Path

import pytest

NBS = Path(__file__).resolve().parents[1] / "nbs"
NOTEBOOKS = sorted(p for p in NBS.rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("_")
                   and "reports" not in p.relative_to(NBS).parts)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_notebook_runs(nb):
    from nbdev.test import test_nb
    ok, secs = test_nb(nb, skip_flags=["slow", "network"], showerr=True)
    assert ok, f"{nb.relative_to(NBS)} failed (see the traceback printed above)"
