"""Execute notebooks in place so their stored outputs are the evidence a reader sees, then clean them.

Usage: python tools/run_nb.py nbs/03_coords.ipynb [more.ipynb ...]

Cells flagged `#| network` or `#| slow` are not executed. Every code cell's old outputs are cleared first, so a
cell that prints nothing now stores nothing (tests/test_notebooks.py checks the stored text).
The kernel is execnb's in-process shell, as `nbdev_test` uses, with the notebook's folder as cwd.
"""
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")


def run(path: Path) -> bool:
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import first_code_ln  # noqa: F401  (nbdev present: same toolchain as nbdev_test)

    import matplotlib
    matplotlib.rcdefaults()   # one notebook's rcParams (e.g. figure.dpi) must not leak into the next
    matplotlib.use("Agg")
    nb = read_nb(path)
    skip = {"network", "slow"}

    def _skip(cell):
        src = cell.get("source", "")
        flagged = any(line.strip().startswith("#|") and any(f in line.split() for f in skip)
                      for line in src.splitlines())
        return flagged

    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []   # execnb keeps a cell's old outputs when it prints nothing now
    shell = CaptureShell(path)
    t0 = time.time()
    cwd = os.getcwd()
    os.chdir(path.parent)
    fmt = warnings.formatwarning
    try:
        with warnings.catch_warnings():   # each notebook shows its warnings, even those an earlier one showed
            shell.run_all(nb, exc_stop=True, preproc=_skip)
        ok = True
    except Exception as e:  # report and keep the partially run notebook unsaved
        print(f"FAILED {path}: {e}", file=sys.stderr)
        ok = False
    finally:
        os.chdir(cwd)
        warnings.formatwarning = fmt   # a notebook may shorten warnings (mms_mp.cli.setup_logging): not the next one
    if ok:
        nb.metadata = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}}
        write_nb(nb, path)
    print(f"{'ran' if ok else 'FAILED'} {path} in {time.time() - t0:.1f} s, {path.stat().st_size / 1024:.0f} KB")
    return ok


if __name__ == "__main__":
    import subprocess
    paths = [Path(p).resolve() for p in sys.argv[1:]]
    results = [run(p) for p in paths]
    bindir = Path(sys.executable).parent
    subprocess.run([str(bindir / "nbdev_clean")] + sum([["--fname", str(p)] for p in paths], []), check=False)
    sys.exit(0 if all(results) else 1)
