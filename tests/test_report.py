"""The papermill event report: executed for real on the simulated event (offline; the kernel talks over loopback)."""
import json
from pathlib import Path

import pytest

from mms_mp.outset import check_set
from mms_mp.report import report_template, run_report
from mms_mp.core import NoDataError
from mms_mp.schema import validate_result_json



@pytest.fixture(scope="module")
def demo_dir():
    from mms_mp.synthetic import demo_event_dir
    return Path(demo_event_dir())


def test_template_has_one_typed_parameters_cell():
    nb = json.loads(report_template().read_text())
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1
    lines = [l for l in "".join(cells[0]["source"]).splitlines() if l and not l.startswith("#")]
    assert lines, "each parameter: `name: type = default  # meaning`"
    assert all(": " in l.split("=")[0] and "  # " in l for l in lines), \
        "each parameter: `name: type = default  # meaning`"


def test_shipped_copy_matches_source(repo_root):
    "mms_mp/reports/event_report.ipynb (what an installed wheel uses) is the same as nbs/reports/event_report.ipynb."
    src = repo_root / "nbs" / "reports" / "event_report.ipynb"
    assert (repo_root / "mms_mp" / "reports" / "event_report.ipynb").read_bytes() == src.read_bytes(), \
        "copy nbs/reports/event_report.ipynb to mms_mp/reports/ after editing the template"


