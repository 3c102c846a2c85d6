"""Pipeline outputs: the mms_mp/2 validator on hostile documents, and atomic writes under a crash mid-write."""
import copy
import json

import numpy as np
import pytest

import mms_mp.core
from mms_mp import __version__
from mms_mp.core import InputError, parse_trange
from mms_mp.config import check_config, merge_config
from mms_mp.outputs import write_outputs
from mms_mp.schema import validate_result_json
from mms_mp.stages import AnalysisResult, StageStatus, run_stage

NORMAL = {"n_hat": [1, 0, 0], "L": [0, 0, 1], "M": [0, -1, 0], "frame": "GSE", "sigma_deg": 5.0,
          "sigma_random_deg": 3.0, "sigma_window_deg": 4.0, "method": "mva_nested",
          "window": ["2019-01-27T12:19:50.000Z", "2019-01-27T12:20:10.000Z"],
          "eigenvalues": [100.0, 10.0, 1.0], "lambda2_lambda3": 10.0, "n_eff": 40.0, "reason": "stable plateau",
          "flags": []}
GOOD = {"schema": "mms_mp/2", "trange": ["2019-01-27T12:15:00.000Z", "2019-01-27T12:55:00.000Z"], "probes": ["1", "2"],
        "probes_dropped": {"3": "no fgm srvy files for mms3"},
        "frame": "GSE",
        "lmn": {"1": {"L": [0, 0, 1], "M": [0, -1, 0], "N": [1, 0, 0], "frame": "GSE", "method": "MVA",
                      "eigenvalues": [100.0, 10.0, 1.0], "ratios": {}, "sigma_N_deg": 2.0,
                      "per_crossing_spread_deg": {"median": 12.0, "max": 40.0, "n_local": 3, "n_fallback": 1,
                                                  "n_low_shear": 0, "n_beyond_2sigma": 1}}},
        "crossings": [{"probe": "2", "time": "2019-01-27T12:20:00.000Z", "direction": "out", "confidence": 0.9,
                       "sigma_t_s": 0.1, "layer_start": "2019-01-27T12:19:50.000Z",
                       "layer_end": "2019-01-27T12:20:10.000Z",
                       "flags": ["density_unavailable", "layer_edge_beyond_data"], "normal": NORMAL}],
        "detection": {"frame": "GSE", "tilt_deg": 0.0, "L": {"1": [0, 0, 1], "2": [0, 0, 1]}},
        "comparison": None,
        "timing": {"n_hat": [1, 0, 0], "V_km_s": 20.0, "sigma_n_deg": 3.0, "sigma_V_km_s": 2.0, "n_spacecraft": 2,
                   "method": "constrained", "degenerate": True, "frame": "GSE",
                   "formation": {"label": "string", "elongation": 0.99, "planarity": 0.5}},
        "thickness": [{"probe": "2", "time": "2019-01-27T12:20:00.000Z", "thickness_km": 800.0, "sigma_km": 80.0}],
        "displacement": {"1": {"max_abs_km": 3000.0, "sigma_random_km": 50.0, "sigma_systematic_km": None}},
        "vn": {"1": {"frame": "GSE", "n_hat": [1, 0, 0], "cadence_s": 4.5, "rms_sigma_km_s": 2.0,
                     "sources": ["ExB", "FPI ions"],
                     "smoothing": {"order": 2, "width_s": [35.0], "lam": [9.5], "phi": [0.9], "flags": []}}},
        "provenance": {"mms_mp_version": __version__, "files": [{"name": "a.cdf", "sha256": "0" * 64}],
                       "simulated": True, "config": {}},
        "status": {"load": {"status": "ok", "reason": None}}}


def test_valid_document_passes():
    assert validate_result_json(copy.deepcopy(GOOD)) == GOOD


