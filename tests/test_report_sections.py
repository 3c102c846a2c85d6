"""Tables and messages a user reads show what the data hold: each column of a report section
(`mms_mp.outputs.section_html`) is filled from its rows; a partial-coverage warning names each product."""
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
