"""Dask batch survey: a real LocalCluster of worker processes (loopback TCP only), one good and two failing events."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mms_mp.batch import SUMMARY_COLUMNS, read_events
from mms_mp.cli import main
from mms_mp.core import InputError


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
                  f"badprobe,2019-01-27T12:16:00,2019-01-27T12:22:00,7,{demo_dir},local\n")
    assert main(["batch", str(ev), "--out", str(tmp_path / "out"), "--workers", "2", "--quiet"]) == 4  # some failed
    s = pd.read_csv(tmp_path / "out" / "summary.csv").set_index("event")
    raw = pd.read_csv(tmp_path / "out" / "summary.csv", dtype=str).set_index("event")
    assert raw.loc["good", "n_crossings"].isdigit() and raw.loc["good", "exit_code"] == "0"   # counts are whole
    assert list(s.reset_index().columns) == list(SUMMARY_COLUMNS)
    assert s.loc["nodata", "status"] == "failed" and s.loc["nodata", "exit_code"] == 3 and "NoDataError" in s.loc["nodata", "error"]
    assert s.loc["badprobe", "status"] == "failed" and s.loc["badprobe", "exit_code"] == 2 and "probe" in s.loc["badprobe", "error"]
    assert s.loc["good", "status"] in ("ok", "partial") and s.loc["good", "exit_code"] == 0
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


def test_batch_console_speaks_cli_flags():
    "A failed event's error on the `mms-mp batch` console said source='sdc' (the Python form), not --source sdc."
    from mms_mp.cli import _not_ok
    row = {"status": "failed", "exit_code": 3, "error": "NoDataError: no FGM; run with source='sdc' to download"}
    assert _not_ok(row) == "failed (exit 3): NoDataError: no FGM; run with --source sdc to download"
