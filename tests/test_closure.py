"""∫V_N dt must come back to the spacecraft at the probe's own crossings; a drift there is flagged (SIMULATED data)."""
import json
import warnings

import numpy as np
import pytest

from mms_mp.motion import crossing_closure, integrate_disp
from mms_mp.pipeline import analyze
from mms_mp.schema import RESULT_SCHEMA, check_value
from mms_mp.synthetic import demo_event_dir


def test_closure_measures_a_bias():
    "A boundary X = 300 sin(2πt/600) km crossing a probe at rest: a 3 km/s bias of V_N is measured and flagged."
    ts = np.arange(0, 3000.0, 4.5)
    vn = 300 * 2 * np.pi / 600 * np.cos(2 * np.pi * ts / 600)
    tc = np.arange(0, 3000.0, 300.0)
    ok = crossing_closure(integrate_disp(ts, vn, sigma_v=2.0), tc, np.zeros(len(tc)))
    bad = crossing_closure(integrate_disp(ts, vn + 3.0, sigma_v=2.0), tc, np.zeros(len(tc)))
    assert abs(ok.drift_km_s) < 0.05 and ok.flags == ()
    assert abs(bad.drift_km_s - 3.0) < 0.05 and bad.flags == ("closure_drift",)


def test_closure_needs_two_crossings_in_a_segment():
    "One crossing per segment says nothing about a drift: NaN, not flagged."
    ts = np.arange(0, 100.0)
    cl = crossing_closure(integrate_disp(ts, np.ones(100)), [50.0], [0.0])
    assert np.isnan(cl.drift_km_s) and cl.flags == ()


def _doc(scenario):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(("2019-01-27T12:15", "2019-01-27T12:55"), ["1", "2", "3", "4"], rate="srvy",
                      source="local", data_dir=demo_event_dir(scenario))
    return json.loads(json.dumps(res.to_json()))


@pytest.mark.parametrize("scenario", ["surface_waves", "default"])
def test_pipeline_flags_a_drifting_displacement(scenario):
    """surface_waves: V_N along the event normal holds a bias of about −12 km/s (normal 3.8° off under −120 km/s of
    flow along M, and the wave's slope carried past the probe); the true boundary moves at −2.3 km/s. The planar
    default scenario closes."""
    doc = _doc(scenario)
    assert check_value(doc, RESULT_SCHEMA, "$", []) == []
    for p, d in doc["displacement"].items():
        cl = d["closure"]
        if scenario == "surface_waves":
            assert -16 < cl["drift_km_s"] < -10 and cl["flags"] == ["closure_drift"], (p, cl)
            assert f"MMS{p}: ∫V_N dt drifts" in doc["status"]["displacement"]["reason"]
        else:
            assert abs(cl["drift_km_s"]) < 1.5 and cl["flags"] == [], (p, cl)
    if scenario == "default":
        assert doc["status"]["displacement"]["reason"] is None


def test_displacement_csv_carries_the_closure_flag(tmp_path):
    "A reader of displacement_mms<p>.csv alone sees closure_drift on the drifting surface_waves probes."
    import pandas as pd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analyze(("2019-01-27T12:15", "2019-01-27T12:55"), ["1"], rate="srvy", source="local",
                data_dir=demo_event_dir("surface_waves"), outdir=tmp_path / "o")
    df = pd.read_csv(tmp_path / "o" / "displacement_mms1.csv", keep_default_na=False)
    assert set(df["flags"]) == {"closure_drift"}


def test_displacement_figure_says_closure_drift():
    "The displacement figure of a drifting probe says on its face that the curve is no boundary position."
    import matplotlib.pyplot as plt
    from mms_mp.outputs import figure_jobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(("2019-01-27T12:15", "2019-01-27T12:55"), ["1"], rate="srvy", source="local",
                      data_dir=demo_event_dir("surface_waves"))
    fig = dict(figure_jobs(res))["displacement_mms1"]()
    assert "not a boundary position (closure_drift)" in fig.axes[0].get_title()
    plt.close("all")
