"""Hostile inputs left open by earlier reviews: one bad argument on a small input with a known answer.

The contract, as in the other hostile-input files: an mms_mp error whose message names what was wrong,
or a degraded result carrying a flag that says why; never a silent wrong answer. Covered here:
- multispacecraft.timing_normal: an infinite σ of the supplied normal is refused (NaN means unknown);
- electric.normal_velocity: a velocity source with fewer than 3 good samples is flagged;
- resample.merge_vars: a t_range that misses every variable is a NoDataError naming both spans;
- minvar.mva: the Sonnerup–Scheible angular errors are scale-invariant (B × 1e150 as for B).
"""
import numpy as np
import pytest

from mms_mp.core import InputError
from mms_mp.multispacecraft import timing_normal

T0 = np.datetime64("2019-01-27T12:20:00", "ns")


def times(n, dt=1.0):
    "n datetime64[ns] tags from T0, dt seconds apart."
    return T0 + (np.arange(n) * dt * 1e9).astype("timedelta64[ns]")


# ---------- timing constrained by a supplied normal: four probes on a string, V = 40 km/s ----------
RC = np.array([60000.0, 2000.0, 5000.0])  # a dayside magnetopause position, km GSE
U = np.array([1.0, 0.2, 0.1]) / np.linalg.norm([1.0, 0.2, 0.1])
N_TRUE = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
STRING = RC + np.outer(np.arange(4) * 300.0, U)
T_STRING = (STRING - RC) @ N_TRUE / 40.0


class LMNLike:
    "A normal that carries its own σ, as coords.LMN does."
    def __init__(self, s): self.N, self.frame, self.sigma_N_deg = N_TRUE, "GSE", s


@pytest.mark.parametrize("s", [np.inf, -np.inf, "2 deg", [1.0, 2.0]])
def test_normal_sigma_not_finite_refused(s):
    "σ = ±∞ (or not a number) is no 1σ: refused naming normal_sigma_deg and its range."
    with pytest.raises(InputError, match=r"normal_sigma_deg must be ≥ 0 deg and finite, or NaN"):
        timing_normal(STRING, T_STRING, normal=N_TRUE, normal_frame="GSE", normal_sigma_deg=s)


def test_own_sigma_infinite_refused_nan_unknown():
    "An object's own σ_N = ∞ is refused too; NaN (given or own) still means unknown, flagged."
    with pytest.raises(InputError, match="sigma_N_deg of the supplied normal"):
        timing_normal(STRING, T_STRING, normal=LMNLike(np.inf))
    for r in (timing_normal(STRING, T_STRING, normal=LMNLike(np.nan)),
              timing_normal(STRING, T_STRING, normal=N_TRUE, normal_frame="GSE",
                            normal_sigma_deg=np.nan)):
        assert np.isnan(r.sigma_n_deg) and any("unknown" in f for f in r.flags)
        np.testing.assert_allclose(r.V_km_s, 40.0, rtol=1e-9)
    r = timing_normal(STRING, T_STRING, normal=LMNLike(2.0))
    assert r.sigma_n_deg == 2.0 and r.sigma_V_km_s > r.sigma_V_timing_km_s


# ---------- V_N blend: a flow of 100 km/s along n̂ = X, FPI σ 10 km/s ----------
def fpi(n, good=None):
    "An FPI-like source of n samples 4.5 s apart, v = (100, 0, 0) km/s, σ = 10 km/s."
    from mms_mp.velocity import VelocitySource
    g = np.ones(n, bool) if good is None else np.asarray(good)
    return VelocitySource(times(n, 4.5), np.tile([100.0, 0, 0], (n, 1)), np.full(n, 10.0), g, "GSE",
                          "FPI ions")


