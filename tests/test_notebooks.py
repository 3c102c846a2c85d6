"""Run every notebook under nbs/ as a test, exactly as `nbdev_test` does, and check its stored text outputs.

Notebooks are the executable documentation: their lesson cells assert known answers, so a notebook
that fails to run is a failing test. The papermill report template is run by tests/test_report.py.

Stored outputs are documentation too, so a code cell whose stored text (stdout, stderr, text/plain, text/markdown)
differs from what the code prints now fails the test: a stale output cannot land. Each notebook is executed once,
as `nbdev.test.test_nb` does (cells flagged slow/network, `eval: false` and `nbdev_export(` are not run, and so not
compared). Only what differs between machines and runs is normalised: the repository's absolute path, temporary
folders, memory addresses, IPython's cell hashes in warning labels, and numbers with a fraction or an exponent,
which may differ by one unit in their last printed digit (a rounding-boundary flip, a BLAS last bit); whole numbers
(counts) must match. Images and widget views are not compared. A cell whose text legitimately changes from run to
run (wall-clock times, cache folder names) says so in its source with a comment line
`# output varies by run: <why>` and is run but not compared.
"""
import contextlib
import difflib
import os
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
NOTEBOOKS = sorted(p for p in NBS.rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("_")
                   and "reports" not in p.relative_to(NBS).parts)
SKIP_FLAGS = {"slow", "network"}
VARIES = "# output varies by run:"
TEXT_KEYS = ("text/plain", "text/markdown")
WIDGET_KEY = "application/vnd.jupyter.widget-view+json"
# A number as printed: optional sign (ASCII or U+2212), digits with an optional fraction, optional exponent.
# Digits glued to letters (mms1, v5, a hash) or inside dotted versions (3.4.0) are text, not numbers.
NUMBER = re.compile(r"(?<![\w.])[-+\u2212]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w]|\.\d)")
# The first line of a warning as Python shows it: "file:line: Category: message".
WARNING_HEAD = re.compile(r"^\S[^\n]*?:\d+: [A-Za-z_]\w*: ", re.M)
# An absolute path up to the repository's top-level folders: the checkout's location varies by machine.
REPO_PATH = re.compile(r"(?<![\w.])(?:/[\w.@+-]+)+?/(?=(?:mms_mp|nbs|tests|tools|bench)/)")


def run_notebook(fn: Path):
    "Execute `fn` as `nbdev.test.test_nb` does; return (error text or None, [(cell, stored outputs)] of cells run)."
    from execnb.shell import CaptureShell
    from fastcore.basics import str2bool
    from fastcore.xtras import working_directory
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor, nb_lang

    os.environ["IN_TEST"] = "1"
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
    fm = getattr(nb, "frontmatter_", {})
    if str2bool(fm.get("skip_exec", False)) or nb_lang(nb) != "python": return None, []

    def _no_eval(cell):
        if cell.cell_type != "code": return True
        if "nbdev_export" + "(" in cell.source: return True
        direc = getattr(cell, "directives_", {}) or {}
        if direc.get("eval:", [""])[0].lower() == "false": return True
        return SKIP_FLAGS & direc.keys()

    stored = {}
    for c in nb.cells:
        if c.cell_type == "code":
            stored[c.idx_] = list(c.get("outputs", []))
            c.outputs = []   # execnb keeps a cell's old outputs when the new run prints nothing
    ran = []
    with _as_in_a_fresh_python(), working_directory(fn.parent):
        shell = CaptureShell(fn)
        try:
            shell.run_all(nb, exc_stop=True, preproc=_no_eval, postproc=lambda c: ran.append((c, stored[c.idx_])))
        except Exception:
            return shell.prettytb(fname=fn), ran
    return None, ran


def _to_stderr(message, category, filename, lineno, file=None, line=None):
    "Python's own way of showing a warning (pytest swaps in a recorder)."
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@contextlib.contextmanager
def _as_in_a_fresh_python():
    "Warnings and matplotlib settings as `python tools/run_nb.py` has them when it stores the outputs."
    fmt = warnings.formatwarning
    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.resetwarnings()   # pytest records warnings; a notebook shows them on stderr, once per place
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        for cat in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", cat, append=True)   # Python's default filters
        warnings.filterwarnings("ignore", module="pytest_socket")   # the suite runs offline; run_nb does not
        warnings.showwarning = _to_stderr
        warnings.formatwarning = getattr(warnings, "_formatwarning_orig", fmt)   # the CLI's tests shorten it
        matplotlib.rcdefaults()   # an earlier notebook's rcParams (figure.dpi) must not change this one's figures
        try:
            yield
        finally:
            warnings.formatwarning = fmt


def _joined(x) -> str:
    return x if isinstance(x, str) else "".join(x)


def text_outputs(outputs) -> list:
    "The comparable text of a cell's outputs: [(kind, text)] for streams, text/plain and text/markdown."
    res = []
    for o in outputs:
        if o["output_type"] == "stream":
            res.append((o["name"], _joined(o["text"])))
        elif o["output_type"] in ("display_data", "execute_result") and WIDGET_KEY not in o["data"]:
            res += [(k, _joined(o["data"][k])) for k in TEXT_KEYS if k in o["data"]]
    return res


