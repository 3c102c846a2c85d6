"""Speed-ups that must give the same bits as the numpy calls they replace (results may not move at all).

Each helper here is checked against the plain numpy expression on data where summation order matters.
A few speed-ups round differently (their docstrings say so): those are checked against the straightforward
computation to rtol 1e-12, and no discrete decision (a crossing, a flag, a window) may change.
"""
import numpy as np
import pytest

from mms_mp.minvar import autocorr_time, finite_rows, mean_rows
from mms_mp.normals import angles_from


def _hard_rows(seed, n):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)) * 10.0 ** rng.integers(-8, 9, (n, 3))


@pytest.mark.parametrize("n", [1, 7, 9, 100, 8191, 8193, 70001])
def test_mean_rows_is_mean_axis0_to_the_bit(n):
    X = _hard_rows(n, n)
    assert mean_rows(X).tobytes() == X.mean(axis=0).tobytes()
    F = np.asfortranarray(X)   # not C-ordered: falls back to X.mean itself
    assert mean_rows(F).tobytes() == F.mean(axis=0).tobytes()


def test_finite_rows_is_isfinite_all():
    X = _hard_rows(1, 500)
    X[::7, 1], X[::11, 2], X[::13, 0] = np.nan, np.inf, -np.inf
    assert np.array_equal(finite_rows(X), np.isfinite(X).all(axis=1))


def test_angles_from_is_the_cross_product_formula():
    N = _hard_rows(2, 50)
    N /= np.linalg.norm(N, axis=1)[:, None]
    m = N[3]
    ref = np.degrees(np.arctan2(np.linalg.norm(np.cross(N, m), axis=1), N @ m))
    assert angles_from(N, m).tobytes() == ref.tobytes()


def _tau_by_flatnonzero(x):
    "autocorr_time as first written (the index of the first ρ ≤ 0 by flatnonzero)."
    from mms_mp.minvar import fft_len
    x = np.asarray(x, float) - np.mean(x)
    n, m = len(x), fft_len(2 * len(x))
    f = np.fft.rfft(x, m)
    ac = np.fft.irfft(f * np.conj(f), m)[:n]
    rho = ac[1:] / ac[0]
    stop = np.flatnonzero(rho <= 0)
    k = stop[0] if len(stop) else n - 1
    return float(max(1.0, 1 + 2 * rho[:k].sum()))


def test_autocorr_time_stops_at_the_first_non_positive_rho():
    """τ by dot products for the first lags (FFT beyond DIRECT_LAGS) agrees with the all-FFT τ to rtol 1e-12.

    Not to the bit since the direct lags were added: a dot product and an FFT round differently.
    """
    from mms_mp.minvar import DIRECT_LAGS
    rng = np.random.default_rng(0)
    series = (np.cos(np.arange(400) * 0.05),           # ρ crosses 0 after ≈ 31 lags: direct
              np.cos(np.arange(400) * 0.045),          # ≈ 35 lags: past DIRECT_LAGS, the FFT
              np.arange(50.0) ** 3,                     # ρ > 0 almost to the end
              np.arange(20.0) ** 2,                     # short: ρ crosses 0 after 7 lags
              np.r_[1.0, -1.0, 1.0, -1.0],              # ρ_1 < 0 at once
              np.r_[1.0, 2.0, 4.0],                     # three samples
              rng.standard_normal(3000),                # white: a lag or two
              rng.standard_normal(3000).cumsum())
    for y in series:
        assert autocorr_time(y) == pytest.approx(_tau_by_flatnonzero(y), rel=1e-12, abs=0)
    assert DIRECT_LAGS < 35


def test_banded_cholesky_is_scipys_to_the_bit_with_its_errors():
    from scipy.linalg import LinAlgError, cho_solve_banded, cholesky_banded
    from mms_mp.electric import _chol_banded, _penalty_banded, _solve_banded
    rng = np.random.default_rng(3)
    ab = 7.5 * _penalty_banded(80, 2)
    ab[2] += rng.uniform(0.1, 3, 80)
    b = rng.standard_normal(80)
    cf = _chol_banded(ab)
    assert cf.tobytes() == cholesky_banded(ab, lower=False).tobytes()
    assert _solve_banded(cf, b).tobytes() == cho_solve_banded((cf, False), b).tobytes()
    assert _solve_banded(cf, np.eye(80)).tobytes() == cho_solve_banded((cf, False), np.eye(80)).tobytes()
    with pytest.raises(LinAlgError, match="not positive definite"):
        _chol_banded(-ab)
    with pytest.raises(ValueError, match="infs or NaNs"):
        _chol_banded(np.where(np.arange(80) == 5, np.inf, ab))
    with pytest.raises(ValueError, match="infs or NaNs"):
        _solve_banded(cf, np.r_[b[:-1], np.nan])


def test_correlation_from_reused_spectra_is_the_chained_fft_to_the_bit():
    from mms_mp.delays import _corr_len, _corr_spec
    rng = np.random.default_rng(4)
    y, k = rng.standard_normal(18501).cumsum(), rng.uniform(0, 1, 10085)
    nf, m = _corr_len(len(y), len(k)), len(y) - len(k) + 1
    chained = np.fft.irfft(np.fft.rfft(y, nf) * np.conj(np.fft.rfft(k, nf)), nf)[:m]
    assert _corr_spec(np.fft.rfft(y, nf), np.fft.rfft(k, nf), nf, m).tobytes() == chained.tobytes()


def test_seconds_since_without_copies_is_the_same():
    from mms_mp.core import seconds_since
    t = np.array(["2019-01-27T12:15:00.123456789", "NaT", "2019-01-27T12:14:00"], "datetime64[ns]")
    for t0 in ("2019-01-27T12:15", np.datetime64("2019-01-27T12:15:00.5"), np.datetime64("2019-01-27", "D")):
        old = (t - np.datetime64(t0, "ns")).astype("timedelta64[ns]").astype(np.int64) / 1e9
        assert seconds_since(t, t0).tobytes() == old.tobytes()
    assert seconds_since(t, t[0]) is not t and t[0] == np.datetime64("2019-01-27T12:15:00.123456789")


def test_finite_rows_by_compress_are_the_boolean_index():
    from mms_mp.minvar import _vectors
    B = _hard_rows(5, 4001)
    B[::37, 2], B[5, 0] = np.nan, np.inf
    X, n_nan = _vectors(B)
    good = np.isfinite(B).all(axis=1)
    assert X.tobytes() == B[good].tobytes() and X.flags.c_contiguous and n_nan == (~good).sum()
    assert _vectors(B[::2].T.copy().T)[0].tobytes() == B[::2][good[::2]].tobytes()   # F-ordered input


def test_hybrid_lmn_sigmas_from_mvas_rows_are_correlated_sigmas():
    from mms_mp.coords import hybrid_lmn
    from mms_mp.minvar import _harris_sheet, correlated_sigma, mva, x1_cone_deg
    B = _harris_sheet([1.0, 0.05, 0], [0, 0, 1.0], n=3000, seed=3)[0]
    B[::41] = np.nan
    B[7, 1] = np.inf
    t = hybrid_lmn(B, [63712.0, 0.0, 0.0], frame="GSM", psi_rad=0.1, ratio_min=1.0)
    mv = mva(B, frame="GSM", allow_degenerate=True)
    n_eff, sig = correlated_sigma(B, mv)
    assert t.method == "MVA" and t.sigma_N_deg == sig and t.mva.n_nan == mv.n_nan == 75
    assert t.mva.vectors.tobytes() == mv.vectors.tobytes()
    assert t.sigma_L_deg == x1_cone_deg(mv.eigenvalues, n_eff)


