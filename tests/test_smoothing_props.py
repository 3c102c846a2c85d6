"""Property tests for the V_N smoother (mms_mp.electric.smooth_normal_velocity) and the correlated-error displacement
σ (mms_mp.motion.integrate_disp(cov_v=...)): known answers from the penalty's null space, from Monte Carlo, and from
the independent-error formulas they must reduce to."""
import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st

from mms_mp.core import InputError
from mms_mp.velocity import VelocitySource
from mms_mp.electric import NormalVelocity, normal_velocity, smooth_normal_velocity
from mms_mp.motion import integrate_disp


def nv(t, y, s):
    s = np.broadcast_to(np.asarray(s, float), (len(t),)).copy()
    return NormalVelocity(np.asarray(t), np.asarray(y, float), s, {}, {}, {}, np.array([1.0, 0, 0]), "GSE",
                          np.ones(len(t)))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.floats(-50, 50), st.floats(-0.2, 0.2), st.floats(-1e-4, 1e-4), st.floats(-4, 8),
       st.integers(20, 300))
@example(3, -3.6194508490991404e-262, -2.111554025836682e-239, 3.0867665747107807e-05, 7.938539182600973, 115)
def test_polynomials_in_the_null_space_come_back_exactly(order, a, b, c, loglam, n):
    """A noise-free polynomial of degree < order has zero penalty: the smoother returns it for any λ, to the accuracy
    of the banded Cholesky solve of W + λDᵀD: a few ulps of rounding plus κ·ε, κ ≤ 1 + λ·4^order/w (w = 1/σ² the
    data weight; 4^order bounds the eigenvalues of DᵀD). Measured: ≤ 2.5 ulps at small λ, 0.07–0.2 κε for λ 1…1e12.
    A fixed 1e-6 of max|y| sat below κε (1.3e-5 at order 3, λ = 1e8) and failed 9 draws in 5000 (the @example:
    error 1.1e-6 of max|y|)."""
    t = np.arange(n) * 4.5
    y = a + np.zeros(n) + (b * t if order >= 2 else 0) + (c * t ** 2 if order >= 3 else 0)
    lam = 10.0 ** loglam
    r = smooth_normal_velocity(nv(t, y, 3.0), order=order, lam=lam)
    kappa = 1 + lam * 4.0 ** order * 3.0 ** 2
    np.testing.assert_allclose(r.V_N, y, atol=(16 + kappa) * np.finfo(float).eps * (1 + np.abs(y).max()))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(2.0, 8.0), st.floats(150, 900), st.floats(5, 40))
@example(413, 2.0, 678.0, 5.0)   # alone, this realisation covers 84.75 %
@example(1001, 8.0, 150.0, 5.0)  # its first 12 realisations cover 89.1 % (one of them 21 %)
def test_smoothing_beats_the_blend_and_its_sigma_covers(seed, sigma, period, amp):
    """Smooth truth (one sinusoid, period ≥ 150 s) plus white noise at 4.5 s: the smoother (λ by unbiased risk) lowers
    the RMS error in every realisation, and over 24 noise realisations ≥ 90 % of the samples lie within 2σ (nominal
    95 %). Coverage is a property of the σ on average over realisations (Nychka 1988, JASA 83, 1134): within one
    realisation the smoothed errors are correlated over the smoothing width, and seed 413 (σ 2, period 678 s,
    amplitude 5) covers only 84.75 % on its own. Where the noise is largest and the sinusoid smallest (σ 8, amplitude
    5, period 150 or 900 s; Hypothesis draws these corners often) single realisations range down to 21 % (λ picked
    far too large); there the mean of 12 fell below 90 % in 1 draw in 600–900, the mean of 24 in ~1 in 70 000."""
    t = np.arange(0, 1800, 4.5)
    cover = []
    for k in range(24):
        rng = np.random.default_rng(seed + k)
        v = amp * np.sin(2 * np.pi * t / period + seed + k)
        y = v + rng.normal(0, sigma, len(t))
        r = smooth_normal_velocity(nv(t, y, sigma))
        rms = lambda x: np.sqrt(np.mean((x - v) ** 2))
        assert rms(r.V_N) < rms(y)
        assert r.smoothing.edf[0] < len(t) and r.smoothing.width_s[0] >= 4.5
        cover.append(np.mean(np.abs(r.V_N - v) < 2 * r.sigma_V_N))
    assert np.mean(cover) >= 0.90, cover


def test_holes_split_blocks_and_stay_holes():
    t = np.arange(0, 300, 4.5); y = np.sin(t / 30); y[10:20] = np.nan
    r = smooth_normal_velocity(nv(t, y, 0.2))
    assert r.smoothing.blocks == [(0, 9), (20, len(t) - 1)]
    assert np.isnan(r.V_N[10:20]).all() and np.isfinite(r.V_N[:10]).all()
    y2 = y.copy(); y2[10:20] = 0.0; y2[12] = np.nan                 # one missing bin inside: one block, still NaN there
    r2 = smooth_normal_velocity(nv(t, y2, 0.2))
    assert r2.smoothing.blocks == [(0, len(t) - 1)] and np.isnan(r2.V_N[12])