def normalise(text: str, root: Path = ROOT) -> str:
    "Replace what differs between machines and edits: the checkout's path, tmp folders, memory addresses, cell hashes."
    text = text.replace(str(root) + "/", "<root>/")
    text = REPO_PATH.sub("<root>/", text)
    for tmp in sorted({tempfile.gettempdir(), "/tmp"}, key=len, reverse=True):
        text = re.sub(re.escape(tmp) + r"/[^\s/'\")\]]+", "<tmp>", text)
    text = re.sub(r"<ipython-input-\d+-[0-9a-f]+>", "<ipython-input>", text)   # a hash of the cell's source
    return re.sub(r"(?<!\w)0x[0-9a-fA-F]+", "0x…", text)


def once_each(stderr: str) -> str:
    "`stderr` with each repeat of an identical warning dropped."
    # Python shows a warning once per place unless an import or a `catch_warnings` in between resets that memory,
    # so how many repeats a loop prints depends on what the process imported before.
    starts = [m.start() for m in WARNING_HEAD.finditer(stderr)]
    if not starts: return stderr
    blocks = [stderr[a:b] for a, b in zip(starts, starts[1:] + [len(stderr)])]
    return stderr[:starts[0]] + "".join(b for i, b in enumerate(blocks) if b not in blocks[:i])


def _unit(tok: str) -> float:
    "One unit in the last printed digit of the number `tok` (e.g. '1.25' → 0.01, '3.0e+02' → 10)."
    mant, _, exp = tok.lower().partition("e")
    decimals = len(mant.partition(".")[2])
    return 10.0 ** (int(exp or 0) - decimals)


def _value(tok: str) -> float:
    return float(tok.replace("\u2212", "-"))


def same_text(old: str, new: str) -> bool:
    "True when `old` and `new` read the same: text exactly (spaces padding a number aside), numbers within one unit."
    old_parts, new_parts = NUMBER.split(old), NUMBER.split(new)
    old_nums, new_nums = NUMBER.findall(old), NUMBER.findall(new)
    if len(old_nums) != len(new_nums): return False
    if [p.strip(" ") for p in old_parts] != [p.strip(" ") for p in new_parts]: return False
    return all(a == b if _whole(a) and _whole(b) else abs(_value(a) - _value(b)) <= max(_unit(a), _unit(b)) * (1 + 1e-9)
               for a, b in zip(old_nums, new_nums))


def _whole(tok: str) -> bool:
    "A whole number as printed (no fraction, no exponent): a count, compared exactly."
    return not any(c in tok.lower() for c in ".e")


def comparable(kind: str, text: str) -> str:
    "An output's text as compared: normalised, and on stderr each distinct warning once."
    text = normalise(text)
    return once_each(text) if kind == "stderr" else text


def output_varies(source: str) -> bool:
    "True when the cell declares, in a comment line, that its output varies by run."
    return any(line.strip().lower().startswith(VARIES) for line in source.splitlines())


def _trimmed_diff(old: str, new: str, n: int = 16, width: int = 150) -> str:
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "stored", "now", n=1, lineterm=""))
    lines = [s if len(s) <= width else s[:width] + " …" for s in lines]
    return "\n".join(lines[:n] + ([f"… ({len(lines) - n} more diff lines)"] if len(lines) > n else []))


def stale_cells(ran: list) -> list:
    "A report for each cell run whose stored text output differs from the new one (cells marked as varying skipped)."
    reports = []
    for cell, stored in ran:
        if output_varies(cell.source): continue
        old = [(k, comparable(k, t)) for k, t in text_outputs(stored)]
        new = [(k, comparable(k, t)) for k, t in text_outputs(cell.outputs)]
        if [k for k, _ in old] == [k for k, _ in new] and all(same_text(a, b) for (_, a), (_, b) in zip(old, new)):
            continue
        first = next((s for s in cell.source.splitlines() if s.strip()), "")
        show = lambda outs: "\n".join(f"[{k}]\n{t}" for k, t in outs) or "(no text output)"
        reports.append(f"cell {cell.idx_} (`{first[:80]}`):\n{_trimmed_diff(show(old), show(new))}")
    return reports


def _fix_hint(rel: str) -> str:
    return (f"Stored outputs are documentation. Re-run the notebook so they show what the code prints now:\n"
            f"  .venv/bin/python tools/run_nb.py nbs/{rel}   (executes in place, then runs nbdev_clean)\n"
            f"and commit it. If a cell's text really changes from run to run (wall-clock times, cache names),\n"
            f"add a comment line `{VARIES} <why>` to that cell instead.")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_notebook_runs_and_outputs_are_current(nb):
    rel = str(nb.relative_to(NBS))
    t0 = time.time()
    err, ran = run_notebook(nb)
    assert err is None, f"{rel} failed after {time.time() - t0:.0f} s:\n{err}"
    stale = stale_cells(ran)
    assert not stale, (f"{rel}: {len(stale)} code cell(s) print something other than their stored output "
                       f"(- stored, + now):\n\n" + "\n\n".join(stale) + "\n\n" + _fix_hint(rel))


