"""Property tests for mms_mp.motion.integrate_disp on analytic cases (exact integrals, √N error growth,
linear systematic growth, gap segmentation) and hostile inputs."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mms_mp.core import InputError
from mms_mp.motion import integrate_disp, cumtrapz_sigma


def _irregular(seed, n=200, h=0.5):
    rng = np.random.default_rng(seed)
    return np.cumsum(np.r_[0.0, h * rng.uniform(0.5, 1.4, n - 1)])


@settings(max_examples=50, deadline=None)
@given(a=st.floats(-100, 100), b=st.floats(-2, 2), seed=st.integers(0, 2**16))
def test_trapezoid_exact_for_linear_on_irregular_steps(a, b, seed):
    t = _irregular(seed)
    r = integrate_disp(t, a + b * t, max_gap_s=np.inf)
    np.testing.assert_allclose(r.disp_km, a * t + 0.5 * b * t**2,
                               atol=1e-8 * (1 + abs(a) * t[-1] + abs(b) * t[-1] ** 2))


@settings(max_examples=30, deadline=None)
@given(c=st.floats(-50, 50), seed=st.integers(0, 2**16), scheme=st.sampled_from(["trap", "simpson"]))
def test_constant_exact_both_schemes(c, seed, scheme):
    t = _irregular(seed)
    r = integrate_disp(t, np.full(len(t), c), scheme=scheme, max_gap_s=np.inf)
    np.testing.assert_allclose(r.disp_km, c * t, atol=1e-8 * (1 + abs(c) * t[-1]))


@settings(max_examples=20, deadline=None)
@given(A=st.floats(5, 50), P=st.floats(60, 600), ph=st.floats(0, 6.28))
def test_simpson_beats_trapezoid_on_sinusoid(A, P, ph):
    t = np.arange(0, 600.0 + 1e-9, 2.0); w = 2 * np.pi / P
    exact = A / w * (np.cos(ph) - np.cos(w * t + ph))
    et = np.abs(integrate_disp(t, A * np.sin(w * t + ph)).disp_km - exact).max()
    es = np.abs(integrate_disp(t, A * np.sin(w * t + ph), scheme="simpson").disp_km - exact).max()
    assert es <= et + 1e-9
    assert et <= A * w**2 * 2.0**2 / 12 * t[-1] * 1.01 + 1e-9     # trapezoid bound: h²/12 · max|v''| · T


@settings(max_examples=20, deadline=None)
@given(sig=st.floats(0.5, 20), h=st.floats(0.1, 10), n=st.integers(3, 400))
def test_random_sigma_uniform_formula(sig, h, n):
    t = np.arange(n) * h
    X, s = cumtrapz_sigma(t, np.zeros(n), np.full(n, sig))
    np.testing.assert_allclose(s[1:], sig * h * np.sqrt(np.arange(1, n) - 0.5), rtol=1e-10)


def test_random_sigma_matches_monte_carlo():
    rng = np.random.default_rng(5); t = _irregular(1, n=120)
    sv = rng.uniform(1, 8, len(t))
    r = integrate_disp(t, np.zeros(len(t)), sigma_v=sv, max_gap_s=np.inf)
    mc = np.array([integrate_disp(t, rng.normal(0, sv), max_gap_s=np.inf).disp_km for _ in range(3000)]).std(0)
    np.testing.assert_allclose(mc[1:] / r.sigma_random_km[1:], 1.0, atol=0.08)


@settings(max_examples=30, deadline=None)
@given(bias=st.floats(0, 5), T=st.floats(10, 3000))
def test_systematic_grows_linearly(bias, T):
    t = np.linspace(0, T, 101)
    r = integrate_disp(t, np.ones(101), bias_sigma_km_s=bias)
    np.testing.assert_allclose(r.sigma_systematic_km, bias * t, atol=1e-9 * (1 + bias * T))


def test_normal_error_term_uses_tangential_flow():
    t = np.linspace(0, 100, 101)
    r = integrate_disp(t, np.zeros(101), sigma_n_rad=0.05, vt_km_s=np.full(101, 150.0))
    np.testing.assert_allclose(r.sigma_systematic_km, 0.05 * 150 * t, rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(i0=st.integers(5, 80), n_nan=st.integers(1, 10), gap=st.floats(5, 100))
def test_segments_restart_at_zero(i0, n_nan, gap):
    t = np.r_[np.arange(100.0), 100 + gap + np.arange(50.0)]
    v = np.full(len(t), 3.0); v[i0:i0 + n_nan] = np.nan
    r = integrate_disp(t, v, max_gap_s=2.0)
    assert len(r.segments) == 3
    for sg in r.segments:
        sl = slice(sg["i0"], sg["i1"] + 1)
        np.testing.assert_allclose(r.disp_km[sl], 3.0 * (t[sl] - t[sg["i0"]]), atol=1e-9)
    assert np.isnan(r.disp_km[i0:i0 + n_nan]).all()


def test_hostile_inputs():
    with pytest.raises(InputError, match="no samples"):
        integrate_disp(np.array([]), np.array([]))
    with pytest.raises(InputError, match="strictly increasing"):
        integrate_disp(np.array([0.0, 1.0, 0.5]), np.ones(3))
    with pytest.raises(InputError, match="NaT"):
        integrate_disp(np.array(["2019-01-27T12:00", "NaT"], "datetime64[ns]"), np.ones(2))
    with pytest.raises(InputError, match="NaN/inf times"):
        integrate_disp(np.array([0.0, np.nan]), np.ones(2))
    r = integrate_disp(np.arange(4.0), np.full(4, np.nan))
    assert r.segments == [] and np.isnan(r.disp_km).all()
    # datetime64 times with a cadence change: one segment when max_gap_s covers the slow part
    t = np.datetime64("2019-01-27T12:00", "ns") + (np.r_[np.arange(0, 45, 4.5), 45 + np.arange(0, 9, 0.15)]
                                                   * 1e9).astype("int64").astype("timedelta64[ns]")
    r = integrate_disp(t, np.full(len(t), 2.0), max_gap_s=5.0)
    assert len(r.segments) == 1 and abs(r.disp_km[-1] - 2.0 * (45 + 8.85)) < 1e-9