@pytest.mark.parametrize("path, value, message", [
    (("schema",), "mms_mp/1", "$.schema: expected one of ['mms_mp/2']"),
    (("frame",), "GSM", "$.frame: expected one of ['GSE']"),
    (("timing", "frame"), "GSM", "$.timing.frame"),
    (("timing", "n_hat"), [2, 0, 0], "timing.n_hat is not a unit vector"),
    (("timing", "n_hat"), [1, 0], "$.timing.n_hat: expected 3 finite numbers"),
    (("timing", "degenerate"), "no", "$.timing.degenerate: expected bool"),
    (("timing", "n_spacecraft"), True, "$.timing.n_spacecraft: expected int"),
    (("crossings", 0, "direction"), "up", "expected one of ['out', 'in']"),
    (("crossings", 0, "time"), "2019-01-27T12:20:00", "expected ISO-8601 UTC with ms"),
    (("crossings", 0, "probe"), "3", "not one of the analysed probes"),
    (("lmn", "1", "N"), [0, 0, 1], "not a right-handed orthonormal triad"),
    (("thickness", 0, "thickness_km"), float("inf"), "expected a finite number"),
    (("vn", "1", "frame"), "GSM", "$.vn.1.frame: expected one of ['GSE']"),
    (("vn", "1", "smoothing", "order"), "2", "$.vn.1.smoothing.order: expected int"),
    (("trange",), ["2019-01-27T12:55:00.000Z", "2019-01-27T12:15:00.000Z"], "is not before end"),
    (("crossings", 0, "flags"), "edge", "$.crossings[0].flags: expected a list"),
    (("crossings", 0, "normal", "n_hat"), [0, 0, 2], "crossings[0].normal.n_hat is not a unit vector"),
    (("crossings", 0, "normal", "L"), [0, 1, 0],
     "crossings[0].normal: [L; M; N] is not a right-handed orthonormal triad: rows that are not unit"),
    (("crossings", 0, "normal", "M"), [0, 1, 0],
     "crossings[0].normal: [L; M; N] is not a right-handed orthonormal triad: left-handed"),
    (("crossings", 0, "normal", "frame"), "GSM", "$.crossings[0].normal.frame: expected one of ['GSE']"),
    (("crossings", 0, "normal", "window"), ["2019-01-27T12:19:50.000Z"],
     "$.crossings[0].normal.window: expected 2 items"),
    (("detection", "L", "1"), [0, 0, 3], "detection.L.1 is not a unit vector"),
    (("lmn", "1", "per_crossing_spread_deg", "n_local"), 2.5, "per_crossing_spread_deg.n_local: expected int"),
])
def test_hostile_documents_are_refused_with_the_place(path, value, message):
    d = copy.deepcopy(GOOD); x = d
    for k in path[:-1]: x = x[k]
    x[path[-1]] = value
    with pytest.raises(InputError, match="does not follow schema mms_mp/2") as e:
        validate_result_json(d)
    assert message in str(e.value)


def test_missing_key_named():
    d = copy.deepcopy(GOOD); del d["displacement"]
    with pytest.raises(InputError, match=r"\$\.displacement: missing"):
        validate_result_json(d)


def test_config_contract():
    with pytest.raises(InputError, match="unknown key"):
        check_config({"strat": "2019-01-27"})
    with pytest.raises(InputError, match="must be a table"):
        check_config({"lmn": 5})
    with pytest.raises(InputError, match="rate='slow'"):
        check_config({"rate": "slow"})
    assert check_config({"rate": "fast"})["rate"] == "srvy"   # pySPEDAS's word for the survey class
    assert merge_config({"lmn": {"a": 1, "b": 2}},
                        {"lmn": {"b": 3, "c": None}, "rate": None}) == {"lmn": {"a": 1, "b": 3}}


def test_stage_failure_is_recorded_and_dependants_skipped():
    st = {}
    run_stage(st, "detect", lambda: (_ for _ in ()).throw(ValueError("no B_L jump")))
    run_stage(st, "timing", lambda: 1, needs=("detect",))
    assert (st["detect"].status, st["timing"].status) == ("failed", "skipped")
    assert "no B_L jump" in st["detect"].reason and "detect" in st["timing"].reason


def _small_result():
    r = AnalysisResult(trange=parse_trange(("2019-01-27T12:15", "2019-01-27T12:55")), probes=["1"], simulated=True)
    r.status["load"] = StageStatus("ok")
    return r


@pytest.mark.parametrize("crash", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_crash_mid_write_keeps_old_file(tmp_path, monkeypatch, crash):
    "A crash while mp_analysis.json is being written leaves the previous file intact and no .part file."
    write_outputs(_small_result(), tmp_path)
    old = (tmp_path / "mp_analysis.json").read_text()
    assert validate_result_json(json.loads(old))
    real_dump = json.dump

    def dump_then_crash(obj, f, **kw):
        f.write(json.dumps(obj)[:40])  # half a document reaches the temporary file ...
        raise crash                      # ... then the process "dies"

    monkeypatch.setattr(mms_mp.core.json, "dump", dump_then_crash)
    r = _small_result(); r.probes = ["1", "2"]
    with pytest.raises(type(crash)):
        write_outputs(r, tmp_path)
    monkeypatch.setattr(mms_mp.core.json, "dump", real_dump)
    assert (tmp_path / "mp_analysis.json").read_text() == old
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob(".*.part"))


