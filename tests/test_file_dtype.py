"""Loaded values keep the file's float type (MMS L2: float32 for B, moments, E; float64 for positions), and a
product read from one file uses the array cdflib read for it without a copy. What this must not change: the
values themselves (equal to a bare cdflib read), the fill and flag counts, a reader's cached buffer (pycdfpp
keeps each variable's values; setting NaN in them would hide a fill value from the next read), and the
analysis results (T = (T∥ + 2T⊥)/3 is computed in float64, as before)."""
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pytest

import mms_mp.cdfread as cdfread
import mms_mp.products as products
from mms_mp.data import load_event
from mms_mp.layout import find_local_files, get_product
from mms_mp.products import read_product
from mms_mp.synthetic import demo_event_dir

REAL = Path(__file__).parent / "fixtures" / "real"


def _load(trange, instrument, data_dir):
    "One probe, burst, one instrument, offline; the loader's warnings (missing MEC) silenced."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_event(trange, "1", rate="brst", instruments=(instrument,), source="local",
                          data_dir=data_dir)["1"]


def test_real_fgm_values_keep_the_files_float32():
    d = _load(("2015-09-02T16:58:44", "2015-09-02T17:07:05"), "fgm", REAL)
    assert (d["B_gse"].dtype, d["Bmag"].dtype) == (np.float32, np.float32)
    files = sorted(REAL.rglob("mms1_fgm_brst_l2_20150902*.cdf"))
    c = cdflib.CDF(str(files[0]))
    assert c.varget("mms1_fgm_b_gse_brst_l2").dtype == np.float32
    assert d["R_gse"].dtype == c.varget("mms1_fgm_r_gse_brst_l2").dtype  # FGM state: float32 too


def test_fpi_temperature_is_computed_in_float64():
    x = _load(("2019-01-27T12:30", "2019-01-27T12:35"), "fpi", demo_event_dir())
    assert (x["Ti_para"].dtype, x["Ti"].dtype) == (np.float32, np.float64)
    want = (x["Ti_para"].values.astype(float) + 2 * x["Ti_perp"].values.astype(float)) / 3
    np.testing.assert_array_equal(x["Ti"].values, want)


def test_one_file_product_is_the_array_read_with_fill_as_nan(monkeypatch):
    read, seen = products.read_product_file, []   # each block's arrays, as read

    def spy(*a, **k):
        blk = read(*a, **k)
        seen.append(blk.arrays)
        return blk
    monkeypatch.setattr(products, "read_product_file", spy)
    d, prod = demo_event_dir(), get_product("fgm", "srvy")
    w = (np.datetime64("2019-01-27T12:20", "ns"), np.datetime64("2019-01-27T12:50", "ns"))
    files = find_local_files(d, 1, "fgm", "srvy", "", w)
    nm = "mms1_fgm_b_gse_srvy_l2"
    p = read_product(files, prod, *w)[0]
    a, f = p.arrays[nm], p.fill[nm]
    assert len(seen) == 1 and a is seen[0][nm]   # no copy
    assert a.dtype == np.float32 and f is not None and len(f)
    assert np.isnan(a.reshape(-1)[f]).all()
    raw = cdflib.CDF(str(files[0].path)).varget(nm)
    assert (raw.reshape(-1) <= -1e30).sum() >= len(f)


def test_pycdfpp_buffer_is_not_changed_in_place(monkeypatch):
    pytest.importorskip("pycdfpp")
    monkeypatch.setenv("MMS_MP_CDF_READER", "pycdfpp")
    monkeypatch.setattr(cdfread, "_PYCDFPP", [])
    kept, reader = {}, cdfread._reader   # one reader per file, kept: as for a file kept open
    monkeypatch.setattr(cdfread, "_reader", lambda path: kept.setdefault(str(path), reader(path)))
    d, prod = demo_event_dir(), get_product("fgm", "srvy")
    w = (np.datetime64("2019-01-27T12:20", "ns"), np.datetime64("2019-01-27T12:50", "ns"))
    files = find_local_files(d, 1, "fgm", "srvy", "", w)
    nm = "mms1_fgm_b_gse_srvy_l2"
    first, again = (read_product(files, prod, *w)[0] for _ in range(2))
    assert isinstance(next(iter(kept.values())), cdfread._MetaPP)
    assert len(first.fill[nm]) and np.array_equal(first.fill[nm], again.fill[nm])
    np.testing.assert_array_equal(first.arrays[nm], again.arrays[nm])
    assert first.arrays[nm].dtype == np.float32