def test_single_sample_source_flagged():
    "One sample: no scatter to measure. Default: not used (NaN), flagged; scatter_window=0: 100 ± 10, flagged."
    from mms_mp.electric import normal_velocity, smooth_normal_velocity
    nv = normal_velocity([fpi(1)], [1.0, 0, 0], frame="GSE", cadence="4.5s")
    assert np.isnan(nv.V_N).all() and len(nv.flags) == 1
    assert "'FPI ions' has 1 good sample(s), fewer than 3" in nv.flags[0] and "not used" in nv.flags[0]
    nv = normal_velocity([fpi(1)], [1.0, 0, 0], frame="GSE", cadence="4.5s", scatter_window=0)
    np.testing.assert_allclose([nv.V_N[0], nv.sigma_V_N[0]], [100.0, 10.0])
    assert "model σ is used unchecked" in nv.flags[0]
    assert smooth_normal_velocity(nv).flags == nv.flags   # the flag survives smoothing
    from mms_mp.schema import vn_json
    assert vn_json(smooth_normal_velocity(nv))["flags"] == list(nv.flags)   # and reaches the JSON


def test_short_source_flagged_beside_a_good_one():
    "A 2-sample source beside a 40-sample one: the blend is the long source's, the short one named."
    from dataclasses import replace
    from mms_mp.electric import normal_velocity
    short = replace(fpi(40, good=np.arange(40) < 2), name="HPCA He+")
    nv = normal_velocity([fpi(40), short], [1.0, 0, 0], frame="GSE", cadence="4.5s")
    np.testing.assert_allclose(nv.V_N, 100.0)
    assert len(nv.flags) == 1 and "'HPCA He+' has 2 good sample(s)" in nv.flags[0]
    assert normal_velocity([fpi(40)], [1.0, 0, 0], frame="GSE", cadence="4.5s").flags == ()


# ---------- merge_vars: 100 s of 1 s data from T0 ----------
@pytest.mark.parametrize("lo, hi", [(3600, 3700), (-300, -200), (-10, -1), (100, 110)])
def test_merge_window_beside_the_data_refused(lo, hi):
    "A t_range that no sample reaches (before, after, just off either end): NoDataError with both spans."
    from mms_mp.core import NoDataError
    from mms_mp.resample import merge_vars
    s = lambda x: T0 + np.timedelta64(x, "s")
    with pytest.raises(NoDataError, match=r"t_range .* holds no sample of any variable \(B: "
                       r"2019-01-27T12:20:00.000Z–2019-01-27T12:21:39.000Z; E: .*overlaps the data"):
        merge_vars({"B": (times(100), np.arange(100.0)), "E": (times(100), np.ones((100, 3)))}, "1s",
                   t_range=(s(lo), s(hi)))


def test_merge_window_touching_or_inside_a_gap_kept():
    "Valid edges: a window sharing one sample with the data, and one inside a 30 s MEC step (interpolated)."
    from mms_mp.resample import merge_vars
    s = lambda x: T0 + np.timedelta64(x, "s")
    m = merge_vars({"B": (times(100), np.arange(100.0))}, "1s", t_range=(s(99), s(120)))
    assert m.good["B"].sum() == 1 and m.values["B"][0] == 99.0
    m = merge_vars({"R": (times(5, 30.0), np.arange(5.0))}, "1s", t_range=(s(40), s(50)))
    assert m.good["R"].all()
    np.testing.assert_allclose(m.values["R"], np.arange(40, 51) / 30)


# ---------- MVA of a noisy Harris sheet: errors are ratios of eigenvalues, so scale-free ----------
@pytest.mark.parametrize("scale", [1e150, 1e100, 1e-100, 1e-150])
def test_mva_errors_scale_invariant(scale):
    "B × 1e±150: the same normal and Δφ as B (no overflow to 0/NaN), ⟨B_n⟩ and σ(B_n) scaled with B."
    from mms_mp.minvar import _harris_sheet, mva
    B, _ = _harris_sheet([1.0, 0.2, 0.1], [0, 0, 1])
    for c in (None, "<Bn>=0"):
        a, b = mva(B, constraint=c), mva(B * scale, constraint=c)
        np.testing.assert_allclose(b.vectors, a.vectors, atol=1e-12)
        for k in ("dphi12_deg", "dphi13_deg", "dphi23_deg"):
            np.testing.assert_allclose(getattr(b, k), getattr(a, k), rtol=1e-9, equal_nan=True)
        np.testing.assert_allclose([b.Bn / scale, b.sigma_Bn / scale], [a.Bn, a.sigma_Bn], rtol=1e-9,
                                   atol=1e-9)   # constrained: ⟨B_n⟩ = 0 up to rounding
    assert 0.05 < a.dphi13_deg < 1 and 0.5 < mva(B).dphi23_deg < 2   # the known size, not 0 or NaN


