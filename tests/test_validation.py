"""mms_mp.validation scores an analysis against a known answer: here a hand-made truth and result, so every
number of the score is known (angles, pulls, misses, false detections)."""
import numpy as np

from mms_mp.validation import TARGETS, crossing_scores, crossing_summary, group_scores


def _truth():
    n = lambda deg: [np.cos(np.radians(deg)), np.sin(np.radians(deg)), 0.0]
    cross = lambda p, t, deg, done=True: {"probe": p, "time": f"2019-01-27T12:20:{t:02d}Z", "complete": done,
                                          "layer_start": f"2019-01-27T12:20:{t - 2:02d}Z",
                                          "layer_end": f"2019-01-27T12:20:{t + 2:02d}Z",
                                          "normal": {"value": n(deg)}, "V_N_kms": 20.0, "thickness_km": 800.0}
    return {"N": {"value": n(0)}, "crossings": [cross("1", 10, 30), cross("1", 30, 0), cross("2", 10, 30),
                                               cross("2", 40, 0, done=False)]}


def _doc():
    n = lambda deg: [np.cos(np.radians(deg)), np.sin(np.radians(deg)), 0.0]
    x = lambda p, t, deg: {"probe": p, "time": f"2019-01-27T12:20:{t}Z", "sigma_t_s": 0.5,
                           "normal": {"n_hat": n(deg), "sigma_deg": 4.0, "method": "mva_nested"},
                           "vn": {"V_N_km_s": 23.0, "sigma_V_N_km_s": 1.5}}
    return {"probes": ["1", "2"],
            "crossings": [x("1", "11.00", 36), x("1", "50.00", 0), x("2", "09.50", 210)],  # 12:20:50: no layer
            "timing_groups": [{"ref_probe": "1", "time": "2019-01-27T12:20:10Z", "n_hat": n(33), "V_km_s": 22.0,
                               "sigma_n_deg": 1.0}],
            "thickness": [{"method": "integrated V_N", "thickness_km": 880.0, "sigma_km": 50.0},
                          {"method": "integrated V_N", "thickness_km": None, "sigma_km": None}]}


def test_each_true_crossing_is_matched_in_its_layer_and_scored():
    table, false = crossing_scores(_doc(), _truth())
    assert len(table) == 3                         # the incomplete true crossing is not scored
    assert list(table.found) == [True, False, True] and false == {"1": 1, "2": 0}
    np.testing.assert_allclose(table.err[0], 6.0, atol=1e-9)          # 36° against 30°
    np.testing.assert_allclose(table.err[2], 180.0, atol=1e-9)        # an inward normal errs by 180°
    np.testing.assert_allclose(table.tilt, [30, 0, 30], atol=1e-6)
    np.testing.assert_allclose(table.t_pull[[0, 2]], [2.0, -1.0])     # +1 s and −0.5 s at σ_t = 0.5 s
    np.testing.assert_allclose(table.vn_pull[[0, 2]], [2.0, 2.0])     # (23 − 20) / 1.5


def test_summary_and_group_numbers():
    s = crossing_summary(*crossing_scores(_doc(), _truth()))
    assert (s["true"], s["found"], s["false (max per probe)"]) == (3, 2, 1)
    assert s["normal error median (deg)"] == 93.0 and s["within 2σ"] == 0.5   # 6° ≤ 8°, 180° is not
    t = group_scores(_doc(), _truth())
    assert t == {"timing groups": 1, "n̂ error median (deg)": 3.0, "n̂ within 2σ": 0.0,   # 3° off, 2σ = 2°
                 "V error median (%)": 10.0,
                 "thicknesses": 1, "thickness error median (%)": 10.0,
                 "thickness within 2σ": 1.0}   # 80 km off, 2σ = 100 km
    met = dict((name, ok(s, t)) for name, ok in TARGETS)
    assert met["timing n̂ error median ≤ 5°"] and not met["normal error median ≤ 5°"]
    assert not met["every crossing found, ≤ 1 false per probe"]     # 2 of 3 found


def test_a_detection_without_normal_or_vn_and_an_empty_analysis_are_scored_not_crashed():
    doc = _doc()
    doc["crossings"][0]["normal"] = None            # the schema allows null normals and V_N
    doc["crossings"][0]["vn"] = None
    table, false = crossing_scores(doc, _truth())
    assert table.found[0] and np.isnan(table.err[0]) and table.method[0] == "none"
    np.testing.assert_allclose(table.t_pull[0], 2.0)
    empty = crossing_summary(*crossing_scores({"probes": [], "crossings": []}, _truth()))
    assert (empty["true"], empty["found"], empty["false (max per probe)"]) == (0, 0, 0)
