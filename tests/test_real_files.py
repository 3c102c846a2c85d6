"""`mms_mp.data.load_event` against real MMS1 Level-2 files (offline; sockets are disabled by pytest.ini).

The files in tests/fixtures/real are public MMS data, byte-identical to what the MMS Science Data Center
distributes (see tests/fixtures/real/README.md). Each test reads the same records a second time with bare
cdflib (TT2000 converted by `cdflib.cdfepoch.to_datetime`) and asserts that the loader returns exactly
those times and values. Fill values, the flag's own fill value and a duplicated boundary record do not
occur in these files: the tests write edited COPIES with cdflib into `tmp_path` (the fixtures are never
modified) and assert how the loader treats each.
"""
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pytest

from mms_mp.data import FPI_INVALID_MASK, load_event

ROOT = Path(__file__).parent / "fixtures" / "real"
FGM = ROOT / "mms1" / "fgm" / "brst" / "l2"
FGM_FILES = {  # file -> (number of B records, data version)
    "2015/09/02/mms1_fgm_brst_l2_20150902165844_v4.18.0.cdf": (25600, "4.18.0"),
    "2015/09/02/mms1_fgm_brst_l2_20150902170204_v4.18.0.cdf": (38400, "4.18.0"),
    "2019/11/30/mms1_fgm_brst_l2_20191130091153_v5.219.0.cdf": (19200, "5.219.0"),
    "2019/11/30/mms1_fgm_brst_l2_20191130091423_v5.219.0.cdf": (19200, "5.219.0"),
}
FPI_FILES = {  # file -> (rate, species prefix, Epoch_plus_var in s)
    "fpi/brst/l2/dis-moms/2015/10/16/mms1_fpi_brst_l2_dis-moms_20151016130524_v3.3.0.cdf": ("brst", "dis", 0.15),
    "fpi/fast/l2/dis-moms/2015/12/mms1_fpi_fast_l2_dis-moms_20151201120000_v3.3.0.cdf": ("fast", "dis", 4.5),
    "fpi/fast/l2/des-moms/2015/12/mms1_fpi_fast_l2_des-moms_20151201120000_v3.3.0.cdf": ("fast", "des", 4.5),
}
FPI_QUANTITIES = {"numberdensity": "N", "bulkv_gse": "V{q}_gse", "temppara": "T{q}_para",
                  "tempperp": "T{q}_perp", "energyspectr_omni": "E{q}_spec"}
NS = np.timedelta64(1, "ns")


def raw_times(cdf, name="Epoch") -> np.ndarray:
    "TT2000 variable `name` as datetime64[ns], converted by cdflib itself."
    return np.asarray(cdflib.cdfepoch.to_datetime(cdf.varget(name)), "datetime64[ns]")


def load(t0, t1, root=ROOT, rate="brst", instruments=("fgm",)):
    "Probe 1 from a local tree, warnings recorded rather than raised."
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ev = load_event((t0, t1), "1", rate=rate, source="local", data_dir=root, instruments=instruments)
    return ev, [str(x.message) for x in w]


# ---------------------------------------------------------------------------------------------------------
# FGM burst: every record of each file, and one window clipped across the 2015-09-02 pair
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FGM_FILES))
def test_fgm_file_matches_cdflib_exactly(name):
    n, version = FGM_FILES[name]
    cdf = cdflib.CDF(str(FGM / name))
    t = raw_times(cdf)
    gse, gsm = cdf.varget("mms1_fgm_b_gse_brst_l2"), cdf.varget("mms1_fgm_b_gsm_brst_l2")
    assert len(t) == n and not cdf.varget("mms1_fgm_flag_brst_l2").any()  # these files carry no flagged record
    ev, warned = load(t[0], t[-1] + NS)
    assert warned == [] and ev.missing == []
    d = ev["1"]
    assert sorted(d) == ["B_gse", "B_gsm", "Bmag"]
    np.testing.assert_array_equal(d["B_gse"].time.values, t)
    np.testing.assert_array_equal(d["B_gse"].values, gse[:, :3].astype(np.float64))
    np.testing.assert_array_equal(d["B_gsm"].values, gsm[:, :3].astype(np.float64))
    np.testing.assert_array_equal(d["Bmag"].values, gse[:, 3].astype(np.float64))
    assert d["B_gse"].attrs["units"] == "nT" and d["B_gse"].attrs["frame"] == "GSE"
    (lo,) = ev.loaded
    assert lo["n"] == n and lo["centre_shift_s"] == 0.0  # FGM Epoch is already the centre of each sample
    assert lo["time_clean"] == dict(duplicates=0, backward=0, nat=0)
    (pv,) = ev.provenance
    assert pv["version"] == version and pv["size"] == (FGM / name).stat().st_size
    assert ev.qc["1"]["B_gse"] == dict(n=n, fill=0, flagged=0, nan=0)