def _bin_average_by_copies(ts, y, good, tgrid, cadence, min_samples=2):
    "bin_average as first written: the samples off the grid dropped by boolean indexing."
    G = len(tgrid)
    k = np.floor((ts - (tgrid[0] if G else 0.0)) / cadence + 0.5).astype(np.int64)
    inside = (k >= 0) & (k < G)
    k, y, good = k[inside], y[inside], good[inside]
    n_all = np.bincount(k, minlength=G)
    n_good = np.bincount(k, weights=good, minlength=G)
    yz = np.where(good[:, None], y, 0.0)
    sums = np.stack([np.bincount(k, weights=yz[:, j], minlength=G) for j in range(y.shape[1])], axis=1)
    ok = (n_good > 0) & (2 * n_good >= n_all) & (n_all >= min_samples)
    with np.errstate(invalid="ignore", divide="ignore"): out = sums / n_good[:, None]
    out[~ok] = np.nan
    return out, ok, np.where(ok, n_good, 0).astype(np.int64)


@pytest.mark.parametrize("K", [1, 3])
def test_bin_average_with_a_spare_bin_is_the_copying_one(K):
    from mms_mp.resample import bin_average
    rng = np.random.default_rng(K)
    ts = np.sort(rng.uniform(-3.0, 103.0, 20000)) + 1.5e9
    y = _hard_rows(K, 20000)[:, :K]
    good = rng.random(20000) > 0.05
    for tg in (1.5e9 + 0.7 * np.arange(140), 1.5e9 - 10 + 0.25 * np.arange(600), 1.5e9 + np.arange(3.0)):
        for mins in (1, 2):
            new, old = bin_average(ts, y, good, tg, tg[1] - tg[0], mins), _bin_average_by_copies(
                ts, y, good, tg, tg[1] - tg[0], mins)
            assert all(a.tobytes() == b.tobytes() and a.dtype == b.dtype for a, b in zip(new, old))
    out, ok, n = bin_average(ts, y, good, np.zeros(0), 1.0)
    assert out.shape == (0, K) and ok.shape == n.shape == (0,)


def test_merge_vars_on_clean_times_is_the_sorted_path():
    from mms_mp.core import clean_times
    from mms_mp.resample import _to_seconds, merge_vars
    t = np.datetime64("2019-01-27T12:15", "ns") + np.arange(5000) * np.timedelta64(7812500, "ns")
    kind, ts, idx, rep = _to_seconds(t, "x")
    i2, r2 = clean_times(t)
    assert ts.tobytes() == _to_seconds(t[::-1], "x")[1].tobytes() and rep == r2
    assert np.array_equal(np.arange(5000)[idx], i2)
    y = np.sin(np.arange(5000) / 50.0)
    y[100:140] = np.nan
    a = merge_vars({"y": (t, y)}, 0.1)
    b = merge_vars({"y": (np.r_[t, t[:3]], np.r_[y, y[:3]])}, 0.1)   # duplicates: clean_times sorts
    assert a.values["y"].tobytes() == b.values["y"].tobytes() and a.t.tobytes() == b.t.tobytes()
    assert a.info["y"]["n_duplicates"] == 0 and b.info["y"]["n_duplicates"] == 3


def test_merge_vars_without_notes_is_merge_vars():
    "notes=False (as fusion calls it) leaves info empty and changes nothing else."
    from mms_mp.resample import merge_vars
    t = np.datetime64("2019-01-27T12:15", "ns") + np.arange(3000) * np.timedelta64(150, "ms")
    s = {"a": (t, np.cos(np.arange(3000) / 9.0)), "b": (t[::40], np.arange(75.0))}
    a = merge_vars(s, 0.5, t_range=(t[5], t[-5]))
    b = merge_vars(s, 0.5, t_range=(t[5], t[-5]), notes=False)
    assert b.info == {} and set(a.info) == set(s) and a.t.tobytes() == b.t.tobytes()
    assert all(a.values[k].tobytes() == b.values[k].tobytes() for k in s)
    assert all(np.array_equal(a.good[k], b.good[k]) for k in s)


def test_mva_bootstrap_filters_the_finite_rows_once(monkeypatch):
    "mva_bootstrap bootstraps the rows its full-data MVA used: B is validated and filtered once."
    import mms_mp.minvar as mv
    B = np.random.default_rng(3).normal(size=(400, 3)) * [5, 2, 0.5]   # a clear minimum-variance axis
    B[::17, 1] = np.nan
    calls, real = [], mv._vectors
    monkeypatch.setattr(mv, "_vectors", lambda *a, **k: calls.append(1) or real(*a, **k))
    bs = mv.mva_bootstrap(B, n_boot=40, seed=2)
    assert len(calls) == 1 and (bs.base.n_samples, bs.base.n_nan) == (376, 24)


def test_nested_window_moments_agree_with_each_window_alone():
    """Moments summed once over nested windows (`normals._nested_moments`) agree with each window's own mean
    and variance matrix to 1e-12 of the largest |B| (mean) or |M| (variance matrix) in the window: not
    to the bit, as the windows share their sums."""
    from mms_mp.normals import _nested_moments
    rng = np.random.default_rng(6)
    X = rng.normal(0, 0.01, (20000, 3)) + 1e4 * np.tanh(np.linspace(-8, 8, 20000))[:, None] * [1, -0.5, 0.2]
    ij = np.array([[9990, 10010], [9000, 11000], [9000, 15000], [3000, 15000], [0, 20000]])
    for (a, b), (mu, Mv) in zip(ij, _nested_moments(X, ij)):
        D = X[a:b] - X[a:b].mean(axis=0)
        np.testing.assert_allclose(mu, X[a:b].mean(axis=0), rtol=0, atol=1e-12 * np.abs(X[a:b]).max())
        np.testing.assert_allclose(Mv, D.T @ D / (b - a), rtol=1e-12, atol=1e-12 * np.abs(Mv).max())
    mu, Mv = _nested_moments(X, np.array([[5, 5], [0, 20000]]))[0]   # an empty window: NaN
    assert np.isnan(mu).all() and np.isnan(Mv).all()


def test_the_reported_normal_is_window_mva_of_its_window_to_the_bit():
    "The normal, L and eigenvalues reported are `window_mva` of the chosen window's own rows, bit for bit."
    from mms_mp.minvar import _harris_sheet, window_mva
    from mms_mp.normals import (_ranking, _window_rows, nested_scan, plateau, plateau_normal)
    from mms_mp.core import seconds_since
    n_true = np.array([0.8, 0.5, 0.33]) / np.linalg.norm([0.8, 0.5, 0.33])
    B = _harris_sheet(n_true, [0, 0, 1.0], n=12000, noise=0.5, seed=2)[0]
    B[::97] = np.nan
    t = np.datetime64("2019-01-27T12:30", "ns") + np.arange(12000) * np.timedelta64(7812500, "ns")
    c = t[6000]
    scan = nested_scan(t, B, c, 20.0)
    run = plateau(scan)
    cn = plateau_normal(scan, run, np.eye(3)[[2, 1, 0]] * [[1], [-1], [1]])
    k = run[np.nanargmin(_ranking(scan)[run])]
    X = _window_rows(seconds_since(t, c), B, np.isfinite(B).all(axis=1), *scan.windows[k], True)
    r = window_mva(X, "GSE")[0]
    assert len(run) >= 3 and len(X) == scan.n[k]
    assert np.abs(cn.n_hat).tobytes() == np.abs(r.normal).tobytes()
    assert np.asarray(cn.eigenvalues).tobytes() == r.eigenvalues.tobytes()
    L = r.vectors[0] - (r.vectors[0] @ cn.n_hat) * cn.n_hat
    np.testing.assert_allclose(np.abs(cn.L), np.abs(L / np.linalg.norm(L)), rtol=0, atol=1e-15)


