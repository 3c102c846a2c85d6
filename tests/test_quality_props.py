"""Property and hostile-input tests for mms_mp.quality: FPI errorflags decoding round-trips, masks reject
exactly the documented rejecting bits, counts add up, bad flag values are never good; the fast paths of the
spike and offset screening (window-sum pre-filter, one-partition medians, shared increments) change nothing."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mms_mp.core import InputError, NoDataError
from mms_mp.quality import (FPI_MOMS_BITS, FPI_REJECT, decode_fpi_errorflags, fpi_mask, fgm_mask, edp_mask,
                            hpca_mask, QualityMask)

flags_st = st.lists(st.integers(0, 2**20 - 1), min_size=1, max_size=60).map(lambda x: np.array(x, np.uint32))


@settings(max_examples=60, deadline=None)
@given(f=flags_st)
def test_decode_round_trip(f):
    bits = decode_fpi_errorflags(f)
    rebuilt = sum(bits[b].astype(np.int64) << b for b in FPI_MOMS_BITS)
    np.testing.assert_array_equal(rebuilt, f.astype(np.int64) & (2**15 - 1))
    np.testing.assert_array_equal(bits["undefined"], (f >> 15) != 0)


@settings(max_examples=60, deadline=None)
@given(f=flags_st, species=st.sampled_from(["dis", "des"]))
def test_mask_rejects_exactly_the_rejecting_bits(f, species):
    q = fpi_mask(f, species)
    rej = sum(1 << b for b in FPI_REJECT[species]) | ~(2**15 - 1)
    np.testing.assert_array_equal(q.good, (f.astype(np.int64) & rej) == 0)
    assert q.n_removed == int((~q.good).sum())
    for b in FPI_MOMS_BITS:   # every set bit is either a reason or a warning, with its count
        key = f"bit {b}: {FPI_MOMS_BITS[b]}"; n = int(((f >> b) & 1).sum())
        assert (q.reasons.get(key, 0) if b in FPI_REJECT[species] else q.warnings.get(key, 0)) == n


@settings(max_examples=40, deadline=None)
@given(f=st.lists(st.integers(0, 3), min_size=1, max_size=50).map(np.array), mq=st.integers(0, 3))
def test_edp_quality_threshold(f, mq):
    q = edp_mask(f, min_quality=mq)
    np.testing.assert_array_equal(q.good, f >= mq)


def test_bad_flag_values_are_not_good_and_combination():
    q = fpi_mask(np.array([np.nan, -1.0, 0.5, 0.0, 2.0**70]))
    np.testing.assert_array_equal(q.good, [False, False, False, True, False])
    a = fgm_mask(np.array([0, 1, 0])); b = hpca_mask(np.array([1.0, 1.0, 0.0]))
    c = a & b
    np.testing.assert_array_equal(c.good, [True, False, False]) and c.instrument == "FGM+HPCA"


def test_event_masks_on_a_fake_event():
    import xarray as xr
    from mms_mp.quality import event_masks
    t = np.datetime64("2019-01-27T12:00", "ns") + (np.arange(10) * 4.5e9).astype("int64").astype("timedelta64[ns]")
    fl = np.zeros(10, np.uint32); fl[3] = 1 << 1; fl[5] = 1 << 5
    d = {"Ni": xr.DataArray(np.ones(10), dims="time", coords={"time": t}),
         "Vi_gse": xr.DataArray(np.ones((10, 3)), dims=("time", "comp"), coords={"time": t}),
         "dis_errorflags": xr.DataArray(fl, dims="time", coords={"time": t}),
         "N_Heplus": xr.DataArray(np.r_[np.ones(9), 0.0], dims="time", coords={"time": t})}
    m = event_masks({"1": d}, "1")
    np.testing.assert_array_equal(np.flatnonzero(~m["Vi_gse"].good), [3])
    assert m["Vi_gse"].warnings == {"bit 5: >25% hot plasma (>30 keV)": 1}
    np.testing.assert_array_equal(np.flatnonzero(~m["N_Heplus"].good), [9])
    # flags on a different time base (half the records): nearest within half a cadence, else not good
    d["dis_errorflags"] = xr.DataArray(fl[::2], dims="time", coords={"time": t[::2]})
    m = event_masks({"1": d}, "1")
    np.testing.assert_array_equal(m["Ni"].good, [True, False, True, False, True, False, True, False, True, False])
    with pytest.raises(NoDataError, match=r"probe '2' is not in the event \(probes loaded: 1\)"):
        event_masks({"1": d}, "2")


def test_hostile():
    with pytest.raises(InputError, match="1-D"):
        fpi_mask(np.zeros((2, 2)))
    with pytest.raises(InputError, match="integer flags"):
        fgm_mask(np.array(["x"]))
    with pytest.raises(InputError, match="on one time base"):
        edp_mask(np.zeros(3), values=np.ones((4, 3)))
    assert fgm_mask(np.array([], np.uint8)).n == 0


# the fast paths of the spike and offset screening give the plain computation's answer, to the bit
series_st = st.lists(st.integers(-30, 30), min_size=8, max_size=120).map(lambda x: np.array(x) / 10)


@settings(max_examples=60, deadline=None)
@given(y=series_st, half=st.integers(0, 4), thr=st.sampled_from([-1.0, 0.0, 0.05, 0.3, 1.0, 2.5]))
def test_median_outliers_match_the_full_running_median(y, half, thr):
    from scipy.ndimage import median_filter
    from mms_mp.quality import _median_outliers
    ref = np.abs(y - median_filter(y, size=2 * half + 1, mode="nearest"))
    i, dev = _median_outliers(y, half, thr, np.abs(np.diff(y, append=y[-1])), chunk=5)
    assert i.tolist() == np.flatnonzero(ref > thr).tolist() and dev.tolist() == ref[ref > thr].tolist()


@settings(max_examples=60, deadline=None)
@given(y=series_st)
def test_median_is_numpys(y):
    from mms_mp.quality import exact_median
    assert exact_median(y) == np.median(y)


# signed zeros, NaN and ±inf: exact_median still returns np.median's float, sign bit included
odd_values_st = st.lists(st.sampled_from([-0.0, 0.0, 1.0, -1.0, 0.5, np.inf, -np.inf, np.nan]),
                         min_size=1, max_size=60).map(np.array)


@settings(max_examples=200, deadline=None)
@given(y=st.one_of(odd_values_st, series_st))
def test_median_is_numpys_to_the_bit(y):
    from mms_mp.quality import exact_median
    with np.errstate(invalid="ignore"):
        want, got = np.median(y), exact_median(y)
    assert np.array_equal(got, want, equal_nan=True) and np.signbit(got) == np.signbit(want)


@settings(max_examples=40, deadline=None)
@given(v=st.lists(series_st, min_size=3, max_size=3).map(lambda c: np.column_stack([x[:8] for x in c])),
       gap=st.integers(0, 7))
def test_shared_increments_change_nothing(v, gap):
    from mms_mp.quality import _increments, finite_mask, offset_mask, spike_mask
    v = np.vstack([v, v[::-1] * 3, v + 2.0])
    v[gap] = np.nan
    inc = _increments(v, finite_mask(v))
    assert spike_mask(v, _inc=inc).good.tolist() == spike_mask(v).good.tolist()
    assert offset_mask(v, _inc=inc).good.tolist() == offset_mask(v).good.tolist()