def test_nan_written_as_null(tmp_path):
    "σ values that are NaN (not computable) become JSON null, never the invalid token NaN."
    class D:  # a displacement result with no systematic σ
        t = np.array(["2019-01-27T12:15", "2019-01-27T12:16"], "datetime64[ns]")
        disp_km = np.array([0.0, 600.0])
        sigma_random_km = np.array([0.0, 10.0])
        sigma_systematic_km = np.array([np.nan, np.nan])
        sigma_total_km = np.array([0.0, 10.0])
        segment = np.array([0, 0]); segments = [{"i0": 0, "i1": 2}]
    r = _small_result(); r.displacement = {"1": D()}
    write_outputs(r, tmp_path)
    text = (tmp_path / "mp_analysis.json").read_text()
    assert "NaN" not in text
    d = json.loads(text)["displacement"]["1"]
    assert d == {"max_abs_km": 600.0, "sigma_random_km": 10.0, "sigma_systematic_km": None, "n_segments": 1,
                 "closure": None}
    csv = (tmp_path / "displacement_mms1.csv").read_text().splitlines()
    assert csv[0].startswith("time,disp_km") and csv[2].startswith("2019-01-27T12:16:00.000Z,600,10,,10,")   # NaN: empty


def test_one_spacecraft_is_a_degraded_result_not_a_failure():
    """One probe: crossings, normals, V_N, displacement and thickness as usual; timing is skipped, saying it needs
    two probes."""
    import warnings
    from mms_mp.pipeline import analyze
    from mms_mp.synthetic import demo_event_dir
    from mms_mp.simtruth import load_truth
    d = demo_event_dir("default"); tr = load_truth(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = analyze(tr.trange, ("2",), rate="srvy", source="local", data_dir=d)
    st = {k: v.status for k, v in r.status.items()}
    assert st == {"load": "ok", "quality": "ok", "lmn": "ok", "detect": "ok", "normals": "ok", "vn": "ok",
                  "displacement": "ok", "crossing_vn": "ok", "timing": "skipped", "thickness": "ok"}, r.status
    assert "needs at least 2 probes" in r.status["timing"].reason and "MMS2" in r.status["timing"].reason
    assert len(r.crossings) == len(tr.crossings_of("2"))                        # every true crossing of MMS2
    assert all(x.method == "integrated V_N" for x in r.thickness) and r.thickness


def test_missing_detection_and_normal_keys_named():
    d = copy.deepcopy(GOOD); del d["detection"]; del d["crossings"][0]["normal"]
    with pytest.raises(InputError, match=r"\$\.detection: missing") as e:
        validate_result_json(d)
    assert "$.crossings[0].normal: missing" in str(e.value)


def test_stage_skipped_is_not_a_failure():
    from mms_mp.stages import StageSkipped
    def no_plasma(): raise StageSkipped("no FPI, HPCA or EDP data")
    st = {}
    run_stage(st, "vn", no_plasma)
    run_stage(st, "displacement", lambda: 1, needs=("vn",))
    assert (st["vn"].status, st["vn"].reason) == ("skipped", "no FPI, HPCA or EDP data")
    assert st["displacement"].status == "skipped" and "vn skipped" in st["displacement"].reason


def test_vn_failure_is_not_called_missing_data():
    "A V_N stage that fails for every probe with data present says so; 'no plasma or E data' is for FGM-only events."
    from mms_mp.pipeline import analyze
    from mms_mp.stages import stage_vn
    from mms_mp.synthetic import demo_event_dir
    res = analyze(("2019-01-27T12:16", "2019-01-27T12:20"), ["1"], source="local", data_dir=demo_event_dir())
    with pytest.raises(mms_mp.core.MMSMPError) as e:
        stage_vn(res, {"vn": {"cadence": -3}})   # past the config check: the stage's own refusal
    assert str(e.value).startswith("no V_N for any probe") and "no plasma" not in str(e.value), str(e.value)