def test_group_delays_on_prepared_series_agree_with_the_per_group_ones():
    """Series cleaned once with an exact-ns cadence (`prepared_series`) give the per-group delays to rtol 1e-12
    (the cadence from ns steps, not from s since the group's time, may round differently); repairs are noted."""
    from types import SimpleNamespace
    from mms_mp.core import from_seconds
    from mms_mp.delays import group_delays, prepared_series
    t0, rng = np.datetime64("2019-01-27T12:30", "ns"), np.random.default_rng(9)
    s = np.arange(-60, 60, 1 / 128)
    dt = {"1": 0.0, "2": 1.3, "3": -0.8}
    ser = {p: (from_seconds(s, t0), 20 * np.tanh((s - d) / 2) + rng.normal(0, 0.3, s.size)) for p, d in dt.items()}
    ser["3"] = (np.r_[ser["3"][0][:5], ser["3"][0][4:]], np.r_[ser["3"][1][:5], ser["3"][1][4:]])  # a repeated tag
    cr = {p: SimpleNamespace(time=from_seconds(d, t0), layer_start=from_seconds(d - 3, t0),
                             layer_end=from_seconds(d + 3, t0)) for p, d in dt.items()}
    rp = {p: (from_seconds(np.array([-300.0, 300.0]), t0), np.tile([7e4, 1e3 * k, 0], (2, 1)))
          for k, p in enumerate(dt)}
    a, b = group_delays(cr, ser, rp), group_delays(cr, ser, rp, prepared=prepared_series(ser))
    for f in ("delays_s", "sigma_s", "peak_corr"):
        x, y = getattr(a.delays, f), getattr(b.delays, f)
        np.testing.assert_allclose([y[p] for p in dt], [x[p] for p in dt], rtol=1e-12, atol=1e-15)
    assert a.delays.flags == b.delays.flags and any(f.startswith("3: times repaired") for f in b.delays.flags)



def test_run_spreads_are_each_runs_spread():
    """Every run's spread from prefix sums (`normals._run_spreads`, what `plateau` compares with plateau_deg)
    agrees with `_spread(N[i:j]).max()` to rtol 1e-12 (abs 1e-12 deg near 0°): not to the bit, as the runs
    share their sums."""
    from mms_mp.normals import _run_spreads, _spread
    rng = np.random.default_rng(11)
    for K in (1, 2, 5, 10):
        for scale in (1e-6, 0.05, 0.5):
            N = np.array([0.3, -0.2, 0.9]) + rng.normal(0, scale, (K, 3))
            N /= np.linalg.norm(N, axis=1)[:, None]
            S = _run_spreads(N)
            assert S.shape == (K, K + 1) and np.isnan(S[np.tril_indices(K)]).all()
            for i in range(K):
                for j in range(i + 1, K + 1):
                    assert S[i, j] == pytest.approx(_spread(N[i:j]).max(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("detrend", ["mean", "linear"])
def test_weighted_xcorr_with_reused_reference_and_smooth_fft_lengths(detrend):
    """ρ(ℓ) with the reference window's spectra kept across probes (memo) is the same bits as without; with
    2·3·5-smooth FFT lengths it agrees with power-of-2 lengths (the FFT length before) to rtol 1e-12."""
    from unittest.mock import patch
    import mms_mp.delays as dl
    rng = np.random.default_rng(12)
    nw, nL = 3001, 1700
    yr = np.tanh(np.linspace(-3, 3, nw)) + rng.normal(0, 0.05, nw)
    w = dl._tukey(nw, 0.5)
    memo = {}
    for s in range(3):
        yp = np.tanh(np.linspace(-3, 3, nw + 2 * nL) * (1 + 0.1 * s)) + rng.normal(0, 0.05, nw + 2 * nL)
        a = dl._weighted_xcorr(yr, yp, nL, w, detrend, memo)
        assert a.tobytes() == dl._weighted_xcorr(yr, yp, nL, w, detrend).tobytes()
        with patch.object(dl, "_corr_len", lambda ny, nk: 1 << (ny + nk - 2).bit_length()):
            b = dl._weighted_xcorr(yr, yp, nL, w, detrend)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    assert dl._corr_len(nw + 2 * nL, nw) == 9600 < 16384


def test_the_reference_probe_is_not_correlated_with_itself_and_keeps_its_flags():
    "The reference's row is (0, 0, 1) without its self-correlation; its edge flag (lags under a sample) stays."
    from mms_mp.core import from_seconds
    from mms_mp.delays import crossing_delays
    t0, rng = np.datetime64("2019-01-27T12:30", "ns"), np.random.default_rng(13)
    s = np.arange(-30, 30, 1 / 16)
    ser = {p: (from_seconds(s, t0), np.tanh(s - d) + rng.normal(0, 0.05, s.size)) for p, d in (("1", 0), ("2", 0.3))}
    d = crossing_delays(ser, t_center=t0, window_s=10.0)
    assert (d.delays_s["1"], d.sigma_s["1"], d.peak_corr["1"]) == (0.0, 0.0, 1.0) and abs(d.delays_s["2"] - 0.3) < 0.05
    assert not d.flags
    short = crossing_delays(ser, t_center=t0, window_s=10.0, max_lag_s=1 / 32)   # nL = 2 < k = 4 grid steps
    assert [f.split(":")[0] for f in short.flags if "edge" in f] == ["1", "2"]


def _jump_over_slope_by_masks(ts, y, D, lo, hi):
    "normals._jump_over_slope as first written: boolean masks over the whole stretch."
    r1, l0 = min(3 * D, hi), max(-3 * D, lo)
    a = y[(ts >= l0) & (ts <= max(-1.5 * D, l0 / 2))]
    b = y[(ts >= min(1.5 * D, r1 / 2)) & (ts <= r1)]
    if a.size < 3 or b.size < 3: return np.nan
    dt = float(np.median(np.diff(ts)))
    if not dt > 0: return np.nan
    k = max(1, round(D / 10 / dt))
    if len(ts) <= 2 * k: return np.nan
    s = np.abs(y[2 * k:] - y[:-2 * k]) / (ts[2 * k:] - ts[:-2 * k])
    s = s[np.abs(ts[k:-k]) <= max(D / 2, k * dt)]
    top = s.max() if s.size else 0.0
    return abs(np.median(b) - np.median(a)) / top if top > 0 else np.nan


def test_jump_over_slope_by_slices_is_the_masked_one_to_the_bit():
    from mms_mp.normals import _jump_over_slope
    rng = np.random.default_rng(14)
    for _ in range(300):
        n = int(rng.integers(5, 3000))
        ts = np.sort(rng.uniform(-60, 60, n)) + rng.choice([0.0, 40.0, -70.0])
        y = 20 * np.tanh(ts / rng.uniform(0.5, 20)) + rng.normal(0, 0.5, n)
        D = float(rng.choice([rng.uniform(0.01, 1), rng.uniform(1, 40), 200.0]))
        lo, hi = -float(rng.uniform(0, 100)), float(rng.uniform(0, 100))
        old, new = _jump_over_slope_by_masks(ts, y, D, lo, hi), _jump_over_slope(ts, y, D, lo, hi)
        assert (np.isnan(old) and np.isnan(new)) or old == new


def test_windows_mva_moments_is_window_mva_moments_of_each_to_the_bit():
    "K windows at once (one stacked eigh, errors as arrays) give each window's MVA, n_eff and σ bit for bit."
    from mms_mp.core import InputError
    from mms_mp.minvar import _harris_sheet, window_mva_moments, windows_mva_moments
    B = _harris_sheet([0.6, 0.7, 0.3], [0, 0, 1.0], n=6000, noise=0.4, seed=4)[0]
    Xs = [B[3000 - h:3000 + h] for h in (40, 300, 1200, 3000)] + [np.tile([1.0, 2.0, 3.0], (50, 1))]  # degenerate
    Xs.append(np.c_[np.arange(60.0), np.zeros(60), np.zeros(60)])   # λ2 = λ3 = 0: degenerate too
    Bm = np.array([X.mean(axis=0) for X in Xs])
    Mv = np.array([(X - X.mean(0)).T @ (X - X.mean(0)) / len(X) for X in Xs])
    for (r, ne, s), X, b, M in zip(windows_mva_moments(Xs, Bm, Mv, "GSE"), Xs, Bm, Mv):
        r1, ne1, s1 = window_mva_moments(X, b, M, "GSE")
        assert r.eigenvalues.tobytes() == r1.eigenvalues.tobytes() and r.vectors.tobytes() == r1.vectors.tobytes()
        d, d1 = [(x.dphi12_deg, x.dphi13_deg, x.dphi23_deg, x.sigma_n_deg) for x in (r, r1)]
        assert np.array_equal(d, d1, equal_nan=True) and r.degenerate == r1.degenerate
        assert np.array_equal([ne, s], [ne1, s1], equal_nan=True)
    assert [r.degenerate for r, _, _ in windows_mva_moments(Xs, Bm, Mv, "GSE")] == [False] * 4 + [True] * 2
    with pytest.raises(InputError, match="overflows"):
        windows_mva_moments(Xs[:2], Bm[:2], np.where(np.eye(3) > 0, np.inf, Mv[:2]), "GSE")


def _layer_series(seed, holes):
    "B_L-like burst series across one tanh layer (128 Hz, 10 min), with NaN holes if asked."
    rng = np.random.default_rng(seed)
    ts = np.arange(76_800) / 128.0 + 0.3
    y = 20 * np.tanh((ts - 300.0) / 3.0) + 15.0 + 0.5 * rng.normal(size=ts.size)
    if holes: y[rng.integers(0, ts.size, 2000)] = np.nan
    return ts, y


@pytest.mark.parametrize("holes", [False, True])
@pytest.mark.parametrize("fit", [False, True])
def test_time_layer_smooths_lazily_to_the_bit(monkeypatch, holes, fit):
    """`_time_layer` builds its running means lazily (`_Smoothed`): the layer times and edges are those of the full
    running mean to the bit; σ (its level-noise floor now fits lines in closed form) agrees to rtol 1e-12."""
    import mms_mp.crossings as C
    from mms_mp.boundary import DetectorCfg, running_mean
    ts, y = _layer_series(4, holes)
    args = (ts, y, (10.0, 590.0), (298.0, 302.0), 300.0, -5.0, 35.0, DetectorCfg())
    lazy = C._time_layer(*args, fit=fit)
    full_mean = type("Full", (C._Smoothed,), {"__new__": lambda cls, y, n, *a: running_mean(y, n)})
    monkeypatch.setattr(C, "_Smoothed", full_mean)      # (isinstance checks still see the class)
    monkeypatch.setattr(C, "_line_residuals",
                        lambda t, w: w - np.polyval(np.polyfit(t - t.mean(), w, 1), t - t.mean()))
    full = C._time_layer(*args, fit=fit)
    assert {k: lazy[k] for k in ("t_c", "t_s", "t_e", "a", "b", "flags", "dt")} == \
           {k: full[k] for k in ("t_c", "t_s", "t_e", "a", "b", "flags", "dt")}
    np.testing.assert_allclose(lazy["sigma"], full["sigma"], rtol=1e-12, atol=0)


def test_level_noise_line_fit_is_polyfits_to_rtol_1e_12():
    """`_level_noise` fits each plateau's trend in closed form, not with np.polyfit (lstsq): the same noise to
    rtol 1e-12 (not to the bit: the sums round differently)."""
    import mms_mp.crossings as C
    ts, y = _layer_series(9, True)
    y = y + 0.01 * ts                                  # a drifting level: the line matters
    wins = ((40.0, 100.0), (200.0, 260.0), (330.0, 390.0), (0.0, 0.01))
    ref = []
    for a, b in wins:
        sel = (ts >= a) & (ts <= b) & np.isfinite(y)
        if sel.sum() < 3: continue
        t, w = ts[sel], y[sel]
        r = w - np.polyval(np.polyfit(t - t.mean(), w, 1), t - t.mean())
        ref.append(1.4826 * np.median(np.abs(r - np.median(r))))
    np.testing.assert_allclose(C._level_noise(ts, y, wins), np.sqrt(np.mean(np.square(ref))), rtol=1e-12, atol=0)


def test_make_feature_levels_and_noise_are_two_levels_to_the_bit():
    "make_feature sorts its own copy of the finite samples and takes the noise in place: two_levels' bits."
    from mms_mp.boundary import DetectorCfg, make_feature, two_levels
    rng = np.random.default_rng(21)
    t = np.datetime64("2019-01-27T12:15", "ns") + np.arange(50_000) * np.timedelta64(7_812_500, "ns")
    y = np.where(np.arange(50_000) % 9000 < 4000, -20.0, 25.0) + rng.normal(size=50_000)
    y[rng.integers(0, 50_000, 500)] = np.nan
    f = make_feature("B_L", t, y, False, 1.0, 1.0, DetectorCfg())
    d = np.diff(y[np.isfinite(y)])
    assert (f.lo, f.hi, f.noise) == two_levels(y)
    assert f.noise == float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2))
    assert f.ysort.tobytes() == np.sort(y[np.isfinite(y)]).tobytes()


