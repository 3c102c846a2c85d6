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

from mms_mp.core import R_E_KM, NoDataError
from mms_mp.cdfread import FPI_INVALID_MASK
from mms_mp.data import POSITION_SOURCE, load_event

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
    assert sorted(d) == ["B_gse", "B_gsm", "Bmag", "R_gse", "R_gsm"]  # positions: FGM state records, no MEC
    np.testing.assert_array_equal(d["B_gse"].time.values, t)
    np.testing.assert_array_equal(d["B_gse"].values, gse[:, :3].astype(np.float64))
    np.testing.assert_array_equal(d["B_gsm"].values, gsm[:, :3].astype(np.float64))
    np.testing.assert_array_equal(d["Bmag"].values, gse[:, 3].astype(np.float64))
    assert d["B_gse"].attrs["units"] == "nT" and d["B_gse"].attrs["frame"] == "GSE"
    lo, state = ev.loaded
    assert state["rate_reason"] == POSITION_SOURCE and state["part"] == "state"
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


@pytest.mark.parametrize("day, n_shared, past_s", [("2015/09/02", 3, 19.67), ("2019/11/30", 5, 60.08)])
def test_fgm_positions_are_loaded_when_mec_is_absent(day, n_shared, past_s):
    """Each FGM file carries `r_gse` every 30 s on `Epoch_state`, running past its last B sample;
    consecutive files repeat some of those records with identical values. With no MEC file, the loader
    returns them as R_gse/R_gsm: deduplicated, strictly increasing, within the window ± 30 s (one record
    beyond each end), equal to the raw records, and says where they come from."""
    pair = [n for n in sorted(FGM_FILES) if n.startswith(day)]
    a, b = (cdflib.CDF(str(FGM / n)) for n in pair)
    ta, tb = raw_times(a, "Epoch_state"), raw_times(b, "Epoch_state")
    assert np.all(np.diff(ta) == np.timedelta64(30, "s")) and np.all(np.diff(tb) == np.timedelta64(30, "s"))
    for c, ts in ((a, ta), (b, tb)):
        assert (ts[-1] - raw_times(c)[-1]) / np.timedelta64(1, "s") == pytest.approx(past_s, abs=0.01)
    shared = np.intersect1d(ta, tb)
    assert len(shared) == n_shared
    ra, rb = a.varget("mms1_fgm_r_gse_brst_l2"), b.varget("mms1_fgm_r_gse_brst_l2")
    np.testing.assert_array_equal(ra[np.isin(ta, shared)], rb[np.isin(tb, shared)])
    t0, t1 = raw_times(a)[0], raw_times(b)[-1] + NS
    ev, _ = load(t0, t1, instruments=("fgm", "mec"))
    assert [m["instrument"] for m in ev.missing] == ["mec"]
    ts, order = np.unique(np.concatenate([ta, tb]), return_index=True)  # sorted, first of each repeat
    for q, var in (("R_gse", "mms1_fgm_r_gse_brst_l2"), ("R_gsm", "mms1_fgm_r_gsm_brst_l2")):
        r = ev["1"][q]
        t = r.time.values
        assert np.all(np.diff(t) > np.timedelta64(0, "ns")) and len(np.unique(t)) == len(t)
        assert t[0] <= t0 and t[-1] >= t1 - NS  # one record on either side of the window ...
        assert t0 - t[0] <= np.timedelta64(30, "s") and t[-1] - t1 <= np.timedelta64(30, "s")  # ... and only one
        raw = np.concatenate([a.varget(var), b.varget(var)])[order]
        keep = np.isin(ts, t)
        np.testing.assert_array_equal(t, ts[keep])
        np.testing.assert_array_equal(r.values, raw[keep, :3].astype(np.float64))
        assert r.attrs["position_source"] == POSITION_SOURCE and r.attrs["units"] == "km"
        assert r.attrs["frame"] == q[-3:].upper() and r.attrs["source"] == ",".join(Path(n).name for n in pair)
    (st,) = [x for x in ev.loaded if x["rate_reason"] == POSITION_SOURCE]
    assert st["time_clean"]["duplicates"] == n_shared
    assert "R_gse, R_gsm from FGM state (MEC absent)" in ev.summary()


