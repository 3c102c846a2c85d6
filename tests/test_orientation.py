"""Outward normals and signed speeds on a rippled boundary (SIMULATED `surface_waves`, known truth).

A window MVA over many crossings of a rippled boundary can be far from any crossing's normal. Used as the
event LMN, it once set the sign of every per-crossing normal, so the crossings on one flank of the waves got
inward normals and V_N of the wrong sign (caught by a new user's review).
"""
import json
import warnings

import numpy as np
import pytest

from mms_mp.pipeline import analyze
from mms_mp.synthetic import demo_event_dir

T = lambda s: np.datetime64(s.rstrip("Z"), "ns")


@pytest.fixture(scope="module")
def sw():
    d = demo_event_dir("surface_waves")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(("2019-01-27T12:15", "2019-01-27T12:55"), ["1", "2", "3", "4"], rate="srvy",
                      source="local", data_dir=d)
    return res, json.loads((d / "truth.json").read_text())


def _truth_of(truth, c):
    return next((x for x in truth["crossings"] if x["probe"] == c["probe"] and x["complete"]
                 and T(x["layer_start"]) <= T(c["time"]) <= T(x["layer_end"])), None)


def test_event_lmn_refuses_a_window_mva_far_from_the_model(sw):
    res, truth = sw
    for p, l in res.lmn.items():
        assert l.angle_mva_model_deg > 30 and l.method == "model", (p, l.reason)
        assert "beyond 3σ" in l.reason
        assert np.degrees(np.arccos(l.N @ np.array(truth["N"]["value"]))) < 10


def test_every_crossing_normal_and_speed_has_the_true_sign(sw):
    res, truth = sw
    doc = res.to_json()
    n = 0
    for c in doc["crossings"]:
        tc = _truth_of(truth, c)
        if tc is None: continue
        n += 1
        assert np.dot(tc["normal"]["value"], c["normal"]["n_hat"]) > 0, c["time"]
        if c["vn"] and c["vn"]["V_N_km_s"] is not None and abs(tc["V_N_kms"]) > 20:
            assert np.sign(c["vn"]["V_N_km_s"]) == np.sign(tc["V_N_kms"]), c["time"]
    assert n >= 80
    for g in doc["timing_groups"]:
        tc = min((x for x in truth["crossings"] if x["probe"] == g["ref_probe"]),
                 key=lambda x: abs(T(x["time"]) - T(g["time"])))
        assert np.dot(tc["normal"]["value"], g["n_hat"]) > 0.5, g["time"]
