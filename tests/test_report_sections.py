"""The report's tables (`mms_mp.outputs.section_html`) show what the JSON holds: each column of a section is
filled from its rows, so a flag in the document reaches report.html and the papermill report."""
from mms_mp.outputs import section_html


def _doc(normal_flags):
    n = {"n_hat": [1.0, 0.0, 0.0], "sigma_deg": 5.0, "sigma_window_deg": 2.0, "method": "mva_nested",
         "flags": normal_flags}
    return {"crossings": [{"probe": "1", "time": "2015-09-02T16:59:11.059Z", "normal": n}]}


def test_normals_table_shows_the_normal_flags():
    html = section_html(_doc(["low_eigenvalue_ratio", "unstable_normal"]), "normals")
    assert "<th>flags</th>" in html
    assert "<td>low_eigenvalue_ratio, unstable_normal</td>" in html
