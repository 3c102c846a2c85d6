"""Hostile inputs to the output folders and input files (review s33): bad input is exit 2 with one sentence before any
work, an output set is never written where a rerun would be refused, and nothing is left behind.

Covered here (each test says what was wrong before):
- batch: an event name used as a path (../x, /abs, ., a/b beside a); an events file that is empty, UTF-16, a folder,
  or repeats a column; a scenario row on a date the simulator does not cover; --out a file;
- outset: an output folder inside another set, or a symlink loop; lock files left beside every folder;
- synthetic: a data folder that is a file; overlay: the template written to a folder, "" or /proc/version.
"""
import json
import os
import shutil
from pathlib import Path

import pytest

from mms_mp.batch import read_events, run_batch
from mms_mp.cli import main
from mms_mp.core import EXIT_USAGE, InputError

TR = ("2015-09-02T16:58:44", "2015-09-02T17:07:04")


@pytest.fixture
def real(repo_root, tmp_path):
    "A copy of the REAL 2015-09-02 MMS1 FGM burst files (the tests damage their copy only)."
    d = tmp_path / "real"
    src = repo_root / "tests" / "fixtures" / "real" / "mms1" / "fgm" / "brst" / "l2" / "2015" / "09" / "02"
    shutil.copytree(src, d / "mms1" / "fgm" / "brst" / "l2" / "2015" / "09" / "02")
    return d


def _events(tmp_path, name, extra="") -> Path:
    p = tmp_path / "events.csv"
    p.write_text(f"name,start,end{extra and ',' + extra.split('=')[0]}\n"
                 f"{name},2019-01-27T12:16,2019-01-27T12:22{extra and ',' + extra.split('=')[1]}\n")
    return p


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "a/b", "a\\b", ".", "..", ".hidden", "summary.csv",
                                  "errors.log", "x" * 256])
def test_event_name_that_is_a_path_is_refused_before_any_work(tmp_path, name):
    "A name was joined to --out as is: ../escape and /abs wrote outside it, '.' into it, a/b inside event a (exit 0)."
    ev = _events(tmp_path, name)
    with pytest.raises(InputError, match="column name: .* must be one plain folder name"):
        read_events(ev)
    out = tmp_path / "out"
    assert main(["batch", str(ev), "--out", str(out), "--scheduler", "synchronous", "--quiet"]) == EXIT_USAGE
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["events.csv"]


