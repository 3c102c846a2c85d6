"""Hostile arguments to timing, thickness, displacement, the velocity blend, quality masks and resampling.

Each case is one bad argument on an otherwise good small input with a known answer. The contract: an
mms_mp error (InputError) whose message names what was wrong, or a degraded result that carries a flag
saying why; never a raw numpy/Python exception and never a silently wrong number. Modules covered:
multispacecraft (timing_normal, timing_from_crossings), formation (shape thresholds), thickness
(layer_thickness, timing_thickness, sc_motion_along), motion (integrate_disp, cumtrapz_sigma),
velocity/electric (VelocitySource, normal_velocity), quality and resample.
"""
import numpy as np
import pytest

from mms_mp.core import InputError
from mms_mp.multispacecraft import timing_from_crossings, timing_normal

T0 = np.datetime64("2019-01-27T12:20:00", "ns")


def times(n, dt=1.0):
    "n datetime64[ns] tags from T0, dt seconds apart."
    return T0 + (np.arange(n) * dt * 1e9).astype("timedelta64[ns]")


# ---------- multispacecraft timing: a 100 km tetrahedron, n = (1,1,0)/√2, V = 50 km/s ----------
POS = {"1": np.array([0.0, 0, 0]), "2": np.array([100.0, 0, 0]), "3": np.array([0.0, 100, 0]),
       "4": np.array([0.0, 0, 100])}
N_TRUE, V_TRUE = np.array([1.0, 1, 0]) / np.sqrt(2), 50.0
TCROSS = {k: T0 + np.timedelta64(int(1e9 * (r @ N_TRUE) / V_TRUE), "ns") for k, r in POS.items()}
SERIES = {k: (times(100), np.tile(r, (100, 1))) for k, r in POS.items()}


def test_timing_reference_is_right():
    "The good case the others break: n̂ and V recovered."
    r = timing_normal(POS, TCROSS, sigma_t_s=0.01)
    np.testing.assert_allclose(r.n_hat, N_TRUE, atol=1e-6)
    assert r.V_km_s == pytest.approx(V_TRUE, rel=1e-6) and r.flags == []
    assert timing_from_crossings(TCROSS, SERIES, sigma_t_s=0.01).V_km_s == pytest.approx(V_TRUE, rel=1e-6)


