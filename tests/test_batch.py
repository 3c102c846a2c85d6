"""Dask batch survey: a real LocalCluster of worker processes (loopback TCP only), one good and two failing events."""
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mms_mp.batch import SUMMARY_COLUMNS, read_events
from mms_mp.cli import main
from mms_mp.core import InputError


def _sigint_default():
    """In the child: SIGINT back to its default, so that Python installs its KeyboardInterrupt handler even where the
    test run was started with SIGINT ignored (a shell's background job)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def demo_dir():
    from mms_mp.synthetic import demo_event_dir
    return Path(demo_event_dir())


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_batch_failing_events_recorded_others_continue(demo_dir, tmp_path, capsys):
    ev = tmp_path / "events.csv"
    (tmp_path / "empty").mkdir()   # an empty data folder: no usable data (exit 3)
    ev.write_text("name,start,end,probes,data_dir,source\n"
                  f"good,2019-01-27T12:16:00,2019-01-27T12:22:00,1 2,{demo_dir},local\n"
                  f"nodata,2019-01-27T12:16:00,2019-01-27T12:22:00,1 2,{tmp_path / 'empty'},local\n"
                  f"nodir,2019-01-27T12:16:00,2019-01-27T12:22:00,1,{tmp_path / 'nope'},local\n")
    assert main(["batch", str(ev), "--out", str(tmp_path / "out"), "--workers", "2", "--quiet"]) == 4  # some failed
    s = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("event")
    raw = pd.read_csv(tmp_path / "out" / "summary.csv", dtype=str).set_index("event")
    assert raw.loc["good", "n_crossings"].isdigit() and raw.loc["good", "exit_code"] == "0"   # counts are whole
    assert list(s.reset_index().columns) == list(SUMMARY_COLUMNS)
    assert s.loc["nodata", "status"] == "failed" and s.loc["nodata", "exit_code"] == 3
    assert "NoDataError" in s.loc["nodata", "error"]
    assert s.loc["nodir", "status"] == "failed" and s.loc["nodir", "exit_code"] == 2
    assert "nope" in s.loc["nodir", "error"]
    assert s.loc["good", "status"] == "ok" and s.loc["good", "exit_code"] == 0   # a skipped stage is not a failure
    # known answer: the simulator's complete crossings in the window, on probes 1 and 2, are all found
    truth = json.loads((demo_dir / "truth.json").read_text())
    T = lambda x: np.datetime64(x.rstrip("Z"), "ns")
    want = [c for c in truth["crossings"] if c["complete"] and c["probe"] in ("1", "2")
            and T("2019-01-27T12:16") <= T(c["layer_start"]) and T(c["layer_end"]) < T("2019-01-27T12:22")]
    doc = json.loads((tmp_path / "out" / "good" / "mp_analysis.json").read_text())
    for c in want:
        assert any(x["probe"] == c["probe"] and x["direction"] == c["direction"]
                   and T(c["layer_start"]) <= T(x["time"]) <= T(c["layer_end"]) for x in doc["crossings"]), c
    assert s.loc["good", "n_crossings"] >= len(want) >= 2
    n = s.loc["good", ["n_x_gse", "n_y_gse", "n_z_gse"]].to_numpy(float)
    assert abs(np.linalg.norm(n) - 1) < 1e-6 and n[0] > 0  # outward dayside normal, GSE


def test_events_file_contract(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("name,start,end\na,2019-01-27T12:16,2019-01-27T12:22\na,2019-01-27T12:26,2019-01-27T12:32\n")
    with pytest.raises(InputError, match="event names must be unique"):
        read_events(p)
    p.write_text("name,end\na,2019-01-27T12:22\n")
    with pytest.raises(InputError, match="needs columns start and end"):
        read_events(p)
    with pytest.raises(InputError, match="does not exist"):
        read_events(tmp_path / "missing.csv")
    assert main(["batch", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o"), "--quiet"]) == 2


def test_batch_console_speaks_the_events_file():
    """A failed event's error on the `mms-mp batch` console named --source and --data-dir, flags batch does not
    have: they are columns of the events file (and batch's output flag is --out)."""
    from mms_mp.cli import _not_ok
    row = {"status": "failed", "exit_code": 3,
           "error": "NoDataError: no FGM; run with source='sdc' to download (data_dir='/my data')"}
    assert _not_ok(row) == ("failed (exit 3): NoDataError: no FGM; run with source sdc (events-file column) "
                            "to download (data_dir '/my data' (events-file column))")
    row = {"status": "failed", "exit_code": 2, "error": "InputError: x exists and is a file: choose another outdir"}
    assert _not_ok(row).endswith("choose another --out")


HEAD = "name,start,end,probes,data_dir,source,rate,scenario,seed\n"
GOOD = "a,2019-01-27T12:16,2019-01-27T12:22,1 2,,local,,,\n"


@pytest.mark.parametrize("row, column, words", [
    ("b,2019-01-27T12:26,2019-01-27T12:32,1,,local,slow,,", "rate", "'slow' is not one of auto, srvy, brst"),
    ("b,2019-01-27T12:26,2019-01-27T12:32,1,,locl,,,", "source", "'locl' is not one of auto, sdc, spdf, local"),
    ("b,2019-01-27T12:26,2019-01-27T12:32,5,,local,,,", "probes", "probe '5' is not an MMS probe"),
    ("b,2019-01-27T12:26,2019-01-27T12:32,1,,local,,bogus,", "scenario", "'bogus' is not a simulator scenario"),
    ("b,2019-01-27T12:26,2019-01-27T12:32,1,,local,,default,abc", "seed", "'abc' is not a whole number"),
    ("b,2019-01-27T12:26,2019-01-27T12:32,1,,local,,,7", "seed", "without a scenario")])
def test_events_file_checked_as_a_whole(tmp_path, capsys, row, column, words):
    "rate=slow, source=locl, probes=5, scenario=bogus failed only when that event ran; seed=abc was exit 4."
    p = tmp_path / "e.csv"
    p.write_text(HEAD + GOOD + row + "\n")
    with pytest.raises(InputError, match=f"row 2 \\(b\\), column {column}: .*{words}"):
        read_events(p)
    assert main(["batch", str(p), "--out", str(tmp_path / "o"), "--scheduler", "synchronous", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"column {column}" in err and f"--{column}" not in err   # the CSV's words, not the CLI's flags
    assert not (tmp_path / "o").exists()   # refused before any event ran


def test_events_probes_normalised_and_list_checked(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text(HEAD + "a,2019-01-27T12:16,2019-01-27T12:22,\"mms1,2\",,local,brst,default,3\n")
    ev = read_events(p)[0]
    assert (ev["probes"], ev["rate"], ev["seed"]) == (["1", "2"], "brst", 3)
    from mms_mp.batch import run_batch
    with pytest.raises(InputError, match="row 1 \\(x\\), column rate"):   # a list of dicts is checked too
        run_batch([{"name": "x", "start": "2019-01-27T12:16", "end": "2019-01-27T12:22", "rate": "slow"}],
                  tmp_path / "o", scheduler="synchronous")


def test_events_rates_in_pyspedas_words_and_prelaunch_rows(tmp_path):
    "An events file takes 'fast'/'burst' as the CLI does, and refuses a row before MMS's launch when it is read."
    p = tmp_path / "e.csv"
    p.write_text(HEAD + "a,2019-01-27T12:16,2019-01-27T12:22,1,,local,fast,,\n"
                 + "b,2019-01-27T12:26,2019-01-27T12:32,1,,local,Burst,,\n")
    assert [e["rate"] for e in read_events(p)] == ["srvy", "brst"]
    p.write_text(HEAD + GOOD + "c,2014-01-27T12:26,2014-01-27T12:32,1,,local,,,\n")
    with pytest.raises(InputError, match="row 2 \\(c\\).*before MMS was launched"):
        read_events(p)


@pytest.mark.parametrize("sched", ["bogus", "tcp://host", "threadz"])
def test_bad_scheduler_is_usage_error(tmp_path, capsys, sched):
    "`--scheduler bogus` was 'analysis failed: ValueError: missing port number', exit 4."
    p = tmp_path / "e.csv"
    p.write_text(HEAD + GOOD)
    assert main(["batch", str(p), "--out", str(tmp_path / "o"), "--scheduler", sched, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "bad input" in err and "tcp://host:port" in err and "ValueError" not in err


def _doc(status, timing=None, thickness=()):
    return {"timing": timing, "timing_groups": [timing] if timing else [], "provenance": {"simulated": False},
            "status": status, "crossings": [{"probe": "1", "normal": {"method": "mva_nested"}}],
            "thickness": list(thickness)}


def test_summary_status_skipped_by_design_is_ok():
    "A one-probe FGM event with vn and timing skipped (no plasma, one probe) was 'partial' with exit code 0."
    from mms_mp.batch import summary_row
    skipped = {"load": {"status": "ok"}, "vn": {"status": "skipped"}, "timing": {"status": "skipped"}}
    r = summary_row(_doc(skipped))
    assert (r["status"], r["stages_skipped"], r["stages_failed"]) == ("ok", "vn timing", "")
    r = summary_row(_doc(skipped | {"detect": {"status": "failed"}}))
    assert (r["status"], r["stages_failed"]) == ("partial", "detect")


def test_summary_names_the_timing_group_and_thickness_sigma():
    from mms_mp.batch import summary_row
    t = {"n_hat": [1.0, 0.0, 0.0], "V_km_s": -20.0, "sigma_V_km_s": 2.0, "sigma_n_deg": 3.0, "method": "4-sc",
         "time": "2019-01-27T12:20:01.500Z", "direction": "out", "ref_probe": "1"}
    pairs = ((800, 100), (1000, 300), (600, 200))
    th = [{"thickness_km": x, "sigma_km": s, "method": "integrated V_N"} for x, s in pairs]
    r = summary_row(_doc({"load": {"status": "ok"}}, t, th))
    assert (r["timing_time"], r["timing_direction"], r["timing_groups"]) == ("2019-01-27T12:20:01.500Z", "out", 1)
    got = [r[k] for k in ("thickness_median_km", "thickness_sigma_km", "thickness_min_km", "thickness_max_km")]
    assert got == [800, 200, 600, 1000]
    assert {"timing_time", "timing_direction", "timing_groups", "thickness_sigma_km"} <= set(SUMMARY_COLUMNS)


@pytest.mark.loopback
def test_batch_cli_real_cluster_quiet_console(demo_dir, tmp_path):
    "A LocalCluster run ended with ~20 `INFO distributed...` lines on stderr; a skipped-only event is ok."
    import subprocess
    import sys
    ev = tmp_path / "events.csv"
    ev.write_text("name,start,end,probes,data_dir,source\n"
                  f"one,2019-01-27T12:16:00,2019-01-27T12:22:00,1,{demo_dir},local\n")
    r = subprocess.run([sys.executable, "-m", "mms_mp.cli", "batch", str(ev), "--out", str(tmp_path / "o"),
                        "--workers", "1"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "INFO distributed" not in r.stderr and "distributed" not in r.stderr, r.stderr
    assert "1/1 events ok" in r.stdout
    s = pd.read_csv(tmp_path / "o" / "summary.csv")
    assert s.loc[0, "status"] == "ok" and s.loc[0, "stages_skipped"] == "timing"   # one probe: no timing


def test_summary_names_degraded_stages():
    "A stage that ran but flagged its result (displacement: closure_drift) was invisible in summary.csv."
    from mms_mp.batch import summary_row
    why = "MMS1: ∫V_N dt drifts −12.9 ± 0.3 km/s from the spacecraft at its own crossings"
    st = {"load": {"status": "ok"}, "displacement": {"status": "ok", "degraded": True, "reason": why}}
    r = summary_row(_doc(st))
    assert r["status"] == "ok" and r["stages_degraded"] == "displacement: " + why   # short: whole
    assert summary_row(_doc({"load": {"status": "ok"}}))["stages_degraded"] == ""


def test_summary_cells_cut_at_words_and_say_what_is_missing():
    """A walkthrough's summary.csv cut a degraded stage's reason at 80 characters mid-word ("(B_L: levels ") and kept
    only a warning's first line ("... not loaded (see event.missing):"), a Python attribute, not the list."""
    from mms_mp.batch import summary_row, warning_digest
    why = ("MMS1: no feature usable for detection, so no crossing can be found (B_L: levels 12.0 and 11.8 nT are "
           "closer than 3 noise σ; N: no plasma data in the window)")
    got = summary_row(_doc({"detect": {"status": "ok", "degraded": True, "reason": why}}))["stages_degraded"]
    assert got == "detect: MMS1: no feature usable for detection, so no crossing can be found…", got
    msg = ("6 product(s) not loaded (see event.missing):\n  mms1 hpca srvy moments: no files under x\n"
           "  mms2 hpca srvy moments: no files under y\n  mms3 edp fast dce: no files under z\n")
    d = warning_digest("MissingDataWarning", msg)
    assert d.startswith("MissingDataWarning: 6 products not loaded: mms1 hpca srvy moments, mms2 hpca srvy "
                        "moments, mms3 edp fast dce"), d
    assert "event.missing" not in d and d.endswith("(each with its reason: mp_analysis.json, provenance.missing)")
    long = warning_digest("MissingDataWarning", "40 product(s) not loaded (see event.missing):\n" + "".join(
        f"  mms{k % 4 + 1} fpi brst dis-moms part {k}: no files\n" for k in range(40)))
    assert ", …" in long and len(long) < 300 and "part 0, " in long   # cut between items, never in one
    assert warning_digest("UserWarning", "1 product(s) not loaded") == "UserWarning: 1 product not loaded"


def test_event_warnings_go_to_the_summary_not_stderr(demo_dir, tmp_path, capfd):
    "A worker's MissingDataWarning (whole text, with a source line) is one line in the event's summary row."
    import warnings
    from mms_mp.batch import run_event
    ev = {"name": "w", "start": "2019-01-27T12:16:00", "end": "2019-01-27T12:22:00", "probes": ["1"],
          "data_dir": str(demo_dir), "source": "local", "rate": "brst"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a warning that escaped the event would fail here
        r = run_event(ev, tmp_path, plot=False)
    assert r["status"] == "ok", r["error"]
    assert r["warnings"] and r["warnings"].startswith("MissingDataWarning: 1 product not loaded: mms1 "), r["warnings"]
    assert "provenance.missing" in r["warnings"] and r["outdir"] == str(tmp_path / "w")   # it wrote its files
    assert "MissingDataWarning" not in capfd.readouterr().err


def test_event_on_a_shared_thread_leaves_warnings_alone(demo_dir, tmp_path):
    "catch_warnings is process-wide: an event sharing its process with others (threads) does not capture them."
    import warnings
    from mms_mp.batch import run_event
    ev = {"name": "t", "start": "2019-01-27T12:16:00", "end": "2019-01-27T12:22:00", "probes": ["1"],
          "data_dir": str(demo_dir), "source": "local", "rate": "brst"}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        r = run_event(ev, tmp_path, plot=False, alone=False)
    assert r["status"] == "ok" and r["warnings"] is None and any("MissingDataWarning" in str(w.category) for w in seen)


def test_batch_exit_code_is_the_events_own_when_they_fail_alike(tmp_path):
    "One event without data exited 3 on its own but 4 in a batch; failures of one kind now give their code."
    ev = tmp_path / "events.csv"
    (tmp_path / "empty").mkdir()
    ev.write_text("name,start,end,probes,data_dir,source\n"
                  f"nodata,2019-01-27T12:16:00,2019-01-27T12:22:00,1,{tmp_path / 'empty'},local\n")
    assert main(["batch", str(ev), "--out", str(tmp_path / "out"), "--scheduler", "synchronous", "--quiet"]) == 3


def test_failed_event_names_no_folder_it_never_wrote(tmp_path):
    "An event that failed before writing anything named an outdir that was never made; now it names none."
    from mms_mp.batch import run_event
    (tmp_path / "empty").mkdir()
    ev = lambda name, d: {"name": name, "start": "2019-01-27T12:16", "end": "2019-01-27T12:22", "probes": "1",
                          "data_dir": str(d), "source": "local"}
    for r in (run_event(ev("nodata", tmp_path / "empty"), tmp_path / "out"),
              run_event(ev("nodir", tmp_path / "nope"), tmp_path / "out")):
        assert r["status"] == "failed" and r["outdir"] is None, r
        assert not (tmp_path / "out" / r["event"]).exists()


def test_failed_rerun_does_not_name_the_earlier_runs_folder(tmp_path):
    "A failed re-run named out/<event>, where an earlier run's set still was: not its output."
    import os, time
    from mms_mp.batch import run_event
    old = tmp_path / "out" / "again"
    old.mkdir(parents=True)
    (old / "mp_analysis.json").write_text("{}")   # the last good run's set, an hour ago
    os.utime(old / "mp_analysis.json", (time.time() - 3600,) * 2)
    ev = {"name": "again", "start": "2019-01-27T12:16", "end": "2019-01-27T12:22", "probes": "1",
          "data_dir": str(tmp_path / "nope"), "source": "local"}
    r = run_event(ev, tmp_path / "out")
    assert r["status"] == "failed" and r["outdir"] is None, r
    assert (old / "mp_analysis.json").is_file()   # the earlier set is left as it was


def test_ctrl_c_mid_survey_writes_the_summary_of_the_events_finished(demo_dir, tmp_path, monkeypatch):
    """`mms-mp batch` interrupted after an event finished exited 130 with no summary.csv at all. Now the events that
    finished are in it as they ran, the others `interrupted` (exit code 130), and the exit code is still 130.
    Ctrl-C comes as a KeyboardInterrupt from the second event run (one worker: the first one has finished)."""
    import mms_mp.batch
    real, calls, rows = mms_mp.batch.run_event, [], []
    def run_event(ev, *a):
        calls.append(ev["name"])
        if len(calls) == 2: raise KeyboardInterrupt
        rows.append(real(ev, *a))
        return rows[-1]
    monkeypatch.setattr(mms_mp.batch, "run_event", run_event)
    ev = tmp_path / "events.csv"
    ev.write_text("name,start,end,probes,data_dir,source\n" + "".join(
        f"e{k},2019-01-27T12:16:00,2019-01-27T12:22:00,1,{demo_dir},local\n" for k in range(3)))
    out = tmp_path / "out"
    assert main(["batch", str(ev), "--out", str(out), "--scheduler", "threads", "--workers", "1", "--quiet"]) == 130
    s = pd.read_csv(out / "summary.csv", dtype=str, keep_default_na=False).set_index("event")
    assert list(s.index) == ["e0", "e1", "e2"] and len(calls) == 2 and len(rows) == 1
    done = rows[0]["event"]
    assert s.loc[done, "status"] == "ok" and int(s.loc[done, "n_crossings"]) == rows[0]["n_crossings"] >= 1
    assert s.loc[done, "outdir"] == str(out / done)
    for e in set(s.index) - {done}:
        assert (s.loc[e, "status"], s.loc[e, "exit_code"]) == ("interrupted", "130"), s.loc[e]
        assert "interrupted" in s.loc[e, "error"] and s.loc[e, "outdir"] == ""   # wrote nothing
    assert not list(out.glob(".summary*")) and not list(out.glob("*.tmp"))   # written whole


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_ctrl_c_says_where_the_summary_is_and_what_it_holds(tmp_path, monkeypatch, capsys, quiet):
    """Ctrl-C: summary.csv was written, but the console said only "mms-mp: interrupted". Now one line says it was
    written, where, and how many events it holds (finished and interrupted), with --quiet too (it is the error)."""
    import mms_mp.batch
    real, calls = mms_mp.batch.run_event, []
    def run_event(ev, *a):
        calls.append(ev["name"])
        if len(calls) == 2: raise KeyboardInterrupt
        return real(ev, *a)   # the first event fails at once: its data folder is not there
    monkeypatch.setattr(mms_mp.batch, "run_event", run_event)
    ev = tmp_path / "events.csv"
    ev.write_text("name,start,end,probes,data_dir,source\n" + "".join(
        f"e{k},2019-01-27T12:16:00,2019-01-27T12:22:00,1,{tmp_path / 'nope'},local\n" for k in range(3)))
    out = tmp_path / "out"
    assert main(["batch", str(ev), "--out", str(out), "--scheduler", "synchronous", *quiet]) == 130
    std = capsys.readouterr()
    s = pd.read_csv(out / "summary.csv")
    assert sorted(s["status"]) == ["failed", "interrupted", "interrupted"], s   # dask picks the order
    assert std.err == (f"mms-mp batch: interrupted; wrote {out / 'summary.csv'}: 3 events (1 finished, "
                       "2 interrupted)\n"), std.err
    assert "events ok" not in std.out


def png_dpi(path) -> int:
    "The resolution a PNG says it was written at, dots per inch."
    from PIL import Image
    with Image.open(path) as im: return round(im.info["dpi"][0])


def test_batch_dpi_sets_each_events_figures(demo_dir, tmp_path):
    "`mms-mp batch --dpi N` writes every event's figures at N dots per inch (it had no --dpi: always 150)."
    ev = tmp_path / "events.csv"
    ev.write_text(f"name,start,end,probes,data_dir,source\nx,2019-01-27T12:16,2019-01-27T12:22,1,{demo_dir},local\n")
    assert main(["batch", str(ev), "--out", str(tmp_path / "o"), "--scheduler", "synchronous", "--dpi", "60",
                 "--quiet"]) == 0
    pngs = list((tmp_path / "o" / "x" / "figures").glob("*.png"))
    assert pngs and {png_dpi(p) for p in pngs} == {60}


@pytest.mark.parametrize("argv, words", [
    (["--dpi", "5000"], "argument --dpi: '5000' is not a whole number of dots per inch in 20–1200"),
    (["--dpi", "300", "--scheduler", "threads"], "dpi 300 asks for figures, but analyze on threads draws none"),
])
def test_batch_bad_dpi_is_usage_error(tmp_path, capsys, argv, words):
    "A --dpi out of range, or one that no figure would follow (analyze on threads), is exit 2 before any event runs."
    p = tmp_path / "e.csv"
    p.write_text(HEAD + GOOD)
    assert main(["batch", str(p), "--out", str(tmp_path / "o"), *argv, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert words in err and not (tmp_path / "o").exists(), err
    if "threads" in argv: assert "--scheduler processes or --scheduler synchronous" in err


BATCH_CTRL_C = """import sys
from mms_mp.batch import run_batch
try: run_batch(sys.argv[1], sys.argv[2], workers=1, scheduler="processes")
except KeyboardInterrupt: sys.exit(130)
"""


def test_ctrl_c_on_local_processes_never_starts_the_events_queued(demo_dir, tmp_path):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) during the first of three events on dask's
    processes scheduler: the survey stops, and the events queued never start. dask's own pool ran every queued
    event to its end first (its worker took all three events as one batch, and finished the batch)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    ev = tmp_path / "events.csv"
    ev.write_text("name,start,end,probes,data_dir,source\n" + "".join(
        f"e{k},2019-01-27T12:16:00,2019-01-27T12:22:00,1,{demo_dir},local\n" for k in range(3)))
    out = tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.Popen([sys.executable, "-c", BATCH_CTRL_C, str(ev), str(out)], env=env, start_new_session=True,
                         preexec_fn=_sigint_default,
                         stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not list(out.glob("e*")) and time.monotonic() - t0 < 120 and p.poll() is None: time.sleep(0.05)
    os.killpg(p.pid, signal.SIGINT)
    t1 = time.monotonic()
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 130, err
    assert time.monotonic() - t1 < 30, "stopped with the running event (measured: about 1 s)"
    assert len(list(out.glob("e*"))) == 1, "the events queued never started"
    s = pd.read_csv(out / "summary.csv").set_index("event")   # every event is in it
    ran = list(out.glob("e*"))[0].name   # dask picks which event runs first
    queued = s.drop(ran)
    assert list(queued["status"]) == ["interrupted"] * 2 and list(queued["exit_code"]) == [130] * 2
    # the running one finished, or not, as the signal came (a race the test cannot fix)
    assert (s.loc[ran, "status"], s.loc[ran, "exit_code"]) in (("ok", 0), ("interrupted", 130))


@pytest.mark.loopback
def test_ctrl_c_on_a_local_cluster_says_one_line(demo_dir, tmp_path):
    """`mms-mp batch --mode report` on a LocalCluster, Ctrl-C to the process group while the reports run: exit 130
    and one line on stderr. The nanny's "Worker process still alive after 4.0 seconds, killing" warnings (one per
    worker: their report kernels kept them busy) came after it."""
    import os
    import signal
    import subprocess
    import sys
    import time
    ev = tmp_path / "events.csv"
    ev.write_text("name,start,end,probes,data_dir,source\n" + "".join(
        f"e{k},2019-01-27T12:15:00,2019-01-27T12:55:00,1 2 3 4,{demo_dir},local\n" for k in range(2)))
    out = tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.Popen([sys.executable, "-m", "mms_mp.cli", "batch", str(ev), "--out", str(out), "--mode", "report",
                          "--quiet"], env=env, start_new_session=True, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_sigint_default)
    t0 = time.monotonic()
    while len(list(out.glob(".e*.staging-*/.analysis.lock"))) < 2 and time.monotonic() - t0 < 180 and p.poll() is None:
        time.sleep(0.1)
    os.killpg(p.pid, signal.SIGINT)
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 130, err
    # one line: the summary, where, what it holds (a report may finish as the signal comes)
    head = re.escape(f"mms-mp batch: interrupted; wrote {out / 'summary.csv'}: 2 events (")
    assert re.fullmatch(head + r"[01] finished, [12] interrupted\)\n", err), err
    assert not list(out.glob("e*/event_report.ipynb"))


def _strict_events(tmp_path, demo_dir) -> Path:
    "Two events of the simulated 2019-01-27 window: MMS1 and MMS2 (clean), and MMS1 alone (timing skipped)."
    ev = tmp_path / "events.csv"
    ev.write_text("name,start,end,probes,data_dir,source\n"
                  f"two,2019-01-27T12:16:00,2019-01-27T12:22:00,1 2,{demo_dir},local\n"
                  f"one,2019-01-27T12:16:00,2019-01-27T12:22:00,1,{demo_dir},local\n")
    return ev


def test_batch_strict_follows_analyze_strict(demo_dir, tmp_path, capsys):
    """`batch` had no --strict: a survey could not tell degraded events from clean ones. With it, an event that
    finished degraded is `degraded` with exit code 6 and the reasons `analyze --strict` gives for it; the batch
    exits 6. Without it nothing changes."""
    ev = _strict_events(tmp_path, demo_dir)
    run = lambda out, *flags: main(["batch", str(ev), "--out", str(tmp_path / out), "--scheduler", "synchronous",
                                    "--quiet", *flags])
    assert run("plain") == 0
    s = pd.read_csv(tmp_path / "plain" / "summary.csv").set_index("event")
    assert s["status"].tolist() == ["ok", "ok"] and s["degraded_reasons"].isna().all()
    assert run("strict", "--strict") == 6
    s = pd.read_csv(tmp_path / "strict" / "summary.csv", keep_default_na=False).set_index("event")
    assert s.loc["two", ["status", "exit_code", "degraded_reasons"]].tolist() == ["ok", 0, ""]
    assert s.loc["one", ["status", "exit_code"]].tolist() == ["degraded", 6]
    capsys.readouterr()
    assert main(["analyze", "--start", "2019-01-27T12:16:00", "--end", "2019-01-27T12:22:00", "--probes", "1",
                 "--source", "local", "--data-dir", str(demo_dir), "--outdir", str(tmp_path / "a"), "--quiet",
                 "--strict"]) == 6
    said = [x.removeprefix("mms-mp analyze --strict: degraded: ") for x in capsys.readouterr().err.splitlines()]
    assert said == ["stage timing skipped: multi-spacecraft timing needs at least 2 probes; this analysis has MMS1"]
    assert s.loc["one", "degraded_reasons"] == "; ".join(said)   # the same rule, the same words


def test_batch_strict_a_failed_stage_comes_before_degraded(demo_dir, tmp_path, monkeypatch):
    "As with analyze --strict, an event with a failed stage is partial (5) whether or not it also degraded."
    import mms_mp.pipeline
    def broken(res, cfg): raise RuntimeError("thickness blew up")
    plan = tuple((n, broken if n == "thickness" else f, needs) for n, f, needs in mms_mp.pipeline.PLAN)
    monkeypatch.setattr(mms_mp.pipeline, "PLAN", plan)
    ev = _strict_events(tmp_path, demo_dir)
    assert main(["batch", str(ev), "--out", str(tmp_path / "o"), "--scheduler", "synchronous", "--quiet",
                 "--strict"]) == 5
    s = pd.read_csv(tmp_path / "o" / "summary.csv").set_index("event")
    assert s["status"].tolist() == ["partial", "partial"] and s["exit_code"].tolist() == [5, 5]
    assert s.loc["one", "degraded_reasons"].startswith("stage timing skipped")


def test_reports_on_threads_two_events(demo_dir, tmp_path, monkeypatch):
    """`batch --scheduler threads --mode report` failed ("No such file or directory: 'out/a'"): papermill ran each
    report in its folder by changing the working folder of the whole process, which the threads share. Two reports
    on threads, with a relative --out: both complete, each in its own folder, and the process's folder unchanged."""
    ev = tmp_path / "events.csv"
    ev.write_text("name,start,end,probes,data_dir,source\n" + "".join(
        f"{k},2019-01-27T12:16:00,2019-01-27T12:22:00,1,{demo_dir},local\n" for k in "ab"))
    monkeypatch.chdir(tmp_path)
    assert main(["batch", "events.csv", "--out", "out", "--scheduler", "threads", "--workers", "2",
                 "--mode", "report", "--quiet"]) == 0
    assert Path.cwd() == tmp_path
    s = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("event")
    assert s["status"].tolist() == ["ok", "ok"], s["error"].tolist()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a", "b", "summary.csv"]
    truth = json.loads((demo_dir / "truth.json").read_text())
    T = lambda x: np.datetime64(x.rstrip("Z"), "ns")
    want = [c for c in truth["crossings"] if c["complete"] and c["probe"] == "1"
            and T("2019-01-27T12:16") <= T(c["layer_start"]) and T(c["layer_end"]) < T("2019-01-27T12:22")]
    for k in "ab":
        assert (tmp_path / "out" / k / "event_report.html").is_file()
        doc = json.loads((tmp_path / "out" / k / "analysis" / "mp_analysis.json").read_text())
        assert len(want) == len(doc["crossings"]) == 1 and all(   # known answer: MMS1's one crossing, in its layer
            T(c["layer_start"]) <= T(x["time"]) <= T(c["layer_end"]) for c, x in zip(want, doc["crossings"]))


@pytest.mark.loopback
@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_survey_workers_leave_ctrl_c_to_the_parent():
    """A Ctrl-C sent to the process group reached the LocalCluster's workers too: tracebacks, and the event's lock
    and staging folder left behind. The survey sets SIGINT ignored in each worker process (its main thread)."""
    import logging
    import signal
    from dask.distributed import Client, LocalCluster
    from mms_mp.batch import _ignore_sigint
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL) as cl, Client(cl) as c:
        assert set(c.run(_ignore_sigint).values()) == {True}
        assert set(c.run(signal.getsignal, signal.SIGINT).values()) == {signal.SIG_IGN}


def _children_starting(pid: int) -> bool:
    """Whether a process of `pid`'s group is a worker in the middle of its imports: multiprocessing's spawn_main on
    its command line and an extension module of site-packages mapped (SIGINT then lands in an import)."""
    for p in Path("/proc").iterdir():
        if not p.name.isdigit(): continue
        try:
            if (os.getpgid(int(p.name)) == pid and b"spawn_main" in (p / "cmdline").read_bytes()
                    and "site-packages" in (p / "maps").read_text()): return True
        except (OSError, ProcessLookupError): continue
    return False


@pytest.mark.loopback
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("when", ["workers starting", "events running"])
@pytest.mark.parametrize("sched", [[], ["--scheduler", "processes"]])
def test_ctrl_c_on_a_local_cluster_leaves_one_line_and_nothing_behind(demo_dir, tmp_path, when, sched):
    """Ctrl-C to the process group while the LocalCluster's workers were still starting printed their tracebacks
    (KeyboardInterrupt in spawn_main, while they imported); while events ran, the cluster's close ended the workers
    mid-event and left each event's lock and staging folder until the next run, and the resource tracker warned of
    'leaked semaphore objects'. dask's processes scheduler printed the same tracebacks from its pool's workers. Now:
    exit 130, the one line, and no hidden file in --out."""
    import signal
    import subprocess
    import sys
    import time
    ev = tmp_path / "events.csv"
    ev.write_text("name,start,end,probes,data_dir,source\n" + "".join(
        f"e{k},2019-01-27T12:15:00,2019-01-27T12:55:00,1 2,{demo_dir},local\n" for k in range(2)))
    out = tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.Popen([sys.executable, "-m", "mms_mp.cli", "batch", str(ev), "--out", str(out), "--quiet",
                          *sched], env=env, start_new_session=True, stderr=subprocess.PIPE, text=True,
                         preexec_fn=_sigint_default)
    ready = ((lambda: _children_starting(p.pid)) if when == "workers starting"
             else lambda: len(list(out.glob(".e*.staging-*"))) == 2)
    t0 = time.monotonic()
    while not ready() and time.monotonic() - t0 < 180 and p.poll() is None: time.sleep(0.01)
    assert p.poll() is None, "the survey ended before the moment came"
    os.killpg(p.pid, signal.SIGINT)
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 130, err
    assert re.fullmatch(re.escape(f"mms-mp batch: interrupted; wrote {out / 'summary.csv'}: 2 events (")
                        + r"[0-2] finished, [0-2] interrupted\)\n", err), err
    assert [q.name for q in out.iterdir() if q.name.startswith(".")] == []
