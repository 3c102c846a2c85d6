"""A new user's review of the CLI and API on real data (tests/fixtures/real): times misread, messages that
pointed the wrong way, degraded runs a script could not tell from clean ones (`--strict`), and one vector
written two ways in report.html. Each test failed before its fix.
"""
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from mms_mp.cli import main
from mms_mp.core import InputError, as_datetime64
from mms_mp.pipeline import analyze

DATA = Path(__file__).parent / "fixtures" / "real"
REAL = ["--probes", "1", "--rate", "brst", "--source", "local", "--data-dir", str(DATA)]


def run(capsys, *argv):
    "main(argv): (exit code, stdout, stderr)."
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------------------------------------- 1. times
def test_iso_basic_form_is_read_as_the_date(tmp_path, capsys):
    "'20150902' was read by numpy as the year 20150902 and wrapped to 1908-06-23T21:48:25.465."
    assert as_datetime64("20150902") == np.datetime64("2015-09-02", "ns")
    assert as_datetime64("20150902T170204.5Z") == np.datetime64("2015-09-02T17:02:04.5", "ns")
    code, out, err = run(capsys, "analyze", "--start", "20150902T165844", "--end", "20150902T170704", *REAL,
                         "--outdir", tmp_path / "o")
    assert code == 0, err
    assert out.startswith("event 2015-09-02T16:58:44.000Z – 2015-09-02T17:07:04.000Z, probes 1")


@pytest.mark.parametrize("start, words", [
    ("1441213200", ["'1441213200' is a number, not a time", "basic form '20190127T121500'",
                    "as Unix seconds (since 1970-01-01 UTC) it is 2015-09-02T17:00:00"]),
    ("2015090217", ["'2015090217' is a number, not a time"]),
    ("2300-01-01", ["the year 2300", "holds the years 1678–2261 only"]),
    ("2016-12-31T23:59:60", ["is a leap second", "give 2016-12-31T23:59:59.999 or the next second"]),
    ("2014-12-31T23:00", ["start 2014-12-31T23:00:00 is before MMS was launched (2015-03-13)"])])
def test_times_refused_with_what_to_give(tmp_path, capsys, start, words):
    "1441213200 was the year 2206 ('start is not before end'), 2300 wrapped round, :60 got the generic message."
    code, _, err = run(capsys, "analyze", "--start", start, "--end", "2017-01-01T00:02", *REAL,
                       "--outdir", tmp_path / "o")
    assert code == 2 and all(w in err for w in words), err
    assert not (tmp_path / "o").exists()


def test_api_refuses_a_start_before_launch():
    with pytest.raises(InputError, match=r"analyze\(\): start 2014-06-01T00:00:00 is before MMS was launched"):
        analyze(("2014-06-01", "2014-06-02"), ["1"], source="local", data_dir=DATA)
    with pytest.raises(InputError, match="number, not a time.*Unix seconds"):
        analyze(("1441213200", "2015-09-02T17:02"), ["1"], source="local", data_dir=DATA)


# ---------------------------------------------------------------------------------------------- 2. messages
def test_data_dir_one_level_too_deep_names_its_parent(tmp_path, capsys):
    "--data-dir .../mms1 said 'no usable MMS data ... run with --source sdc'."
    code, _, err = run(capsys, "analyze", "--start", "2015-09-02T17:00", "--end", "2015-09-02T17:02",
                       "--probes", "1", "--source", "local", "--data-dir", DATA / "mms1", "--outdir", tmp_path / "o")
    assert code == 2 and f"is one probe's folder (it holds fgm/, fpi/): pass its parent, --data-dir {DATA}" in err


@pytest.mark.parametrize("env, origin", [({}, "pySPEDAS's default, ./pydata under"),
                                         ({"MMS_DATA_DIR": "mmsdata"}, "($MMS_DATA_DIR)"),
                                         ({"SPEDAS_DATA_DIR": "spd"}, "($SPEDAS_DATA_DIR/mms)")])
def test_default_data_dir_says_where_it_came_from(tmp_path, capsys, monkeypatch, env, origin):
    "--source local without --data-dir said only 'data_dir pydata is not a folder'."
    monkeypatch.chdir(tmp_path)
    for k in ("MMS_DATA_DIR", "SPEDAS_DATA_DIR"): monkeypatch.delenv(k, raising=False)
    for k, v in env.items(): monkeypatch.setenv(k, v)
    code, _, err = run(capsys, "analyze", "--start", "2015-09-02T17:00", "--end", "2015-09-02T17:02",
                       "--probes", "1", "--source", "local", "--outdir", tmp_path / "o")
    assert code == 2 and "no --data-dir was given, so the default" in err and origin in err, err
    assert "pass --data-dir FOLDER" in err and "set MMS_DATA_DIR" in err


def test_python_api_rate_words_and_no_command_line_talk():
    "analyze(rate='burst') was refused with 'options (command line over --config file): ...'."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = analyze(("2015-09-02T16:58:44", "2015-09-02T17:00:00"), ["1"], rate="burst", source="local",
                    data_dir=DATA)
    assert r.config["rate"] == "brst" and r.event.loaded[0]["rate"] == "brst"
    with pytest.raises(InputError) as e:
        analyze(("2015-09-02T16:58:44", "2015-09-02T17:00:00"), ["1"], rate="slow", source="local", data_dir=DATA)
    assert str(e.value).startswith("analyze(): rate='slow'") and "command line" not in str(e.value)