def check_report_page(out: Path, nb: dict) -> str:
    "What every papermill report page must pass: no errors or warnings, no code, figures of this run, σ-rounding."
    from test_html_reports import Page, _decimals
    html = (out / "event_report.html").read_text()
    errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error" or o.get("name") == "stderr"]
    assert not errors, errors
    assert "Warning" not in html and "Traceback" not in html
    hidden = ("hl-ipython3", 'class="jp-InputPrompt', "In&nbsp;[")  # code, input prompts
    assert not [h for h in hidden if h in html], "input cells are hidden"
    assert "from mms_mp" not in html and 'class="card"' in html
    page = Page(html)
    figs = sorted((out / "analysis" / "figures").glob("*.png"))
    assert len(page.imgs) == len(figs) and all(s.startswith("data:image/png") for s in page.imgs)
    seg = html.split('id="Overview"')[1].split("<h2")[0]
    assert seg.count("<img") == 1, "the Overview section shows the overview figure only"
    for c in page.cells:
        for v, sg in __import__("re").findall(r"(-?[\d.]+) ± ([\d.]+)", c):
            assert _decimals(v) == _decimals(sg), c
    assert not [c for c in page.cells if __import__("re").fullmatch(r"-?\d+\.\d{5,}", c.strip())], \
        "no bare number with five or more decimals in a table"
    return html


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_report_runs_on_simulated_event(demo_dir, tmp_path):
    files = run_report(("2019-01-27T12:15", "2019-01-27T12:55"), tmp_path, ["1", "2", "3", "4"],
                       source="local", data_dir=demo_dir)
    assert set(files) == {"event_report.ipynb", "event_report.html", "event_report.json", "analysis"}
    nb = json.loads((tmp_path / "event_report.ipynb").read_text())
    html = check_report_page(tmp_path, nb)
    assert any("injected-parameters" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
    side = json.loads((tmp_path / "event_report.json").read_text())
    validate_result_json({k: v for k, v in side.items() if k != "report_parameters"})
    assert side["report_parameters"]["data_dir"] == str(demo_dir) and side["provenance"]["simulated"] is True
    assert not check_set(tmp_path / "analysis"), "the analysis outputs are a complete output set"
    main = json.loads((tmp_path / "analysis" / "mp_analysis.json").read_text())
    # ≥ 7 complete crossings per probe
    assert side["crossings"] == main["crossings"] and len(main["crossings"]) >= 4 * 7
    assert "SIMULATED" in html and "<img" in html and " ± " in html
    assert "Data: SIMULATED</strong>" in html and "Data: REAL" not in html
    assert not list(tmp_path.glob(".*.part*"))
    again = run_report(("2019-01-27T12:16", "2019-01-27T12:22"), tmp_path, ["1"], source="local",
                       data_dir=demo_dir, html=False)  # a rerun into the same folder replaces the set
    assert json.loads((again["analysis"] / "mp_analysis.json").read_text())["probes"] == ["1"]
    assert not check_set(tmp_path / "analysis")


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_report_without_data_raises_nodata(tmp_path):
    (tmp_path / "empty").mkdir()   # an empty data folder (one that does not exist is bad input)
    with pytest.raises(NoDataError, match="event report failed in cell .*NoDataError"):
        run_report(("2019-01-27T12:15", "2019-01-27T12:55"), tmp_path / "r", ["1"], source="local",
                   data_dir=tmp_path / "empty", html=False)
    # a failed run is no report: nothing published (the error names the cell); an earlier report would stay
    assert not (tmp_path / "r").exists()


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_report_never_swaps_in_the_simulated_event(tmp_path, monkeypatch):
    "No --data-dir with source local: the loader's default root is searched, as `analyze` does; the demo is not run."
    monkeypatch.setenv("MMS_DATA_DIR", str(tmp_path / "nodata"))
    (tmp_path / "nodata").mkdir()
    with pytest.raises(NoDataError, match="nodata"):       # it searched the requested root, for 2015
        run_report(("2015-09-02T16:58:44", "2015-09-02T17:07:04"), tmp_path / "r", ["1"], source="local",
                   html=False)


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_report_on_real_fgm_only_data(tmp_path, repo_root):
    "REAL MMS1 FGM burst files (2015-09-02): the report runs, says REAL, lists what was not loaded, and says why"
    " the plasma and timing sections are empty."
    real = repo_root / "tests" / "fixtures" / "real"
    files = run_report(("2015-09-02T16:58:44", "2015-09-02T17:07:04"), tmp_path, ["1"], source="local",
                       data_dir=real, rate="brst")
    nb = json.loads(files["event_report.ipynb"].read_text())
    html = check_report_page(tmp_path, nb)
    from test_html_reports import Page
    card = " ".join(Page(html).card)
    assert "REAL data, 2 files" in card and "SIMULATED" not in card
    assert "Data: REAL</strong> MMS measurements: 2 files" in html
    assert "mms1_fgm_brst_l2_20150902165844_v4.18.0.cdf" in html
    assert "simulated" not in html.lower(), "a report on REAL data never calls them simulated"
    assert "Products not loaded" in html and "no fpi brst dis-moms files" in html
    assert "No timing: multi-spacecraft timing needs at least 2 probes" in html
    assert "no_stable_normal" in html or "mva_nested" in html       # crossing normals are listed


def png_dpi(path) -> int:
    "The resolution a PNG says it was written at, dots per inch."
    from PIL import Image
    with Image.open(path) as im: return round(im.info["dpi"][0])


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_report_cli_dpi_and_quiet(demo_dir, tmp_path):
    """`mms-mp report --dpi 60`: the report's figures are 60 dpi (report had no --dpi: always 150), and a successful
    run prints nothing on stderr. It printed the kernel's TCP-without-encryption warning and nbconvert's
    'Alternative text is missing on 11 image(s)' (the figures now carry their captions as alt text)."""
    import os
    import subprocess
    import sys
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, "-m", "mms_mp.cli", "report", "--start", "2019-01-27T12:16",
                        "--end", "2019-01-27T12:22", "--probes", "1", "--source", "local", "--data-dir", str(demo_dir),
                        "--out", str(tmp_path), "--dpi", "60"], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"wrote {tmp_path / 'event_report.ipynb'}"
    pngs = list((tmp_path / "analysis" / "figures").glob("*.png"))
    assert pngs and {png_dpi(p) for p in pngs} == {60}
    assert json.loads((tmp_path / "event_report.json").read_text())["report_parameters"]["dpi"] == 60
    assert r.stderr == ""
    from test_html_reports import Page
    html = (tmp_path / "event_report.html").read_text()
    assert len(Page(html).imgs) == len(pngs) and html.count(' alt="') == len(pngs)
    assert ('alt="All probes: |B|, B (GSE), ion density, electron density, He⁺ density and ion velocity (GSE). '
            '(SIMULATED data)"') in html


# a cell that makes the kernel's kernel_info handler linger after its reply is sent: papermill asks for kernel_info
# after the last cell and shuts the kernel down on the reply, so a SIGINT sent then lands inside the handler
SLOW_REPLY = """import time
k = get_ipython().kernel
reply = k.shell_handlers["kernel_info_request"]
async def slow(*args):
    r = reply(*args)
    if hasattr(r, "__await__"): await r
    time.sleep(1)
k.shell_handlers["kernel_info_request"] = slow"""


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_report_kernel_is_shut_down_without_sigint(tmp_path, capfd):
    """jupyter_client interrupts a kernel before shutting it down; when the SIGINT lands in a message handler,
    ipykernel prints "KeyboardInterrupt caught in kernel." (now and then after a successful report). Provoked here
    every time: papermill's own kernel manager prints it, the report's does not (and prints nothing else)."""
    import nbformat
    import papermill as pm
    from mms_mp.report import execute_report
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SLOW_REPLY)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "slow.ipynb"
    nbformat.write(nb, src)
    capfd.readouterr()
    pm.execute_notebook(str(src), str(tmp_path / "plain.ipynb"), kernel_name="python3", progress_bar=False)
    assert "KeyboardInterrupt caught in kernel" in capfd.readouterr().err   # the test provokes what it checks
    (tmp_path / "r").mkdir()
    execute_report({}, tmp_path / "r", template=src)
    assert capfd.readouterr().err == ""