def test_fgm_pair_joined_and_clipped_to_the_event_window():
    "2015-09-02 16:58:44–17:07:04: two segment files follow on; the window cuts the last 0.46 s."
    t0, t1 = np.datetime64("2015-09-02T16:58:44", "ns"), np.datetime64("2015-09-02T17:07:04", "ns")
    cdfs = [cdflib.CDF(str(FGM / n)) for n in sorted(FGM_FILES)[:2]]
    t = np.concatenate([raw_times(c) for c in cdfs])
    b = np.concatenate([c.varget("mms1_fgm_b_gse_brst_l2") for c in cdfs])
    keep = (t >= t0) & (t < t1)
    assert np.all(np.diff(t) > np.timedelta64(0, "ns")) and keep.sum() == 25600 + 38400 - 59
    ev, warned = load(t0, t1)
    assert warned == []
    np.testing.assert_array_equal(ev["1"]["B_gse"].time.values, t[keep])
    np.testing.assert_array_equal(ev["1"]["B_gse"].values, b[keep, :3].astype(np.float64))
    np.testing.assert_array_equal(ev["1"]["Bmag"].values, b[keep, 3].astype(np.float64))
    assert [p["name"] for p in ev.provenance] == [Path(n).name for n in sorted(FGM_FILES)[:2]]
    dt = np.diff(t[keep]).astype(np.int64)
    assert 7_811_000 <= dt.min() and dt.max() <= 7_813_000  # 128 S/s across the file boundary too


def test_fgm_positions_are_in_the_files_but_not_loaded():
    """Each FGM file carries `r_gse` every 30 s on `Epoch_state`, running past its last B sample; the
    pair repeats 3 of those records. The loader's FGM product reads B only, so no position comes back."""
    a, b = (cdflib.CDF(str(FGM / n)) for n in sorted(FGM_FILES)[:2])
    ta, tb = raw_times(a, "Epoch_state"), raw_times(b, "Epoch_state")
    assert np.all(np.diff(ta) == np.timedelta64(30, "s")) and ta[-1] > raw_times(a)[-1]
    shared = np.intersect1d(ta, tb)
    assert len(shared) == 3
    ra, rb = a.varget("mms1_fgm_r_gse_brst_l2"), b.varget("mms1_fgm_r_gse_brst_l2")
    np.testing.assert_array_equal(ra[np.isin(ta, shared)], rb[np.isin(tb, shared)])
    assert 11.8 < np.linalg.norm(ra[0, :3]) / 6371.2 < 12.1  # |r| ≈ 12 R_E on the dusk flank
    ev, _ = load("2015-09-02T16:58:44", "2015-09-02T17:07:04", instruments=("fgm", "mec"))
    assert not ev.has("1", "R_gse")
    assert [m["instrument"] for m in ev.missing] == ["mec"]


# ---------------------------------------------------------------------------------------------------------
# FPI moments: Epoch is the start of each accumulation, the loader centres it by Epoch_plus_var / 2
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(FPI_FILES))
def test_fpi_moments_match_cdflib_exactly(name):
    rate, s, plus = FPI_FILES[name]
    q = s[1]
    cdf = cdflib.CDF(str(ROOT / "mms1" / name))
    assert float(cdf.varget("Epoch_plus_var")) == pytest.approx(plus) and cdf.varget("Epoch_minus_var") == 0
    half = np.timedelta64(int(np.round(float(cdf.varget("Epoch_plus_var")) * 1e9 / 2)), "ns")
    t = raw_times(cdf) + half
    flags = cdf.varget(f"mms1_{s}_errorflags_{rate}").astype(np.int64)
    t0, t1 = t[10] - NS, t[-10]  # clipped inside the file at both ends
    keep = (t >= t0) & (t < t1)
    ev, _ = load(t0, t1, rate=rate, instruments=("fpi",))
    d = ev["1"]
    for var, qty in FPI_QUANTITIES.items():
        raw = cdf.varget(f"mms1_{s}_{var}_{rate}").astype(np.float64)[keep]
        raw[(flags[keep] & FPI_INVALID_MASK) != 0] = np.nan
        got = d[qty.format(q=q) if "{q}" in qty else qty + q]
        np.testing.assert_array_equal(got.time.values, t[keep])
        np.testing.assert_array_equal(got.values, raw)
    energy = cdf.varget(f"mms1_{s}_energy_{rate}").astype(np.float64)[keep]
    np.testing.assert_array_equal(d[f"E{q}_spec"].energy_eV.values, energy)
    np.testing.assert_array_equal(d[f"{s}_errorflags"].values, flags[keep])
    (lo,) = [x for x in ev.loaded if x["datatype"] == f"{s}-moms"]
    assert lo["centre_shift_s"] == pytest.approx(plus / 2, abs=1e-8) and lo["n"] == keep.sum()


def test_fpi_errorflags_decoded_bit_by_bit():
    "Burst DIS flags 4, 512, 8196 and 8704 set bits 2, 9 and 13: none of them invalidates a moment."
    name = "fpi/brst/l2/dis-moms/2015/10/16/mms1_fpi_brst_l2_dis-moms_20151016130524_v3.3.0.cdf"
    flags = cdflib.CDF(str(ROOT / "mms1" / name)).varget("mms1_dis_errorflags_brst")
    assert set(np.unique(flags)) == {0, 4, 512, 8196, 8704}
    assert not np.any(flags.astype(np.int64) & FPI_INVALID_MASK)
    ev, warned = load("2015-10-16T13:05:24", "2015-10-16T13:07:44", rate="brst", instruments=("fpi",))
    assert ev.qc["1"]["dis_errorflags"]["invalidating"] == 0 and ev.qc["1"]["Ni"]["nan"] == 0
    assert ev["1"]["dis_errorflags"].values.max() == 8704
    assert [m["datatype"] for m in ev.missing] == ["des-moms"] and len(warned) == 1  # no DES burst file here