def test_bin_average_good_counts_by_subtraction_are_the_weighted_counts():
    "bin_average counts good samples as all minus bad (integers): the bins, means and counts are unchanged."
    from mms_mp.resample import bin_average
    rng = np.random.default_rng(31)
    ts = np.sort(rng.uniform(0, 100, 20_000))
    y = rng.normal(size=(20_000, 2)) * 30
    good = rng.random(20_000) > 0.3
    grid = np.arange(0.0, 100.0, 0.5)
    v, ok, cnt = bin_average(ts, y, good, grid, 0.5)
    k = np.floor((ts - grid[0]) / 0.5 + 0.5).astype(np.int64)
    k[(k < 0) | (k >= grid.size)] = grid.size
    n_all = np.bincount(k, minlength=grid.size + 1)[:-1]
    n_good = np.bincount(k, weights=good, minlength=grid.size + 1)[:-1]       # the weighted count, as before
    sums = np.stack([np.bincount(k, weights=np.where(good, y[:, j], 0.0), minlength=grid.size + 1)[:-1]
                     for j in range(2)], 1)
    want_ok = (n_good > 0) & (2 * n_good >= n_all) & (n_all >= 2)
    with np.errstate(all="ignore"): want = np.where(want_ok[:, None], sums / n_good[:, None], np.nan)
    assert np.array_equal(ok, want_ok) and v.tobytes() == want.tobytes()
    assert np.array_equal(cnt, np.where(want_ok, n_good, 0).astype(np.int64))


@pytest.mark.parametrize("sheath_high", [False, True])
def test_feature_score_in_place_is_the_formula(sheath_high):
    "Feature.score works on one new array in place: the bits of clip(±(2(y − lo)/(hi − lo) − 1), −1, 1)."
    from mms_mp.boundary import Feature
    f = Feature("B_L", np.arange(3), np.arange(3.0), -20.0, 25.0, 1.0, sheath_high, True)
    y = np.random.default_rng(2).normal(size=30_000) * 40
    y[::97] = np.nan
    y0 = y.copy()
    x = 2 * (y - f.lo) / (f.hi - f.lo) - 1
    assert f.score(y).tobytes() == np.clip(x if sheath_high else -x, -1, 1).tobytes()
    assert y.tobytes() == y0.tobytes()                  # the input is not changed
    assert f.score(3.0) == np.clip((1 if sheath_high else -1) * (2 * (3.0 + 20) / 45 - 1), -1, 1)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 1000, 70001])
def test_window_sums_without_a_padded_copy_are_the_padded_sums(n):
    "quality._window_sums adds ad's slices in place (no padded copy): the bits of the padded running sum."
    from mms_mp.quality import _window_sums
    ad = np.abs(np.random.default_rng(n).normal(size=n)) * 10.0 ** np.random.default_rng(n).integers(-3, 4, n)
    ad[-1] = 0.0
    for half in (1, 2, 3, 5, 8):
        adp = np.concatenate([np.zeros(half), ad[:-1], np.zeros(half)])
        s = np.zeros(n)
        for k in range(2 * half): s += adp[k: k + n]
        assert _window_sums(ad, half).tobytes() == s.tobytes()