def test_fgm_position_is_on_the_dusk_flank():
    "2015-09-02: |r| ≈ 12 R_E, GSE ≈ (1.5, 11.9, −0.3) R_E."
    r = cdflib.CDF(str(FGM / sorted(FGM_FILES)[0])).varget("mms1_fgm_r_gse_brst_l2")
    np.testing.assert_allclose(r[0, :3] / R_E_KM, [1.55, 11.88, -0.29], atol=0.01)
    np.testing.assert_allclose(r[:, 3], np.linalg.norm(r[:, :3].astype(float), axis=1), rtol=1e-6)


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


# ---------------------------------------------------------------------------------------------------------
# Edited copies: fill values, the flag's own fill value, a bad time tag, a duplicated boundary record
# ---------------------------------------------------------------------------------------------------------

def copy_cdf(src: Path, dst: Path, edit=None, dims=None, globals_=None, drop=()) -> Path:
    """Rewrite every variable and attribute of `src` into `dst` with cdflib, uncompressed. `edit(records)`
    may change the dict {name: array} of `Epoch` and the variables on it (same number of rows for all);
    `dims` gives new record shapes {name: Dim_Sizes}, `globals_` other global attributes; the variables
    named in `drop` are left out."""
    from cdflib.cdfwrite import CDF
    r = cdflib.CDF(str(src))
    names = [v for v in r.cdf_info().zVariables if v not in drop]
    on_epoch = [v for v in names if v == "Epoch" or r.varattsget(v).get("DEPEND_0") == "Epoch"]
    records = {v: r.varget(v) for v in on_epoch}
    if edit is not None: edit(records)
    dst.parent.mkdir(parents=True, exist_ok=True)
    w = CDF(str(dst), cdf_spec={"Compressed": False}, delete=True)
    try:
        ga = r.globalattsget() if globals_ is None else globals_
        w.write_globalattrs({k: dict(enumerate(v)) for k, v in ga.items()})
        for v in names:
            vi = r.varinq(v)
            attrs = {}
            for a in r.varattsget(v):
                d = r.attget(a, v)
                attrs[a] = d.Data if d.Data_Type == "CDF_CHAR" else [d.Data, d.Data_Type]
            spec = {"Variable": v, "Data_Type": vi.Data_Type, "Num_Elements": vi.Num_Elements,
                    "Rec_Vary": vi.Rec_Vary, "Dim_Sizes": (dims or {}).get(v, vi.Dim_Sizes), "Compress": 0}
            w.write_var(spec, var_attrs=attrs, var_data=records[v] if v in records else r.varget(v))
    finally:
        w.close()
    return dst


PAIR = sorted(FGM_FILES)[:2]  # 2015-09-02, 16:58:44 and 17:02:04


def test_unchanged_copy_loads_identically(tmp_path):
    "The copier itself changes nothing the loader reads."
    copy_cdf(FGM / PAIR[0], tmp_path / "mms1/fgm/brst/l2" / PAIR[0])
    t = raw_times(cdflib.CDF(str(FGM / PAIR[0])))
    a, _ = load(t[0], t[-1] + NS)
    b, _ = load(t[0], t[-1] + NS, root=tmp_path)
    for q in ("B_gse", "B_gsm", "Bmag"):
        np.testing.assert_array_equal(b["1"][q].values, a["1"][q].values)
        np.testing.assert_array_equal(b["1"][q].time.values, a["1"][q].time.values)