def _tiny_notebook(path: Path, *sources: str) -> Path:
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_report_kernels_start_together_without_tcp(tmp_path):
    """Reports started at the same moment (batch workers) once failed with ipykernel's "Address already in use": each
    kernel's TCP ports were picked free, then bound later, so two starts could pick the same port. The kernel now
    talks over Unix sockets in a folder of its own: no port to share, and no TCP at all (this test runs with every
    socket but Unix ones blocked, which stopped the TCP port search before)."""
    from concurrent.futures import ThreadPoolExecutor
    from mms_mp.report import execute_report
    src = _tiny_notebook(tmp_path / "t.ipynb", "import json\nprint(json.dumps(get_ipython().kernel.session.key != b''))",
                         "import json, ipykernel.connect as c\nprint(json.load(open(c.get_connection_file()))['transport'])")
    outs = [tmp_path / f"r{k}" for k in range(3)]
    for o in outs: o.mkdir()
    with ThreadPoolExecutor(3) as pool:
        nbs = list(pool.map(lambda o: execute_report({}, o, template=src), outs))
    for p in nbs:
        cells = json.loads(p.read_text())["cells"]
        assert ["".join(c["outputs"][0]["text"]) for c in cells] == ["true\n", "ipc\n"]


CTRL_C = """import sys
from pathlib import Path
from mms_mp.report import execute_report
try: execute_report({}, Path(sys.argv[1]), template=Path(sys.argv[2]))
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    sys.exit(130)
"""


def test_ctrl_c_stops_a_report_at_once_and_leaves_no_half_run_notebook(tmp_path):
    """Ctrl-C in a long cell: the kernel is stopped at once, KeyboardInterrupt reaches the caller, no notebook of a
    half run is published (an earlier complete one stays), and nothing else reaches stderr. Before, the half-run
    notebook replaced event_report.ipynb, and the kernel's and nbclient's tracebacks followed the interrupt."""
    import os
    import signal
    import subprocess
    import sys
    import time
    src = _tiny_notebook(tmp_path / "slow.ipynb", "print('a cell that finished')",
                         "import os, time\nopen('started', 'w').write(str(os.getpid()))\ntime.sleep(120)")
    out = tmp_path / "r"
    out.mkdir()
    (out / "event_report.ipynb").write_text("an earlier complete report")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.Popen([sys.executable, "-c", CTRL_C, str(out), str(src)], stderr=subprocess.PIPE, text=True, env=env)
    t0 = time.monotonic()
    while not (out / "started").exists() and time.monotonic() - t0 < 120 and p.poll() is None: time.sleep(0.1)
    kernel = int((out / "started").read_text())
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    t1 = time.monotonic()
    err = p.communicate(timeout=60)[1]
    assert (p.returncode, err) == (130, "interrupted\n")
    assert time.monotonic() - t1 < 10, "stopped at once, not after the cell"
    assert (out / "event_report.ipynb").read_text() == "an earlier complete report"
    assert sorted(f.name for f in out.iterdir()) == ["event_report.ipynb", "started"]
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError): os.kill(kernel, 0)   # the kernel is gone


#: a kernel marks its folder, waits (30 s at most) until the other report's kernel has marked its own, says where
BOTH_RUNNING = """import glob, os, time
open("here", "w").close()
t0 = time.monotonic()
while len(glob.glob("../r*/here")) < 2 and time.monotonic() - t0 < 30: time.sleep(0.05)
print(os.getcwd())"""