def _median_outliers_padded(yy, half, thr, ad):
    "The padded reference: running-median windows from np.pad(..., 'edge') and sliding_window_view."
    from mms_mp.quality import _window_sums
    w = 2 * half + 1
    yp = np.pad(yy, half, mode="edge")
    maybe = np.flatnonzero(_window_sums(ad, half) > 0.999 * thr)
    rows = np.lib.stride_tricks.sliding_window_view(yp, w)[maybe]
    maybe = maybe[rows.max(axis=1) - rows.min(axis=1) > thr]
    med = np.median(np.lib.stride_tricks.sliding_window_view(yp, w)[maybe], axis=1)
    dev = np.abs(yy[maybe] - med)
    return maybe[dev > thr], dev[dev > thr]


@pytest.mark.parametrize("n", [4, 9, 500, 40_000])
def test_median_outliers_from_clipped_windows_are_the_padded_ones(n):
    "_median_outliers takes the candidates' windows by clipped indices, not from a padded copy: the same spikes."
    from mms_mp.quality import _median_outliers
    rng = np.random.default_rng(n)
    yy = np.cumsum(rng.normal(size=n)) + 30
    yy[rng.integers(0, n, max(n // 200, 2))] += rng.choice([-1, 1], max(n // 200, 2)) * 40   # spikes
    yy[:1] += 50                                                                             # one at the edge
    ad = np.abs(np.diff(yy, append=yy[-1:]))
    for half in (1, 3):
        if n <= 2 * half: continue
        for chunk in (3, 65536):
            got = _median_outliers(yy, half, 12.0, ad, chunk)
            want = _median_outliers_padded(yy, half, 12.0, ad)
            assert got[0].tobytes() == want[0].tobytes() and got[1].tobytes() == want[1].tobytes()


def _vn_sources(seed, n_exb=6000, gaps=True):
    "E×B (32 S/s, covariance, b̂), FPI ions (4.5 s) and HPCA He⁺ (10 s) over ~190 s, with holes and bad samples."
    from mms_mp.velocity import ExBResult, exb_source, fpi_source, heplus_source
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2019-01-27T12:15", "ns")
    at = lambda s: t0 + np.round(s * 1e9).astype("int64").astype("timedelta64[ns]")
    te = np.arange(n_exb) / 32.0
    keep = ~((te > 40) & (te < 43)) if gaps else np.ones(n_exb, bool)   # a 3-s hole
    te = te[keep]
    v = _hard_rows(seed, len(te)) * 0 + rng.normal(0, 200, (len(te), 3))
    A = rng.normal(0, 3, (len(te), 3, 3))
    b = rng.normal(0, 1, (len(te), 3))
    b /= np.linalg.norm(b, axis=1)[:, None]
    good = rng.random(len(te)) > 0.1
    v[rng.random(len(te)) < 0.02] = np.nan
    exb = exb_source(ExBResult(v, A @ A.transpose(0, 2, 1), b, np.full(len(te), 20.0), np.zeros(len(te), bool),
                               good & np.isfinite(v).all(1), "GSE", at(te)))
    tf = np.arange(0.0, te[-1], 4.5) + 1.1
    vf = rng.normal(0, 150, (len(tf), 3))
    vf[7] = np.nan
    fpi = fpi_source(at(tf), vf, rng.uniform(5, 20, len(tf)), rng.uniform(200, 900, len(tf)))
    th = np.arange(0.0, te[-1], 10.0) + 3.3
    he = heplus_source(at(th), rng.normal(0, 100, (len(th), 3)), rng.uniform(0.005, 0.5, len(th)))
    return {"ExB": exb, "FPI ions": fpi, "HPCA He+": he}, at


def _same_nv(a, b):
    for f in ("t", "V_N", "sigma_V_N", "sigma_sys_V_N", "birge", "n_hat"):
        assert np.asarray(getattr(a, f)).tobytes() == np.asarray(getattr(b, f)).tobytes(), f
    for f in ("used", "per_source", "per_source_sigma"):
        x, y = getattr(a, f), getattr(b, f)
        assert list(x) == list(y) and all(x[k].tobytes() == y[k].tobytes() for k in x), f
    assert a.flags == b.flags


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_normal_velocity_on_the_samples_its_grid_reads_is_the_whole_series_blend(monkeypatch, seed):
    """normal_velocity prepares each source only where its grid reads it (`resample.grid_reach`, with the robust
    scatter's window beyond): the same bits as preparing every sample, for windows at the ends, in a hole, beside
    the data, and with a source that has too few samples in the window (its flag counts the whole series)."""
    import mms_mp.resample as R
    from mms_mp.core import MMSMPError
    from mms_mp.electric import normal_velocity
    src, at = _vn_sources(seed)
    rng = np.random.default_rng(seed)
    n = rng.normal(size=3)
    windows = [(400, 450), (-100, -60), (-30, 20), (0, 30), (35, 50), (41, 42.5), (100, 180), (170, 400), (60, 61),
               (-50, 400)]
    kws = [dict(), dict(scatter_window=0), dict(scatter_window=5, align_to=None), dict(sigma_n_rad=0.05),
           dict(exb_parallel="sigma"), dict(v_par_km_s=80.0)]
    for lo, hi in windows:
        for kw in kws:
            for cad in ("4.5s", 0.5):
                args = (src, n)
                kw2 = dict(frame="GSE", cadence=cad, t_range=(at(np.float64(lo)), at(np.float64(hi))), **kw)
                try: fast = normal_velocity(*args, **kw2)
                except MMSMPError as e:   # a grid beside the data, or aligned past its end: the same refusal
                    with monkeypatch.context() as m:
                        m.setattr(R, "grid_reach", lambda *a, **k: slice(None))
                        with pytest.raises(type(e)) as e2: normal_velocity(*args, **kw2)
                    assert str(e2.value) == str(e)
                    continue
                with monkeypatch.context() as m:
                    m.setattr(R, "grid_reach", lambda *a, **k: slice(None))
                    slow = normal_velocity(*args, **kw2)
                _same_nv(fast, slow)
    from mms_mp.velocity import VelocitySource
    f = src["FPI ions"]
    sig = np.full(len(f.t), np.nan)   # usable for the scatter, but no σ: not blended ...
    sig[[0, 1, -1]] = 30.0            # ... except three samples far from the window
    few = {"ExB": src["ExB"], "odd": VelocitySource(f.t, f.v_km_s, sig, f.good, "GSE", "odd")}
    kw2 = dict(frame="GSE", cadence="4.5s", t_range=(at(np.float64(80)), at(np.float64(120))))
    fast = normal_velocity(few, n, **kw2)
    with monkeypatch.context() as m:
        m.setattr(R, "grid_reach", lambda *a, **k: slice(None))
        _same_nv(fast, normal_velocity(few, n, **kw2))
    assert not any("odd" in x for x in fast.flags) and not fast.used["odd"].any()   # 3 good: measurable


def test_grid_reach_keeps_what_merge_vars_and_robust_scatter_read():
    "Merged on the part grid_reach keeps, with a centred window of `pad` usable samples: the whole series' bits."
    from mms_mp.core import NoDataError
    from mms_mp.electric import robust_scatter
    from mms_mp.resample import grid_reach, merge_vars
    rng = np.random.default_rng(4)
    ts = np.cumsum(rng.exponential(1.0, 3000))
    y = np.sin(ts / 30)[:, None] + rng.normal(0, 0.1, (3000, 1))
    y[rng.random(3000) < 0.3] = np.nan
    ok = np.isfinite(y[:, 0])
    sc_all = robust_scatter(y[:, 0], 15)
    for lo in (-20.0, 0.0, 5.5, 700.0, ts[-1] - 3, ts[-1] + 10):
        for w in (0.3, 4.5, 60.0):
            tr = (lo, lo + 10 * w)
            k = grid_reach(ts, tr, w, usable=ok, pad=17)
            try: a = merge_vars({"y": (ts, np.c_[y, sc_all])}, w, t_range=tr, notes=False)
            except NoDataError as e:   # beside the data: the same message, naming the whole series' span
                assert k == slice(None)
                continue
            b = merge_vars({"y": (ts[k], np.c_[y[k], robust_scatter(y[k, 0], 15)])}, w, t_range=tr, notes=False)
            assert a.values["y"].tobytes() == b.values["y"].tobytes() and np.array_equal(a.good["y"], b.good["y"])


def test_velocity_normal_on_kept_samples_is_the_slice_of_all():
    "VelocitySource.normal(n, v_par, keep) is normal(n, v_par) cut to `keep`, to the bit (BLAS sees every row)."
    from mms_mp.electric import _source_vpar
    src, _ = _vn_sources(5)
    n = np.array([0.6, -0.48, 0.64])
    for s in src.values():
        vp = _source_vpar(s, src["FPI ions"], "fpi", None, 150.0)
        full = s.normal(n, vp)
        for k in (slice(0, 1), slice(3, 10), slice(17, 1001), slice(len(s.t) - 5, None), slice(None)):
            assert all(a[k].tobytes() == b.tobytes() for a, b in zip(full, s.normal(n, vp, k)))


def test_vpar_term_is_estimated_once_per_source_pair():
    "The E×B source's V∥ term from FPI is kept on the source; another FPI source or default is estimated anew."
    from mms_mp.electric import _source_vpar, _vpar_estimate
    src, _ = _vn_sources(6)
    exb, fpi = src["ExB"], src["FPI ions"]
    a = _source_vpar(exb, fpi, "fpi", None, 150.0)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, _vpar_estimate(exb, fpi, 150.0)))
    assert _source_vpar(exb, fpi, "fpi", None, 150.0) is a
    b = _source_vpar(exb, None, "sigma", None, 150.0)
    assert b is not a and all(x.tobytes() == y.tobytes() for x, y in zip(b, _vpar_estimate(exb, None, 150.0)))
    c = _source_vpar(exb, fpi, "fpi", None, 90.0)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(c, _vpar_estimate(exb, fpi, 90.0)))