def test_fill_values_and_flags_become_nan(tmp_path):
    """FILLVAL (−1e31) turns only the element that holds it into NaN; a nonzero flag, and the flag's own
    fill value 0xFFFFFFFF (quality unknown), turn the whole record into NaN. `qc` counts records."""
    fill, flag_fill = np.float32(-1e31), np.uint32(0xFFFFFFFF)
    def edit(rec):
        gse, gsm, flag = rec["mms1_fgm_b_gse_brst_l2"], rec["mms1_fgm_b_gsm_brst_l2"], rec["mms1_fgm_flag_brst_l2"]
        gse[100, 1] = fill                  # one component
        gse[200, :] = fill                  # the whole vector, |B| too
        gsm[300, 2] = fill                  # the other frame only
        flag[400] = flag_fill               # flag unknown
        flag[500] = 1 << 4                  # bit 4: B1 saturated
    copy_cdf(FGM / PAIR[0], tmp_path / "mms1/fgm/brst/l2" / PAIR[0], edit)
    cdf = cdflib.CDF(str(FGM / PAIR[0]))
    t, gse, gsm = raw_times(cdf), cdf.varget("mms1_fgm_b_gse_brst_l2"), cdf.varget("mms1_fgm_b_gsm_brst_l2")
    ev, _ = load(t[0], t[-1] + NS, root=tmp_path)
    d = ev["1"]
    want_gse, want_gsm, want_mag = gse[:, :3].astype(float), gsm[:, :3].astype(float), gse[:, 3].astype(float)
    want_gse[100, 1] = np.nan
    want_gse[200] = want_mag[200] = np.nan
    want_gsm[300, 2] = np.nan
    for k in (400, 500): want_gse[k] = want_gsm[k] = want_mag[k] = np.nan
    np.testing.assert_array_equal(d["B_gse"].values, want_gse)
    np.testing.assert_array_equal(d["B_gsm"].values, want_gsm)
    np.testing.assert_array_equal(d["Bmag"].values, want_mag)
    np.testing.assert_array_equal(d["B_gse"].time.values, t)  # no record is dropped
    n = len(t)
    assert ev.qc["1"]["B_gse"] == dict(n=n, fill=2, flagged=2, nan=4)
    assert ev.qc["1"]["B_gsm"] == dict(n=n, fill=1, flagged=2, nan=3)
    assert ev.qc["1"]["Bmag"] == dict(n=n, fill=1, flagged=2, nan=3)


def test_fill_time_tag_drops_its_record(tmp_path):
    "A TT2000 fill (−2⁶³) in `Epoch` is no time at all: that record is dropped and counted."
    copy_cdf(FGM / PAIR[0], tmp_path / "mms1/fgm/brst/l2" / PAIR[0],
             lambda rec: rec["Epoch"].__setitem__(600, np.iinfo(np.int64).min))
    cdf = cdflib.CDF(str(FGM / PAIR[0]))
    t, gse = raw_times(cdf), cdf.varget("mms1_fgm_b_gse_brst_l2")
    ev, _ = load(t[0], t[-1] + NS, root=tmp_path)
    keep = np.arange(len(t)) != 600
    np.testing.assert_array_equal(ev["1"]["B_gse"].time.values, t[keep])
    np.testing.assert_array_equal(ev["1"]["B_gse"].values, gse[keep, :3].astype(float))
    assert ev.loaded[0]["time_clean"] == dict(duplicates=0, backward=0, nat=1)


def test_duplicated_boundary_record_is_kept_once(tmp_path):
    "The second file repeats the first file's last record (time and values): the join keeps one."
    first = cdflib.CDF(str(FGM / PAIR[0]))
    last = {v: first.varget(v)[-1:] for v in ("Epoch", "mms1_fgm_b_gse_brst_l2", "mms1_fgm_b_gsm_brst_l2",
                                              "mms1_fgm_flag_brst_l2")}
    def edit(rec):
        for v in rec: rec[v] = np.concatenate([last[v] if v in last else rec[v][:1], rec[v]])
    copy_cdf(FGM / PAIR[0], tmp_path / "mms1/fgm/brst/l2" / PAIR[0])
    copy_cdf(FGM / PAIR[1], tmp_path / "mms1/fgm/brst/l2" / PAIR[1], edit)
    assert cdflib.CDF(str(tmp_path / "mms1/fgm/brst/l2" / PAIR[1])).varinq("Epoch").Last_Rec == 38400
    w = ("2015-09-02T16:58:44", "2015-09-02T17:07:04")
    a, _ = load(*w)
    b, _ = load(*w, root=tmp_path)
    np.testing.assert_array_equal(b["1"]["B_gse"].time.values, a["1"]["B_gse"].time.values)
    np.testing.assert_array_equal(b["1"]["B_gse"].values, a["1"]["B_gse"].values)
    b_only = lambda ev: [x["time_clean"] for x in ev.loaded if x["rate_reason"] != POSITION_SOURCE]
    assert b_only(b) == [dict(duplicates=1, backward=0, nat=0)]
    assert b_only(a) == [dict(duplicates=0, backward=0, nat=0)]


