"""mms_mp.synthetic: truth.json schema, determinism by seed, scenarios as advertised, hostile inputs, atomicity.

Known answers come from the simulator's own ground truth (parameters, analytic V_N and X) and from the
shipped real ephemeris; nothing here is tuned to an event.
"""
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mms_mp import simtruth as ST
from mms_mp import synthetic as S
from mms_mp.core import InputError, NoDataError, as_datetime64, gse_to_gsm
from mms_mp.layout import sdc_path

SHORT = ("2019-01-27T12:22", "2019-01-27T12:30")  # contains a crossing on every probe in every scenario


def _cdf(path):
    import cdflib
    return cdflib.CDF(str(path))


def _epoch64(c, name="Epoch"):
    return np.datetime64("2000-01-01T11:58:55.816", "ns") + (c.varget(name) - 5_000_000_000).astype("timedelta64[ns]")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim") / "ev"
    tr = S.simulate_event(d, trange=SHORT, products=("fgm_srvy", "fpi_fast", "hpca_srvy", "edp_fast", "mec_srvy"),
                          seed=3)
    return d, tr


def test_truth_json_schema(small):
    d, tr = small
    j = json.loads((d / "truth.json").read_text())
    assert j["simulated"] is True and "SIMULATED" in j["note"]
    for k in ("N", "L", "M", "N_gsm", "L_gsm", "M_gsm", "r_ref"):
        assert j[k]["frame"] in ("GSE", "GSM") and len(j[k]["value"]) == 3 and j[k]["units"]
    N, L, M = (np.array(j[k]["value"]) for k in "NLM")
    np.testing.assert_allclose([N @ N, L @ L, N @ L], [1, 1, 0], atol=1e-12)
    np.testing.assert_allclose(np.cross(N, L), M, atol=1e-12)  # M = N x L (conventions page)
    np.testing.assert_allclose(gse_to_gsm(N, j["psi_ref_rad"]), j["N_gsm"]["value"], atol=1e-12)
    assert j["thickness_km"] == 2 * j["delta_km"]
    for side in ("magnetosphere", "magnetosheath"):
        assert j[side]["B_lmn"]["frame"] == "LMN"
        assert j[side]["B_lmn"]["value"][2] == j["B_N_nT"]
    assert j["formation"]["frame"] == "GSE" and len(j["formation"]["singular_values_km"]) == 3
    assert j["crossings"], "the short window holds crossings"
    for c in j["crossings"]:
        assert c["direction"] in ("in", "out") and c["position"]["frame"] == "GSE"
        assert c["layer_start"] < c["time"] < c["layer_end"]
    n = len(j["series"]["time"])
    assert n == len(j["series"]["V_N_kms"]) == len(j["series"]["X_km"]) == len(j["series"]["s_mms1_km"])
    for f in j["files"]:
        assert (d / f).exists()
        assert _cdf(d / f).globalattsget()["MMS_MP_SIMULATED"] == ["true"]


def test_truth_consistency(small):
    d, tr = small
    rt = ST.load_truth(d)
    t = np.array([c.time for c in rt.crossings])
    # crossing: s = 0; direction = sign of ds/dt; edges at |s| = delta atanh(0.76)
    for c in rt.crossings:
        assert abs(rt.s(c.probe, c.time)[0]) < 0.05
        ds = rt.s(c.probe, c.time + np.timedelta64(1, "s"))[0] - rt.s(c.probe, c.time - np.timedelta64(1, "s"))[0]
        assert (ds > 0) == (c.direction == "out")
        np.testing.assert_allclose(np.abs(rt.s(c.probe, [c.layer_start, c.layer_end])), rt.edge_s_km, atol=0.05)
        pos = ST.load_formation().position(c.probe, c.time)[0]
        np.testing.assert_allclose(pos, c.r_gse_km, atol=1e-6)
    assert len(t) >= 4
    # the series in truth.json is the analytic V_N and X
    j = json.loads((d / "truth.json").read_text())
    ts = as_datetime64(j["series"]["time"])
    np.testing.assert_allclose(j["series"]["V_N_kms"], rt.V_N(ts), atol=1e-3)
    np.testing.assert_allclose(np.gradient(j["series"]["X_km"], 1.0)[1:-1], rt.V_N(ts)[1:-1], atol=0.1)