def test_brent_bounded_steps_as_scipys_bounded_minimize_scalar():
    "The V_N smoother's λ search without scipy.optimize: every evaluation point and the result, to the bit."
    from scipy.optimize import minimize_scalar
    from mms_mp.electric import _brent_bounded
    rng = np.random.default_rng(7)
    fs = [lambda x: (x - 2.0) ** 2, np.cos, lambda x: abs(x - 0.3), lambda x: 1.0, lambda x: -x,
          lambda x: np.nan if x > 1.7 else (x - 1.5) ** 2, lambda x: float(np.sin(7 * x) + 0.1 * x * x)]
    for c in rng.normal(0, 3, (20, 4)):
        fs.append(lambda x, c=c: float(np.polyval(c, x)))
    for f in fs:
        for lo, hi, kw in ((-3.0, 5.0, {}), (0.5, 0.5000001, {}), (-40.0, 11.0, {"xatol": 1e-12, "maxiter": 7})):
            seen_a, seen_b = [], []
            fa = lambda x: (seen_a.append(x), f(x))[1]
            fb = lambda x: (seen_b.append(x), f(x))[1]
            with np.errstate(all="ignore"):
                a = minimize_scalar(fa, bounds=(lo, hi), method="bounded", options=kw).x
                b = _brent_bounded(fb, lo, hi, kw.get("xatol", 1e-5), kw.get("maxiter", 500))
            assert np.float64(a).tobytes() == np.float64(b).tobytes()
            assert np.array(seen_a, float).tobytes() == np.array(seen_b, float).tobytes()


def test_smoothing_lambda_without_scipy_optimize_is_the_scipy_one(monkeypatch):
    "smooth_normal_velocity with its own Brent search: the λ, V_N and σ of the scipy search, to the bit."
    from scipy.optimize import minimize_scalar
    import mms_mp.electric as E
    src, at = _vn_sources(8)
    nv = E.normal_velocity(src, np.array([0.2, 0.9, -0.4]), frame="GSE", cadence="4.5s",
                           t_range=(at(np.float64(0)), at(np.float64(180))))
    a = E.smooth_normal_velocity(nv)
    monkeypatch.setattr(E, "_brent_bounded", lambda f, lo, hi: minimize_scalar(f, bounds=(lo, hi),
                                                                               method="bounded").x)
    b = E.smooth_normal_velocity(nv)
    assert a.smoothing.lam == b.smoothing.lam and np.isfinite(a.smoothing.lam).all()
    assert a.V_N.tobytes() == b.V_N.tobytes() and a.sigma_V_N.tobytes() == b.sigma_V_N.tobytes()


def _tangential_speed_whole(sources, t, n_hat):
    "stages.tangential_speed as first written: every sample of the source, the median always taken."
    from mms_mp.core import seconds_since
    for s in sorted(sources.values(), key=lambda s: s.b_hat is not None):
        ok = s.good & np.isfinite(s.v_km_s).all(axis=1)
        if ok.sum() < 2: continue
        tv, vt = np.asarray(s.t)[ok], s.tangential(n_hat)[ok]
        out = np.interp(seconds_since(t, tv[0]), seconds_since(tv, tv[0]), vt, left=np.nan, right=np.nan)
        return np.where(np.isfinite(out), out, np.median(vt))
    return None


def test_tangential_speed_from_the_samples_around_the_grid_is_the_whole_series_one():
    "Only the samples bracketing the grid are turned into |v_t| (and the median only when the grid leaves them)."
    from mms_mp.stages import tangential_speed
    from mms_mp.velocity import VelocitySource
    src, at = _vn_sources(9)
    n = np.array([0.48, 0.6, -0.64])
    for s in src.values():
        full = s.tangential(n)
        for k in (slice(0, 1), slice(5, 77), np.array([3, 4, 9, len(s.t) - 1]), slice(None)):
            assert s.tangential(n, k).tobytes() == full[k].tobytes()
    f = src["FPI ions"]
    shuffled = {"x": VelocitySource(f.t[::-1], f.v_km_s[::-1], f.sigma_km_s[::-1], f.good[::-1], "GSE", "x")}
    for lo, hi, step in ((10, 60, 4.5), (0, 187, 1.0), (-20, 30, 2.0), (150, 300, 4.5), (33.1, 33.2, 0.05),
                         (f_t := 1.1 + 4.5 * 3, f_t + 9, 4.5)):
        t = at(np.arange(lo, hi, step))
        for sources in ({"FPI ions": f}, src, {"ExB": src["ExB"]}, shuffled):
            a, b = tangential_speed(sources, t, n), _tangential_speed_whole(sources, t, n)
            assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("seed", range(6))
def test_median_step_is_np_median_to_the_bit(seed):
    from mms_mp.core import median_step
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4000))
    steps = np.full(n, 7_812_500, np.int64)                        # burst steps, ns, with gaps and repeats
    steps[rng.choice(n, min(n, 5), replace=False)] = rng.integers(0, 10**10, min(n, 5))
    for d in (steps, steps / 1e9, _hard_rows(seed, n)[:, 0], rng.integers(-3, 4, n), -steps):
        assert np.float64(median_step(d)).tobytes() == np.float64(np.median(d)).tobytes()
    d = _hard_rows(seed, n)[:, 1]
    d[rng.integers(0, n)] = np.nan
    assert np.isnan(median_step(d)) and np.isnan(np.median(d))


