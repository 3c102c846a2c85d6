"""Section [context]: the LMN and the detector's levels from data around the analysis window.

REAL MMS1 FGM burst files (tests/fixtures/real, 2015-09-02): a 2-min window at 17:01–17:03 holds too little of one
regime for its own levels (no usable feature, no crossing); with one window length of context on each side it finds
the whole interval's crossings inside it again, and the JSON says where the levels came from. SIMULATED one-probe
FGM-only event whose files end with the window: a context adds no data there, so nothing changes. Bad [context]
values are refused before any file is read; a context that cannot be loaded leaves the window alone, said in load.
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import mms_mp.stages as stages
from mms_mp.core import InputError, NoDataError
from mms_mp.pipeline import analyze
from mms_mp.schema import validate_result_json

DATA = Path(__file__).parent / "fixtures" / "real"
KH = ("2015-09-02T16:58:44", "2015-09-02T17:07:04")
W = ("2015-09-02T17:01:00", "2015-09-02T17:03:00")
ONE = {"context": {"windows": 1}}
SEC = np.timedelta64(1, "s")


def _analyze(trange, data=DATA, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze(trange, ["1"], rate="brst", source="local", data_dir=data, **kw)


def _doc(res):
    return validate_result_json(json.loads(json.dumps(res.to_json(), default=str)))


def _crossings(res):
    return [(np.datetime64(c.time, "ns"), c.direction) for c in res.crossings]


@pytest.fixture(scope="module")
def whole():
    return _crossings(_analyze(KH))


def test_window_alone_finds_no_usable_feature():
    r = _analyze(W)
    assert r.crossings == []
    assert "no feature usable" in r.status["detect"].reason
    assert _doc(r)["provenance"]["context"] == {"from": "window", "windows": 0.0}


def test_context_finds_the_whole_interval_crossings_again(whole):
    r = _analyze(W, config=ONE)
    t0, t1 = (np.datetime64(x, "ns") for x in W)
    got = _crossings(r)
    assert got and all(t0 <= t < t1 for t, _ in got)            # only the window's crossings are kept
    inside = [c for c in whole if t0 + 10 * SEC <= c[0] <= t1 - 10 * SEC]
    assert len(inside) == 6
    for t, d in inside:                                         # each found again: same direction, within 1 s
        assert any(d == e and abs(t - s) < SEC for s, e in got), (t, d, got)
    assert r.status["detect"].reason is None
    ctx = _doc(r)["provenance"]["context"]
    assert (ctx["from"], ctx["windows"]) == ("context", 1.0)
    assert ctx["trange"] == ["2015-09-02T16:59:00.000Z", "2015-09-02T17:05:00.000Z"]
    assert ctx["B_data"]["1"] == ["2015-09-02T16:59:00.006Z", "2015-09-02T17:04:59.995Z"]   # one sample inside
    assert [f["name"] for f in ctx["files"]] == ["mms1_fgm_brst_l2_20150902165844_v4.18.0.cdf",
                                                 "mms1_fgm_brst_l2_20150902170204_v4.18.0.cdf"]


def test_context_without_more_data_changes_nothing(tmp_path):
    from mms_mp.synthetic import simulate_event
    simulate_event(tmp_path / "ev", trange=("2019-01-27T12:20", "2019-01-27T12:30"), probes=("1",),
                   products=("fgm_brst",), seed=0)
    tr = ("2019-01-27T12:20", "2019-01-27T12:30")
    a, b = _analyze(tr, tmp_path / "ev"), _analyze(tr, tmp_path / "ev", config=ONE)
    assert len(a.crossings) >= 2
    assert _crossings(a) == _crossings(b)
    np.testing.assert_array_equal(a.lmn["1"].R, b.lmn["1"].R)
    assert [c.sigma_t_s for c in a.crossings] == [c.sigma_t_s for c in b.crossings]


@pytest.mark.parametrize("value, phrase", [(-1, "[context] windows = -1: expected a number ≥ 0"),
                                           (float("nan"), "expected a finite number"),
                                           (True, "expected int or float"),
                                           ("one", "expected int or float")])
def test_bad_windows_refused(value, phrase):
    with pytest.raises(InputError) as e:
        _analyze(W, config={"context": {"windows": value}})
    assert phrase in str(e.value)


def test_unknown_context_parameter_refused():
    with pytest.raises(InputError) as e:
        _analyze(W, config={"context": {"window": 1}})
    assert "[context] has unknown parameter(s) ['window']" in str(e.value)
    assert "takes ['windows']" in str(e.value)


def test_context_not_loaded_falls_back_to_the_window(monkeypatch):
    real = stages.load_event

    def load(trange, *a, **kw):   # the window loads; the wider context does not
        if np.datetime64(trange[0], "ns") < np.datetime64(W[0], "ns"):
            raise NoDataError("no files reachable for the context")
        return real(trange, *a, **kw)

    monkeypatch.setattr(stages, "load_event", load)
    r = _analyze(W, config=ONE)
    assert r.context is None and r.crossings == []
    assert "no context loaded (no files reachable for the context)" in r.status["load"].reason
    assert _doc(r)["provenance"]["context"]["from"] == "window"


def test_cli_summary_says_where_the_levels_came_from(tmp_path, capsys):
    "`[context] windows = 1` in the TOML given to `mms-mp analyze`: the summary names the stretch, the JSON too."
    from mms_mp.cli import main
    cfg = tmp_path / "ctx.toml"
    cfg.write_text("[context]\nwindows = 1\n")
    rc = main(["analyze", "--start", W[0], "--end", W[1], "--probes", "1", "--source", "local",
               "--data-dir", str(DATA), "--config", str(cfg), "--outdir", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("LMN and detection levels from 2015-09-02T16:59:00.000Z – 2015-09-02T17:05:00.000Z "
            "(the window and its [context])") in out
    doc = json.loads((tmp_path / "o" / "mp_analysis.json").read_text())
    assert doc["provenance"]["context"]["trange"] == ["2015-09-02T16:59:00.000Z", "2015-09-02T17:05:00.000Z"]