def test_files_match_truth(small):
    d, tr = small
    p = tr.params
    c = _cdf(sdc_path(d, "2", "fpi", "fast", "dis-moms", "2019-01-27T12:00"))
    t = _epoch64(c) + np.timedelta64(2250, "ms")  # centre of the 4.5 s accumulation
    n = c.varget("mms2_dis_numberdensity_fast").astype(float); V = c.varget("mms2_dis_bulkv_gse_fast").astype(float)
    good = (n > -1e30) & (c.varget("mms2_dis_errorflags_fast") == 0)
    st_ = ST.plasma_state(tr.s("2", t), tr.V_N(t), p)
    # fully in the magnetosheath (f > 0.99) the density is n_sh within the stated noise
    sh = good & (st_["f"] > 0.99)
    assert sh.sum() > 5
    np.testing.assert_allclose(np.median(n[sh]), p.n_sh_cc, rtol=3 * p.fpi_n_rel)
    # the normal ion velocity follows V_N (noise averages out)
    r = (V[sh] @ tr.N_gse) - tr.V_N(t[sh])
    assert abs(r.mean()) < 4 * p.dis_v_noise_kms / np.sqrt(sh.sum())
    # electric field: E.B = 0 up to noise, with B from FGM interpolated to the EDP times
    e = _cdf(sdc_path(d, "2", "edp", "fast", "dce", "2019-01-27"))
    te = _epoch64(e, "mms2_edp_epoch_fast_l2"); E = e.varget("mms2_edp_dce_gse_fast_l2").astype(float)
    g = e_ok = (E[:, 0] > -1e30)
    B = ST.plasma_state(tr.s("2", te[g]), tr.V_N(te[g]), p)["B_gse"]
    edotb = np.sum(E[g] * B, 1) / np.linalg.norm(B, axis=1)
    assert abs(edotb.mean()) < 0.05 and edotb.std() == pytest.approx(p.edp_noise_mVm, rel=0.1)
    # cold He+ only on the magnetospheric side
    h = _cdf(sdc_path(d, "2", "hpca", "srvy", "moments", "2019-01-27"))
    th = _epoch64(h) + np.timedelta64(5, "s"); nhe = h.varget("mms2_hpca_heplus_number_density").astype(float)
    f = tr.f("2", th); ok = nhe > -1e30
    assert np.median(nhe[ok & (f < 0.01)]) == pytest.approx(p.nHe_sp_cc, rel=0.2)
    assert np.median(nhe[ok & (f > 0.99)]) < 0.1 * p.nHe_sp_cc
    # MEC positions are the shipped ephemeris
    m = _cdf(sdc_path(d, "2", "mec", "srvy", "epht89q", "2019-01-27"))
    np.testing.assert_allclose(m.varget("mms2_mec_r_gse"), ST.load_formation().position("2", _epoch64(m)), atol=1e-6)


def test_defects_are_where_truth_says(small):
    d, tr = small
    fills = [x for x in tr.defects if x["kind"] == "fill" and x["probe"] == "1" and x["product"] == "fgm_srvy"]
    flags = [x for x in tr.defects if x["kind"] == "fgm_flag" and x["probe"] == "1"]
    c = _cdf(sdc_path(d, "1", "fgm", "srvy", "", "2019-01-27"))
    t = _epoch64(c); B = c.varget("mms1_fgm_b_gse_srvy_l2"); fl = c.varget("mms1_fgm_flag_srvy_l2")
    assert set(as_datetime64(fills[0]["times"])) == set(t[B[:, 0] < -1e30])
    assert set(as_datetime64(flags[0]["times"])) == set(t[fl > 0])
    gap = [x for x in tr.defects if x["kind"] == "gap"]
    assert {x["probe"] for x in gap} == {tr.params.gap_probe}
    c3 = _cdf(sdc_path(d, tr.params.gap_probe, "fgm", "srvy", "", "2019-01-27"))
    dt = np.diff(_epoch64(c3)).astype("int64") / 1e9
    assert dt.max() == pytest.approx(tr.params.gap_s, abs=0.1)


def test_deterministic_by_seed(tmp_path):
    kw = dict(trange=("2019-01-27T12:24", "2019-01-27T12:27"), probes=("4",), products=("fgm_srvy", "fpi_fast"))
    a = S.simulate_event(tmp_path / "a", seed=11, **kw)
    b = S.simulate_event(tmp_path / "b", seed=11, **kw)
    c = S.simulate_event(tmp_path / "c", seed=12, **kw)
    assert a.files == b.files == c.files
    for f in a.files:
        ca, cb, cc = (_cdf(tmp_path / x / f) for x in "abc")
        for v in ca.cdf_info().zVariables:
            np.testing.assert_array_equal(ca.varget(v), cb.varget(v))
        v = [x for x in ca.cdf_info().zVariables if x.endswith(("numberdensity_fast", "b_gse_srvy_l2"))][0]
        assert not np.array_equal(ca.varget(v), cc.varget(v)), "another seed gives other noise"
    assert [x.time for x in a.crossings] == [x.time for x in c.crossings], "the truth does not depend on the seed"


