"""Hostile arguments to the cross-correlation delays (mms_mp.delays), the per-crossing normals (mms_mp.normals)
and MVA (mms_mp.minvar), each against a known answer: an mms_mp error naming the argument, or a repaired and
flagged result equal to the clean one. Never a raw numpy/Python exception, an allocation without bound, or a
silently wrong number.

Cases: grids and window lists too fine to build (crossing_delays, stack_aligned, sliding_windows); negative, zero
or non-finite window_s / max_lag_s / dt_s / taper; repeated, reversed and float-second time tags; the wrong shape
or length of B, a reference triad that is not one, an unknown frame, min_windows ≤ 0, no window factors, a
negative reference σ; an overflowing variance matrix, too few samples allowed, windows that are empty or
reversed, B of another length than its MVA, an empty series for the autocorrelation time.
"""
import numpy as np
import pytest

from mms_mp.core import FrameError, InputError
from mms_mp.delays import crossing_delays, stack_aligned
from mms_mp.minvar import (autocorr_time, correlated_sigma, mva, nested_windows, sliding_windows,
                           x1_cone_deg, _harris_sheet)
from mms_mp.normals import crossing_normal, crossing_normals, local_scale, nested_scan

T0 = np.datetime64("2019-01-27T12:20:00", "ns")


def _times(n, dt):
    return T0 + (np.arange(n) * dt * 1e9).astype("timedelta64[ns]")


# ---------------------------------------------------------------- delays
TT = _times(2000, 0.125)
Y = np.tanh((np.arange(2000) - 1000) / 40.0)
SER = {"1": (TT, Y), "2": (TT + np.timedelta64(2, "s"), Y), "3": (TT + np.timedelta64(1, "s"), Y)}


def _cd(ser=SER, **kw):
    kw.setdefault("t_center", TT[1000])
    kw.setdefault("window_s", 60.0)
    return crossing_delays(ser, **kw)


def test_delays_clean_case_is_the_known_answer():
    d = _cd()
    assert d.flags == [] and d.delays_s == pytest.approx({"1": 0.0, "2": 2.0, "3": 1.0}, abs=1e-6)


def test_delays_grid_too_fine_is_refused_before_allocating():
    # 120 s at 1e-7 s would be 1.2e9 points (≈ 9 GB per series): refused before any array is made
    with pytest.raises(InputError, match="would have .* points"):
        _cd(dt_s=1e-7)
    with pytest.raises(InputError, match="would have .* points"):
        stack_aligned(SER, {p: TT[1000] for p in SER}, 10, dt_s=1e-9)


@pytest.mark.parametrize("lag", [-5, 0, np.nan, np.inf, "5"])
def test_delays_bad_max_lag(lag):
    # -5 s used to give delays of 63 s with σ 0 and ρ0 = 7.7e135, unflagged; 0 a LinAlgError
    with pytest.raises(InputError, match="max_lag_s"):
        _cd(max_lag_s=lag)


def test_delays_max_lag_below_one_grid_step():
    with pytest.raises(InputError, match="max_lag_s .* grid step"):
        _cd(max_lag_s=0.01)


@pytest.mark.parametrize("w", [0, -10, np.nan, np.inf])
def test_delays_bad_window(w):
    # 0 used to say "the reference series is constant", -10 gave IndexError, NaN a numpy ValueError
    with pytest.raises(InputError, match="window_s"):
        _cd(window_s=w)


def test_delays_window_of_under_three_grid_points():
    with pytest.raises(InputError, match="window_s .* grid"):
        _cd(window_s=0.01, max_lag_s=1.0)


@pytest.mark.parametrize("dt", [0, -1, np.nan])
def test_delays_bad_dt(dt):
    with pytest.raises(InputError, match="dt_s"):
        _cd(dt_s=dt)


@pytest.mark.parametrize("taper", [2, -0.1, np.nan])
def test_delays_bad_taper(taper):
    with pytest.raises(InputError, match="taper"):
        _cd(taper=taper)


def test_delays_repeated_time_tags_are_repaired_and_flagged():
    # every sample twice (merged files): used to raise ZeroDivisionError (cadence 0)
    t2, y2 = np.repeat(SER["2"][0], 2), np.repeat(Y, 2)
    d = _cd({**SER, "2": (t2, y2)})
    assert d.delays_s == pytest.approx(_cd().delays_s, abs=1e-9)
    assert any(f.startswith("2: times repaired") and "2000 repeated" in f for f in d.flags), d.flags


def test_delays_reversed_times_are_repaired_and_flagged():
    # one probe's series in reverse time order: used to raise IndexError
    d = _cd({**SER, "2": (SER["2"][0][::-1], Y[::-1])})
    assert d.delays_s == pytest.approx(_cd().delays_s, abs=1e-9)
    assert any(f.startswith("2: times repaired") for f in d.flags), d.flags


def test_delays_float_second_times_refused():
    ser = {p: (seconds, y) for p, seconds, y in
           ((p, (t - TT[0]) / np.timedelta64(1, "s"), y) for p, (t, y) in SER.items())}
    with pytest.raises(InputError, match="datetime64"):
        _cd(ser)


# ---------------------------------------------------------------- normals
def _sheet(n=600, dt=0.1, noise=0.3, seed=0):
    x = np.linspace(-4, 4, n)
    B = np.stack([40 * np.tanh(x), 30 / np.cosh(x), 3 + 0 * x], 1)
    return _times(n, dt), B + noise * np.random.default_rng(seed).standard_normal((n, 3))


T, B = _sheet()
C = T[300]


def _cn(t=T, b=B, R=np.eye(3), **kw):
    return crossing_normal(t, b, C, 5.0, R, **kw)


