"""The pipeline on real MMS1 FGM burst files (tests/fixtures/real), offline: an FGM-only, one-probe
event is a normal use. 2015-09-02 16:58:44–17:07:04 (the magnetopause passing MMS1 again and again
on the dusk flank) gives many crossings, each with its own normal; 2019-11-30 (a steady field) none.

Positions come from the FGM files themselves (`Epoch_state`), as the loader does when MEC is absent.
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from mms_mp.cli import main
from mms_mp.outputs import CSV_DIGITS
from mms_mp.pipeline import analyze

DATA = Path(__file__).parent / "fixtures" / "real"
KH = ("2015-09-02T16:58:44", "2015-09-02T17:07:04")
QUIET = ("2019-11-30T09:11:53", "2019-11-30T09:16:53")
def _analyze(trange, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze(trange, ["1"], rate="brst", source="local", data_dir=DATA, **kw)


@pytest.fixture(scope="module")
def kh_result():
    return _analyze(KH)


def test_fgm_only_stages_ok_or_skipped_with_reasons(kh_result):
    st = {k: v.status for k, v in kh_result.status.items()}
    for k in ("load", "quality", "lmn", "detect", "normals"):
        assert st[k] == "ok", (k, kh_result.status[k])
    for k in ("vn", "displacement", "timing", "thickness"):
        assert st[k] == "skipped", (k, kh_result.status[k])
        assert kh_result.status[k].reason
    assert "MMS1: MMS1:" not in kh_result.status["vn"].reason
    assert "needs at least 2 probes" in kh_result.status["timing"].reason
    assert "vn skipped" in kh_result.status["displacement"].reason


def test_fgm_only_crossings_each_have_a_normal(kh_result):
    crs = kh_result.crossings
    assert len(crs) >= 15   # issue 10: the magnetopause passes MMS1 every 20–60 s, and briefly between
    for c in crs:
        n = kh_result.normal_of(c)
        assert n is not None and n.frame == "GSE"
        assert abs(np.linalg.norm(n.n_hat) - 1) < 1e-9
        assert np.isfinite(n.sigma_deg) and n.sigma_deg >= n.sigma_window_deg
        assert np.isfinite(c.sigma_t_s)
    sp = kh_result.normal_spread["1"]
    assert sp["n_local"] + sp["n_fallback"] == len(crs) and sp["n_local"] >= 1


def test_fgm_state_positions_at_the_crossings(kh_result):
    """The positions timing would use (`positions_at`, linear between the FGM files' 30-s state records) at every
    crossing: bracketed, and exact to well under a km. Known answer: between records 30 s apart, a linear
    interpolation errs by at most a·Δt²/8, a = GM_E/r² (gravity, the orbit's acceleration): under 0.02 km
    beyond 5 R_E. Checked here against a quadratic through the three nearest records."""
    from mms_mp.core import seconds_since
    from mms_mp.multispacecraft import positions_at
    R = kh_result.event["1"]["R_gse"]
    t, r = R.time.values, np.asarray(R.values, float)
    for c in kh_result.crossings:
        x = positions_at({"1": R}, {"1": c.time})["1"]
        k = int(np.clip(np.searchsorted(t, c.time), 1, len(t) - 2))
        s = seconds_since(t[k - 1:k + 2], c.time)
        quad = np.array([np.polyval(np.polyfit(s, r[k - 1:k + 2, j], 2), 0.0) for j in range(3)])
        assert np.linalg.norm(r[0]) > 5 * 6371.2
        assert np.linalg.norm(x - quad) < 0.02, (c.time, x - quad)


def test_fgm_only_json_is_valid_schema_2(kh_result):
    from mms_mp.schema import validate_result_json
    doc = validate_result_json(json.loads(json.dumps(kh_result.to_json(), default=str)
                                          .replace("NaN", "null")))
    assert doc["schema"] == "mms_mp/2"
    assert all(c["normal"]["frame"] == "GSE" for c in doc["crossings"])
    assert doc["detection"]["frame"] == "GSE" and set(doc["detection"]["L"]) == {"1"}
    assert doc["detection"]["tilt_sigma_deg"] is None and "no density" in doc["detection"]["tilt_note"]
    assert doc["detection"]["tilt_sigma_scale"] == 1.0   # one probe: no second scan to compare, no Birge ratio
    assert doc["simulated"] is False
    flags = {f for c in doc["crossings"] for f in c["flags"] + list(c["normal"].get("flags") or [])}
    assert flags and flags <= set(doc["flags_glossary"]), flags - set(doc["flags_glossary"])   # every flag explained
    assert doc["lmn"]["1"]["per_crossing_spread_deg"]["n_local"] >= 1
    # where the positions came from, in the JSON: FGM state records, MEC being absent
    state = [r for r in doc["provenance"]["rates"] if r["part"] == "state"]
    assert [(r["instrument"], r["used"], r["reason"]) for r in state] == [("fgm", True, "FGM state (MEC absent)")]
    cov = {x["part"]: x["rate_reason"] for x in doc["provenance"]["coverage"]}
    assert cov["state"] == "FGM state (MEC absent)" and cov[None]


def test_fgm_only_cli_exit0_and_summary(tmp_path, capsys):
    rc = main(["analyze", "--start", KH[0], "--end", KH[1], "--probes", "1", "--rate", "brst",
               "--source", "local", "--data-dir", str(DATA), "--outdir", str(tmp_path), "--quiet"])
    assert rc == 0
    doc = json.loads((tmp_path / "mp_analysis.json").read_text())
    assert doc["status"]["vn"]["status"] == "skipped" and doc["status"]["timing"]["status"] == "skipped"
    assert len(doc["crossings"]) >= 15
    # crossings.csv: the JSON's crossings, one row each, normal (GSE) and σ included; V_N empty without plasma or E
    import pandas as pd
    xc = pd.read_csv(tmp_path / "crossings.csv", dtype={"probe": str})
    assert list(xc.time) == [c["time"] for c in doc["crossings"]]
    np.testing.assert_allclose(xc[["n_x_gse", "n_y_gse", "n_z_gse"]].to_numpy(),
                               [c["normal"]["n_hat"] for c in doc["crossings"]], rtol=0,
                               atol=10.0 ** (1 - CSV_DIGITS))   # the CSV: CSV_DIGITS significant digits
    assert (xc.normal_sigma_deg > 0).all() and xc.V_N_kms.isna().all()
    assert not xc["simulated"].any()   # real MMS files: every row says so
    # the normal's own flags, as in the JSON
    want = [";".join(c["normal"].get("flags") or []) for c in doc["crossings"]]
    assert [x if isinstance(x, str) else "" for x in xc.normal_flags] == want and any(want)
    parts = [(t["instrument"], t.get("part")) for t in doc["provenance"]["time_order"]]
    assert ("fgm", "state") in parts and ("fgm", None) in parts   # the B and the position time bases apart
    assert doc["simulated"] is False and json.loads((tmp_path / "manifest.json").read_text())["simulated"] is False
    assert not (tmp_path / "layer_thickness.csv").exists()   # thickness skipped (no V_N): no empty table


def test_fgm_only_cli_summary_names_skips(tmp_path, capsys):
    rc = main(["--start", KH[0], "--end", KH[1], "--probes", "1", "--rate", "brst", "--source", "local",
               "--data-dir", str(DATA), "--outdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "vn skipped" in out and "timing skipped" in out
    assert "needs at least 2 probes" in out
    # the event normal is the model with assumed upstream values, and says so in the report's words
    # (outputs.lmn_method), that its ± is a spread over those inputs, and where to set them
    assert "MMS1: event LMN model (Shue 1998, assumed Bz 0 nT, Dp 2 nPa), N = (" in out
    assert "(spread over the inputs' range; the model's own error is not in it); set bz_nT, dp_nPa in [lmn]" in out
    # the crossings' normals spread widely, but most layers here turn the field by < 30° (B_z > 0 on both sides):
    # those normals are counted apart, and the rest do not lie beyond 2σ often enough to call the boundary rippled
    assert "at low shear (flag low_shear)" in out and "the boundary is not planar here" not in out
    assert "their spread does not show whether the boundary is planar" in out
    assert "MMS1 data: fgm brst\n" in out   # which instruments and rates the numbers rest on
    assert "  positions (fgm brst): FGM state (MEC absent)\n" in out   # and where the positions came from


def test_a_window_without_usable_contrast_says_so():
    """REAL 16:59:00–17:03:00: B_L's two levels in this window differ by 9.3 nT, under the 10-nT floor, so B_L is not
    used and nothing else is loaded: no crossing can be found, and the detect stage says why (16 s earlier, from
    16:58:44, the window holds a magnetospheric stretch and 19 crossings are found)."""
    r = _analyze(("2015-09-02T16:59:00", "2015-09-02T17:03:00"))
    assert r.crossings == [] and r.status["detect"].degraded
    assert "no feature usable for detection" in r.status["detect"].reason and "B_L" in r.status["detect"].reason
    assert "set [context] windows = 1" in r.status["detect"].reason   # and what to do about it
    assert len(_analyze(("2015-09-02T16:58:44", "2015-09-02T17:03:00")).crossings) >= 15


def test_steady_field_has_no_crossing():
    r = _analyze(QUIET)
    assert r.status["detect"].status == "ok" and r.crossings == []
    assert r.status["normals"].status == "skipped"
    from mms_mp.cli import summary_lines
    assert "MMS1: no crossing found" in summary_lines(r)   # said, not left to the reader to notice


def test_fgm_only_positions_come_from_the_fgm_files(kh_result):
    "With no MEC file the position is the FGM files' own (Epoch_state), said so, and spans the window."
    r = kh_result.event["1"]["R_gse"]
    assert r.attrs["position_source"] == "FGM state (MEC absent)"
    t = r["time"].values
    assert (np.diff(t.astype("int64")) > 0).all()
    lo, hi = (np.datetime64(x, "ns") for x in KH)
    assert t[0] <= lo and t[-1] >= hi and t[0] >= lo - np.timedelta64(30, "s") and t[-1] <= hi + np.timedelta64(30, "s")


def test_fgm_only_crossing_without_stable_normal_is_flagged(kh_result):
    "A crossing whose nested windows give no stable normal carries `no_stable_normal`; the others do not."
    doc = kh_result.to_json()
    for c in doc["crossings"]:
        unstable = "unstable_normal" in c["normal"]["flags"]
        assert unstable == ("no_stable_normal" in c["flags"]), c
        assert unstable == c["normal"]["method"].startswith("fallback"), c


def test_fgm_only_tilt_sigma_not_assessed_is_null(kh_result):
    # no density: L's turn about N cannot be tested, so its share of σ_t is unknown (null), not 0
    doc = kh_result.to_json()   # NaN here is written as null
    null = lambda v: v is None or np.isnan(v)
    assert null(doc["detection"]["tilt_sigma_deg"])
    assert doc["crossings"] and all(null(c["sigma_t_L_s"]) for c in doc["crossings"])
    assert "crossings[].sigma_t_L_s" in doc["units"]


def test_fgm_only_model_normal_names_its_assumed_inputs(kh_result):
    "REAL: the event N is the Shue model here; the report's card and LMN table say which inputs it assumed."
    from mms_mp.outputs import section_html, summary_card
    doc = json.loads(json.dumps(kh_result.to_json(), default=str).replace("NaN", "null"))
    assert doc["lmn"]["1"]["method"] == "model"
    assert doc["lmn"]["1"]["model_inputs"] == {"model": "Shue 1998", "bz_nT": 0.0, "dp_nPa": 2.0}
    said = "model (Shue 1998, assumed Bz 0 nT, Dp 2 nPa)"
    assert said in summary_card(doc) and said in section_html(doc, "lmn")


def test_fgm_only_model_sigma_caveat_in_report_as_in_cli(kh_result):
    """REAL: a model normal's σ is its spread over the assumed inputs, not its error; report.html's card says so in
    the CLI's own words (one text, `schema.lmn_sigma_note`), and an MVA normal carries no such caveat."""
    from mms_mp.cli import summary_lines
    from mms_mp.core import sig2
    from mms_mp.outputs import summary_card
    doc = json.loads(json.dumps(kh_result.to_json(), default=str).replace("NaN", "null"))
    caveat = "spread over the inputs' range; the model's own error is not in it"
    sigma = sig2(doc["lmn"]["1"]["sigma_N_deg"], "deg")   # e.g. "4.2 deg"
    card = summary_card(doc).replace("&#x27;", "'")
    assert f"(σ {sigma}; {caveat})" in card, card
    assert f"{caveat}); set bz_nT" in "\n".join(summary_lines(kh_result))
    doc["lmn"]["1"]["method"] = "MVA"
    assert "own error" not in summary_card(doc)