def test_scenarios_differ_as_advertised(tmp_path):
    kw = dict(trange=SHORT, products=("fgm_srvy", "hpca_srvy"))
    tr = {s: S.simulate_event(tmp_path / s, scenario=s, **kw) for s in ST.SCENARIOS}
    d, f, n = tr["default"], tr["fast_thin"], tr["noisy_hpca_gap"]
    tau = np.linspace(-1200, 1200, 2401)
    assert f.params.delta_km < d.params.delta_km
    assert np.abs(ST.boundary_vn(tau, f.params)).max() > np.abs(ST.boundary_vn(tau, d.params)).max()
    assert np.median([c.duration_s for c in f.crossings]) < np.median([c.duration_s for c in d.crossings])
    # noisy: FGM residual three times the default one
    def resid(t, q):
        c = _cdf(tmp_path / t.scenario / t.files[[i for i, x in enumerate(t.files) if f"mms{q}_fgm" in x][0]])
        tt = _epoch64(c); B = c.varget(f"mms{q}_fgm_b_gse_srvy_l2")[:, :3].astype(float)
        ok = (B[:, 0] > -1e30) & (c.varget(f"mms{q}_fgm_flag_srvy_l2") == 0)
        return (B[ok] - ST.plasma_state(t.s(q, tt[ok]), t.V_N(tt[ok]), t.params)["B_gse"]).std()
    assert resid(n, "1") / resid(d, "1") == pytest.approx(3.0, rel=0.1)
    # HPCA gap across at least one crossing on every probe, and no HPCA records inside it
    g0 = np.datetime64(n.params.hpca_gap_start, "ns"); g1 = g0 + np.timedelta64(int(n.params.hpca_gap_s), "s")
    for q in n.probes:
        assert any(g0 < c.time < g1 for c in n.crossings_of(q))
        c = _cdf(sdc_path(tmp_path / "noisy_hpca_gap", q, "hpca", "srvy", "moments", "2019-01-27"))
        th = _epoch64(c)
        assert not ((th >= g0) & (th < g1)).any() and len(th) > 0
        c0 = _cdf(sdc_path(tmp_path / "default", q, "hpca", "srvy", "moments", "2019-01-27"))
        assert ((_epoch64(c0) >= g0) & (_epoch64(c0) < g1)).sum() == int(n.params.hpca_gap_s // 10)


def test_formation_is_the_real_string_of_pearls():
    fm = ST.load_formation()
    g = fm.shape("2019-01-27T12:43:23")
    np.testing.assert_allclose(np.array(g["centroid_gse_km"]) / 6371.2, [10.2, 5.6, 1.3], atol=0.05)
    sv = g["singular_values_km"]
    assert sv[0] == pytest.approx(712, abs=2) and sv[1] < 1 and sv[2] < 0.1
    assert 200 < min(g["separations_km"].values()) and max(g["separations_km"].values()) < 980
    # psi from paired vectors reproduces the GSM velocity from the GSE one
    t = np.array(["2019-01-27T11:00", "2019-01-27T14:00"], "datetime64[ns]")
    np.testing.assert_allclose(gse_to_gsm(fm.velocity("3", t, "GSE"), fm.psi(t)), fm.velocity("3", t, "GSM"), atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(delta=st.floats(50, 2000), a1=st.floats(0, 60), a2=st.floats(0, 60), bn=st.floats(-5, 5),
       shear=st.floats(0, 180), vl=st.floats(-300, 300), vm=st.floats(-300, 300))
def test_plasma_state_invariants(delta, a1, a2, bn, shear, vl, vm):
    p = ST.SimParams().override(delta_km=delta, vn_amp_kms=(a1, a2), B_N_nT=bn, shear_deg=shear, V_sh_L_kms=vl,
                                V_sh_M_kms=vm)
    tau = np.linspace(-1000, 1000, 2001)
    vn = ST.boundary_vn(tau, p); s = np.linspace(-5 * delta, 5 * delta, 2001)
    x = ST.boundary_x(tau, p)
    np.testing.assert_allclose(np.gradient(x, tau)[1:-1], vn[1:-1], atol=1e-2 * (1 + a1 + a2))
    o = ST.plasma_state(s, vn, p); N = ST.lmn_from_normal(p.normal_gse)[2]
    np.testing.assert_allclose(o["B_gse"] @ N, bn, atol=1e-9)
    np.testing.assert_allclose(o["V_gse"] @ N, vn, atol=1e-9)
    np.testing.assert_allclose(np.sum(o["E_gse"] * o["B_gse"], 1), 0, atol=1e-9)
    assert np.all(np.diff(o["n"]) >= 0) and np.all(o["n_Heplus"] >= 0)


def test_hostile_inputs(tmp_path, small):
    d, _ = small
    with pytest.raises(InputError, match="outside the shipped ephemeris"):
        S.simulate_event(tmp_path / "x", trange=("2019-01-28T12:00", "2019-01-28T12:10"))
    with pytest.raises(InputError, match="start .* is not before end"):
        S.simulate_event(tmp_path / "x", trange=("2019-01-27T12:30", "2019-01-27T12:20"))
    with pytest.raises(InputError, match="unknown product"):
        S.simulate_event(tmp_path / "x", products=("fgm_fast",))
    with pytest.raises(InputError, match="unknown scenario"):
        S.demo_event_dir("stormy", root=tmp_path)
    with pytest.raises(InputError, match="unknown simulation parameter"):
        ST.scenario_params("default", delta=3)
    with pytest.raises(InputError, match="not empty"):
        S.simulate_event(d)
    with pytest.raises(NoDataError, match="no truth.json"):
        ST.load_truth(tmp_path)
    (tmp_path / "fake").mkdir(); (tmp_path / "fake" / "truth.json").write_text('{"simulated": false}')
    with pytest.raises(InputError, match="simulated: true"):
        ST.load_truth(tmp_path / "fake")
    assert not (tmp_path / "x").exists()


def test_atomic_on_failure(tmp_path, monkeypatch):
    calls = []
    real = S.write_l2_cdf
    def boom(*a, **k):
        calls.append(1)
        if len(calls) == 2: raise RuntimeError("disk full (simulated)")
        return real(*a, **k)
    monkeypatch.setattr(S, "write_l2_cdf", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        S.simulate_event(tmp_path / "ev", trange=("2019-01-27T12:24", "2019-01-27T12:26"), probes=("1",),
                         products=("fgm_srvy", "mec_srvy"))
    assert list(tmp_path.iterdir()) == [], "nothing half-written is left behind"


def test_demo_cache(tmp_path):
    kw = dict(trange=("2019-01-27T12:24", "2019-01-27T12:26"))
    d1 = S.demo_event_dir("fast_thin", root=tmp_path)
    m = (d1 / "truth.json").stat().st_mtime_ns
    assert S.demo_event_dir("fast_thin", root=tmp_path) == d1 and (d1 / "truth.json").stat().st_mtime_ns == m
    assert ST.load_truth(d1).scenario == "fast_thin"
    assert ST.load_truth(d1).params.delta_km == ST.SCENARIOS["fast_thin"]["delta_km"]
    d2 = S.demo_event_dir("fast_thin", root=tmp_path, rebuild=True)
    assert d2 == d1 and (d1 / "truth.json").stat().st_mtime_ns > m
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no build leftovers"


def test_demo_cache_race(tmp_path, monkeypatch):
    """Another process publishes the same event while this one builds: its copy is kept, nothing is left over."""
    real = S.simulate_event
    def racing(out_dir, **kw):
        final = tmp_path / f"sim_20190127_default_{S._cache_key('default', 0)}"
        # the other process
        t = real(final, trange=("2019-01-27T12:24", "2019-01-27T12:25"), probes=("1",), products=("mec_srvy",))
        (final / "winner").write_text("first")
        return real(out_dir, trange=("2019-01-27T12:24", "2019-01-27T12:25"), probes=("2",), products=("mec_srvy",))
    monkeypatch.setattr(S, "simulate_event", racing)
    d = S.demo_event_dir(root=tmp_path)
    assert (d / "winner").read_text() == "first" and ST.load_truth(d).probes == ("1",)
    assert sorted(p.name for p in tmp_path.iterdir()) == [d.name], "no temporary build folders left"


def test_cache_key_covers_the_cdf_writer(tmp_path, monkeypatch):
    """A change to the CDF writer or to the truth model (as to the simulator or the layout) gives the demo event a
    new cache folder."""
    import shutil
    from importlib import resources
    pkg = resources.files("mms_mp")
    for f in ("simtruth.py", "synthetic.py", "layout.py", "cdfwrite.py"):
        shutil.copy(pkg / f, tmp_path / f)
    monkeypatch.setattr(S.resources, "files", lambda name: tmp_path)
    k0 = S._cache_key("default", 0)
    assert S._cache_key("default", 0) == k0
    (tmp_path / "cdfwrite.py").write_text((tmp_path / "cdfwrite.py").read_text() + "\nX = 1\n")
    k1 = S._cache_key("default", 0)
    assert k1 != k0
    (tmp_path / "simtruth.py").write_text((tmp_path / "simtruth.py").read_text() + "\nX = 1\n")
    assert S._cache_key("default", 0) != k1
