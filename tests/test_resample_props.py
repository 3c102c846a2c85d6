"""Property and hostile-input tests for mms_mp.resample.merge_vars (known answers: exact bin means of
piecewise-constant data, exact interpolation of linear data, nothing invented inside gaps)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mms_mp.core import InputError
from mms_mp.resample import merge_vars, bridgeable, parse_cadence

T0 = np.datetime64("2019-01-27T12:00:00", "ns")


def _dt(s):
    return T0 + np.round(np.asarray(s) * 1e9).astype("int64").astype("timedelta64[ns]")


@settings(max_examples=40, deadline=None)
@given(levels=st.lists(st.floats(-100, 100), min_size=2, max_size=12), per_bin=st.integers(2, 40),
       cadence=st.sampled_from([0.15, 0.5, 1.0, 4.5]))
def test_bin_means_conserve_piecewise_constant(levels, per_bin, cadence):
    # data constant within each grid bin: every bin mean is that constant, so the grand mean is conserved
    nb = len(levels); dt = cadence / per_bin
    ts = (np.arange(nb * per_bin) + 0.5) * dt - cadence / 2      # samples strictly inside bins centred on k*cadence
    y = np.repeat(levels, per_bin)
    t, v, g = merge_vars({"y": (ts, y)}, cadence, t_range=(0.0, (nb - 1) * cadence))
    assert g["y"].all()
    np.testing.assert_allclose(v["y"], levels, rtol=0, atol=1e-9)
    np.testing.assert_allclose(v["y"].mean(), y.mean(), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(-50, 50), b=st.floats(-5, 5), own=st.sampled_from([4.5, 10.0, 0.15]),
       jitter=st.floats(0, 0.3), seed=st.integers(0, 2**16))
def test_interpolation_exact_for_linear(a, b, own, jitter, seed):
    rng = np.random.default_rng(seed)
    ts = np.arange(40) * own + rng.uniform(0, jitter * own, 40)    # irregular but increasing
    ts.sort()
    m = merge_vars({"y": (_dt(ts), a + b * ts)}, own / 7)
    sec = (m.t - T0) / np.timedelta64(1, "ns") / 1e9
    g = m.good["y"]
    assert g.sum() > 0
    np.testing.assert_allclose(m.values["y"][g], a + b * sec[g], atol=1e-6 * (1 + abs(a) + abs(b) * ts.max()))


@settings(max_examples=40, deadline=None)
@given(own=st.sampled_from([4.5, 10.0]), gap_len=st.integers(2, 8), start=st.integers(3, 20))
def test_no_value_inside_long_gap(own, gap_len, start):
    ts = np.arange(40) * own
    keep = np.ones(40, bool); keep[start:start + gap_len] = False  # remove samples: a gap of (gap_len+1)*own
    m = merge_vars({"y": (ts[keep], np.ones(keep.sum()))}, 1.0)
    inside = (m.t > ts[start - 1]) & (m.t < ts[start + gap_len])
    assert not m.good["y"][inside].any()
    assert np.isnan(m.values["y"][inside]).all()


@settings(max_examples=30, deadline=None)
@given(bad=st.lists(st.integers(1, 38), min_size=1, max_size=5, unique=True))
def test_nan_in_means_not_good(bad):
    ts = np.arange(40) * 4.5; y = np.arange(40.0); y[bad] = np.nan
    m = merge_vars({"y": (ts, y)}, 0.5)
    for i in bad:   # no grid point strictly between the neighbours of a NaN sample is good
        inside = (m.t > ts[i - 1]) & (m.t < ts[i + 1])
        assert not m.good["y"][inside].any()


def test_vectors_and_mixed_cadences():
    tb = np.arange(0, 60, 1 / 128); B = np.column_stack([tb, -tb, np.full_like(tb, 7.0)])
    te = np.arange(0, 60, 1 / 32); E = np.column_stack([np.sin(te)] * 3)
    th = np.arange(0, 60, 10.0) + 5
    m = merge_vars({"B": (tb, B), "E": (te, E), "He": (th, th * 2)}, "150ms")
    assert m.values["B"].shape == (len(m.t), 3) and m.values["He"].shape == (len(m.t),)
    assert m.info["B"]["method"] == "mean" and m.info["E"]["method"] == "mean" and m.info["He"]["method"] == "interp"
    g = m.good["B"].copy(); g[[0, -1]] = False     # edge bins are half covered
    # bin mean of a linear ramp over a symmetric bin is the centre value (to the sample spacing)
    np.testing.assert_allclose(m.values["B"][g, 0], m.t[g], atol=1 / 128)
    np.testing.assert_allclose(m.values["He"][m.good["He"]], 2 * m.t[m.good["He"]], atol=1e-9)


def test_cadence_change_mid_interval():
    # FPI fast (4.5 s) switching to burst (150 ms): linear data stay exact, no spurious gap at the switch
    ts = np.r_[np.arange(0, 45, 4.5), 45 + np.arange(0, 30, 0.15)]
    m = merge_vars({"y": (ts, 3 * ts + 1)}, 1.0, max_gap=None)
    g = m.good["y"]
    assert g[(m.t >= 0) & (m.t <= ts[-1])].all()
    far = np.abs(m.t - 45.0) >= 1.0           # away from the switch: exact (bin means of a ramp or interpolation)
    np.testing.assert_allclose(m.values["y"][g & far], 3 * m.t[g & far] + 1, atol=0.15 * 3 / 2)
    # the bin holding the switch is half covered: its mean is off by at most slope × cadence/2
    assert np.all(np.abs(m.values["y"][g & ~far] - 3 * m.t[g & ~far] - 1) <= 3 * 0.5 + 1e-9)


def test_duplicate_and_unordered_times_are_cleaned_and_counted():
    t = _dt([0, 2, 1, 1, 3, 4, 5, 6])
    y = np.array([0, 2, 1, 99, 3, 4, 5, 6.0])
    m = merge_vars({"y": (t, y)}, 1.0)
    assert m.info["y"]["n_duplicates"] == 1 and m.info["y"]["n_backward"] == 1
    np.testing.assert_allclose(m.values["y"], np.arange(7.0))


def test_hostile_inputs_clear_outcomes():
    with pytest.raises(InputError, match="non-empty dict"):
        merge_vars({})
    with pytest.raises(InputError, match="no time range"):
        merge_vars({"x": (np.array([]), np.array([]))})
    with pytest.raises(InputError, match="times but"):
        merge_vars({"x": (np.arange(3.0), np.ones(5))})
    with pytest.raises(InputError, match="cannot read cadence"):
        parse_cadence("soon")
    m = merge_vars({"x": (np.arange(5.0), np.full(5, np.nan))}, 1.0)
    assert not m.good["x"].any()
    # an empty series next to a good one is simply never good
    m = merge_vars({"x": (np.array([]), np.array([])), "y": (np.arange(5.0), np.arange(5.0))}, 1.0)
    assert not m.good["x"].any() and m.good["y"].all()


def test_bridgeable_local_rule_known_answer():
    ts = np.r_[np.arange(10.0), 12.0, 13.0]   # regular 1 s, one 3 s hole
    tg, ok = bridgeable(ts, np.ones(len(ts), bool))
    assert list(np.flatnonzero(~ok)) == [9]