def test_events_file_problems_are_sentences(tmp_path, capsys):
    "Zero bytes gave 'EmptyDataError', UTF-16 a UnicodeDecodeError (both exit 4); a folder 'does not exist'; a column"
    " given twice was 'unknown column(s) ['start.1']'."
    p = tmp_path / "e.csv"
    cases = [(b"", "is empty"), ("start,end\n2019-01-27T12:16,2019-01-27T12:22\n".encode("utf-16"), "is UTF-16 text"),
             (b"start,end,start\n2019-01-27T12:16,2019-01-27T12:22,2019-01-27T12:16\n",
              "column(s) ['start'] appear more than once")]
    for raw, words in cases:
        p.write_bytes(raw)
        assert main(["batch", str(p), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_USAGE
        assert words in capsys.readouterr().err
    with pytest.raises(InputError, match="is a folder"):
        read_events(tmp_path)
    with pytest.raises(InputError) as e:
        read_events(tmp_path / "none.csv")
    assert "data_dir" not in str(e.value)   # the CLI would spell a column as --data-dir


def test_scenario_row_outside_the_simulator_is_refused_when_read(tmp_path):
    "A 2015 scenario row ran, then failed (exit 3) with 44 lines about 2015 folders in the SIMULATED cache."
    p = tmp_path / "e.csv"
    p.write_text(f"start,end,scenario\n{TR[0]},{TR[1]},default\n")
    with pytest.raises(InputError, match="SIMULATED demo event, 2019-01-27T12:15:00.000Z–2019-01-27T12:55:00.000Z"):
        read_events(p)
    p.write_text(f"start,end,scenario,data_dir\n{TR[0]},{TR[1]},default,{tmp_path / 'sim'}\n")
    with pytest.raises(InputError, match="simulate inside 2019-01-27 10:02–14:58 UT"):
        read_events(p)
    assert not (tmp_path / "sim").exists()


def test_batch_out_that_is_a_file_or_inside_a_set(tmp_path, capsys):
    "--out a file was exit 4 'FileExistsError'."
    p = _events(tmp_path, "a")
    (tmp_path / "afile").write_text("x")
    assert main(["batch", str(p), "--out", str(tmp_path / "afile"), "--quiet"]) == EXIT_USAGE
    assert "is a file: choose a folder" in capsys.readouterr().err
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "manifest.json").write_text('{"format": "mms_mp output set", "files": []}')
    with pytest.raises(InputError, match="inside the mms_mp output set"):
        run_batch(p, tmp_path / "set" / "survey", scheduler="synchronous")
    # --out that is itself a set: its summary.csv would be a file the set's manifest does not list
    with pytest.raises(InputError, match="is an mms_mp output set"):
        run_batch(p, tmp_path / "set", scheduler="synchronous")
    assert sorted(q.name for q in (tmp_path / "set").iterdir()) == ["manifest.json"]


def test_survey_refuses_before_any_event_when_a_folder_is_another_kind(tmp_path, monkeypatch):
    """--mode report into an --mode analyze survey failed every event one by one and replaced the good summary.csv;
    now nothing runs and summary.csv stays as it was."""
    from mms_mp import batch
    p = _events(tmp_path, "a")
    out = tmp_path / "survey"
    (out / "a").mkdir(parents=True)
    (out / "a" / "manifest.json").write_text('{"format": "mms_mp output set", "kind": "analysis", "files": []}')
    (out / "summary.csv").write_text("event,status\na,ok\n")
    def no_event(*a, **k): raise AssertionError("an event ran")
    monkeypatch.setattr(batch, "_run_local", no_event)
    with pytest.raises(InputError, match="no event was run, summary.csv is as it was: a: .* holds an mms_mp analysis set"):
        run_batch(p, out, scheduler="synchronous", mode="report")
    assert (out / "summary.csv").read_text() == "event,status\na,ok\n"


def test_two_surveys_into_one_folder_the_second_is_refused(tmp_path):
    "Two batches into one --out interleaved their events and the last summary.csv contradicted the folders."
    from mms_mp.outset import OutdirBusy, outdir_lock
    p = _events(tmp_path, "a")
    out = tmp_path / "survey"
    out.mkdir()
    with outdir_lock(out):   # another survey holds the folder
        with pytest.raises(OutdirBusy, match="being written by another mms_mp run"):
            run_batch(p, out, scheduler="synchronous")
    assert not any(out.iterdir())


def test_batch_quiet_still_shows_failed_events(tmp_path, capsys):
    "--quiet ('only errors') dropped the failed events' lines: a run with failures printed nothing."
    p = tmp_path / "e.csv"
    p.write_text(f"name,start,end,probes,data_dir,source\nempty,2019-01-27T12:16,2019-01-27T12:22,1,{tmp_path / 'none'},local\n")
    (tmp_path / "none").mkdir()
    code = main(["batch", str(p), "--out", str(tmp_path / "o"), "--scheduler", "synchronous", "--quiet"])
    err = capsys.readouterr().err
    assert code != 0 and "  empty: " in err


def test_analyze_outdir_inside_a_set_or_a_link_loop_refused_before_the_analysis(real, tmp_path, monkeypatch):
    """`--outdir set/inner` was written (exit 0), and the set could then not be rerun; a symlink loop as --outdir ran
    the whole analysis, then failed (exit 4) on the rename. Both are refused before any data is read."""
    from mms_mp import pipeline
    from mms_mp.pipeline import analyze
    kw = dict(source="local", data_dir=real, rate="brst")
    first = analyze(TR, ["1"], outdir=tmp_path / "set", **kw)
    assert first.files
    def no_analysis(*a, **k): raise AssertionError("the analysis ran")
    monkeypatch.setattr(pipeline, "_run_plan", no_analysis)
    with pytest.raises(InputError, match=f"inside the mms_mp output set {tmp_path / 'set'}"):
        analyze(TR, ["1"], outdir=tmp_path / "set" / "inner", **kw)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(InputError, match="never reaches a folder"):
        analyze(TR, ["1"], outdir=tmp_path / "loop", **kw)
    # no lock file beside any folder, after a run and after the refused ones
    assert not list(tmp_path.rglob("*.lock"))


def test_demo_data_dir_that_is_a_file(tmp_path, capsys):
    "demo --data-dir afile was exit 4 'NotADirectoryError'."
    from mms_mp.synthetic import simulate_event
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        simulate_event(tmp_path / "afile")
    assert main(["demo", "--data-dir", str(tmp_path / "afile"), "--outdir", str(tmp_path / "o"), "--quiet"]) == 2


@pytest.mark.parametrize("where, words", [("folder", "is a folder"), ("", "path is empty"),
                                          ("/proc/version", "cannot write /proc/version")])
def test_overlay_template_path_refused(tmp_path, where, words):
    "overlay-template to a folder, '' or /proc/version was exit 4 with IsADirectoryError, OSError, FileNotFoundError."
    from mms_mp.overlay import write_overlay_template
    path = tmp_path if where == "folder" else where
    with pytest.raises(InputError, match=words):
        write_overlay_template(path)
    assert not [p for p in tmp_path.iterdir()]


@pytest.mark.parametrize("kind", ["dangling link", "fifo", "folder", "another date"])
def test_file_that_cannot_be_this_file_is_named_and_degrades_the_load(real, repo_root, kind):
    """A dangling symlink, a FIFO, a folder, or a valid CDF of 2019-11-30 under the 2015-09-02 file's name was skipped
    in silence ("load ok"); a zero-byte file under that name was already named. Now each is named, with what it is,
    in event.missing (cause partly_unreadable), as the zero-byte file is."""
    from mms_mp.data import MissingDataWarning, load_event
    day = real / "mms1" / "fgm" / "brst" / "l2" / "2015" / "09" / "02"
    f = day / "mms1_fgm_brst_l2_20150902165844_v4.18.0.cdf"
    f.unlink()
    if kind == "dangling link": f.symlink_to(real / "gone.cdf")
    elif kind == "fifo": os.mkfifo(f)
    elif kind == "folder": f.mkdir()
    else: shutil.copy(next((repo_root / "tests/fixtures/real/mms1/fgm/brst/l2/2019/11/30").glob("*.cdf")), f)
    with pytest.warns(MissingDataWarning, match=f.name):
        ev = load_event(TR, "1", instruments="fgm", rate="brst", source="local", data_dir=real)
    (m,) = ev.missing
    assert m["cause"] == "partly_unreadable" and m["files_rejected"] == [f.name]
    words = {"dangling link": "a symbolic link to nothing", "fifo": "no regular file", "folder": "it is a folder",
             "another date": "are not of the time its name says (2015-09-02)"}[kind]
    assert words in m["reason"]
    assert ev.has("1", "B_gse")   # the other file is read


def test_sdc_offline_does_not_say_the_local_files_are_missing(real, capsys):
    "--source sdc offline said 'no fgm brst files for mms1 under <folder>' with both files in that folder."
    from mms_mp.core import NoDataError
    from mms_mp.data import load_event
    with pytest.raises(NoDataError) as e:
        load_event(TR, "1", instruments="fgm", rate="brst", source="sdc", data_dir=real)
    assert "no fgm brst" not in str(e.value)
    assert "2 local fgm brst file(s) for this window under" in str(e.value) and "were not read" in str(e.value)
    assert main(["analyze", "--start", TR[0], "--end", TR[1], "--probes", "1", "--rate", "brst", "--source", "sdc",
                 "--data-dir", str(real), "--quiet"]) == 3
    assert "use --source auto" in capsys.readouterr().err


@pytest.mark.parametrize("kw, words", [({"probes": None}, "probes=None is not one probe"),
                                       ({"data_dir": 5}, "data_dir=5 is not a folder path"),
                                       ({"data_dir": b"/data"}, "is not a folder path"),
                                       ({"trange": ("1970-01-01", "1970-01-02")}, "before MMS was launched")])
def test_load_event_misuse_is_an_input_error(real, kw, words):
    "TypeError from pathlib or list(None), and a 1970 window searched as …/1969/12/31 (NoDataError), before."
    from mms_mp.data import load_event
    args = {"trange": TR, "probes": "1", "data_dir": real} | kw
    with pytest.raises(InputError, match=words):
        load_event(args.pop("trange"), args.pop("probes"), source="local", **args)


def test_failed_event_error_cell_is_one_line_whole_text_in_errors_log(tmp_path, real):
    "A failed event's error cell held the whole 44-line NoDataError (9.5 KB) in one spreadsheet cell."
    import pandas as pd
    (tmp_path / "empty").mkdir()
    evs = [{"name": "nodata", "start": TR[0], "end": TR[1], "probes": "1", "data_dir": str(tmp_path / "empty"),
            "source": "local"}]
    run_batch(evs, tmp_path / "out", scheduler="synchronous")
    cell = pd.read_csv(tmp_path / "out" / "summary.csv").loc[0, "error"]
    assert "\n" not in cell and len(cell) <= 300 and cell.endswith("(whole text: errors.log)")
    assert cell.startswith("NoDataError: no usable MMS data for probes 1") and "mms1 fgm auto (brst, then srvy)" in cell
    log = (tmp_path / "out" / "errors.log").read_text()
    assert log.startswith("== nodata ==\nNoDataError: ") and log.count("\n  mms1 ") >= 5   # every product's line
    run_batch([evs[0] | {"data_dir": str(real), "rate": "brst"}], tmp_path / "out", scheduler="synchronous")
    assert not (tmp_path / "out" / "errors.log").exists()   # the earlier survey's errors are not this one's


def test_analyze_config_not_a_dict_is_an_input_error(real):
    "analyze(..., config=[1, 2]) raised AttributeError: 'list' object has no attribute 'items'."
    from mms_mp.pipeline import analyze
    with pytest.raises(InputError, match=r"config=\[1, 2\] is not a dict of sections"):
        analyze(TR, ["1"], source="local", data_dir=real, config=[1, 2])


def test_unnamed_copy_of_a_row_is_refused(tmp_path):
    "Unnamed duplicate rows ran twice without a word (event000 and event001, the same analysis)."
    p = tmp_path / "e.csv"
    p.write_text("start,end,probes\n2019-01-27T12:16,2019-01-27T12:22,1\n2019-01-27T12:16:00,2019-01-27T12:22,mms1\n")
    with pytest.raises(InputError, match="rows 1 and 2 are the same event"):
        read_events(p)
    p.write_text("name,start,end\na,2019-01-27T12:16,2019-01-27T12:22\nb,2019-01-27T12:16,2019-01-27T12:22\n")
    assert [e["name"] for e in read_events(p)] == ["a", "b"]   # named: both run, as asked


def test_overlay_template_cli_path_refused_is_exit_2(tmp_path, capsys):
    "The command writes through write_overlay_template: a folder or '' is exit 2 with its sentence (was exit 4)."
    from mms_mp.cli import main
    assert main(["overlay-template", str(tmp_path)]) == 2
    assert main(["overlay-template", ""]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "path is empty" in err and "analysis failed" not in err
    assert main(["overlay-template", str(tmp_path / "p.json"), "--quiet"]) == 0 and (tmp_path / "p.json").exists()


def test_report_and_batch_messages_name_their_own_option(tmp_path, capsys):
    "report --out <a file> said 'choose another --outdir', an option report does not have."
    (tmp_path / "afile").write_text("x")
    p = _events(tmp_path, "a")
    assert main(["batch", str(p), "--out", str(tmp_path / "afile"), "--quiet"]) == EXIT_USAGE
    assert main(["report", "--start", "2019-01-27T12:16", "--end", "2019-01-27T12:22", "--out",
                 str(tmp_path / "afile"), "--quiet"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "--outdir" not in err and "mms-mp report: bad input" in err, err


# ---- review s33b, items left open (session 34) -------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["loop", "chain loop"])
def test_batch_out_a_symlink_loop_is_a_sentence(tmp_path, capsys, kind):
    "`batch --out <a symlink loop>` said 'cannot make output folder loopA (File exists)': what is wrong, what to do?"
    p = _events(tmp_path, "a")
    loop = tmp_path / "loopA"
    if kind == "loop": loop.symlink_to(loop)
    else:
        loop.symlink_to(tmp_path / "loopB")
        (tmp_path / "loopB").symlink_to(loop)
    assert main(["batch", str(p), "--out", str(loop), "--scheduler", "synchronous", "--quiet"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "is a symbolic link that never reaches a folder (a loop): remove the link" in err, err
    assert "File exists" not in err and "--outdir" not in err


def test_batch_out_a_dangling_symlink_makes_its_target(tmp_path):
    "A link to a folder not yet made (`ln -s /scratch/survey out`) was 'File exists' too: the survey makes the target."
    out = tmp_path / "out"
    out.symlink_to(tmp_path / "target" / "survey")
    from mms_mp.batch import _survey_folder
    assert _survey_folder(out) == out and (tmp_path / "target" / "survey").is_dir()


def test_batch_refusal_names_the_events_file_column_not_a_flag(tmp_path, capsys):
    """A scenario row outside the demo window said 'without a --data-dir column … give the row a --data-dir': the CLI
    spelled the column as analyze's flag, which batch does not have."""
    p = tmp_path / "e.csv"
    p.write_text(f"start,end,scenario\n{TR[0]},{TR[1]},default\n")
    assert main(["batch", str(p), "--out", str(tmp_path / "o"), "--scheduler", "synchronous"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "without a data_dir column" in err and "give the row a data_dir" in err, err
    assert "--data-dir" not in err
    # a batch flag stays a flag
    assert main(["batch", str(_events(tmp_path, "a")), "--out", str(tmp_path / "o"), "--scheduler", "threads",
                 "--dpi", "300"]) == 2
    assert "--scheduler processes" in capsys.readouterr().err


def test_relative_data_dir_is_read_from_the_events_files_folder(tmp_path, real, monkeypatch):
    """A relative data_dir was read against the current folder: `cd b && mms-mp batch rel.csv` with data_dir ../real
    worked, the same file run from elsewhere failed ('data_dir real is not a folder'). An events file travels with its
    data, as a manifest does: a relative data_dir is read from the file's own folder, and summary.csv says which
    absolute folder each event read."""
    import pandas as pd
    (tmp_path / "b").mkdir()
    ev = tmp_path / "b" / "rel.csv"
    ev.write_text(f"name,start,end,probes,data_dir,source,rate\nr,{TR[0]},{TR[1]},1,../real,local,brst\n")
    assert read_events(ev)[0]["data_dir"] == str(real)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["batch", str(ev), "--out", "o", "--scheduler", "synchronous", "--quiet"]) == 0
    s = pd.read_csv(elsewhere / "o" / "summary.csv").set_index("event")
    assert s.loc["r", "status"] == "ok" and s.loc["r", "data_dir"] == str(real)
    # events given as a list (the API): relative to the current folder, as any path a Python caller passes
    monkeypatch.chdir(tmp_path)
    rows = run_batch([{"name": "r", "start": TR[0], "end": TR[1], "probes": "1", "data_dir": "real",
                       "source": "local", "rate": "brst"}], tmp_path / "o2", scheduler="synchronous")
    assert rows.loc[0, "data_dir"] == str(real) and rows.loc[0, "status"] == "ok"


def test_batch_row_too_long_for_the_grids_is_refused_when_read(tmp_path, capsys):
    """A 10-year row ran, loaded its data and failed two stages in the resampler's words ('use a coarser cadence or a
    shorter t_range'). It is refused when the events file is read (exit 2, nothing run), naming the row, the limit and
    its unit: 50,000,000 points of the detector's 0.5 s grid, 289.35 days."""
    p = tmp_path / "e.csv"
    p.write_text("name,start,end\nok,2019-01-27T12:16,2019-01-27T12:22\nlong,2015-03-13,2026-01-01\n")
    assert main(["batch", str(p), "--out", str(tmp_path / "o"), "--scheduler", "synchronous"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert ("row 2 (long): the window is 3947 days long" in err and "the longest window at that spacing is 289.35 "
            "days (2.5e+07 s): split it into rows no longer than that" in err), err
    assert "t_range" not in err and not (tmp_path / "o").exists()