@pytest.mark.parametrize("seed", range(4))
def test_coords_window_is_label_slicing(seed):
    "coords._window cuts sorted times by binary search: the rows, values and times of `da.sel(time=slice(t0, t1))`."
    import xarray as xr
    from mms_mp.coords import _window
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    base = np.datetime64("2019-01-27T12:00", "ns")
    t = base + np.sort(rng.integers(0, 10**12, n)).astype("timedelta64[ns]")
    t[rng.integers(0, n, n // 10)] = t[0]                       # repeated times (then re-sorted)
    t = np.sort(t)
    for tt in (t, t[::-1].copy(), rng.permutation(t)):            # sorted; unsorted ones go to pandas
        da = xr.DataArray(_hard_rows(seed, n), dims=("time", "c"), coords={"time": tt})
        edges = [t[0], t[-1], t[n // 2], t[0] - np.timedelta64(1, "s"), t[-1] + np.timedelta64(1, "s"),
                 t[n // 3] + np.timedelta64(1, "ns"), t[n // 3] - np.timedelta64(1, "ns")]
        for a in edges:
            for b in edges:
                if not a < b: continue
                try: ref = da.sel(time=slice(a, b))
                except KeyError:   # pandas refuses to slice an unsorted index by a missing label
                    with pytest.raises(KeyError): _window(da, (a, b))
                    continue
                got = _window(da, (a, b))
                assert got["time"].values.tobytes() == ref["time"].values.tobytes()
                assert got.values.tobytes() == ref.values.tobytes()
    assert _window(da, None) is da


def _b_cases():
    "B-like (N,3) series: float64 and float32, contiguous or a view of 4 columns, all rows finite or not."
    rng = np.random.default_rng(7)
    for n in (8, 9, 1000, 40001):
        v4 = np.round(rng.normal(0, 1, (n, 4)).cumsum(axis=0), 2)   # ties and zero steps
        v4[n // 3: n // 3 + 3] = v4[n // 3]
        for v in (v4[:, :3].copy(), v4[:, :3], v4[:, :3].astype(np.float32)):
            yield v
            w = v.copy()
            w[[1, n // 2]] = np.nan                                   # whole rows missing
            yield w


def test_shared_increments_are_the_plain_numpy_to_the_bit():
    """_increments (no row selection when every row is finite, float32 rows kept float32, one scratch buffer
    partitioned in place) gives the rows, the float64 |increments| and np.median of each component's |Δ| (with and
    without spike_mask's trailing 0)."""
    from mms_mp.quality import _increments, finite_mask
    for v in _b_cases():
        fin = np.isfinite(v).all(axis=1)
        inc = _increments(v, finite_mask(v))
        x = v[fin].astype(float)
        assert np.array_equal(inc.ok, np.flatnonzero(fin))
        assert inc.x.dtype == v.dtype
        assert np.ascontiguousarray(inc.x, dtype=float).tobytes() == x.tobytes()
        if fin.all():
            assert np.shares_memory(inc.x, v)                         # the rows themselves
        for c in range(3):
            d = np.abs(np.diff(x[:, c], append=x[-1, c]))
            assert inc.ad[c].tobytes() == d.tobytes()
            assert np.float64(inc.med_spike[c]).tobytes() == np.median(d).tobytes()
            assert np.float64(inc.med_offset[c]).tobytes() == np.median(d[:-1]).tobytes()


def test_offset_mask_across_a_time_gap_with_and_without_missing_rows():
    """offset_mask's 'joined' test (a step over 1.5 median cadences is no edge) reads the times themselves when
    every row is finite and the finite rows' times otherwise: the same blocks either way. Known answer: a block
    of 200 samples jumping 30 nT off is removed; the same block whose jump off coincides with a 10-s data gap is
    not (a gap is never an edge)."""
    from mms_mp.quality import _increments, finite_mask, offset_mask
    rng = np.random.default_rng(11)
    n = 20000
    t = np.datetime64("2019-01-27T12:00", "ns") + (np.arange(n) * 7812500).astype("timedelta64[ns]")
    v = rng.normal(0, 0.3, (n, 3))
    v[5000:5200] += [30.0, -20.0, 10.0]
    v[12000:12200] += [30.0, -20.0, 10.0]
    t[12000:] += np.timedelta64(10, "s")                              # the second block starts after a gap
    want = np.zeros(n, bool)
    want[5000:5200] = True
    for w in (v, np.where(np.arange(n)[:, None] == 777, np.nan, v)):
        for inc in (None, _increments(w, finite_mask(w))):
            m = offset_mask(w, t=t, _inc=inc)
            assert np.array_equal(~m.good, want) and m.reasons == {"offset block": 200}


def test_two_middle_is_the_sorted_pair():
    """quality._two_middle (a bracket from a sample, then a partition of the few values inside it) gives elements
    h − 1 and h of np.sort(a) exactly, for continuous values, heavy ties, a constant, ±inf, any rank, and when the
    sample misses the rank (the whole array is partitioned then)."""
    from mms_mp.quality import _two_middle
    rng = np.random.default_rng(12)
    cases = [np.abs(rng.standard_normal(n)) for n in (2, 3, 8, 1001, 300_001)]
    cases += [rng.integers(0, k, 100_000).astype(float) for k in (1, 2, 3, 50)]
    cases += [np.r_[np.abs(rng.standard_normal(50_000)), np.full(10, np.inf)], np.sort(rng.random(70_000))]
    miss = rng.integers(0, 4, 200_000).astype(float)
    miss[:: 200_000 // 8192] = 9.0                                     # every sampled value 9: the sample misses
    cases.append(miss)
    for a in cases:
        s = np.sort(a)
        for h in {1, len(a) // 3, len(a) // 2, (len(a) - 1) // 2, len(a) - 1} - {0}:
            b = a.copy()
            lo, hi = _two_middle(b, h)
            assert (np.float64(lo).tobytes(), np.float64(hi).tobytes()) == (s[h - 1].tobytes(), s[h].tobytes())
            assert b.tobytes() == a.tobytes()                          # a itself is not reordered


def test_exact_median_is_np_median_to_the_bit():
    """quality.exact_median (two middle ranks selected at once below 32 768 values, a bracket of them above,
    one rank in place) gives np.median's float, sign bit included, around the switch and for NaN, ±inf, signed
    zeros, ties, float32 and 2-D input; in place it reorders x exactly as one partition at n // 2 (what the
    zero-sign fallback reads)."""
    from mms_mp.quality import exact_median
    rng = np.random.default_rng(13)
    sizes = [1, 2, 3, 4, 5, 100, 101, 6282, 32766, 32767, 32768, 32769, 70001]
    for n in sizes:
        base = [rng.standard_normal(n), np.abs(rng.standard_normal(n)).cumsum(),
                rng.integers(0, 3, n).astype(float), rng.choice([-0.0, 0.0, 1.0, -1.0], n),
                rng.choice([-0.0, 0.0], n), rng.standard_normal(n).astype(np.float32)]
        nan, inf = rng.standard_normal(n), rng.standard_normal(n)
        nan[n // 3] = np.nan
        inf[: max(n // 4, 1)] = np.inf
        for x in base + [nan, inf, -inf]:
            want = np.median(x)
            got = exact_median(x)
            assert np.float64(got).tobytes() == np.float64(want).tobytes(), (n, x.dtype)
            assert exact_median(x.reshape(1, -1)) == got or np.isnan(got)
            y, z = x.copy(), x.copy()
            got_in = exact_median(y, overwrite_input=True)
            z.partition(n // 2)
            assert y.tobytes() == z.tobytes()
            assert np.float64(got_in).tobytes() == np.float64(np.median(z)).tobytes()


def test_masked_without_a_copy_when_nothing_changes():
    """quality._masked returns the DataArray itself when every sample to mask already holds the NaN that
    `out[~good] = np.nan` writes; otherwise the copy. Values (bytes), dtype and shape equal the plain copy-and-write
    for float64/float32/float16, a view of 4 columns, integers, partly NaN rows, −NaN and a NaN of other payload."""
    import xarray as xr
    from mms_mp.quality import _masked
    rng = np.random.default_rng(14)
    n = 1000
    good = rng.random(n) > 0.05
    odd = np.array(0x7FF8_0000_0000_0001, np.uint64).view(np.float64)   # a NaN of another payload
    v4 = rng.standard_normal((n, 4))
    # each layout built afresh: float64, a view of 4 columns (float64, float32), float16, 1-D, integers
    layouts = (lambda w: w, lambda w: w[:, :3], lambda w: w.astype(np.float32)[:, :3],
               lambda w: w.astype(np.float16), lambda w: w[:, 0], lambda w: np.round(w * 100).astype(np.int64))
    for layout in layouts:
        for fill in (np.nan, -np.nan, odd, "part"):
            v = layout(v4.copy())
            part = isinstance(fill, str)
            if part and v.ndim == 1: continue
            if v.dtype.kind == "f" and part: v[~good, :1] = np.nan                 # one component of each row
            elif v.dtype.kind == "f": v[~good] = fill
            da = xr.DataArray(v, dims=("time", "comp")[: v.ndim])
            want = np.array(v).astype(np.result_type(v.dtype, np.nan))
            want[~good] = np.nan
            got = _masked(da, good)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.ascontiguousarray(got.values).tobytes() == want.tobytes()
            # the other payload is lost when cast to float32/16 (numpy keeps only its top bits)
            same = v.dtype.kind == "f" and not part and (fill is np.nan or fill is odd and v.dtype != np.float64)
            assert (got is da) == same, (v.dtype, fill)


def test_spike_and_offset_masks_of_float32_rows_are_the_float64_ones():
    """spike_mask and offset_mask given _increments of float32 B (rows kept float32, the few windows and edge
    increments they read taken as float64) flag exactly the samples the plain path flags on the float64 values,
    with spikes, offset blocks, ties, missing rows and time tags; _median_outliers of float32 samples equals that
    of their float64 values."""
    from mms_mp.quality import _increments, _median_outliers, finite_mask, offset_mask, spike_mask
    rng = np.random.default_rng(15)
    n = 30000
    t = np.datetime64("2019-01-27T12:00", "ns") + (np.arange(n) * 7812500).astype("timedelta64[ns]")
    for seed in range(3):
        v = np.round(rng.normal(0, 0.3, (n, 4)).cumsum(axis=0) * 0.1, 3).astype(np.float32)[:, :3]
        v[rng.integers(10, n - 10, 20), rng.integers(0, 3, 20)] += 40.0            # 1-sample spikes
        v[5000:5300] += np.float32([30.0, -20.0, 10.0])                            # an offset block
        v[9000:9003] = v[9000]                                                     # ties
        if seed: v[rng.integers(0, n, 5 * seed)] = np.nan                          # whole rows missing
        fin = finite_mask(v)
        inc = _increments(v, fin)
        assert inc.x.dtype == np.float32
        plain = v.astype(float)
        s_inc, s_plain = spike_mask(v, _inc=inc), spike_mask(plain)
        o_inc, o_plain = offset_mask(v, t=t, _inc=inc), offset_mask(plain, t=t)
        assert np.array_equal(s_inc.good, s_plain.good) and s_inc.reasons == s_plain.reasons
        assert np.array_equal(o_inc.good, o_plain.good) and o_inc.reasons == o_plain.reasons
        assert s_plain.reasons["spike"] > 0 and o_plain.reasons["offset block"] == 300
        y32 = v[fin, 0]
        ad = np.abs(np.diff(y32.astype(float), append=float(y32[-1])))
        a32, a64 = _median_outliers(y32, 3, 2.0, ad), _median_outliers(y32.astype(float), 3, 2.0, ad)
        assert a32[0].tobytes() == a64[0].tobytes() and a32[1].tobytes() == a64[1].tobytes()
    # a window whose range rounds in float32 (2^24 + 0.5 → 2^24) to below the threshold: the float64 one is above
    y32 = np.full(9, -0.5, np.float32)
    y32[4] = 2.0 ** 24
    ad = np.abs(np.diff(y32.astype(float), append=float(y32[-1])))
    i, dev = _median_outliers(y32, 1, 2.0 ** 24 + 0.25, ad)
    assert i.tolist() == [4] and dev.tolist() == [2.0 ** 24 + 0.5]


def test_window_medians_without_copies_are_the_masked_ones():
    """crossings.median_in, finite_median and _sample_noise read the window's views when it has no hole (copies
    only with NaN/inf): the same floats as the boolean-indexed originals, for continuous values, ties, signed zeros,
    holes, all missing, fewer than 3 samples, a span too short, an empty window and a 2-D array."""
    from mms_mp.crossings import _sample_noise, finite_median, median_in
    from mms_mp.quality import exact_median

    def median_in_ref(ts, y, a, b, min_len):
        s = slice(int(np.searchsorted(ts, a, "left")), int(np.searchsorted(ts, b, "right")))
        tw, yw = ts[s], y[s]
        m = np.isfinite(yw)
        return exact_median(yw[m]) if m.sum() >= 3 and np.ptp(tw[m]) >= min_len else np.nan

    def finite_median_ref(x):
        x = x[np.isfinite(x)]
        return exact_median(x) if x.size else np.nan

    def same(u, v): return np.float64(u).tobytes() == np.float64(v).tobytes()

    rng = np.random.default_rng(34)
    ts = np.arange(100_000) / 128.0
    holes = rng.standard_normal(100_000)
    holes[rng.random(100_000) < 0.1] = np.nan
    holes[5_000:6_000] = np.inf
    ys = [np.cumsum(rng.standard_normal(100_000)), rng.integers(0, 3, 100_000).astype(float), holes,
          rng.choice([-0.0, 0.0, 1.0], 100_000), np.full(100_000, np.nan), np.zeros(100_000)]
    for y in ys:
        for a, b, L in [(0, 800, 1), (10, 10.01, 0), (10, 10.01, 1), (5, 4, 0), (-1, 1e6, 60), (40, 45, 0.5),
                        (39, 47, 2.0), (10, 10.02, 0.0)]:
            assert same(median_in(ts, y, a, b, L), median_in_ref(ts, y, a, b, L))
        for x in (y, y[:2], y[:0], y[::7], y.reshape(-1, 4)):
            assert same(finite_median(x), finite_median_ref(x))
        for n in (1, 64):
            for x in (y, y[:1], y[:0], y[:3]):
                want = 1.4826 * finite_median_ref(np.abs(np.diff(x[np.isfinite(x)]))) / np.sqrt(2) / np.sqrt(n)
                assert same(_sample_noise(x, n), want)


def test_between_class_variance_in_place_is_the_formula():
    """boundary._between_var (float64: in place, float k) is w0·(1 − w0)·((S − c)/(n − k) − c/k)² as written
    with integer k, to the bit, for every split of continuous, tied, constant, huge and tiny sorted values (and
    float32 / int sums by the formula itself); split_sorted's levels follow."""
    from mms_mp.boundary import _between_var, _first_max, shorth, split_sorted

    def ref(C, S, n, a, b):
        k, c = np.arange(a + 1, b + 1), C[a:b]
        w0 = k / n
        return w0 * (1 - w0) * ((S - c) / (n - k) - c / k) ** 2

    rng = np.random.default_rng(35)
    cases = [np.sort(rng.standard_normal(n)) for n in (10, 11, 257, 300_001)]
    cases += [np.sort(rng.integers(0, 3, 50_000).astype(float)), np.full(1_000, 7.25),
              np.sort(rng.standard_normal(70_000) * 1e150), np.sort(rng.standard_normal(5_000) * 1e-150),
              np.sort(np.r_[rng.normal(-20, 1, 40_000), rng.normal(35, 2, 60_000)]),
              np.sort(rng.standard_normal(2_000)).astype(np.float32), np.arange(5_000)]
    for s in cases:
        n = s.size
        C, S = np.cumsum(s), s.sum()
        for a, b in [(0, n - 1), (n // 50, n - n // 50), (n // 3, n // 3 + 1), (n - 2, n - 1)]:
            with np.errstate(all="ignore"):     # b = n (n < 50): the last split divides by 0, in both
                got, want = _between_var(C, S, n, a, b), ref(C, S, n, a, b)
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
        kmin = max(int(np.ceil(0.02 * n)), 1)
        kb = _first_max(lambda a, b: ref(C, S, n, a, b), kmin - 1, n - kmin) + 1
        want = (shorth(s[:kb]), shorth(s[kb:]))
        assert np.array_equal(split_sorted(s), want, equal_nan=True)
