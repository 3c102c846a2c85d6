"""Tables and messages a user reads show what the data hold: each column of a report section
(`mms_mp.outputs.section_html`) is filled from its rows; a partial-coverage warning names each product;
an unusable detector feature says its levels' unit."""
from mms_mp.outputs import section_html


def _doc(normal_flags):
    n = {"n_hat": [1.0, 0.0, 0.0], "sigma_deg": 5.0, "sigma_window_deg": 2.0, "method": "mva_nested",
         "flags": normal_flags}
    return {"crossings": [{"probe": "1", "time": "2015-09-02T16:59:11.059Z", "normal": n}]}


def test_normals_table_shows_the_normal_flags():
    html = section_html(_doc(["low_eigenvalue_ratio", "unstable_normal"]), "normals")
    assert "<th>flags</th>" in html
    assert "<td>low_eigenvalue_ratio, unstable_normal</td>" in html


def test_partial_coverage_warning_names_the_position_product():
    "B and the FGM state (positions) cover different spans: the warning tells them apart."
    import warnings
    from pathlib import Path
    from mms_mp.data import load_event
    real = Path(__file__).parent / "fixtures" / "real"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_event(("2015-09-02T17:07:00", "2015-09-02T17:20:00"), "1", rate="brst", source="local",
                   data_dir=real, instruments=("fgm",))
    (w,) = [str(w.message) for w in caught if "cover only part" in str(w.message)]
    assert "  mms1 fgm brst: 2015-09-02T17:07:00" in w      # B
    assert "  mms1 fgm brst state: 2015-09-02T17:06:54" in w  # the FGM state records (positions)


def test_unusable_feature_reason_gives_the_unit():
    "'levels differ by 1.4 < physical floor 10' needs its unit: nT for B_L, log10 of cm⁻³ for the density."
    import numpy as np
    from mms_mp.boundary import DetectorCfg, make_feature
    t = np.datetime64("2015-09-02T17:00") + np.arange(200) * np.timedelta64(1, "s")
    y = np.r_[np.zeros(100), np.ones(100)]
    cfg = DetectorCfg()
    b = make_feature("B_L", t, y, True, 10.0, 1.0, cfg)
    assert not b.usable and b.reason == "B_L: levels differ by 1 < physical floor 10 nT"
    n = make_feature("density", t, y / 10, True, np.log10(3), 1.0, cfg)
    assert n.reason == "density: levels differ by 0.1 < physical floor 0.477 in log10(N/cm⁻³)"
