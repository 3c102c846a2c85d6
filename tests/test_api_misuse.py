"""Plausible misuse of the public API by a pySPEDAS / irfu-matlab user, each with a known answer.

The contract, as in the other hostile-input files: an mms_mp error whose message names what was wrong,
or the right result; never a silent wrong answer. Covered here:
- a DataArray that carries its frame (attrs["frame"], as `load_event` returns them) passed with another
  `frame` (often the default "GSE"): minvar.mva, coords.hybrid_lmn (B and positions),
  normals.crossing_normal(s), detect.detect_crossings, velocity.exb_velocity refuse it (FrameError);
- motion.integrate_disp and electric.normal_velocity: a normal's σ in degrees passed as `sigma_n_rad`;
- AnalysisResult.normal_of: a copy of a crossing finds its normal, as `local_vn_of` does.
"""
import copy
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from mms_mp.core import FrameError, InputError, R_E_KM, gse_to_gsm
from mms_mp.minvar import _harris_sheet, mva

N_TRUE = np.array([0.9, 0.3, 0.1]) / np.linalg.norm([0.9, 0.3, 0.1])
PSI = 0.3   # GSE→GSM angle, rad
T0 = np.datetime64("2019-01-27T12:30:00", "ns")


def sheet(frame="GSE"):
    "A noisy Harris sheet with normal N_TRUE (GSE), as a DataArray in `frame` (attrs['frame'])."
    B, _ = _harris_sheet(N_TRUE, [0, 0, 1], noise=0.5)
    B = gse_to_gsm(B, PSI) if frame == "GSM" else B
    t = T0 + (np.arange(len(B)) * 1e8).astype("timedelta64[ns]")
    return xr.DataArray(B, coords={"time": t}, dims=("time", "comp"), attrs={"frame": frame})


def test_mva_refuses_a_gsm_dataarray_called_gse():
    Bm = sheet("GSM")
    with pytest.raises(FrameError, match="carries frame GSM"):
        mva(Bm)                                      # default frame="GSE"
    r = mva(Bm, frame="GSM")                         # stated: the GSM normal, labelled GSM
    assert r.frame == "GSM"
    assert abs(abs(r.normal @ gse_to_gsm(N_TRUE, PSI)) - 1) < 1e-4
    assert mva(sheet("GSE")).frame == "GSE"          # agreeing frames, and bare arrays, unchanged
    assert mva(sheet("GSE").values, frame="GSM").frame == "GSM"


def test_hybrid_lmn_refuses_mislabelled_b_and_positions():
    from mms_mp.coords import hybrid_lmn
    r_gse = np.array([10.5, 3.0, 1.0]) * R_E_KM
    pos = lambda r, f: xr.DataArray(np.tile(r, (4, 1)), dims=("time", "comp"), attrs={"frame": f})
    with pytest.raises(FrameError, match="carries frame GSM"):
        hybrid_lmn(sheet("GSM"), gse_to_gsm(r_gse, PSI), psi_rad=PSI)
    with pytest.raises(FrameError, match="pos_gsm_km carries frame GSE"):
        hybrid_lmn(sheet("GSE"), pos(r_gse, "GSE"), pos_gse_km=pos(r_gse, "GSE"))
    with pytest.raises(FrameError, match="pos_gse_km carries frame GSM"):
        hybrid_lmn(sheet("GSE"), pos(gse_to_gsm(r_gse, PSI), "GSM"), pos_gse_km=pos(r_gse, "GSM"))
    ok = hybrid_lmn(sheet("GSE"), pos(gse_to_gsm(r_gse, PSI), "GSM"), pos_gse_km=pos(r_gse, "GSE"))
    assert ok.frame == "GSE" and ok.N @ np.array([1.0, 0, 0]) > 0


def test_crossing_normals_and_detect_refuse_a_mislabelled_field():
    from mms_mp.detect import detect_crossings
    from mms_mp.normals import crossing_normal, crossing_normals
    Bm, R = sheet("GSM"), np.array([[0, 0, 1.0], [0, -1.0, 0], [1.0, 0, 0]])
    t, tc = Bm.time.values, Bm.time.values[200]
    with pytest.raises(FrameError, match="carries frame GSM"):
        crossing_normal(t, Bm, tc, 2.0, R)
    c = SimpleNamespace(time=tc, duration_s=2.0)     # what crossing_normals reads of a crossing
    with pytest.raises(FrameError, match="carries frame GSM"):
        crossing_normals(t, Bm, [c], R, frame="GSE")
    with pytest.raises(FrameError, match="carries frame GSM"):
        detect_crossings(t, Bm, R, probe="1", lmn_frame="GSE")