def test_mva_errors_of_ordinary_field_bit_identical():
    "For fields of ordinary size the power-of-2 rescaling is exact: Δφ equals the plain S&S formula bit for bit."
    from mms_mp.minvar import _harris_sheet, mva
    r = mva(_harris_sheet([1.0, 0.2, 0.1], [0, 0, 1])[0])
    lam, M = r.eigenvalues, r.n_samples
    plain = lambda i, j: np.degrees(np.sqrt(lam[2] / (M - 1) * (lam[i] + lam[j] - lam[2])
                                            / (lam[i] - lam[j]) ** 2))
    assert (r.dphi12_deg, r.dphi13_deg, r.dphi23_deg) == (plain(0, 1), plain(0, 2), plain(1, 2))


def test_mva_errors_of_quiet_field_not_zero():
    "A nearly noise-free sheet × 1e80: (λ_i − λ_j)² overflowed and Δφ came out 0; now Δφ of B (λ3 ~ rounding: 5 %)."
    from mms_mp.minvar import _harris_sheet, mva
    B, _ = _harris_sheet([1.0, 0.2, 0.1], [0, 0, 1], noise=1e-6)
    a, b = mva(B), mva(B * 1e80)
    for k in ("dphi12_deg", "dphi13_deg", "dphi23_deg"):
        assert getattr(b, k) > 0
        np.testing.assert_allclose(getattr(b, k), getattr(a, k), rtol=0.05)


def test_ragged_or_text_values_get_an_input_error_from_the_quality_masks():
    "A ragged list made building the InputError's own message fail with a raw ValueError."
    from mms_mp.core import InputError
    from mms_mp.quality import finite_mask
    for bad in ([[1.0, 2.0], [3.0]], ["a", "b"], np.array(["x", "y"])):
        with pytest.raises(InputError, match="rows of equal length"):
            finite_mask(bad)


def test_a_group_member_with_infinite_sigma_does_not_bring_back_sigma_over_root_k():
    "One member with σ = ∞ made w·σ = NaN, and max(σ/√K, NaN) quietly returned σ/√K."
    import types
    from mms_mp.stages_timing import group_normal
    normals = {c: types.SimpleNamespace(n_hat=np.array([1.0, 0, 0]), sigma_deg=s, method="mva_nested")
               for c, s in zip("abc", (2.0, 2.0, np.inf))}
    res = types.SimpleNamespace(normal_of=lambda c: normals[c])
    n0, s0, _ = group_normal(res, types.SimpleNamespace(crossings={"1": "a", "2": "b", "3": "c"}))
    assert s0 == pytest.approx(2.0)     # the two finite members, errors shared: not 2/√2


@pytest.mark.parametrize("bad", [["a", "b"], [[1.0, 2.0], [3.0]]])
def test_text_or_ragged_series_values_are_an_input_error(bad):
    "`core.series_arrays` (merge_vars, as_series, the delays, ...) let numpy's raw ValueError through."
    from mms_mp.core import series_arrays
    from mms_mp.resample import merge_vars
    from mms_mp.visualize import as_series
    t = times(2)
    for f in (lambda: series_arrays((t, bad), "Ni"), lambda: merge_vars({"Ni": (t, bad)}, cadence="1s"),
              lambda: as_series((t, bad), "Ni")):
        with pytest.raises(InputError, match="Ni: values must be numbers"):
            f()