# ---------------------------------------------------------------------------------------------------------
# rate="auto" on a window wider than the burst files, and source="auto" offline
# ---------------------------------------------------------------------------------------------------------

def test_auto_rate_keeps_burst_where_burst_files_reach():
    """16:58–17:08: burst files reach 16:58:44.459–17:07:04.458 only and there is no survey file. `rate="auto"`
    returns the burst B (not NoDataError) and records which rate was used where, and why."""
    t0, t1 = np.datetime64("2015-09-02T16:58", "ns"), np.datetime64("2015-09-02T17:08", "ns")
    ev, warned = load(t0, t1, rate="auto")
    ref, _ = load(t0, t1, rate="brst")
    # the window runs beyond the burst data and nothing else covers it: said once, as that
    assert [w for w in warned if "data cover only part" not in w] == [] and ev.missing == []
    assert any("mms1 fgm brst: 2015-09-02T16:58:44.459Z–2015-09-02T17:07:04.457Z" in w for w in warned)
    for q in ("B_gse", "B_gsm", "Bmag", "R_gse"):
        np.testing.assert_array_equal(ev["1"][q].values, ref["1"][q].values)
        np.testing.assert_array_equal(ev["1"][q].time.values, ref["1"][q].time.values)
    assert ev["1"]["B_gse"].attrs["rate"] == "brst" and len(ev["1"]["B_gse"]) == 25600 + 38400
    srvy, brst, _pos = ev.rates
    assert (srvy["rate"], srvy["used"], srvy["files"]) == ("srvy", False, [])
    assert srvy["reason"].startswith("no fgm srvy files for mms1 under")
    assert (brst["rate"], brst["used"], brst["partial"]) == ("brst", True, True)
    assert brst["span"] == ["2015-09-02T16:58:44.459Z", "2015-09-02T17:07:04.457Z"]
    assert brst["files"] == [Path(n).name for n in PAIR]
    assert "burst files reach" in brst["reason"] and "burst alone" in brst["reason"]
    lo = [x for x in ev.loaded if x["rate_reason"] != POSITION_SOURCE]
    assert [(x["rate"], x["covers_window"]) for x in lo] == [("brst", False)]
    assert "mms1 fgm srvy not used: no fgm srvy files" in ev.summary()


def test_offline_auto_source_gives_up_fast_and_says_why(monkeypatch):
    """source="auto" with no survey and no MEC file on disk: the data centre is checked once before any
    download (sockets are blocked here), nothing is downloaded, and each reason says it was not reachable."""
    import time
    import mms_mp.data
    tried = []
    monkeypatch.setattr(mms_mp.data, "download_files", lambda *a, **k: tried.append(a))
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ev = load_event(("2015-09-02T16:58", "2015-09-02T17:08"), "1", instruments=("fgm", "mec"),
                        source="auto", data_dir=ROOT)
    assert time.perf_counter() - t0 < 2.0
    assert ev["1"]["B_gse"].attrs["rate"] == "brst" and ev.has("1", "R_gse")
    (mec,) = ev.missing
    assert mec["instrument"] == "mec" and "data centre lasp.colorado.edu not reachable" in mec["reason"]
    (srvy,) = [r for r in ev.rates if not r["used"]]
    assert "data centre lasp.colorado.edu not reachable" in srvy["reason"]
    assert tried == []  # no download was attempted


# ---------------------------------------------------------------------------------------------------------
# Screening on edited copies: VALIDMIN/VALIDMAX, the file's own probe, a variable of the wrong shape
# ---------------------------------------------------------------------------------------------------------