def test_normals_repeated_time_tags_are_repaired_and_flagged():
    # each sample twice: used to raise ZeroDivisionError in the layer's own scale (median step 0)
    clean = _cn()
    rep = _cn(np.repeat(T, 2), np.repeat(B, 2, axis=0))
    np.testing.assert_allclose(rep.n_hat, clean.n_hat, atol=1e-12)
    assert rep.method == clean.method and rep.sigma_deg == pytest.approx(clean.sigma_deg, rel=1e-9)
    assert "times_repaired" in rep.flags and "600 repeated" in rep.reason
    many = crossing_normals(np.repeat(T, 2), np.repeat(B, 2, axis=0),
                            [type("Cr", (), dict(time=T[300], duration_s=5.0))()], np.eye(3))
    assert "times_repaired" in many[0].flags


def test_normals_local_scale_with_repeated_tags_is_nan_not_an_exception():
    assert np.isnan(local_scale(np.repeat(T, 2), np.repeat(B, 2, axis=0), C, np.array([1.0, 0, 0]), 5.0))


@pytest.mark.parametrize("b, what", [(B[:, 0], r"\(N,3\)"), (B[:, :2], r"\(N,3\)"), (B[:100], "times")])
def test_normals_bad_B(b, what):
    with pytest.raises(InputError, match=what):
        _cn(b=b)


@pytest.mark.parametrize("R", [np.eye(3)[:2], np.full((3, 3), np.nan), 5 * np.eye(3), np.ones((3, 3)),
                               np.diag([1.0, 1.0, -1.0]), np.zeros((3, 3))])
def test_normals_reference_triad_is_checked(R):
    # 2×3 used to raise IndexError; NaN flipped n̂ silently; ×5 / ones / zeros gave non-unit or zero normals
    with pytest.raises(InputError, match="R_ref"):
        _cn(R=R)


def test_normals_reference_rounded_to_three_decimals_is_accepted():
    a = np.radians(20)   # L, M turned 20° about z, typed with three decimals: rows unit within 6e-4
    R = np.round([[np.cos(a), np.sin(a), 0.0], [-np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]], 3)
    assert _cn(R=R).method == "mva_nested"


def test_normals_unknown_frame():
    with pytest.raises(FrameError, match="XYZ"):
        _cn(frame="XYZ")


@pytest.mark.parametrize("k", [0, -1, 1.5])
def test_normals_min_windows(k):
    with pytest.raises(InputError, match="min_windows"):
        _cn(min_windows=k)


@pytest.mark.parametrize("f", [[], [-1.0, 2.0], [np.nan]])
def test_normals_nested_scan_factors(f):
    with pytest.raises(InputError, match="factors"):
        nested_scan(T, B, C, 5.0, factors=f)


@pytest.mark.parametrize("s", [-5.0, np.inf])
def test_normals_negative_reference_sigma(s):
    with pytest.raises(InputError, match="sigma_ref_deg"):
        _cn(sigma_ref_deg=s)


# ---------------------------------------------------------------- minvar
BH, _ = _harris_sheet([1.0, 0, 0], [0, 0, 1.0], n=200)


def test_minvar_window_list_too_long_is_refused():
    with pytest.raises(InputError, match="would have .* windows"):
        sliding_windows(T0, T0 + np.timedelta64(3600, "s"), 1, 1e-9)


@pytest.mark.parametrize("bad", [(np.nan, 1.0), (1.0, np.inf)])
def test_minvar_sliding_windows_non_finite(bad):
    with pytest.raises(InputError, match="width_s and step_s"):
        sliding_windows(T0, T0 + np.timedelta64(60, "s"), *bad)


def test_minvar_overflowing_variance_matrix():
    # B × 1e200: the variance matrix is inf; used to raise numpy LinAlgError
    with pytest.raises(InputError, match="overflow"):
        mva(BH * 1e200)


def test_minvar_x1_cone_of_zero_eigenvalues_is_nan():
    assert np.isnan(x1_cone_deg([0, 0, 0], 10))     # used to raise ZeroDivisionError


@pytest.mark.parametrize("k", [0, -1, 9])
def test_minvar_min_samples_below_the_floor(k):
    # 3 samples with min_samples=0 used to give σ_n ≈ 0 (meaningless), unflagged
    with pytest.raises(InputError, match="min_samples"):
        mva(BH[:30], min_samples=k)


@pytest.mark.parametrize("h", [[-5, 0], [0], [np.nan]])
def test_minvar_nested_windows_need_positive_half_widths(h):
    with pytest.raises(InputError, match="half-width"):
        nested_windows(T0, h)


def test_minvar_correlated_sigma_of_another_B():
    with pytest.raises(InputError, match="200 samples"):
        correlated_sigma(BH[:5], mva(BH))


@pytest.mark.parametrize("x", [np.array([]), np.ones((5, 2))])
def test_minvar_autocorr_time_needs_a_1d_series(x):
    with pytest.raises(InputError, match="autocorr_time"):
        autocorr_time(x)


def test_infinite_layer_duration_gives_a_flagged_fallback_without_warnings():
    "duration_s=inf used to build NaT windows with a RuntimeWarning; now it is handled as an unknown duration."
    import warnings as _w
    from mms_mp.normals import crossing_normal
    from mms_mp.toy import TOY_LMN, toy_probe
    toy, _ = toy_probe()
    with _w.catch_warnings():
        _w.simplefilter("error")
        cn = crossing_normal(toy["t_B"], toy["B"], toy["t_B"][2000], np.inf, TOY_LMN)
    assert cn.method.startswith("fallback") and "no_mva_window" in cn.flags
    assert not np.isnat(np.asarray(cn.window, "datetime64[ns]")).any()
