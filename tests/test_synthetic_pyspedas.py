"""pySPEDAS loads every simulated product offline, as it loads real MMS L2 files (see nbs/explanations/mms_files.ipynb).

Each load uses `no_update=True`, an explicit datatype, `notplot=True` and CONFIG['local_data_dir']
pointed at a simulated event; sockets are disabled for the whole suite. Values are checked against the
simulator's ground truth.
"""
import numpy as np
import pytest

from mms_mp import simtruth as ST
from mms_mp import synthetic as S

TR = ("2019-01-27T12:24", "2019-01-27T12:32")
PTR = ["2019-01-27/12:26", "2019-01-27/12:29"]  # starts inside a burst segment


@pytest.fixture(scope="module")
def ev(tmp_path_factory):
    d = tmp_path_factory.mktemp("pys") / "ev"
    tr = S.simulate_event(d, trange=TR, probes=("1",), seed=5, burst_segment_s=180.0)
    pytest.importorskip("pyspedas")
    from pyspedas.projects.mms.config import CONFIG
    old = CONFIG["local_data_dir"]; CONFIG["local_data_dir"] = str(d)
    yield d, tr
    CONFIG["local_data_dir"] = old


def _load(fn, **kw):
    from pyspedas.projects import mms
    out = getattr(mms, fn)(trange=PTR, probe="1", no_update=True, notplot=True, **kw)
    assert out, f"pySPEDAS {fn}({kw}) found nothing offline"
    return out


def test_fgm_srvy_and_brst(ev):
    d, tr = ev
    for rate, n_per_s in (("srvy", 16), ("brst", 128)):
        o = _load("fgm", data_rate=rate)
        b = o[f"mms1_fgm_b_gse_{rate}_l2"]; t, B = b["x"], b["y"].astype(float)
        assert B.shape[1] == 4
        assert t[0] <= np.datetime64("2019-01-27T12:26") and t[-1] >= np.datetime64("2019-01-27T12:28:59")
        ok = (B[:, 0] > -1e30) & (o[f"mms1_fgm_flag_{rate}_l2"]["y"] == 0)
        model = ST.plasma_state(tr.s("1", t[ok]), tr.V_N(t[ok]), tr.params)["B_gse"]
        assert np.std(B[ok, :3] - model) == pytest.approx(tr.params.fgm_noise_nT, rel=0.1)
        np.testing.assert_allclose(B[ok, 3], np.linalg.norm(B[ok, :3], axis=1), rtol=1e-5)
        if rate == "brst":  # a segment that began before the window start was found, and its neighbours
            assert len({str(x)[:16] for x in t[::128 * 60]}) >= 3


@pytest.mark.parametrize("rate,dtype,accum",
                         [("fast", "dis-moms", 4.5), ("fast", "des-moms", 4.5), ("brst", "dis-moms", 0.15),
                                              ("brst", "des-moms", 0.03)])
def test_fpi_moments_centred_and_spectra(ev, rate, dtype, accum):
    d, tr = ev
    sp = dtype[:3]
    raw = _load("fpi", data_rate=rate, datatype=dtype)
    cen = _load("fpi", data_rate=rate, datatype=dtype, center_measurement=True)
    tn = raw[f"mms1_{sp}_numberdensity_{rate}"]["x"]; tc = cen[f"mms1_{sp}_numberdensity_{rate}"]["x"]
    shift = (tc - tn).astype("timedelta64[ns]").astype(float) / 1e9
    np.testing.assert_allclose(shift, accum / 2, atol=1e-6)  # DELTA_PLUS_VAR/DELTA_MINUS_VAR honoured
    spec = cen[f"mms1_{sp}_energyspectr_omni_{rate}"]
    assert spec["y"].shape == spec["v"].shape and spec["v"].shape[1] == 32
    n = cen[f"mms1_{sp}_numberdensity_{rate}"]["y"].astype(float); ok = n > -1e30
    f = tr.f("1", tc[ok])
    sh, sp_ = f > 0.99, f < 0.01
    if sh.any(): assert np.median(n[ok][sh]) == pytest.approx(tr.params.n_sh_cc, rel=0.1)
    if sp_.any(): assert np.median(n[ok][sp_]) == pytest.approx(tr.params.n_sp_cc, rel=0.3)
    # the spectrum peaks near the local temperature scale: hotter in the magnetosphere
    E = spec["v"][0]; y = spec["y"].astype(float)[ok]
    if sh.any() and sp_.any():
        assert E[np.argmax(np.median(y[sp_], 0))] > 3 * E[np.argmax(np.median(y[sh], 0))]