def test_values_outside_validmin_validmax_become_nan_and_are_counted(tmp_path):
    """B limits in these files: ±20000 nT per component, 0–20000 nT for |B|. A component at 30000 nT and a
    negative |B| become NaN (that element only); `qc` counts the records, says why, and fill stays fill."""
    def edit(rec):
        gse = rec["mms1_fgm_b_gse_brst_l2"]
        gse[100, 0] = 30000.0   # B_x out of range
        gse[200, 3] = -5.0      # |B| out of range
        gse[300, 1] = -1e31     # fill, not out of range
    copy_cdf(FGM / PAIR[0], tmp_path / "mms1/fgm/brst/l2" / PAIR[0], edit)
    cdf = cdflib.CDF(str(FGM / PAIR[0]))
    t, gse = raw_times(cdf), cdf.varget("mms1_fgm_b_gse_brst_l2")
    ev, _ = load(t[0], t[-1] + NS, root=tmp_path)
    want, mag = gse[:, :3].astype(float), gse[:, 3].astype(float)
    want[100, 0] = want[300, 1] = mag[200] = np.nan
    np.testing.assert_array_equal(ev["1"]["B_gse"].values, want)
    np.testing.assert_array_equal(ev["1"]["Bmag"].values, mag)
    q = ev.qc["1"]
    assert q["B_gse"]["out_of_range"] == 1 and q["B_gse"]["fill"] == 2 and q["B_gse"]["nan"] == 2
    assert q["Bmag"]["out_of_range"] == 1 and "VALIDMIN" in q["Bmag"]["screening"]
    assert "out_of_range" not in q["B_gsm"]  # the other frame is untouched


def test_a_file_of_another_probe_is_dropped_with_a_reason(tmp_path):
    "A file named mms1 whose own global attributes say MMS2 is not read: event.missing says why."
    src, dst = FGM / PAIR[0], tmp_path / "mms1/fgm/brst/l2" / PAIR[0]
    copy_cdf(src, dst)
    r = cdflib.CDF(str(src))
    ga = r.globalattsget()
    ga["Source_name"] = ["MMS2>MMS Satellite Number 2"]
    _rewrite_globals(dst, ga)
    copy_cdf(FGM / PAIR[1], tmp_path / "mms1/fgm/brst/l2" / PAIR[1])
    ev, warned = load("2015-09-02T16:58:44", "2015-09-02T17:07:04", root=tmp_path)
    assert [p["name"] for p in ev.provenance] == [Path(PAIR[1]).name]  # the good file is still read
    (m,) = ev.missing
    assert "Source_name 'MMS2>MMS Satellite Number 2' is not MMS1" in m["reason"] and Path(PAIR[0]).name in m["reason"]
    assert len([w for w in warned if "data cover only part" not in w]) == 1
    assert any("data cover only part" in w for w in warned)   # the dropped file leaves a hole in the window


def test_a_variable_of_the_wrong_shape_drops_the_product_with_a_reason(tmp_path):
    "B_gse with 3 columns where the catalogue needs (x, y, z, |B|): no IndexError, the reason names the variable."
    def edit(rec): rec["mms1_fgm_b_gse_brst_l2"] = np.ascontiguousarray(rec["mms1_fgm_b_gse_brst_l2"][:, :3])
    copy_cdf(FGM / PAIR[0], tmp_path / "mms1/fgm/brst/l2" / PAIR[0], edit, dims={"mms1_fgm_b_gse_brst_l2": [3]})
    t = raw_times(cdflib.CDF(str(FGM / PAIR[0])))
    with pytest.raises(NoDataError, match=r"mms1_fgm_b_gse_brst_l2 has records of shape \(3,\), expected \(N, 4\)"):
        load(t[0], t[-1] + NS, root=tmp_path)


def _rewrite_globals(path: Path, ga: dict):
    "Rewrite `path` with the global attributes `ga` (every variable copied unchanged)."
    tmp = path.with_name("x_" + path.name)
    path.rename(tmp)
    copy_cdf(tmp, path, globals_=ga)
    tmp.unlink()