# The checker itself, on small made-up outputs and a throwaway notebook.

def test_numbers_within_one_unit_of_the_last_digit():
    assert same_text("V_N = 12.35 ± 0.41 km/s", "V_N = 12.36 ± 0.40 km/s")
    assert same_text("n = [ 1.0e+03 -0.000]", "n = [ 1.1e+03 0.000]")
    assert same_text("x = 0.999", "x = 1")                    # a :.3g rounding flip
    assert not same_text("V_N = 12.35 km/s", "V_N = 12.37 km/s")
    assert not same_text("thickness 850 km", "thickness 852 km")
    assert not same_text("V_N = 12.35 km/s", "V_L = 12.35 km/s")   # text must match exactly
    assert not same_text("3 crossings", "3 crossings, 1 flagged")
    assert not same_text("3 crossings", "4 crossings")          # whole numbers are counts: exact


def test_numbers_are_parsed_as_whole_tokens():
    assert not same_text("mms1 mms2", "mms2 mms2")             # digits glued to letters are text
    assert not same_text("v3.4.0", "v3.4.1")
    assert not same_text("2019-01-27T12:15:03", "2019-01-27T12:15:05")
    assert not same_text("key d567182d04e5f339", "key d567182d04e5f338")


def test_normalise_paths_tmp_and_addresses():
    root = Path("/home/someone/mms_mp_checkout")
    assert normalise(f"{root}/mms_mp/stages.py:206: Warning", root) == "<root>/mms_mp/stages.py:206: Warning"
    assert normalise("/work/main/mms_mp/stages.py:206: Warning", root) == "<root>/mms_mp/stages.py:206: Warning"
    assert normalise("no files under /tmp/tmpqsxrsl7t/mms3/fgm", root) == "no files under <tmp>/mms3/fgm"
    assert normalise("<Axes at 0x7f3a2c1d90d0>", root) == "<Axes at 0x…>"
    assert normalise("<ipython-input-1-1d13140a1604>:8: Warn", root) == "<ipython-input>:8: Warn"   # line kept
    assert normalise("Path('/data/mms/mms1/fgm')", root) == "Path('/data/mms/mms1/fgm')"


def test_a_repeated_warning_counts_once():
    w = "<ipython-input-1-ab12>:3: MissingDataWarning: data cover only part\n  mms3 fgm\n  ev = load_event(d)\n"
    other = w.replace("mms3", "mms4")
    assert once_each("note\n" + w + w + other + w) == "note\n" + w + other
    assert comparable("stderr", w + w) == comparable("stderr", w)
    assert not same_text(comparable("stderr", w + w), comparable("stderr", w + other))
    assert comparable("stdout", "a\na\n") == "a\na\n"


def _write_nb(path: Path, cells: list) -> Path:
    "A notebook of code cells given as (source, stored stdout or None)."
    import nbformat
    nb = nbformat.v4.new_notebook()
    for src, out in cells:
        c = nbformat.v4.new_code_cell(src)
        if out is not None: c.outputs = [nbformat.v4.new_output("stream", name="stdout", text=out)]
        nb.cells.append(c)
    nbformat.write(nb, path)
    return path


def test_a_stale_output_is_reported(tmp_path):
    fn = _write_nb(tmp_path / "t.ipynb", [
        ("print(2 + 2)", "4\n"),                                           # current
        ("print(2 + 5)", "4\n"),                                           # stale
        ("print('silent now')\nprint('x')", None),                          # never stored
        (f"{VARIES} wall-clock time\nimport time\nprint(time.time())", "1.0\n"),
        ("#| slow\nprint(1)", "2\n"),                                      # not run, not compared
        ("import sys\nprint('warned', file=sys.stderr)", None)])
    err, ran = run_notebook(fn)
    assert err is None
    stale = stale_cells(ran)
    assert [r.split(" ", 2)[1] for r in stale] == ["1", "2", "5"]
    assert "-4" in stale[0] and "+7" in stale[0] and "`print(2 + 5)`" in stale[0]


def test_a_failing_notebook_is_reported(tmp_path):
    fn = _write_nb(tmp_path / "t.ipynb", [("assert 1 == 2, 'lesson broke'", None)])
    err, _ = run_notebook(fn)
    assert "lesson broke" in err


def test_run_nb_drops_an_output_the_code_no_longer_gives(tmp_path):
    "tools/run_nb.py stores what the code prints now: a cell that prints nothing loses its old output."
    import importlib.util
    import json
    spec = importlib.util.spec_from_file_location("run_nb", ROOT / "tools" / "run_nb.py")
    run_nb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_nb)
    fn = _write_nb(tmp_path / "t.ipynb", [("x = 1", "an output from older code\n"), ("print(x + 2)", "2\n")])
    assert run_nb.run(fn)
    cells = json.loads(fn.read_text())["cells"]
    assert cells[0]["outputs"] == []
    assert [o["text"] for o in cells[1]["outputs"]] == [["3\n"]]