def test_degraded_inputs_are_flagged_not_errors():
    t = np.arange(0, 100, 4.5)
    assert smooth_normal_velocity(nv(t, np.full(len(t), np.nan), 1.0)).smoothing.flags == ("no_usable_samples",)
    r = smooth_normal_velocity(nv(t, np.r_[1.0, 2, 3, np.full(len(t) - 3, np.nan)], 1.0))
    assert "too_few_samples" in r.smoothing.flags and np.allclose(r.V_N[:3], [1, 2, 3])
    assert "sigma_not_positive" in smooth_normal_velocity(nv(t, np.ones(len(t)), 0.0)).smoothing.flags
    long = smooth_normal_velocity(nv(np.arange(0, 450, 4.5), np.zeros(100), 1.0), max_block=40)
    assert "block_split" in long.smoothing.flags and len(long.smoothing.blocks) == 3
    with pytest.raises(InputError, match="order must be"):
        smooth_normal_velocity(nv(t, np.ones(len(t)), 1.0), order=5)
    for bad, msg in ((dict(lam=-1.0), "lam must be a positive"), (dict(lam=np.nan), "lam must be a positive"),
                     (dict(max_block=3), "max_block must be"), (dict(max_gap_s=-5.0), "max_gap_s must be")):
        with pytest.raises(InputError, match=msg):
            smooth_normal_velocity(nv(t, np.ones(len(t)), 1.0), **bad)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 120))
def test_displacement_sigma_from_a_covariance(seed, n):
    """integrate_disp(cov_v=…): a diagonal covariance gives the independent-error σ exactly; a random one matches the
    exact quadratic form wᵀCw of the trapezoid weights, at every sample and for any interval."""
    rng = np.random.default_rng(seed); t = np.cumsum(rng.uniform(1, 5, n)); sv = rng.uniform(0.5, 5, n)
    v = rng.normal(0, 10, n)
    ind = integrate_disp(t, v, sigma_v=sv, max_gap_s=np.inf)                     # uneven steps, one segment
    diag = integrate_disp(t, v, sigma_v=sv, cov_v=[(0, np.diag(sv ** 2))], max_gap_s=np.inf)
    np.testing.assert_allclose(diag.sigma_random_km, ind.sigma_random_km, rtol=1e-9, atol=1e-9)
    A = rng.normal(size=(n, n)); C = A @ A.T / n
    r = integrate_disp(t, v, sigma_v=sv, cov_v=[(0, C)], max_gap_s=np.inf)
    k = rng.integers(1, n); h = np.diff(t[:k + 1])
    w = np.zeros(n); w[:k] += h / 2; w[1:k + 1] += h / 2                      # trapezoid weights of X_k
    assert r.sigma_random_km[k] == pytest.approx(np.sqrt(w @ C @ w), rel=1e-9)
    ta, tb = np.sort(rng.uniform(t[0], t[-1], 2))
    u = np.array([np.interp(tb, t, X) - np.interp(ta, t, X)
                  for X in (integrate_disp(t, e, max_gap_s=np.inf).disp_km for e in np.eye(n))])
    assert r.sigma_random_between(ta, tb) == pytest.approx(np.sqrt(u @ C @ u), rel=1e-9, abs=1e-12)
    # across segments
    assert np.isnan(integrate_disp(t, v, sigma_v=sv, max_gap_s=0.5 * np.diff(t).min())
                    .sigma_random_between(t[0], t[-1]))
    with pytest.raises(InputError, match="trapezoid"):
        integrate_disp(t, v, sigma_v=sv, cov_v=[(0, C)], scheme="simpson")


@settings(max_examples=30, deadline=None)
@given(st.floats(0.05, 4.4), st.integers(0, 1000))
def test_grid_passes_through_samples_at_the_grid_cadence(phase, seed):
    """A moment source sampled at the grid's cadence with any phase: align_to='auto' puts the grid on its samples, so
    each grid value is one sample (no two-sample interpolation, whose errors would correlate neighbouring bins)."""
    rng = np.random.default_rng(seed); ts = phase + 4.5 * np.arange(200); n = np.array([1.0, 0, 0])
    v = rng.normal(0, 10, (len(ts), 3))
    src = VelocitySource(ts, v, np.full(len(ts), 10.0), np.ones(len(ts), bool), "GSE", "FPI ions")
    r = normal_velocity([src], n, frame="GSE", cadence="4.5s", t_range=(0.0, 900.0), scatter_window=0)
    ok = r.good
    assert ok.sum() >= 190
    np.testing.assert_allclose(np.asarray(r.t)[ok] % 4.5, phase % 4.5, atol=1e-6)
    k = np.rint((np.asarray(r.t)[ok] - phase) / 4.5).astype(int)               # the sample each grid point sits on
    np.testing.assert_allclose(r.V_N[ok], v[k, 0], atol=1e-6)
    off = normal_velocity([src], n, frame="GSE", cadence="4.5s", t_range=(0.0, 900.0), scatter_window=0, align_to=None)
    assert np.abs(np.asarray(off.t) % 4.5).max() < 1e-9              # the unaligned grid sits on multiples of 4.5 s


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.floats(0.1, 20.0), st.integers(12, 400), st.floats(0, 0.5))
def test_smoother_covariances_are_psd_as_integrate_disp_trusts(seed, order, sigma, n, holes):
    """`integrate_disp` skips the O(m³) Cholesky test for the smoother's blocks (`CovBlocks`): they are posterior
    covariances, (WᵀW + λDᵀD)⁻¹ scaled by φ̂ ≥ 1, positive semi-definite by construction. Checked here: every block
    is symmetric with eigenvalues ≥ −1e-9 of its largest, whatever the data, σ, penalty order and holes."""
    from mms_mp.core import CovBlocks
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 4.5
    y = rng.normal(0, 30, n)
    y[rng.random(n) < holes] = np.nan
    r = smooth_normal_velocity(nv(t, y, sigma * rng.uniform(0.5, 2, n)), order=order)
    assert isinstance(r.cov_blocks, CovBlocks)
    for _, C in r.cov_blocks:
        np.testing.assert_allclose(C, C.T, rtol=0, atol=1e-12 * np.abs(C).max())
        e = np.linalg.eigvalsh(C)
        assert e.min() >= -1e-9 * max(e.max(), 1e-300), e.min()