def test_a_block_jumping_back_in_time_is_dropped_with_a_reason(tmp_path):
    """Records 1000–1099 of a real file rewritten 2 s earlier (a block that jumps back): they are dropped, not
    re-sorted into the data; every other record is returned unchanged and the load report says why."""
    def edit(rec): rec["Epoch"][1000:1100] -= 2_000_000_000
    copy_cdf(FGM / PAIR[0], tmp_path / "mms1/fgm/brst/l2" / PAIR[0], edit)
    cdf = cdflib.CDF(str(FGM / PAIR[0]))
    t, gse = raw_times(cdf), cdf.varget("mms1_fgm_b_gse_brst_l2")
    ev, _ = load(t[0], t[-1] + NS, root=tmp_path)
    keep = np.ones(len(t), bool)
    keep[1000:1100] = False
    np.testing.assert_array_equal(ev["1"]["B_gse"].time.values, t[keep])
    np.testing.assert_array_equal(ev["1"]["B_gse"].values, gse[keep, :3].astype(np.float64))
    tc = ev.loaded[0]["time_clean"]
    assert (tc["backward"], tc["dropped"], tc["duplicates"]) == (1, 100, 0) and "jumping back" in tc["why"]


def test_a_window_reaching_beyond_the_data_is_said():
    "REAL burst FGM from 16:58:44.459: a window from 16:55 warns, and the JSON coverage gives the first sample."
    from mms_mp.data import MissingDataWarning
    from mms_mp.schema import coverage_json
    with pytest.warns(MissingDataWarning, match="data cover only part of 2015-09-02T16:55:00.000Z"):
        ev = load_event(("2015-09-02T16:55:00", "2015-09-02T17:01:00"), "1", rate="brst", instruments="fgm",
                        source="local", data_dir=ROOT)
    b = next(c for c in coverage_json(ev) if c["part"] != "state")
    assert (b["data_start"], b["covers_window"]) == ("2015-09-02T16:58:44.459Z", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingDataWarning)   # a window inside the data: no such warning
        ev = load_event(("2015-09-02T16:59:00", "2015-09-02T17:01:00"), "1", rate="brst", instruments="fgm",
                        source="local", data_dir=ROOT)
    assert all(c["covers_window"] for c in coverage_json(ev))


def test_file_failing_its_md5_checksum_is_flagged(tmp_path):
    """A copy of a real FGM file with one letter of a text attribute changed (a damage cdflib cannot see: no GZIP
    block is touched) still loads with the same values, but fails the MD5 checksum every MMS L2 file carries:
    the provenance says "mismatch" for it ("ok" for the intact one), a DamagedFileWarning names it, and the
    analysis records it in the load stage's reason and in the JSON."""
    import json, shutil
    from mms_mp.data import DamagedFileWarning, damaged_files
    from mms_mp.cli import main
    day = "2015/09/02"
    dst = tmp_path / "mms1" / "fgm" / "brst" / "l2" / day
    shutil.copytree(FGM / day, dst)
    f = dst / "mms1_fgm_brst_l2_20150902165844_v4.18.0.cdf"
    b = bytearray(f.read_bytes()); i = b.find(b"Magnetic")
    b[i] = ord("m"); f.write_bytes(b)                       # 'Magnetic' → 'magnetic' in an attribute
    win = ("2015-09-02T16:58:44", "2015-09-02T17:03:00")
    with pytest.warns(DamagedFileWarning, match=f.name):
        ev = load_event(win, "1", rate="brst", instruments=("fgm",), source="local", data_dir=tmp_path)
    chk = {d["name"]: d["checksum"] for d in ev.provenance}
    assert chk == {f.name: "mismatch", "mms1_fgm_brst_l2_20150902170204_v4.18.0.cdf": "ok"}
    assert damaged_files(ev) == [f.name]
    ref = load_event(win, "1", rate="brst", instruments=("fgm",), source="local", data_dir=ROOT)
    assert {d["checksum"] for d in ref.provenance} == {"ok"}
    np.testing.assert_array_equal(ev["1"]["B_gse"].values, ref["1"]["B_gse"].values)   # values untouched here
    out = tmp_path / "out"
    assert main(["analyze", "--start", win[0], "--end", win[1], "--probes", "1", "--rate", "brst", "--source",
                 "local", "--data-dir", str(tmp_path), "--outdir", str(out), "--quiet"]) == 0
    doc = json.loads((out / "mp_analysis.json").read_text())
    assert {p["name"]: p["checksum"] for p in doc["provenance"]["files"]}[f.name] == "mismatch"
    assert "MD5 checksum" in doc["status"]["load"]["reason"] and f.name in doc["status"]["load"]["reason"]
    assert doc["crossings"] and all("fgm_file_damaged" in c["flags"] for c in doc["crossings"])   # each one says so


