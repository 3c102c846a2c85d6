"""The fast paths of the crossing detector (mms_mp.boundary) against their definitions, and the O(N) structure.

Known answers: the data-gap rule is "a step longer than gap_factor × the NaN-median of the 3 steps on each side (the
larger) and longer than gap_min_s"; a half-level crossing is where the linearly interpolated series passes the level;
shared levels applied to prepared features must equal the features rebuilt with those levels. And the gaps of a series
are found once per series, not once per crossing (that was O(N × crossings)).
"""
import warnings

import numpy as np
from hypothesis import given, settings, strategies as st

import mms_mp.boundary as bd
import mms_mp.crossings as xc
import mms_mp.detect as dtc
from mms_mp.boundary import gap_mask, level_crossings, probe_features, relevel
from mms_mp.detect import detect_crossings

T0 = np.datetime64("2019-01-27T12:00:00", "ns")


def gap_mask_definition(ts, gap_factor=3.0, gap_min_s=1.0):
    "The rule written out with numpy.nanmedian, one step at a time."
    d = np.diff(ts); out = np.zeros(d.size, bool)
    if d.size < 2: return out
    for i in range(d.size):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            loc = np.fmax(np.nanmedian(np.r_[np.nan, d[max(i - 3, 0): i]]),
                          np.nanmedian(np.r_[np.nan, d[i + 1: i + 4]]))
        loc = loc if np.isfinite(loc) else d[i]
        out[i] = d[i] > gap_factor * loc and d[i] > gap_min_s
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([1 / 128, 1 / 16, 0.15, 4.5, 2.0, 30.0, 60.0]), min_size=0, max_size=40),
       st.integers(0, 1000))
def test_gap_mask_is_its_definition_without_warnings(steps, seed):
    rng = np.random.default_rng(seed)
    ts = np.r_[0.0, np.cumsum(np.asarray(steps) * rng.uniform(0.95, 1.05, len(steps)))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no all-NaN / empty-slice warnings at the ends of short series
        got = gap_mask(ts)
    assert got.tolist() == gap_mask_definition(ts).tolist()


def test_one_hole_in_burst_is_the_only_gap():
    ts = np.r_[np.arange(0, 10, 1 / 128), np.arange(70, 80, 1 / 128)]   # a 60 s hole in 128 S/s FGM
    g = gap_mask(ts)
    assert g.sum() == 1 and abs((ts[1:] - ts[:-1])[g][0] - (60 + 1 / 128)) < 1e-9


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 120), st.integers(1, 12), st.integers(0, 10_000), st.booleans())
def test_all_angle_crossings_equal_level_crossings_per_column(m, k, seed, holes):
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.uniform(0.05, 1.0, m))
    F = np.cumsum(rng.normal(0, 0.3, (m, k)), 0) + rng.normal(0.5, 0.5, k)
    if holes: F[rng.integers(0, m, rng.integers(1, m + 1)), :] = np.nan     # masked B: whole rows missing
    t_ref = ts[rng.integers(0, m)]
    ref = []
    for j in range(k):
        tc, _ = level_crossings(ts, F[:, j], 0.5)
        ref.append(tc[np.argmin(np.abs(tc - t_ref))] if tc.size else np.nan)
    assert np.array_equal(dtc._nearest_crossings(ts, F, 0.5, t_ref), np.array(ref), equal_nan=True)


def toy(seed=0, dur=600.0, he=True):
    "One probe crossing a tanh layer out at 150 s and back in at 400 s: B_L 40 → -20 nT, n 0.5 → 20 cm^-3, He+ 3 % → 0."
    rng = np.random.default_rng(seed)
    f = lambda t: 0.5 * (np.tanh((t - 150) / 3) - np.tanh((t - 400) / 3))
    tB, tn, th = np.arange(0, dur, 1 / 16), np.arange(0, dur, 4.5), np.arange(0, dur, 10.0)
    B = np.c_[40 - 60 * f(tB), 5 * f(tB), np.full(tB.size, 2.0)] + rng.normal(0, 0.5, (tB.size, 3))
    Ni = (0.5 + 19.5 * f(tn)) * (1 + rng.normal(0, 0.03, tn.size))
    Nhe = 0.03 * (1 - f(th)) * (1 + rng.normal(0, 0.1, th.size)) if he else None
    at = lambda x: T0 + (x * 1e9).astype("int64").astype("timedelta64[ns]")
    return dict(t_B=at(tB), B=B, t_n=at(tn), Ni=Ni, t_he=at(th), N_he=Nhe)


@settings(max_examples=20, deadline=None)
@given(st.floats(-40, 40), st.floats(0.5, 80), st.floats(-1.0, 0.5), st.floats(0.05, 2.0), st.floats(0.0, 0.05),
       st.booleans())
def test_relevel_equals_probe_features_with_levels(lo_b, jump_b, lo_n, jump_n, he_hi, he):
    a = toy(he=he)
    lv = {"B_L": (lo_b, lo_b + jump_b), "density": (lo_n, lo_n + jump_n), "He+ fraction": (0.0, he_hi)}
    own = probe_features(**a, lmn=np.eye(3), lmn_frame="GSE", probe="1")
    want = probe_features(**a, lmn=np.eye(3), lmn_frame="GSE", probe="1", levels=lv)
    got = relevel(own, lv)
    key = lambda pf: {k: (f.lo, f.hi, f.noise, f.usable, f.reason) for k, f in pf.features.items()}
    assert key(got) == key(want) and got.flags == want.flags


def test_gaps_found_once_per_series_not_per_crossing(monkeypatch):
    "Six crossings, one timing series: gap_mask runs once (it ran once per crossing before, O(N × crossings))."
    rng = np.random.default_rng(1)
    times = [100.0, 250.0, 400.0, 550.0, 700.0, 850.0]
    tB, tn = np.arange(0, 1000, 1 / 16), np.arange(0, 1000, 4.5)
    f = lambda t: sum((-1) ** k * 0.5 * (1 + np.tanh((t - tc) / 2)) for k, tc in enumerate(times))
    B = np.c_[40 - 60 * f(tB), np.zeros(tB.size), np.full(tB.size, 2.0)] + rng.normal(0, 0.3, (tB.size, 3))
    Ni = (0.5 + 19.5 * f(tn)) * (1 + rng.normal(0, 0.02, tn.size))
    at = lambda x: T0 + (x * 1e9).astype("int64").astype("timedelta64[ns]")
    calls = []
    real = bd.gap_mask
    for mod in (bd, xc):   # detection calls it from either module
        monkeypatch.setattr(mod, "gap_mask", lambda *a, **k: calls.append(1) or real(*a, **k))
    cr = detect_crossings(at(tB), B, np.eye(3), at(tn), Ni, lmn_frame="GSE", cfg=bd.DetectorCfg(max_L_tilt_deg=0))
    assert [c.direction for c in cr] == ["out", "in"] * 3
    assert np.allclose([(c.time - T0) / np.timedelta64(1, "s") for c in cr], times, atol=0.5)
    assert len(calls) == 1