@pytest.mark.parametrize("series, phrase", [
    ({k: (t, r[:, :2]) for k, (t, r) in SERIES.items()}, "positions of '1': 100 times and positions of shape (100, 2)"),
    ({k: (t[:50], r) for k, (t, r) in SERIES.items()}, "positions of '1': 50 times and positions of shape (100, 3)"),
])
def test_timing_from_crossings_bad_position_series(series, phrase):
    "F-timing-1/2: (N,2) positions or times of another length → InputError, not IndexError."
    with pytest.raises(InputError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        timing_from_crossings(TCROSS, series)


@pytest.mark.parametrize("kw, phrase", [
    (dict(n_mc=-5), "n_mc must be a whole number"),
    (dict(n_mc=2.5), "n_mc must be a whole number"),
    (dict(sigma_r_km=-50.0), "sigma_r_km must be a finite number ≥ 0"),
    (dict(sigma_r_km=np.nan), "sigma_r_km must be a finite number ≥ 0"),
    (dict(sigma_r_km=np.inf), "sigma_r_km must be a finite number ≥ 0"),
    (dict(sigma_t_s=np.inf), "sigma_t_s must be > 0 s and finite"),
    (dict(sigma_t_s={"1": 0.01, "2": 0.01, "3": np.inf, "4": 0.01}), "sigma_t_s must be > 0 s and finite"),
    (dict(constrain="sometimes"), "constrain must be 'auto'"),
    (dict(string_E=-0.1), "string_E must be a fraction in [0, 1]"),
    (dict(planar_P=5), "planar_P must be a fraction in [0, 1]"),
    (dict(planar_P=np.nan), "planar_P must be a fraction in [0, 1]"),
])
def test_timing_normal_bad_options(kw, phrase):
    "F-timing-3/4/5: bad options are refused by name instead of crashing or changing the answer."
    kw = {"sigma_t_s": 0.01, **kw}
    with pytest.raises(InputError, match=phrase.replace("[", r"\[").replace("]", r"\]")):
        timing_normal(POS, TCROSS, **kw)


def test_timing_normal_whole_float_n_mc_and_zero_sigma_r_are_fine():
    "The limits of the valid range still work: n_mc=3.0 draws 3, sigma_r_km=0 is exact positions."
    r = timing_normal(POS, TCROSS, sigma_t_s=0.01, sigma_r_km=0.0, n_mc=3.0)
    assert r.mc["n"] == 3 and r.V_km_s == pytest.approx(V_TRUE, rel=1e-6)


# ---------- thickness: V_N = 20 sin(k/20) km/s on 200 × 1 s, a layer between samples 50 and 60 ----------
def _disp():
    from mms_mp.motion import integrate_disp
    t = times(200)
    return t, integrate_disp(t, 20 * np.sin(np.arange(200) / 20.0), sigma_v=1.0)


def _crossing(a=50, b=60, sig=0.1):
    from mms_mp.crossings import Crossing
    t = times(200)
    return Crossing(probe="1", time=t[(a + b) // 2], direction="out", confidence=0.9, sigma_t_s=sig,
                    layer_start=t[a], layer_end=t[b], t_prob=t[(a + b) // 2], method="B_L half-level",
                    features=("B_L",))


def test_thickness_reference_is_right():
    "The good case: ∫V_N between the edges (no spacecraft motion) and V × duration = 50 km/s × 10 s."
    from mms_mp.thickness import layer_thickness, timing_thickness
    t, disp = _disp()
    lt = layer_thickness(_crossing(), disp, positions=(t, np.zeros((200, 3))), n_hat=[1.0, 0, 0])
    X = np.interp([50, 60], np.arange(200), disp.disp_km)
    assert lt.thickness_km == pytest.approx(abs(X[1] - X[0]), rel=1e-9) and lt.flags == ()
    assert timing_thickness(_crossing(), 50.0, 5.0).thickness_km == pytest.approx(500.0)


@pytest.mark.parametrize("which", ["layer", "timing"])
def test_thickness_reversed_layer_edges_are_refused(which):
    "F-thick-1: layer_start after layer_end gave −500 km (timing) or a negative duration; now an InputError."
    from mms_mp.thickness import layer_thickness, timing_thickness
    _, disp = _disp()
    f = (lambda: layer_thickness(_crossing(60, 50), disp)) if which == "layer" else \
        (lambda: timing_thickness(_crossing(60, 50), 50.0, 5.0))
    with pytest.raises(InputError, match="layer_end .* is before layer_start"):
        f()


@pytest.mark.parametrize("call, phrase", [
    (lambda th, d: th.timing_thickness(_crossing(), 50.0, -5.0), "sigma_V_kms must be a finite number ≥ 0"),
    (lambda th, d: th.timing_thickness(_crossing(sig=-1.0), 50.0, 5.0), "sigma_t_s must be ≥ 0"),
    (lambda th, d: th.layer_thickness(_crossing(sig=-1.0), d), "sigma_t_s must be ≥ 0"),
])
def test_thickness_negative_sigma_is_refused(call, phrase):
    "F-thick-2: a negative σ was propagated (σ_sys −50 km, σ_edges −70.7 km)."
    from mms_mp import thickness as th
    with pytest.raises(InputError, match=phrase):
        call(th, _disp()[1])


@pytest.mark.parametrize("n_hat", [np.zeros(3), np.full(3, np.nan), [1.0, 0]])
def test_thickness_bad_normal_is_refused(n_hat):
    "F-thick-3: a zero/NaN n̂ gave NaN thickness with flags=() and a RuntimeWarning."
    from mms_mp.thickness import layer_thickness
    t, disp = _disp()
    with pytest.raises(InputError, match="n_hat must be a finite non-zero 3-vector"):
        layer_thickness(_crossing(), disp, positions=(t, np.zeros((200, 3))), n_hat=n_hat)


@pytest.mark.parametrize("positions", [
    lambda t: (t, np.full((200, 3), np.nan)),          # all-NaN ephemeris
    lambda t: (t[150:], np.zeros((50, 3))),            # ephemeris starts after the layer
])
def test_thickness_positions_missing_at_the_edges_are_flagged(positions):
    "F-thick-3: positions that do not cover the layer gave NaN thickness (finite σ) with no flag saying why."
    from mms_mp.thickness import layer_thickness
    t, disp = _disp()
    r = layer_thickness(_crossing(), disp, positions=positions(t), n_hat=[1.0, 0, 0])
    assert np.isnan(r.thickness_km) and np.isnan(r.sigma_km)
    assert "no_positions_at_edges" in r.flags


def test_thickness_two_component_positions_are_refused():
    "F-thick-4: (N,2) positions raised IndexError inside position_at."
    from mms_mp.thickness import layer_thickness
    t, disp = _disp()
    with pytest.raises(InputError, match=r"r \(K,3\) km\); r has shape \(200, 2\)"):
        layer_thickness(_crossing(), disp, positions=(t, np.zeros((200, 2))), n_hat=[1.0, 0, 0])


def test_no_positions_flag_is_in_the_glossary():
    "The new flag is explained in the results' flags glossary."
    from mms_mp.schema import FLAGS
    assert "no_positions_at_edges" in FLAGS


# ---------- motion.integrate_disp: V_N = 20 sin(k/20) km/s on 200 × 1 s ----------
TM = times(200)
VM = 20 * np.sin(np.arange(200) / 20.0)


@pytest.mark.parametrize("kw, phrase", [
    (dict(sigma_v=np.nan), "sigma_v must be a finite 1σ"),                      # F-motion-1
    (dict(sigma_v=np.inf), "sigma_v must be a finite 1σ"),
    (dict(bias_sigma_km_s=np.nan), "bias_sigma_km_s must be a finite number ≥ 0"),
    (dict(bias_sigma_km_s=-3.0), "bias_sigma_km_s must be a finite number ≥ 0"),  # F-motion-2
    (dict(sigma_n_rad=-0.1, vt_km_s=np.ones(200)), "sigma_n_rad must be a finite number ≥ 0"),
    (dict(sigma_n_rad=0.1), "sigma_n_rad needs vt_km_s"),
    (dict(max_gap_s=-1.0), "max_gap_s must be > 0 s"),                          # F-motion-3
    (dict(max_gap_s=0.0), "max_gap_s must be > 0 s"),
    (dict(max_gap_s=np.nan), "max_gap_s must be > 0 s"),
    (dict(cov_v=[(0, np.ones((2, 3)))]), "must be a finite square"),           # F-motion-4
    (dict(cov_v=[(0, np.full((200, 200), np.nan))]), "must be a finite square"),
    (dict(cov_v=[(199, 4 * np.eye(5))]), "must lie inside samples 0…199"),
    (dict(cov_v=[(-3, 4 * np.eye(2))]), "must lie inside samples 0…199"),
    (dict(cov_v=[(0, 4 * np.eye(5)), (3, 4 * np.eye(5))]), "not overlap"),
    (dict(cov_v=[(0, -100 * np.eye(200))]), "not a covariance"),
    (dict(cov_v=[(0, np.array([[1.0, 2.0], [0.0, 1.0]]))]), "not a covariance"),  # not symmetric
])
def test_integrate_disp_bad_options(kw, phrase):
    "F-motion-1..4: σ and gap settings that silently emptied or changed the displacement are refused."
    from mms_mp.motion import integrate_disp
    with pytest.raises(InputError, match=phrase):
        integrate_disp(TM, VM, **kw)


def test_integrate_disp_valid_limits_unchanged():
    "Valid edges of the ranges: max_gap_s=inf is one segment; σ_n = 0 needs no vt; a singular PSD block is fine."
    from mms_mp.motion import integrate_disp
    ref = integrate_disp(TM, VM, sigma_v=1.0)
    one = integrate_disp(TM, VM, sigma_v=1.0, max_gap_s=np.inf, sigma_n_rad=0.0)
    np.testing.assert_array_equal(ref.disp_km, one.disp_km)
    assert len(one.segments) == 1
    C = np.ones((4, 4))                              # rank 1: fully correlated samples, still a covariance
    r = integrate_disp(TM, VM, sigma_v=1.0, cov_v=[(10, C)])
    assert np.isfinite(r.sigma_random_km).all()


def test_integrate_disp_per_sample_nan_sigma_still_drops_only_those_samples():
    "An (N,) σ with NaN marks unusable samples (not an error): two segments around the hole."
    from mms_mp.motion import integrate_disp
    sv = np.ones(200)
    sv[100] = np.nan
    assert len(integrate_disp(TM, VM, sigma_v=sv).segments) == 2


@pytest.mark.parametrize("fn", ["cumtrapz_sigma", "cumsimpson_sigma"])
def test_cumulative_integrals_length_mismatch(fn):
    "F-motion-5: times, values and σ of different lengths gave a raw numpy broadcast ValueError."
    from mms_mp import motion
    with pytest.raises(InputError, match="one value per time: lengths 5, 4, 4"):
        getattr(motion, fn)(np.arange(5.0), np.ones(4), np.ones(4))


# ---------- velocity sources and the V_N blend: 300 × 1 s, n̂ = x ----------
NV = 300
TV = times(NV)
VV = np.c_[50 * np.sin(np.arange(NV) / 30.0), np.zeros(NV), np.zeros(NV)]


def _source(**kw):
    from mms_mp.velocity import VelocitySource
    args = dict(t=TV, v_km_s=VV, sigma_km_s=np.full(NV, 5.0), good=np.ones(NV, bool), frame="GSE",
                name="FPI ions")
    return VelocitySource(**{**args, **kw})


def test_blend_reference_is_right():
    "The good case: one source, V_N = v_x on the 1 s grid."
    from mms_mp.electric import normal_velocity
    r = normal_velocity([_source()], np.array([1.0, 0, 0]), frame="GSE")
    np.testing.assert_allclose(r.V_N, VV[:, 0], atol=1e-9)


@pytest.mark.parametrize("kw, phrase", [
    (dict(v_km_s=VV[:, :2]), "v_km_s \\(N,3\\) km/s"),                          # F-elec-1
    (dict(v_km_s=VV[:10]), "v_km_s \\(N,3\\) km/s"),
    (dict(good=np.ones(5, bool)), "bool good \\(N,\\)"),
    (dict(good=np.ones(NV)), "bool good \\(N,\\)"),                             # floats, not a mask
    (dict(sigma_km_s=np.ones(10)), "sigma_km_s must be \\(N,\\) 1σ or \\(N,3,3\\)"),
    (dict(sigma_km_s=np.full(NV, -5.0)), "sigma_km_s must be ≥ 0, and > 0 on good samples"),  # F-elec-2
    (dict(sigma_km_s=np.zeros(NV)), "> 0 on good samples"),
    (dict(sigma_km_s=np.zeros((NV, 3, 3))), "> 0 on good samples"),
    (dict(sigma_km_s=-np.tile(np.eye(3), (NV, 1, 1))), "sigma_km_s must be ≥ 0"),
    (dict(name="ExB", b_hat=np.zeros((NV, 3))), "b_hat must be \\(N,3\\) unit vectors"),
    (dict(name="ExB", b_hat=np.ones((NV, 2))), "b_hat must be \\(N,3\\) unit vectors"),
])
def test_velocity_source_is_checked_when_built(kw, phrase):
    "F-elec-1/2: a VelocitySource that does not fit is refused when it is built, by name."
    with pytest.raises(InputError, match=phrase):
        _source(**kw)


def test_velocity_source_zero_sigma_where_not_good_and_nan_b_hat_are_fine():
    "σ = 0 or NaN on samples marked not good, and NaN b̂ where B is unknown, are valid."
    sig = np.full(NV, 5.0)
    sig[:10] = 0.0
    sig[10:20] = np.nan
    good = np.ones(NV, bool)
    good[:10] = False
    b = np.tile([0.0, 0, 1], (NV, 1))
    b[5] = np.nan
    _source(sigma_km_s=sig, good=good, name="ExB", b_hat=b)


@pytest.mark.parametrize("kw, phrase", [
    (dict(exb_parallel="xyz"), "exb_parallel must be 'fpi'"),
    (dict(sigma_n_rad=-1.0), "sigma_n_rad must be a finite number ≥ 0"),
    (dict(sigma_n_rad=np.nan), "sigma_n_rad must be a finite number ≥ 0"),
])
def test_normal_velocity_bad_options(kw, phrase):
    "F-elec-2: an unknown exb_parallel or a negative/NaN σ of n̂ was accepted silently."
    from mms_mp.electric import normal_velocity
    with pytest.raises(InputError, match=phrase):
        normal_velocity([_source()], np.array([1.0, 0, 0]), frame="GSE", **kw)


# ---------- quality masks and resampling ----------
def test_merge_vars_good_mask_of_another_length():
    "F-rq-1: a good mask of 3 for 100 samples gave a raw numpy broadcast ValueError."
    from mms_mp.resample import merge_vars
    with pytest.raises(InputError, match="a: good mask of shape \\(3,\\) for 100 samples"):
        merge_vars({"a": (times(100), np.ones(100))}, "1s", good={"a": np.ones(3, bool)})


@pytest.mark.parametrize("call, phrase", [
    (lambda q, x: q.spike_mask(x, scale_block=0), "scale_block must be a whole number of samples ≥ 1"),
    (lambda q, x: q.offset_mask(x, scale_block=0), "scale_block must be a whole number of samples ≥ 1"),
    (lambda q, x: q.running_median(x, 5, chunk=0), "chunk must be a whole number of samples ≥ 1"),
    (lambda q, x: q.offset_mask(x, t=times(10)), "t has 10 time tags for 200 samples"),
    (lambda q, x: q.finite_mask(np.array(["a"])), "values must be numbers"),
    (lambda q, x: q.spike_mask(np.array(["a", "b"])), "values must be numbers"),
])
def test_quality_bad_arguments(call, phrase):
    "F-rq-1: bad arguments to the quality masks were ZeroDivisionError / ValueError / IndexError."
    from mms_mp import quality as q
    x = np.sin(np.arange(200) / 10.0)
    with pytest.raises(InputError, match=phrase):
        call(q, x)


@pytest.mark.parametrize("fn", ["spike_mask", "offset_mask", "finite_mask"])
@pytest.mark.parametrize("empty", [np.array([]), np.zeros((0, 3))])
def test_quality_masks_of_nothing_are_empty(fn, empty):
    "F-rq-1: spike_mask([]) raised a reshape ValueError; an empty input gives an empty mask (like fgm_mask)."
    from mms_mp import quality as q
    m = getattr(q, fn)(empty)
    assert len(getattr(m, "good", m)) == 0


def test_quality_masks_unchanged_on_a_real_spike():
    "The refactor keeps the answer: one 50σ spike in a noisy sine is the only sample removed; finite_mask as before."
    from mms_mp import quality as q
    x = np.sin(np.arange(500) / 20.0) + 0.01 * np.random.default_rng(0).standard_normal(500)
    x[250] += 5.0
    assert np.flatnonzero(~q.spike_mask(x).good).tolist() == [250]
    assert q.finite_mask(np.array([[1.0, np.nan], [1.0, 2.0]])).tolist() == [False, True]
    assert q.finite_mask(3.0).tolist() == [True]


@pytest.mark.parametrize("args, phrase", [
    ((np.arange(10.0), np.ones(10), np.ones(10, bool), np.arange(5.0), 1.0), "y \\(N,K\\)"),
    ((np.arange(10.0), np.ones((10, 1)), np.ones(3, bool), np.arange(5.0), 1.0), "good \\(N,\\)"),
    ((np.arange(10.0), np.ones((10, 1)), np.ones(10, bool), np.arange(5.0), 0.0), "cadence must be > 0"),
    ((np.arange(10.0), np.ones((10, 1)), np.ones(10, bool), np.arange(5.0), np.nan), "cadence must be > 0"),
])
def test_bin_average_bad_arguments(args, phrase):
    "F-rq-1: 1-D y or cadence 0 gave an IndexError."
    from mms_mp.resample import bin_average
    with pytest.raises(InputError, match=phrase):
        bin_average(*args)