def test_any_changed_byte_fails_the_md5_checksum():
    "Property: one byte of a real file changed anywhere before its 16-byte MD5 trailer → 'mismatch'; in it, too."
    import tempfile
    from hypothesis import given, settings, strategies as st
    from mms_mp.digest import _digests
    src = FGM / "2015/09/02/mms1_fgm_brst_l2_20150902165844_v4.18.0.cdf"
    data = src.read_bytes()
    assert _digests(src)[1] == "ok"
    d = Path(tempfile.mkdtemp())

    @settings(max_examples=40, deadline=None)
    @given(st.integers(44, len(data) - 1), st.integers(1, 255))   # past the CDR flags, up to the last byte
    def check(i, x):
        b = bytearray(data); b[i] ^= x
        f = d / "copy.cdf"; f.write_bytes(b)
        assert _digests(f)[1] == "mismatch"
    check()


def test_one_unreadable_file_of_two_is_in_the_load_stage_reason(tmp_path, capsys):
    "Two real FGM files, one cut short: the run goes on with the other (exit 0), and says which file was lost."
    import json, shutil
    from mms_mp.cli import main
    day = "2015/09/02"
    dst = tmp_path / "mms1" / "fgm" / "brst" / "l2" / day
    shutil.copytree(FGM / day, dst)
    f = dst / "mms1_fgm_brst_l2_20150902170204_v4.18.0.cdf"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    out = tmp_path / "out"
    assert main(["analyze", "--start", "2015-09-02T16:58:44", "--end", "2015-09-02T17:07:04", "--probes", "1",
                 "--rate", "brst", "--source", "local", "--data-dir", str(tmp_path), "--outdir", str(out)]) == 0
    why = json.loads((out / "mp_analysis.json").read_text())["status"]["load"]["reason"]
    assert "partly loaded" in why and f.name in why, why
    cap = capsys.readouterr()
    assert f"load: mms1 fgm brst: partly loaded" in cap.out   # the summary says it too
    # stdout, the JSON and report.html agree: the load stage ran, degraded
    assert "stages: load degraded" in cap.out
    assert json.loads((out / "mp_analysis.json").read_text())["status"]["load"]["degraded"] is True
    rej = json.loads((out / "mp_analysis.json").read_text())["provenance"]["rejected_files"]
    assert [r["name"] for r in rej] == [f.name] and "partly loaded" in rej[0]["reason"]   # the lost file, named
    from mms_mp.data import MissingDataWarning
    with pytest.warns(MissingDataWarning) as rec:
        load_event(("2015-09-02T16:58:44", "2015-09-02T17:07:04"), "1", rate="brst", source="local",
                   data_dir=tmp_path)
    text = "\n".join(str(w.message) for w in rec)
    assert "1 partly loaded" in text                           # not counted as "not loaded"
    cover = [x for x in text.splitlines() if x.strip().startswith("mms1 fgm brst: 2015")]
    assert cover and "largest gap" not in cover[0], cover      # the data end early: no 8-ms "gap" reported


def test_window_after_the_burst_files_says_so_and_suggests_no_other_rate():
    """REAL: a window after the last burst segment, rate 'auto', no survey files: the message says the burst file
    holds no data there. Before, it dropped that line and suggested 'files at another rate (fgm brst)'."""
    with pytest.raises(NoDataError) as e:
        load_event(("2015-09-02T17:10", "2015-09-02T17:12"), ["1"], rate="auto", source="local", data_dir=ROOT,
                   instruments=("fgm",))
    msg = str(e.value)
    assert "mms1 fgm brst: no data in 2015-09-02T17:10:00.000Z" in msg and "another rate" not in msg, msg