def test_exb_refuses_a_mislabelled_e_or_b():
    from mms_mp.velocity import exb_velocity
    B = np.tile([0, 0, 20.0], (5, 1))
    E = np.tile([0, 2.0, 0], (5, 1))                 # V = (100, 0, 0) km/s: E = −V×B
    da = lambda x, f: xr.DataArray(x, dims=("time", "comp"), attrs={"frame": f})
    with pytest.raises(FrameError, match="E carries frame GSM"):
        exb_velocity(da(E, "GSM"), B)
    with pytest.raises(FrameError, match="B carries frame GSM"):
        exb_velocity(E, da(B, "GSM"))
    np.testing.assert_allclose(exb_velocity(da(E, "GSE"), da(B, "GSE")).v_km_s[0], [100, 0, 0])


@pytest.mark.parametrize("sigma_n", [5.0, np.pi])
def test_sigma_n_in_degrees_is_refused(sigma_n):
    from mms_mp.motion import integrate_disp
    t = T0 + (np.arange(100) * 1e9).astype("timedelta64[ns]")
    v = np.full(100, -10.0)
    with pytest.raises(InputError, match="radians"):
        integrate_disp(t, v, sigma_n_rad=sigma_n, vt_km_s=np.full(100, 100.0))
    d = integrate_disp(t, v, sigma_n_rad=np.radians(5.0), vt_km_s=np.full(100, 100.0))
    assert d.sigma_systematic_km[-1] == pytest.approx(np.radians(5.0) * 100 * 99)


def test_normal_velocity_sigma_n_in_degrees_is_refused():
    from mms_mp.electric import normal_velocity
    from mms_mp.velocity import VelocitySource
    with pytest.raises(InputError, match="radians"):
        normal_velocity([VelocitySource.__new__(VelocitySource)], [1.0, 0, 0], frame="GSE",
                        sigma_n_rad=5.0)


def test_normal_of_a_copied_crossing(tmp_path):
    from mms_mp.cli import demo_data
    from mms_mp.pipeline import analyze
    data_dir, _, _ = demo_data()
    res = analyze(("2019-01-27T12:25", "2019-01-27T12:30"), ["1"], rate="srvy", source="local",
                  data_dir=data_dir)
    c = res.crossings[0]
    assert res.normal_of(c) is not None
    assert res.normal_of(copy.copy(c)) is res.normal_of(c)


def test_iso_offset_converted_without_numpy_warning():
    "'...+02:00' leaked numpy's timezone UserWarning; '2019/01/27 12:30' was quoted mangled ('2019T01T27')."
    import warnings
    from mms_mp.core import InputError, as_datetime64
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert as_datetime64("2015-09-02T16:58:44+02:00") == np.datetime64("2015-09-02T14:58:44", "ns")
        assert as_datetime64("2015-09-02T16:58:44-05:30") == np.datetime64("2015-09-02T22:28:44", "ns")
    with pytest.raises(InputError) as e:
        as_datetime64("2019/01/27 12:30")
    assert "'2019/01/27 12:30'" in str(e.value) and "2019T01" not in str(e.value)


def test_timing_probe_keys_int_and_str_are_one_probe():
    "Positions keyed 1..4 with times keyed '1'..'4' were refused with two identical-looking key lists."
    from mms_mp.multispacecraft import timing_normal
    r = {1: [0.0, 0, 0], 2: [100.0, 0, 0], 3: [0.0, 100, 0], 4: [0.0, 0, 100]}
    t0 = np.datetime64("2019-01-27T12:00", "ns")
    t = {f"mms{k}": t0 + np.timedelta64(int(2e7 * v[0]), "ns") for k, v in r.items()}   # 50 km/s along x
    res = timing_normal(r, t)
    assert np.allclose(res.n_hat, [1, 0, 0], atol=1e-9) and np.isclose(res.V_km_s, 50.0)
    with pytest.raises(InputError, match=r"positions \[1, 2, 3, 4\] and times \['mms1', 'mms2'\]"):
        timing_normal(r, {k: t[k] for k in ("mms1", "mms2")})


def test_hybrid_lmn_bz_as_string():
    "bz_nT='5' passed the model's check but reached the σ cases as a str: a raw TypeError."
    from mms_mp.coords import hybrid_lmn
    B, _ = _harris_sheet([0.9, 0.4, 0.1], [0, 0, 1])
    p = np.array([[10 * R_E_KM, 0.0, 0.0]])
    a, b = hybrid_lmn(B, p, pos_gse_km=p, bz_nT="5"), hybrid_lmn(B, p, pos_gse_km=p, bz_nT=5.0)
    assert np.array_equal(a.R, b.R) and a.sigma_N_deg == b.sigma_N_deg
    with pytest.raises(InputError, match="must be numbers"):
        hybrid_lmn(B, p, pos_gse_km=p, bz_nT="five")