def test_hpca_edp_mec(ev):
    d, tr = ev
    h = _load("hpca", data_rate="srvy", datatype="moments", center_measurement=True)
    for sp in ("hplus", "heplus", "heplusplus", "oplus"):
        for q in ("number_density", "ion_bulk_velocity", "ion_bulk_velocity_GSM", "scalar_temperature"):
            assert f"mms1_hpca_{sp}_{q}" in h
    t = h["mms1_hpca_hplus_number_density"]["x"]
    # 10 s accumulations centred
    assert all((np.asarray(t).astype("datetime64[ns]").astype("int64") // 10**9) % 10 == 5)
    e = _load("edp", data_rate="fast", datatype="dce")
    E = e["mms1_edp_dce_gse_fast_l2"]["y"].astype(float); te = e["mms1_edp_dce_gse_fast_l2"]["x"]; ok = E[:, 0] > -1e30
    model = ST.plasma_state(tr.s("1", te[ok]), tr.V_N(te[ok]), tr.params)["E_gse"]
    assert np.std(E[ok] - model) == pytest.approx(tr.params.edp_noise_mVm, rel=0.1)
    sc = _load("edp", data_rate="fast", datatype="scpot")["mms1_edp_scpot_fast_l2"]
    v = sc["y"].astype(float); f = tr.f("1", sc["x"]); ok = v > -1e30
    # higher potential in the tenuous magnetosphere
    assert np.median(v[ok & (f < 0.01)]) > np.median(v[ok & (f > 0.99)]) + 3
    m = _load("mec", data_rate="srvy", datatype="epht89q")
    np.testing.assert_allclose(m["mms1_mec_r_gsm"]["y"],
                               ST.load_formation().position("1", m["mms1_mec_r_gsm"]["x"], "GSM"), atol=1e-6)


def test_fgm_tplot_mode_deflags(ev):
    """In its default (tplot) mode pySPEDAS sets B to NaN where the FGM flag is set, exactly at the flagged times."""
    d, tr = ev
    from pyspedas.projects import mms
    from pyspedas import get_data
    mms.fgm(trange=PTR, probe="1", data_rate="srvy", no_update=True, time_clip=False)
    b = get_data("mms1_fgm_b_gse_srvy_l2_bvec")
    t = np.asarray(b.times, float)
    flagged = [x for x in tr.defects
               if x["kind"] == "fgm_flag" and x["probe"] == "1" and x["product"] == "fgm_srvy"][0]["times"]
    filled = [x for x in tr.defects
              if x["kind"] == "fill" and x["probe"] == "1" and x["product"] == "fgm_srvy"][0]["times"]
    tf = np.array([np.datetime64(x.rstrip("Z"), "ns") for x in flagged + filled]).astype("int64") / 1e9
    nan = np.isnan(b.y).any(1)
    np.testing.assert_allclose(np.sort(t[nan]), np.sort(tf), atol=1e-4)


@pytest.mark.parametrize("rate,accum", [("fast", 4.5), ("brst", 0.15)])
def test_epoch_half_widths_as_real_fpi_files(ev, rate, accum):
    """The epoch carries DELTA_PLUS_VAR as a real SDC FPI file does: a non-record-varying CDF_REAL4 in seconds."""
    import cdflib
    d, tr = ev
    f = sorted(d.rglob(f"mms1_fpi_{rate}_l2_dis-moms_*.cdf"))[0]
    c = cdflib.CDF(str(f)); ep = "Epoch"
    att = c.varattsget(ep)
    assert (att["DELTA_PLUS_VAR"], att["DELTA_MINUS_VAR"]) == ("Epoch_plus_var", "Epoch_minus_var")
    inq = c.varinq("Epoch_plus_var")
    assert inq.Data_Type_Description == "CDF_REAL4" and not inq.Rec_Vary
    pa = c.varattsget("Epoch_plus_var")
    assert (pa["UNITS"], pa["SI_CONVERSION"]) == ("s", "1.0>s")
    assert float(c.varget("Epoch_plus_var")) == np.float32(accum) and float(c.varget("Epoch_minus_var")) == 0.0


@pytest.mark.parametrize("rate,accum", [("srvy", 4.5), ("brst", 0.15)])
def test_load_event_centres_fpi_by_half_the_accumulation(ev, rate, accum):
    """`data.load_event` moves each FPI record from its accumulation start by exactly half the accumulation."""
    import cdflib
    from mms_mp.data import load_event
    d, tr = ev
    e = load_event(TR, probes="1", rate=rate, instruments=("fpi",), source="local", data_dir=d)
    t = e["1"]["Ni"].time.values
    fr = "fast" if rate == "srvy" else "brst"
    raw = np.concatenate([cdflib.cdfepoch.to_datetime(cdflib.CDF(str(f)).varget("Epoch"))
                          for f in sorted(d.rglob(f"mms1_fpi_{fr}_l2_dis-moms_*.cdf"))]).astype("datetime64[ns]")
    start = raw[np.searchsorted(raw, t, "right") - 1]  # the accumulation each record belongs to
    np.testing.assert_allclose((t - start).astype("int64") / 1e9, np.float32(accum) / 2, atol=1e-9)