def test_cli_reads_pyspedas_rate_words(capsys):
    from mms_mp.cli import build_parser, event_config
    args = build_parser().parse_args(["analyze", "--start", "2015-09-02T17:00", "--end", "2015-09-02T17:02",
                                      "--rate", "burst"])
    assert args.rate == "brst" and event_config(args)["rate"] == "brst"
    assert build_parser().parse_args(["analyze", "--rate", "fast"]).rate == "srvy"


# ---------------------------------------------------------------------------------------------- 3. --strict
def test_strict_exits_6_with_one_line_per_reason(tmp_path, capsys):
    "--probes 1 2 on data with only MMS1, FGM only: exit 0 and nothing a script could test."
    argv = ["analyze", "--start", "2015-09-02T16:58:44", "--end", "2015-09-02T17:07:04", "--probes", "1", "2",
            "--rate", "brst", "--source", "local", "--data-dir", DATA, "--quiet"]
    code, _, _ = run(capsys, *argv, "--outdir", tmp_path / "a")
    assert code == 0   # without --strict: as before
    code, _, err = run(capsys, *argv, "--outdir", tmp_path / "b", "--strict")
    lines = [x for x in err.splitlines() if x.startswith("mms-mp analyze --strict: degraded: ")]
    assert code == 6 and len(lines) >= 3, err
    assert any("MMS2 was asked for but has no usable data" in x for x in lines)
    assert any("stage timing skipped" in x for x in lines) and any("stage vn skipped" in x for x in lines)
    assert (tmp_path / "b" / "mp_analysis.json").exists()   # the outputs are written all the same


def test_strict_names_a_truncated_file_and_no_crossing(tmp_path, capsys):
    root = tmp_path / "data"
    shutil.copytree(DATA / "mms1" / "fgm", root / "mms1" / "fgm")
    f = root / "mms1/fgm/brst/l2/2015/09/02/mms1_fgm_brst_l2_20150902170204_v4.18.0.cdf"
    f.chmod(0o644)
    with open(f, "r+b") as h: h.truncate(f.stat().st_size // 2)
    code, _, err = run(capsys, "analyze", "--start", "2015-09-02T16:58:44", "--end", "2015-09-02T17:07:04",
                       "--probes", "1", "--rate", "brst", "--source", "local", "--data-dir", root, "--quiet",
                       "--strict", "--outdir", tmp_path / "o")
    assert code == 6 and "degraded: mms1 fgm brst: partly loaded, unreadable file(s) skipped" in err, err
    code, _, err = run(capsys, "analyze", "--start", "2019-11-30T09:11:53", "--end", "2019-11-30T09:16:53", *REAL,
                       "--quiet", "--strict", "--outdir", tmp_path / "q")
    assert code == 6 and "degraded: no magnetopause crossing found in the window" in err, err


def test_exit_code_6_documented():
    from mms_mp.cli import EXIT_HELP
    from mms_mp.core import EXIT_DEGRADED
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert EXIT_DEGRADED == 6 and "6 (analyze or batch --strict only)" in EXIT_HELP and "--strict" in readme


# ---------------------------------------------------------------------------------------------- 4. cosmetic
def test_report_writes_a_fallback_normal_as_the_lmn_table_does(tmp_path, capsys):
    "report.html showed the event N as [0.57, 0.82, -0.02] in one table and [0.6, 0.8, -0.0] in another."
    code, _, _ = run(capsys, "analyze", "--start", "2015-09-02T16:58:44", "--end", "2015-09-02T17:07:04", *REAL,
                     "--quiet", "--outdir", tmp_path / "o")
    doc = json.loads((tmp_path / "o" / "mp_analysis.json").read_text())
    from mms_mp.outputs import _lmn_rows, _normal_rows
    n_event = _lmn_rows(doc)[0]["N"]
    fb = [r["n_hat"] for r in _normal_rows(doc) if r["method"].startswith("fallback: event LMN")]
    assert code == 0 and fb and set(fb) == {n_event}
    assert "[0.6, 0.8, -0.0]" not in (tmp_path / "o" / "report.html").read_text()


def test_context_line_says_the_span_the_data_cover(tmp_path, capsys):
    "The context line said 'levels from 17:03:00 – 17:09:00' when the data end at 17:07:04."
    cfg = tmp_path / "c.toml"
    cfg.write_text("[context]\nwindows = 1.0\n")
    code, out, err = run(capsys, "analyze", "--start", "2015-09-02T17:05:00", "--end", "2015-09-02T17:07:00", *REAL,
                         "--config", cfg, "--outdir", tmp_path / "o")
    line = next(x for x in out.splitlines() if x.startswith("LMN and detection levels from"))
    assert code == 0 and line.startswith("LMN and detection levels from 2015-09-02T17:03:00.000Z – "
                                         "2015-09-02T17:09:00.000Z (the window and its [context]; data end "
                                         "2015-09-02T17:07:04."), line