def test_crossing_normal_takes_an_lmn_object():
    "detect_crossings took an LMN object, crossing_normal refused it ('values that are not numbers')."
    from mms_mp.coords import lmn_from_vectors
    from mms_mp.normals import crossing_normal
    B, R = _harris_sheet([0.9, 0.4, 0.1], [0, 0, 1], n=2000)
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(2000) * np.timedelta64(50, "ms")
    lmn = lmn_from_vectors(R[0], R[2], frame="GSE")
    a, b = crossing_normal(t, B, t[1000], 20.0, lmn), crossing_normal(t, B, t[1000], 20.0, lmn.R)
    assert np.array_equal(a.n_hat, b.n_hat) and a.sigma_deg == b.sigma_deg
    with pytest.raises(FrameError, match="R_ref"):
        crossing_normal(t, B, t[1000], 20.0, lmn_from_vectors(R[0], R[2], frame="GSM"))


def test_crossing_delays_ref_as_number_or_mms_name():
    "ref=2 or ref='mms2' was refused ('not among the probes') where analyze accepts 1 and 'mms1'."
    from mms_mp.delays import crossing_delays
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(2000) * np.timedelta64(10, "ms")
    y = np.tanh((np.arange(2000) - 1000) / 50.0)
    s = {"1": (t, y), "2": (t + np.timedelta64(200, "ms"), y)}
    d = [crossing_delays(s, t_center=t[1000], window_s=8, ref=r).delays_s for r in (2, "mms2", "2")]
    assert d[0] == d[1] == d[2] and d[0]["2"] == 0.0 and abs(d[0]["1"] + 0.2) < 0.01


@pytest.mark.parametrize("text, says", [
    ("2019-01-27T12:15:00-25:00", "UTC offset -25:00, which no time zone has"),
    ("2019-01-27T12:15:00+14:01", "UTC offset +14:01, which no time zone has"),
    ("2019-01-27T12:15:00-12:30", "UTC offset -12:30, which no time zone has"),
    ("2019-01-27T12:15:00+01:75", "minutes 00–59"),
    ("2015-09-02T16:58:44Z+00:00", "gives both 'Z' (UTC) and the offset +00:00: give one"),
    ("2015-09-02T16:58:44+02:00Z", "gives both 'Z' (UTC) and the offset +02:00: give one"),
    ("2019-01-27T12:15:60", "has second 60, which the minute 12:15 does not have"),
])
def test_odd_time_texts_refused_with_what_is_wrong(text, says):
    """'-25:00' was accepted and shifted by 25 h; 'Z+00:00' was accepted with numpy's timezone UserWarning twice;
    '12:15:60' was called 'a leap second' (leap seconds are only ever 23:59:60 UTC)."""
    import warnings
    from mms_mp.core import as_datetime64
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError) as e:
            as_datetime64(text)
    assert says in str(e.value) and "leap second (second 60)" not in str(e.value)


def test_real_offsets_and_leap_seconds_still_read_as_before():
    "The widest real offsets, +14:00 (Kiribati) and −12:00, are read; 23:59:60 on a leap-second day is still one."
    from mms_mp.core import as_datetime64
    assert as_datetime64("2019-01-27T12:15+14:00") == np.datetime64("2019-01-26T22:15", "ns")
    assert as_datetime64("2019-01-27T12:15-12:00") == np.datetime64("2019-01-28T00:15", "ns")
    with pytest.raises(InputError, match=r"is a leap second \(second 60\)"):
        as_datetime64("2016-12-31T23:59:60")


def test_model_normal_where_the_shue_formulas_give_no_magnetopause_is_flagged():
    """`bz_nT = 500` gave a confident 'outward' model normal pointing tailward (σ 8°), with no word. The config now
    refuses it; through the API the reason says the Shue formulas give no flaring magnetopause there. Known answer:
    the 1997 α = (0.58 − 0.010 Bz)(1 + 0.010 Dp) and the 1998 α = (0.58 − 0.007 Bz)(1 + 0.024 ln Dp) vanish at
    Bz = 58 and 82.9 nT; the 1997 r0 = 11.4 + 0.140 Bz at Bz = −81.4 nT (Bz ± bz_spread_nT is what σ_N uses)."""
    from mms_mp.coords import hybrid_lmn
    B, _ = _harris_sheet(N_TRUE, [0, 0, 1], noise=30.0)   # noisy: N from the model
    p = np.array([1.5, 11.9, -0.3]) * R_E_KM   # the reviewer's flank position, GSM
    say = "formulas give no flaring magnetopause"
    for bz, bad in ((0.0, None), (52.9, None), (53.1, "1997"), (78.0, "1997 and 1998"), (-76.0, None),
                    (-77.0, "1997"), (500.0, "1997 and 1998")):
        why = hybrid_lmn(B, p, psi_rad=PSI, bz_nT=bz).reason
        assert (say in why) == (bad is not None), (bz, why)
        if bad: assert f"the Shue {bad} {say}" in why