def test_reports_on_threads_each_kernel_in_its_own_folder(tmp_path, monkeypatch):
    """papermill's cwd= changes the working folder of the whole process: two reports on threads (`batch --scheduler
    threads --mode report`) ran in each other's folders, and a relative output folder was looked for in the other
    report's. Each kernel now starts in its own output folder, and the process's folder never changes."""
    from concurrent.futures import ThreadPoolExecutor
    from mms_mp.report import execute_report
    src = _tiny_notebook(tmp_path / "t.ipynb", BOTH_RUNNING)
    monkeypatch.chdir(tmp_path)
    outs = [Path(f"r{k}") for k in range(2)]   # relative, as `--out out` gives them
    for o in outs: o.mkdir()
    with ThreadPoolExecutor(2) as pool:
        nbs = list(pool.map(lambda o: execute_report({}, o, template=src), outs))
    assert Path.cwd() == tmp_path
    for o, p in zip(outs, nbs):
        text = "".join(json.loads((tmp_path / p).read_text())["cells"][0]["outputs"][0]["text"])
        assert Path(text.strip()) == (tmp_path / o).resolve()


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_template_run_by_papermill_directly(tmp_path, repo_root):
    "The template as `papermill event_report.ipynb out.ipynb -p …` runs it: papermill types `-p probes 1` as a"
    " number, and `demo` keeps its default 1 unless `-p demo 0` is given."
    from mms_mp.core import InputError
    from mms_mp.report import execute_report
    real = tmp_path / "a_data_folder_whose_path_is_longer_than_fifty_characters"
    real.symlink_to(repo_root / "tests" / "fixtures" / "real")
    params = {"start": "2015-09-02T16:58:44", "end": "2015-09-02T17:07:04", "probes": 1, "rate": "brst",
              "data_dir": str(real), "outdir": str(tmp_path / "analysis"), "sidecar": str(tmp_path / "s.json")}
    (tmp_path / "a").mkdir()
    nb = json.loads(execute_report(params | {"demo": 0}, tmp_path / "a").read_text())
    out = json.dumps([c.get("outputs") for c in nb["cells"]])
    assert "Data: REAL" in out and "SIMULATED" not in out      # the REAL event it was given, probe 1
    assert json.loads((tmp_path / "s.json").read_text())["probes"] == ["1"]
    (table,) = [c["outputs"][0]["data"]["text/html"] for c in nb["cells"] if c.get("id") == "e2cad209"]
    assert str(real) in "".join(table)                          # the parameters of this run, in full
    (tmp_path / "b").mkdir()
    with pytest.raises(InputError, match="would ignore start = 2015-09-02T16:58:44, .*set demo = 0"):
        execute_report(params, tmp_path / "b")                  # demo = 1 (the default): refused, not swapped


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_density_only_report_does_not_say_no_crossing(tmp_path, repo_root):
    "REAL MMS1 FPI burst alone (2015-10-16): one crossing, found on the density, and no normal; the report said"
    " 'No crossing was detected.' where the normals table would be."
    files = run_report(("2015-10-16T13:05:24", "2015-10-16T13:07:43"), tmp_path, ["1"], source="local",
                       data_dir=repo_root / "tests" / "fixtures" / "real", rate="brst", html=False)
    nb = json.loads(files["event_report.ipynb"].read_text())
    text = json.dumps([c.get("outputs") for c in nb["cells"]])
    assert len(json.loads((tmp_path / "event_report.json").read_text())["crossings"]) == 1
    assert "No crossing was detected" not in text and "No crossing normal: no magnetic field" in text


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_failed_report_keeps_the_old_set_and_a_first_one_leaves_nothing(tmp_path, repo_root):
    """A rerun that failed (MMS2 has no data in the REAL 2015-09-02 files) wrote its notebook over the MMS1 report and
    left the MMS1 HTML, JSON and analysis/ beside it; a first run that failed left a partial notebook and a lock file.
    The report folder is now an output set: the old report stays byte for byte, a failed first run leaves nothing."""
    from mms_mp.core import InputError
    from mms_mp.outset import read_manifest
    from mms_mp.pipeline import analyze
    real, tr = repo_root / "tests" / "fixtures" / "real", ("2015-09-02T16:58:44", "2015-09-02T17:07:04")
    kw = dict(source="local", data_dir=real, rate="brst", html=False)
    out = tmp_path / "rep"
    run_report(tr, out, ["1"], **kw)
    assert not check_set(out) and read_manifest(out)["kind"] == "report"
    assert not list(tmp_path.rglob("*.lock")), "the report's and its analysis's lock files are gone"
    assert json.loads((out / "event_report.json").read_text())["report_parameters"]["outdir"] == "analysis"
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(NoDataError):
        run_report(tr, out, ["2"], **kw)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    with pytest.raises(NoDataError):
        run_report(tr, tmp_path / "fresh", ["2"], **kw)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"], "no partial report, staging folder or lock"
    # an analysis set is not written over a report, nor inside it (its rerun would be refused)
    with pytest.raises(InputError, match="holds an mms_mp report set"):
        analyze(tr, ["1"], source="local", data_dir=real, rate="brst", outdir=out)
    with pytest.raises(InputError, match="inside the mms_mp output set"):
        analyze(tr, ["1"], source="local", data_dir=real, rate="brst", outdir=out / "analysis" / "inner")
