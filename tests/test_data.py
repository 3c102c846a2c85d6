"""mms_mp.data / mms_mp.layout against files with known content (offline; sockets are disabled by pytest.ini).

The toy tree is written with `mms_mp.layout.write_product_cdf`: every catalogued product, values that are a
known linear function of the (uncentred) record time, so every loaded sample can be checked exactly.
"""
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from mms_mp.core import InputError, NoDataError
from mms_mp.data import covers, load_event, Event, MissingDataWarning, EPHEM_PAD
from mms_mp.layout import PRODUCTS, get_product, sdc_path, write_product_cdf

T0 = np.datetime64("2019-01-27T12:40:00", "ns")
W = ("2019-01-27T12:40:00", "2019-01-27T12:44:00")
CADENCE = {("fgm", "srvy", ""): 1 / 16, ("fgm", "brst", ""): 1 / 128, ("fpi", "fast", "dis-moms"): 4.5,
           ("fpi", "fast", "des-moms"): 4.5, ("fpi", "brst", "dis-moms"): 0.15, ("fpi", "brst", "des-moms"): 0.03,
           ("hpca", "srvy", "moments"): 10.0, ("edp", "fast", "dce"): 1 / 32, ("edp", "brst", "dce"): 1 / 1024,
           ("edp", "fast", "scpot"): 1 / 32, ("mec", "srvy", "epht89q"): 30.0}
ENERGY = np.geomspace(10, 30000, 32)
# CONTRIBUTING.md `Event` table: quantity -> (units, frame)
CONTRACT = {"B_gse": ("nT", "GSE"), "B_gsm": ("nT", "GSM"), "Bmag": ("nT", "none"), "Ni": ("cm^-3", "none"),
            "Ne": ("cm^-3", "none"), "Vi_gse": ("km/s", "GSE"), "Ve_gse": ("km/s", "GSE"), "Ti_para": ("eV", "none"),
            "Ti_perp": ("eV", "none"), "Te_para": ("eV", "none"), "Te_perp": ("eV", "none"),
            "Ei_spec": ("keV/(cm^2 s sr keV)", "none"), "Ee_spec": ("keV/(cm^2 s sr keV)", "none"),
            "dis_errorflags": ("bits", "none"), "des_errorflags": ("bits", "none"), "E_gse": ("mV/m", "GSE"),
            "scpot": ("V", "none"), "R_gse": ("km", "GSE"), "R_gsm": ("km", "GSM"), "Vsc_gse": ("km/s", "GSE"),
            "Vsc_gsm": ("km/s", "GSM")}
for sp in ("Hplus", "Heplus", "Heplusplus", "Oplus"):
    CONTRACT.update({f"N_{sp}": ("cm^-3", "none"), f"V_{sp}_gse": ("km/s", "GSE"), f"V_{sp}_gsm": ("km/s", "GSM"),
                     f"T_{sp}": ("eV", "none")})


def f_of(name: str, s: np.ndarray) -> np.ndarray:
    "Known value of quantity `name` at s seconds after T0 (uncentred record time)."
    c = 1.0 + sum(map(ord, name)) % 97
    return c + 0.01 * s


def values_for(prod, t) -> dict:
    s = (t - T0).astype(np.int64) / 1e9
    out = {}
    for v in prod.vars:
        if v.kind == "flags": out[v.name] = np.zeros(len(t), np.uint32)
        elif v.kind in ("vector", "vector4") and v.col is None:
            out[v.name] = np.column_stack([f_of(v.name, s), -f_of(v.name, s), 2 * f_of(v.name, s)])
        elif v.kind == "spectrum": out[v.name] = f_of(v.name, s)[:, None] * np.arange(1, 33)
        else: out[v.name] = f_of(v.name, s)
    return out


def write_product(root, probe, prod, a, b, version=None, t_file=None, **kw):
    "Write records of `prod` from a to b (s after T0) into its file; burst files are named by their first record."
    dt = CADENCE[prod.key]
    t = T0 + np.round(np.arange(a, b, dt) * 1e9).astype("timedelta64[ns]")
    vals = values_for(prod, t); vals.update(kw.pop("override", {}))
    tf = t[0] if t_file is None else t_file
    return write_product_cdf(sdc_path(root, probe, *prod.key, tf, version), probe, prod, t, vals, energy_eV=ENERGY,
                             delta_s=dt if prod.centre else None, t_file=tf, version=version, **kw)


def write_tree(root, probes=("1", "2")):
    for p in probes:
        for key, prod in PRODUCTS.items():
            if prod.rate == "brst":  # two segments meeting at +120 s
                write_product(root, p, prod, -30, 120); write_product(root, p, prod, 120, 300)
            else:
                write_product(root, p, prod, -60, 300, t_file=T0)
    return root


@pytest.fixture(scope="session")
def tree(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("toy_l2"))


@pytest.mark.parametrize("key", list(PRODUCTS), ids=lambda k: "/".join(x for x in k if x))
def test_round_trip_every_product(tree, key):
    prod = PRODUCTS[key]
    ev = load_event(W, ("1", "2"), rate="srvy" if prod.rate != "brst" else "brst", instruments=prod.instrument,
                    source="local", data_dir=tree)
    dt = CADENCE[key]; shift = dt / 2 if prod.centre else 0.0
    for p in ("1", "2"):
        for v in prod.vars:
            if v.name == "fgm_flag": continue
            da = ev.get(p, v.name)
            assert (da.attrs["units"], da.attrs["frame"]) == CONTRACT[v.name], v.name
            assert (da.attrs["instrument"], da.attrs["rate"], da.attrs["var"]) == (prod.instrument, prod.rate,
                                                                                   v.cdf_name(p, prod.rate))
            assert da.attrs["simulated"] is True
            t = da.time.values
            pad = EPHEM_PAD if prod.instrument == "mec" else np.timedelta64(0, "s")   # MEC brackets the window
            assert t[0] >= np.datetime64(W[0]) - pad and t[-1] < np.datetime64(W[1]) + pad
            s = (t - T0).astype(np.int64) / 1e9 - shift  # back to the record start
            grid = (np.concatenate([np.arange(-30, 120, dt), np.arange(120, 300, dt)]) if prod.rate == "brst"
                    else np.arange(-60, 300, dt))
            ps = pad / np.timedelta64(1, "s")
            grid = grid[(grid + shift >= -ps) & (grid + shift < 240 + ps)]  # records whose centred tag is in the window
            assert len(s) == len(grid), "every record of the window, none twice"
            np.testing.assert_allclose(s, grid, atol=2e-9)
            if v.kind == "flags": assert (da.values == 0).all(); continue
            want = f_of(v.name, s)
            if v.kind == "spectrum":
                want = want[:, None] * np.arange(1, 33)
                np.testing.assert_allclose(da.energy_eV.values[0], ENERGY, rtol=1e-6)
            elif v.kind in ("vector", "vector4") and v.col is None:
                want = np.column_stack([want, -want, 2 * want]); assert list(da.comp.values) == ["x", "y", "z"]
            np.testing.assert_allclose(da.values, want, rtol=2e-7 * 4)


def test_temperature_is_trace_over_three(tree):
    ev = load_event(W, "1", rate="fast", instruments="fpi", source="local", data_dir=tree)
    for q in ("i", "e"):
        np.testing.assert_allclose(ev.get(1, f"T{q}"), (ev.get(1, f"T{q}_para") + 2 * ev.get(1, f"T{q}_perp")) / 3)


def test_units_and_frames_of_catalogue_match_contract():
    for prod in PRODUCTS.values():
        for v in prod.vars:
            if v.name != "fgm_flag": assert (v.units, v.frame) == CONTRACT[v.name], v.name


def test_local_missing_is_recorded_and_never_downloads(tree, monkeypatch):
    import mms_mp.data as data
    def boom(*a, **k): raise AssertionError("download attempted with source='local'")
    monkeypatch.setattr(data, "download_files", boom)
    monkeypatch.setitem(sys.modules, "pyspedas", None)  # any `import pyspedas` would now fail
    with pytest.warns(MissingDataWarning, match="mms3 fgm srvy: no fgm srvy files for mms3"):
        ev = load_event(W, ("1", "3"), rate="srvy", instruments="fgm", source="local", data_dir=tree)
    assert ev.has(1, "B_gse") and not ev.has(3, "B_gse")
    m, = ev.missing
    assert (m["probe"], m["instrument"], m["rate"]) == ("3", "fgm", "srvy")
    assert m["searched"] == [str(tree / "mms3/fgm/srvy/l2/2019/01")]
    # rate auto (the default) searched burst, then survey
    with pytest.raises(NoDataError, match=r"(?s)mms3 fgm auto \(brst, then srvy\).*run with source='sdc' to "
                                          r"download \(data_dir="):
        load_event(W, "3", instruments="fgm", source="local", data_dir=tree)


def test_truncated_cdf_names_the_file(tree, tmp_path):
    prod = get_product("mec", "srvy", "epht89q")
    good = write_product(tmp_path, "1", prod, -60, 300, t_file=T0)
    bad = write_product(tmp_path, "2", prod, -60, 300, t_file=T0)
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    with pytest.raises(NoDataError, match=f"cannot read {bad}.*corrupt or truncated"):
        load_event(W, "2", instruments="mec", source="local", data_dir=tmp_path)
    with pytest.warns(MissingDataWarning):
        ev = load_event(W, ("1", "2"), instruments="mec", source="local", data_dir=tmp_path)
    assert ev.has(1, "R_gse") and bad.name in ev.missing[0]["reason"]
    assert [p["name"] for p in ev.provenance] == [good.name]


def test_latest_version_wins(tmp_path):
    prod = get_product("fgm", "srvy")
    write_product(tmp_path, "1", prod, -60, 300, t_file=T0, version="5.176.0", override={"B_gse": np.zeros((5760, 3))})
    new = write_product(tmp_path, "1", prod, -60, 300, t_file=T0, version="5.177.1")
    (new.parent / (new.name.replace("5.177.1", "5.180.0") + ".part")).write_bytes(b"partial download")
    ev = load_event(W, "1", instruments="fgm", rate="srvy", source="local", data_dir=tmp_path)
    assert [p["version"] for p in ev.provenance] == ["5.177.1"]
    s = (ev.get(1, "B_gse").time.values - T0).astype(np.int64) / 1e9
    np.testing.assert_allclose(ev.get(1, "B_gse").values[:, 0], f_of("B_gse", s), rtol=1e-6)


def test_fill_becomes_nan_and_gaps_stay_gaps(tmp_path):
    prod = get_product("fgm", "srvy"); dt = 1 / 16
    t = T0 + np.round(np.arange(0, 240, dt) * 1e9).astype("timedelta64[ns]")
    keep = ~((t >= T0 + np.timedelta64(100, "s")) & (t < T0 + np.timedelta64(130, "s")))  # a 30 s gap
    t = t[keep]; vals = values_for(prod, t)
    vals["B_gse"][[10, 11, 500]] = np.nan  # written as FILLVAL -1e31
    vals["fgm_flag"][[20, 21, 22]] = 1
    write_product_cdf(sdc_path(tmp_path, 1, *prod.key, T0), 1, prod, t, vals)
    ev = load_event(W, "1", instruments="fgm", rate="srvy", source="local", data_dir=tmp_path)
    B = ev.get(1, "B_gse")
    assert len(B) == keep.sum()  # nothing inserted into the gap
    gap = np.diff(B.time.values).max().astype(np.int64) / 1e9
    assert gap == pytest.approx(30 + dt)
    assert np.isnan(B.values).any(1).nonzero()[0].tolist() == [10, 11, 20, 21, 22, 500]
    assert ev.qc["1"]["B_gse"] == dict(n=int(keep.sum()), fill=3, flagged=3, nan=6)
    assert not np.isnan(ev.get(1, "B_gsm").values[[10, 11, 500]]).any()  # fill only in B_gse
    assert np.isnan(ev.get(1, "B_gsm").values[[20, 21, 22]]).all()  # the flag applies to every FGM field


def test_fpi_invalid_errorflag_bits_nan_and_raw_flags_kept(tmp_path):
    prod = get_product("fpi", "fast", "dis-moms")
    # manual flag, cold-plasma info bit, compression error
    fl = np.zeros(80, np.uint32); fl[[20, 21, 22]] = [1, 2 ** 4, 2 ** 11]
    write_product(tmp_path, "1", prod, -60, 300, t_file=np.datetime64("2019-01-27T12:00"),
                  override={"dis_errorflags": fl})
    with pytest.warns(MissingDataWarning, match="des-moms"):
        ev = load_event(W, "1", instruments="fpi", rate="fast", source="local", data_dir=tmp_path)
    flags = ev.get(1, "dis_errorflags")
    i = {int(f): k for k, f in enumerate(flags.values) if f}
    ni = ev.get(1, "Ni").values
    assert np.isnan(ni[i[1]]) and np.isnan(ni[i[2 ** 11]]) and not np.isnan(ni[i[16]])
    assert ev.qc["1"]["Ni"]["flagged"] == 2 and ev.qc["1"]["dis_errorflags"]["nonzero"] == 3


@pytest.mark.parametrize("kw,msg", [(dict(probes="7"), "MMS probes are 1, 2, 3, 4"),
                                    (dict(instruments=("fgm", "scm")), "unknown instrument 'scm'"),
                                    (dict(rate="fastest"), "unknown rate 'fastest'"),
                                    (dict(source="cdaweb"), "unknown source 'cdaweb'"),
                                    (dict(trange=("2019-01-27T12:44", "2019-01-27T12:40")), "is not before end")])
def test_bad_arguments_raise_input_error(tree, kw, msg):
    kw = {"trange": W, **kw}
    with pytest.raises(InputError, match=msg):
        load_event(kw.pop("trange"), source=kw.pop("source", "local"), data_dir=tree, **kw)


def test_window_without_samples_says_no_data(tree):
    with pytest.raises(NoDataError, match=r"no data in 2019-01-27T12:50:00.000Z–2019-01-27T12:51:00.000Z"):
        load_event(("2019-01-27T12:50", "2019-01-27T12:51"), "1", instruments="fgm", rate="srvy", source="local",
                   data_dir=tree)


def test_auto_rate_takes_burst_where_its_files_reach_and_survey_elsewhere(tmp_path):
    srvy, brst = get_product("fgm", "srvy"), get_product("fgm", "brst")
    write_product(tmp_path, "1", srvy, -60, 300, t_file=T0)
    write_product(tmp_path, "1", brst, -30, 120)  # burst for the first half only
    ev = load_event(W, "1", instruments="fgm", source="local", data_dir=tmp_path)
    B = ev.get(1, "B_gse")
    s = (B.time.values - T0).astype(np.int64) / 1e9
    assert B.attrs["rate"] == "brst+srvy" and np.all(np.diff(s) > 0)
    dt = np.diff(s)
    np.testing.assert_allclose(dt[s[1:] < 120], 1 / 128, atol=1e-6)  # burst where the burst file reaches
    np.testing.assert_allclose(dt[s[:-1] > 120], 1 / 16, atol=1e-6)  # survey after it
    np.testing.assert_allclose(B.values[:, 0], f_of("B_gse", s), rtol=1e-6)
    used = [(r["rate"], r["span"]) for r in ev.rates if r["used"]]
    assert [u[0] for u in used] == ["brst", "srvy"] and all(r["partial"] for r in ev.rates)
    assert used[1][1][0] > used[0][1][1]  # survey starts after the last burst sample
    assert [x["rate"] for x in ev.loaded] == ["brst", "srvy"]
    assert "srvy fills the rest" in ev.loaded[0]["rate_reason"]
    assert ev.qc["1"]["B_gse"]["n"] == len(B) and not ev.missing
    ev = load_event(("2019-01-27T12:40", "2019-01-27T12:41"), "1", instruments="fgm", source="local", data_dir=tmp_path)
    assert ev.get(1, "B_gse").attrs["rate"] == "brst"
    assert ev.loaded[0]["rate_reason"] == "auto: burst files cover the window"


def test_auto_rate_with_no_files_at_either_rate_names_both_searches(tmp_path):
    "rate='auto' searched burst, then survey: the missing entry says both, not the survey's search alone."
    write_product(tmp_path, "1", get_product("fpi", "fast", "dis-moms"), -60, 300, t_file=T0)
    with pytest.warns(MissingDataWarning):
        ev = load_event(W, "1", instruments=("fgm", "fpi"), source="local", data_dir=tmp_path)
    fgm = next(m for m in ev.missing if m["instrument"] == "fgm")
    assert "no fgm brst files" in fgm["reason"] and "no fgm srvy files" in fgm["reason"]
    assert any("/fgm/brst/" in d for d in fgm["searched"]) and any("/fgm/srvy/" in d for d in fgm["searched"])


def test_auto_rate_with_no_files_at_either_rate_is_labelled_auto(tmp_path):
    """The entry of a product found at neither rate was labelled srvy (the last search's), though auto was asked for
    and burst was searched first: it says auto and the order of the searches, in `missing` and in the warning."""
    write_product(tmp_path, "1", get_product("fpi", "fast", "dis-moms"), -60, 300, t_file=T0)
    with pytest.warns(MissingDataWarning, match=r"mms1 fgm auto \(brst, then srvy\): no fgm brst files"):
        ev = load_event(W, "1", instruments=("fgm", "fpi"), source="local", data_dir=tmp_path)
    rate = {(m["instrument"], m["datatype"]): m["rate"] for m in ev.missing}
    assert rate == {("fgm", ""): "auto (brst, then srvy)", ("fpi", "des-moms"): "auto (brst, then fast)"}, rate
    with pytest.warns(MissingDataWarning, match=r"mms1 fgm srvy: no fgm srvy files"):   # the rate asked for
        ev = load_event(W, "1", instruments=("fgm", "fpi"), rate="srvy", source="local", data_dir=tmp_path)
    with pytest.raises(NoDataError, match=r"mms1 fgm auto \(brst, then srvy\): no fgm brst"):
        load_event(W, "1", instruments="fgm", source="local", data_dir=tmp_path)


def test_auto_rate_fills_a_hole_between_two_burst_stretches_with_survey(tmp_path):
    "Burst 0–60 s and 150–240 s of a 0–240 s window, survey throughout: burst, survey in the hole, burst; in order."
    srvy, brst = get_product("fgm", "srvy"), get_product("fgm", "brst")
    write_product(tmp_path, "1", srvy, -60, 300, t_file=T0)
    write_product(tmp_path, "1", brst, -30, 60)
    write_product(tmp_path, "1", brst, 150, 270)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ev = load_event(W, "1", instruments="fgm", source="local", data_dir=tmp_path)
    # the pieces together span the window: no "data cover only part" warning, and each piece says so
    assert not [x for x in w if issubclass(x.category, MissingDataWarning)]
    assert all(x["covers_window"] and x["largest_gap"] is None for x in ev.loaded)
    B = ev.get(1, "B_gse")
    s = (B.time.values - T0).astype(np.int64) / 1e9
    assert B.attrs["rate"] == "brst+srvy" and np.all(np.diff(s) > 0)
    dt = np.diff(s)[1:-1]
    mid = s[1:-2]   # the step that starts at each sample
    np.testing.assert_allclose(dt[mid < 59], 1 / 128, atol=1e-6)
    np.testing.assert_allclose(dt[(mid > 61) & (mid < 149)], 1 / 16, atol=1e-6)
    np.testing.assert_allclose(dt[mid > 150], 1 / 128, atol=1e-6)
    np.testing.assert_allclose(B.values[:, 0], f_of("B_gse", s), rtol=1e-6)
    used = [(r["rate"], r["span"]) for r in ev.rates if r["used"]]
    assert [u[0] for u in used] == ["brst", "srvy"] and all(r["partial"] for r in ev.rates)
    (b,) = [r for r in ev.loaded if r["rate"] == "brst"]
    assert "srvy fills the rest" in b["rate_reason"] and ev.qc["1"]["B_gse"]["n"] == len(B)


def test_auto_rate_on_the_simulated_event(tmp_path):
    """12:14–12:20: the simulated burst files start at 12:15, survey has a minute more: burst from 12:15, survey
    before, and each piece equals what the single-rate loads return there. The 45 s dropout of probe 3 lies
    inside a burst file: survey for the whole window, as before, with the burst files listed as not used."""
    from mms_mp.synthetic import demo_event_dir
    sim = demo_event_dir()
    w, cut = ("2019-01-27T12:14", "2019-01-27T12:20"), np.datetime64("2019-01-27T12:15", "ns")
    ev = load_event(w, "1", instruments="fgm", source="local", data_dir=sim)
    b = load_event(("2019-01-27T12:15", w[1]), "1", instruments="fgm", rate="brst", source="local", data_dir=sim)
    s = load_event((w[0], "2019-01-27T12:15"), "1", instruments="fgm", rate="srvy", source="local", data_dir=sim)
    B = ev.get(1, "B_gse")
    assert B.attrs["rate"] == "brst+srvy"
    late = B.time.values >= cut
    for part, ref in ((late, b), (~late, s)):
        np.testing.assert_array_equal(B.time.values[part], ref.get(1, "B_gse").time.values)
        np.testing.assert_array_equal(B.values[part], ref.get(1, "B_gse").values)
    assert [(r["rate"], r["used"]) for r in ev.rates if not r.get("part")] == [("brst", True), ("srvy", True)]
    assert [r["rate"] for r in ev.rates if r.get("part") == "state"] == ["srvy"]   # no MEC: FGM's positions
    ev3 = load_event(("2019-01-27T12:15", "2019-01-27T12:55"), "3", instruments="fgm", source="local", data_dir=sim)
    assert [x["rate"] for x in ev3.loaded if not x.get("part")] == ["srvy"]
    assert ev3.loaded[0]["rate_reason"] == "auto: burst files do not cover the window; srvy used"
    (rej,) = [r for r in ev3.rates if not r["used"]]
    assert rej["rate"] == "brst" and len(rej["files"]) >= 4 and "do not cover" in rej["reason"]


def test_mec_positions_win_over_fgm_state(tmp_path):
    "With a MEC file the positions are MEC's, bit for bit, whether or not FGM is loaded too."
    from mms_mp.synthetic import demo_event_dir
    sim = demo_event_dir()
    w = ("2019-01-27T12:20", "2019-01-27T12:30")
    both = load_event(w, ("1", "2"), instruments=("fgm", "mec"), source="local", data_dir=sim)
    mec = load_event(w, ("1", "2"), instruments="mec", source="local", data_dir=sim)
    for p in ("1", "2"):
        for q in ("R_gse", "R_gsm"):
            a, b = both.get(p, q), mec.get(p, q)
            np.testing.assert_array_equal(a.values, b.values)
            np.testing.assert_array_equal(a.time.values, b.time.values)
            assert a.attrs == b.attrs and a.attrs["instrument"] == "mec" and "position_source" not in a.attrs
    assert not any(x["rate_reason"].startswith("FGM state") for x in both.loaded)


def test_covers_known_cases():
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(0, 600) * np.timedelta64(1, "s")
    a, b = t[0], t[-1] + np.timedelta64(1, "s")
    assert covers(t, a, b)
    assert not covers(np.delete(t, np.s_[100:200]), a, b)  # 100 s hole
    assert not covers(t[:300], a, b)  # stops half way


def test_event_helpers(tree):
    ev = load_event(W, ("1", "2"), rate="srvy", instruments=("fgm", "mec"), source="local", data_dir=tree)
    assert isinstance(ev, Event) and ev.probes == ["1", "2"] and ev.simulated
    assert ev.has("mms2", "R_gsm") and not ev.has(2, "Ni")
    with pytest.raises(NoDataError, match="mms2 has no 'Ni' in this event; it has B_gse, B_gsm, Bmag, R_gse"):
        ev.get(2, "Ni")
    ds = ev.dataset(1)
    assert set(ds.data_vars) == {"B_gse", "B_gsm", "Bmag", "R_gse", "R_gsm", "Vsc_gse", "Vsc_gsm"}
    assert ds["B_gse"].dims == ("time_fgm_srvy", "comp")
    assert "mms1: 7 quantities (fgm:srvy, mec:srvy)" in repr(ev)
    for pr in ev.provenance:
        assert set(pr) == {"name", "path", "version", "size", "sha256", "checksum", "probe", "instrument", "rate",
                           "datatype"}
        assert pr["checksum"] == "none"   # files written by write_product_cdf carry no MD5 checksum
        import hashlib
        assert pr["sha256"] == hashlib.sha256(Path(pr["path"]).read_bytes()).hexdigest()
        assert pr["size"] == Path(pr["path"]).stat().st_size


def test_import_does_not_pull_pyspedas_or_matplotlib():
    code = ("import sys, mms_mp, mms_mp.layout, mms_mp.data; "
            "print('pyspedas' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_backward_and_repeated_tags_are_dropped_and_fill_follows_its_record(tmp_path):
    "A record behind the one before it is dropped (not re-sorted into the data), a repeat keeps its first record."
    prod = get_product("fgm", "srvy"); dt = 1 / 16
    t = T0 + np.round(np.arange(0, 240, dt) * 1e9).astype("timedelta64[ns]")
    vals = values_for(prod, t)
    i, j, k = 100, 101, 2000
    t[[i, j]] = t[[j, i]]; vals["B_gse"][[i, j]] = vals["B_gse"][[j, i]]  # one backward step (records swapped)
    # one repeated tag
    t = np.insert(t, 50, t[50]); vals = {q: np.insert(a, 50, a[50], axis=0) for q, a in vals.items()}
    vals["B_gse"][k] = np.nan  # fill, at the record whose time is t[k]
    t_fill = t[k]
    write_product_cdf(sdc_path(tmp_path, 1, *prod.key, T0), 1, prod, t, vals)
    ev = load_event(W, "1", instruments="fgm", rate="srvy", source="local", data_dir=tmp_path)
    B = ev.get(1, "B_gse"); tt = B.time.values
    t_back = T0 + np.timedelta64(int(100 * dt * 1e9), "ns")  # the record that came after a later one
    assert np.all(np.diff(tt) > np.timedelta64(0, "ns")) and len(tt) == 240 * 16 - 1 and t_back not in tt
    tc = ev.loaded[0]["time_clean"]
    assert {k: tc[k] for k in ("duplicates", "backward", "nat", "dropped")} == {"duplicates": 1, "backward": 1,
                                                                                "nat": 0, "dropped": 1}
    assert "jumping back in time" in tc["why"]
    assert np.array_equal(tt[np.isnan(B.values).any(1)], [t_fill])
    s = (tt - T0).astype(np.int64) / 1e9
    ok = ~np.isnan(B.values[:, 0])
    np.testing.assert_allclose(B.values[ok, 0], f_of("B_gse", s[ok]), rtol=1e-6)  # values moved with their tags
    assert ev.qc["1"]["B_gse"]["fill"] == 1 and ev.qc["1"]["Bmag"]["fill"] == 0


def test_dataset_keeps_each_products_axes(tree):
    ev = load_event(W, "1", rate="brst", instruments=("fpi", "fgm"), source="local", data_dir=tree)
    ds = ev.dataset(1)
    assert ds["Ei_spec"].dims == ("time_fpi_brst_dis_moms", "energy_fpi_brst_dis_moms")
    assert ds["Ee_spec"].dims == ("time_fpi_brst_des_moms", "energy_fpi_brst_des_moms")
    assert ds.sizes["time_fpi_brst_des_moms"] == len(ev.get(1, "Ne")) == 240 / 0.03
    np.testing.assert_array_equal(ds["Ni"].values, ev.get(1, "Ni").values)


def test_one_truncated_segment_loads_the_rest_and_names_the_file(tmp_path):
    brst = get_product("fgm", "brst")
    write_product(tmp_path, "1", brst, -30, 120)
    bad = write_product(tmp_path, "1", brst, 120, 300)
    bad.write_bytes(bad.read_bytes()[:1000])
    with pytest.warns(MissingDataWarning, match=f"partly loaded, unreadable file.*cannot read {bad}"):
        ev = load_event(W, "1", rate="brst", instruments="fgm", source="local", data_dir=tmp_path)
    B = ev.get(1, "B_gse")
    assert len(B) == 120 * 128 and B.time.values[-1] < T0 + np.timedelta64(120, "s")  # the first segment only
    assert ev.loaded[0]["covers_window"] is False
    assert [m["reason"].startswith("partly loaded") for m in ev.missing] == [True]


def test_non_record_varying_energy_table_is_broadcast(tmp_path):
    "Some products store a fixed energy table (one record); every spectrum row must get that table."
    from cdflib.cdfwrite import CDF
    from mms_mp.core import datetime64_to_tt2000
    from mms_mp.layout import global_attrs
    prod = get_product("fpi", "fast", "dis-moms")
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(80) * np.timedelta64(4500, "ms")
    path = sdc_path(tmp_path, 1, *prod.key, t[0]); path.parent.mkdir(parents=True)
    f = CDF(str(path)); f.write_globalattrs({k: {0: v} for k, v in global_attrs(1, prod, t[0]).items()})
    spec = lambda n, typ, dims, rv=True: {"Variable": n, "Data_Type": typ, "Num_Elements": 1, "Rec_Vary": rv,
                                          "Dim_Sizes": dims, "Compress": 0}
    f.write_var(spec("Epoch", 33, []), {"VAR_TYPE": "support_data"}, datetime64_to_tt2000(t))
    f.write_var(spec("mms1_dis_energy_fast", 21, [32], rv=False), {"VAR_TYPE": "support_data"},
                ENERGY.astype(np.float32)[None, :])
    f.write_var(spec("mms1_dis_energyspectr_omni_fast", 21, [32]),
                {"VAR_TYPE": "data", "DEPEND_0": "Epoch", "DEPEND_1": "mms1_dis_energy_fast",
                "FILLVAL": [-1e31, "CDF_REAL4"]}, np.ones((80, 32), np.float32))
    f.close()
    with pytest.warns(MissingDataWarning):
        ev = load_event(("2019-01-27T12:00", "2019-01-27T12:05"), "1", rate="fast", instruments="fpi", source="local",
                        data_dir=tmp_path)
    e = ev.get(1, "Ei_spec").energy_eV.values
    assert e.shape == (len(ev.get(1, "Ei_spec")), 32)
    np.testing.assert_allclose(e, np.broadcast_to(ENERGY, e.shape), rtol=1e-6)


def test_corrupt_burst_file_is_reported_not_silently_replaced(tmp_path):
    "rate='auto' falls back to survey when a burst file is unreadable, and says so (missing + warning naming the file)."
    import shutil, warnings
    from mms_mp.synthetic import demo_event_dir
    from mms_mp.data import load_event
    d = tmp_path / "ev"; shutil.copytree(demo_event_dir(), d)
    bad = sorted(d.glob("mms1/fgm/brst/l2/**/*.cdf"))[1]
    bad.write_bytes(bad.read_bytes()[:5000])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ev = load_event(("2019-01-27T12:15", "2019-01-27T12:55"), ("1",), instruments=("fgm",), rate="auto",
                        source="local", data_dir=d)
    assert ev.loaded[0]["rate"] == "srvy"
    assert any(bad.name in m["reason"] and m["rate"] == "brst" for m in ev.missing)
    assert any(bad.name in str(x.message) for x in w)


def _burst_rows(ev):
    "The reasons of the burst rates not used (`rates`), and the burst entries of `missing`."
    rates = [r["reason"] for r in ev.rates if r["rate"] == "brst" and not r["used"]]
    return rates, [m for m in ev.missing if m["rate"] == "brst"]


def test_burst_miss_is_decided_by_its_cause_not_its_wording(tmp_path, monkeypatch):
    """rate='auto', no burst files, survey used: the burst miss is in `rates`, not in `missing`, however its message
    reads. The decision read the text before: a reworded no-files message (not starting "no ") put it in `missing`."""
    import mms_mp.data as data
    write_product(tmp_path, "1", get_product("fgm", "srvy"), -60, 300, t_file=T0)
    monkeypatch.setattr(data, "_no_files", lambda ins, prod, p, dirs: f"nothing for {ins} {prod.rate} mms{p}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # nothing is missing: no MissingDataWarning
        ev = load_event(W, "1", instruments="fgm", source="local", data_dir=tmp_path)
    rates, missing = _burst_rows(ev)
    assert rates == ["nothing for fgm brst mms1"] and missing == []


def test_burst_files_without_samples_here_are_missing_only_without_survey(tmp_path):
    "A burst file that ends before the window: with survey, `rates` says so; without, `missing` says it too."
    write_product(tmp_path, "1", get_product("fgm", "brst"), -600, -480)   # found (may reach in), no sample here
    write_product(tmp_path, "1", get_product("mec", "srvy", "epht89q"), -60, 300, t_file=T0)
    with pytest.warns(MissingDataWarning, match="no data in 2019-01-27T12:40:00.000Z"):
        ev = load_event(W, "1", instruments=("fgm", "mec"), source="local", data_dir=tmp_path)
    rates, missing = _burst_rows(ev)
    assert [(m["cause"], m["download_failed"]) for m in missing] == [("no_samples", False)]
    assert rates[0].startswith("no data in 2019-01-27T12:40:00.000Z")
    write_product(tmp_path, "1", get_product("fgm", "srvy"), -60, 300, t_file=T0)
    ev = load_event(W, "1", instruments=("fgm", "mec"), source="local", data_dir=tmp_path)
    rates, missing = _burst_rows(ev)
    assert missing == [] and rates[0].startswith("no data in") and ev.get(1, "B_gse").attrs["rate"] == "srvy"


def test_failed_burst_download_is_missing_even_with_survey(tmp_path, monkeypatch):
    "A burst download that failed is said in `missing` (download_failed), though survey was used for the window."
    import mms_mp.data as data
    write_product(tmp_path, "1", get_product("fgm", "srvy"), -60, 300, t_file=T0)
    def down(root, p, prod, trange, src):
        if prod.rate == "brst": raise ConnectionError("no route to host")
    monkeypatch.setattr(data, "reachable", lambda src, timeout_s=2.0: (True, ""))
    monkeypatch.setattr(data, "download_files", down)
    with pytest.warns(MissingDataWarning, match=r"download from sdc failed \(ConnectionError: no route to host\)"):
        ev = load_event(W, "1", instruments="fgm", source="sdc", data_dir=tmp_path)
    _, missing = _burst_rows(ev)
    assert [(m["cause"], m["download_failed"]) for m in missing] == [("no_files", True)]
    assert missing[0]["reason"].endswith("(srvy used instead)")


def _random_tt2000(n=20_000, seed=7):
    "Random TT2000 values 2015–2030, plus dense samples on the 2015-06-30 and 2016-12-31 leap-second days."
    import cdflib
    rng = np.random.default_rng(seed)
    lo, hi = (cdflib.cdfepoch.compute_tt2000([y, 1, 1, 0, 0, 0, 0, 0, 0]) for y in (2015, 2030))
    tt = [rng.integers(lo, hi, n)]
    for day in ([2015, 6, 30], [2016, 12, 31]):
        d0 = cdflib.cdfepoch.compute_tt2000(day + [0, 0, 0, 0, 0, 0])
        tt.append(d0 + rng.integers(0, 86_401 * 10**9, 2_000))  # the whole day, its 61-s last minute included
        tt.append(d0 + 86_398 * 10**9 + rng.integers(0, 4 * 10**9, 500))  # 23:59:58 .. 00:00:01 next day
    return np.concatenate(tt).astype(np.int64)


def test_tt2000_conversion_equals_cdflib_2015_to_2030():
    "The loader's TT2000 → UTC conversion equals cdflib's to the nanosecond, leap-second days included."
    import cdflib
    import mms_mp.core, mms_mp.cdfread
    assert mms_mp.cdfread.tt2000_to_datetime64 is mms_mp.core.tt2000_to_datetime64  # the reader's one converter
    tt = _random_tt2000()
    want = np.array(cdflib.cdfepoch.to_datetime(tt), "datetime64[ns]")
    np.testing.assert_array_equal(mms_mp.cdfread.tt2000_to_datetime64(tt), want)


def test_loader_reads_random_epochs_like_cdflib(tmp_path):
    ("Epochs written straight as TT2000 (2015–2030, leap-second days included) come back from the reader "
     "as cdflib reads them.")
    import cdflib
    from cdflib.cdfwrite import CDF
    from mms_mp.cdfread import read_product_file
    from mms_mp.layout import global_attrs, parse_filename
    prod = get_product("mec", "srvy", "epht89q")
    tt = np.unique(_random_tt2000(n=5_000, seed=11))
    for day in ([2015, 6, 30], [2016, 12, 31]):  # the inserted second 23:59:60 has no datetime64 of its own:
        ls = cdflib.cdfepoch.compute_tt2000(day + [23, 59, 60, 0, 0, 0])  # it repeats 00:00:00 of the next day
        tt = tt[(tt < ls) | (tt >= ls + 10**9)]
    t = np.array(cdflib.cdfepoch.to_datetime(tt), "datetime64[ns]")
    path = sdc_path(tmp_path, 1, *prod.key, t[0]); path.parent.mkdir(parents=True)
    f = CDF(str(path)); f.write_globalattrs({k: {0: v} for k, v in global_attrs(1, prod, t[0]).items()})
    spec = lambda n, typ, dims: {"Variable": n, "Data_Type": typ, "Num_Elements": 1, "Rec_Vary": True,
                                 "Dim_Sizes": dims, "Compress": 0}
    f.write_var(spec("Epoch", 33, []), {"VAR_TYPE": "support_data"}, tt)
    f.write_var(spec("mms1_mec_r_gse", 21, [3]), {"VAR_TYPE": "data", "DEPEND_0": "Epoch"},
                np.ones((len(tt), 3), np.float32))
    f.close()
    info = parse_filename(path)
    blk = read_product_file(info, prod, t[0], t[-1] + np.timedelta64(1, "ns"))
    np.testing.assert_array_equal(blk.time, t)


def test_unreadable_burst_files_are_not_offered_as_another_rate(tmp_path):
    """REAL MMS1 FGM burst files, both truncated, with rate='auto': the error names each unreadable file, and does
    not suggest trying 'files at another rate' (auto tried them: they are the unreadable ones)."""
    real = Path(__file__).parent / "fixtures" / "real" / "mms1" / "fgm" / "brst" / "l2" / "2015" / "09" / "02"
    day = tmp_path / "mms1" / "fgm" / "brst" / "l2" / "2015" / "09" / "02"
    day.mkdir(parents=True)
    for f in real.glob("*.cdf"):
        (day / f.name).write_bytes(f.read_bytes()[:100_000])
    with pytest.raises(NoDataError) as e:
        load_event(("2015-09-02T16:58:44", "2015-09-02T17:07:05"), "1", instruments="fgm", source="local",
                   data_dir=tmp_path)
    msg = str(e.value)
    assert msg.count("corrupt or truncated") == 2 and "another rate" not in msg


def test_partial_coverage_names_the_simulators_gap():
    "MMS3 of the SIMULATED demo has a 45-s gap in FGM and FPI (truth.json defects): the loader finds it, to a sample."
    import json
    from mms_mp.synthetic import demo_event_dir
    d = demo_event_dir()
    gaps = {x["product"]: x for x in json.loads((d / "truth.json").read_text())["defects"] if x["kind"] == "gap"}
    with pytest.warns(MissingDataWarning, match="largest gap") as rec:
        ev = load_event(("2019-01-27T12:15", "2019-01-27T12:55"), "3", rate="srvy", instruments=("fgm",),
                        source="local", data_dir=d)
    g = next(x for x in ev.loaded if x["instrument"] == "fgm" and x.get("part") != "state")
    assert not g["covers_window"]
    start, dur = np.datetime64(gaps["fgm_srvy"]["start"], "ns"), gaps["fgm_srvy"]["duration_s"]
    before, after = (np.datetime64(x.rstrip("Z"), "ns") for x in g["largest_gap"][:2])
    step = np.timedelta64(63_500_000, "ns")   # 16 S/s: edges within one sample (+ 1 ms: ISO times to the ms)
    assert abs(before - start) <= step and abs(after - (start + np.timedelta64(int(dur * 1e9), "ns"))) <= step
    assert dur <= g["largest_gap"][2] <= dur + 2 * 0.0625
    assert g["largest_gap"][0] in str(rec[0].message)
    assert all(x["largest_gap"] is None for x in ev.loaded if x["covers_window"])


def test_largest_gap_is_the_median_rule_exactly():
    "largest_gap (chunked, median by counting) against the plain rule: first largest step > max(1 s, 10 × median)."
    from mms_mp.core import iso_ms
    from mms_mp.data import largest_gap
    def plain(t):
        d = np.diff(t.view(np.int64))
        i = int(np.argmax(d))
        if d[i] <= max(10**9, 10 * np.median(d)): return None
        return [iso_ms(t[i]), iso_ms(t[i + 1]), float(d[i]) / 1e9]
    rng = np.random.default_rng(5)
    t0 = np.datetime64("2019-01-27T12:00", "ns")
    for n in (2, 3, 4, 5, 8, 9, 70_000, 140_001):
        for _ in range(6):
            steps = rng.integers(1, 4, n - 1) * rng.choice([10**8, 15 * 10**7, 3 * 10**8])
            if n > 2:
                steps[rng.integers(0, n - 1, rng.integers(1, 3))] = rng.choice([10**9, 2 * 10**9, 10 * np.median(steps),
                                                                                10 * np.median(steps) + 1])
            t = t0 + np.concatenate([[0], np.cumsum(steps)]).astype("timedelta64[ns]")
            assert largest_gap(t) == plain(t), n


def _patched(src, dst, at: int, value: int):
    "A copy of `src` with the 4-byte big-endian integer at byte `at` set to `value`."
    b = bytearray(src.read_bytes())
    b[at:at + 4] = value.to_bytes(4, "big")
    dst.write_bytes(b)
    return dst


def test_a_damaged_list_count_ends_the_walk_where_the_list_ends(tmp_path):
    """A count of 2²⁰ variables (GDR) or FILLVAL entries (ADR) where the file has ~30: the reader's walk stops at
    the list's end (offset 0), not after 2²⁰ reads (before: a hang of minutes to hours)."""
    import cdflib
    from mms_mp.cdfread import _Meta
    from mms_mp.synthetic import demo_event_dir
    src = next(p for p in sorted(demo_event_dir().rglob("mms1/**/*.cdf")) if "fgm" in p.name)
    good = _Meta(cdflib.CDF(str(src)))
    nm = next(iter(good.vars))
    want = [good.att(a, nm) for a in ("FILLVAL", "UNITS")]
    gdr = int.from_bytes(src.read_bytes()[12:20], "big")
    adr = good.atts["fillval"][0]
    for at in (gdr + 60, adr + 56):  # the GDR's zVariable count; FILLVAL's count of zVariable entries
        calls, real = [0], cdflib.cdfread.CDF._read_aedr_fast
        def count(*a):
            calls[0] += 1
            return real(*a)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(cdflib.cdfread.CDF, "_read_aedr_fast", count)
            m = _Meta(cdflib.CDF(str(_patched(src, tmp_path / "bad.cdf", at, 2**20))))
            assert m.vars == good.vars
            assert [m.att(a, nm) for a in ("FILLVAL", "UNITS")] == want
        assert calls[0] < 1000


def test_partly_unreadable_burst_files_are_listed_as_rejected_when_survey_is_used(tmp_path):
    """rate='auto', two burst files of which one is truncated: survey is used for the window. The `missing` entry
    that says so listed no rejected file (`files_rejected` empty), so the JSON's rejected files left it out."""
    from mms_mp.schema import result_json
    from mms_mp.stages import AnalysisResult
    brst = get_product("fgm", "brst")
    write_product(tmp_path, "1", brst, -30, 120)
    bad = write_product(tmp_path, "1", brst, 120, 300)
    bad.write_bytes(bad.read_bytes()[:1000])
    write_product(tmp_path, "1", get_product("fgm", "srvy"), -60, 300, t_file=T0)
    with pytest.warns(MissingDataWarning, match=bad.name):
        ev = load_event(W, "1", instruments="fgm", source="local", data_dir=tmp_path)
    assert ev.get(1, "B_gse").attrs["rate"] == "srvy"
    miss = [m for m in ev.missing if m["rate"] == "brst"]
    assert [(m["cause"], m["files_rejected"]) for m in miss] == [("unreadable", [bad.name])]
    doc = result_json(AnalysisResult(trange=ev.trange, probes=["1"], event=ev))
    assert [(f["name"], f["rate"]) for f in doc["provenance"]["rejected_files"]] == [(bad.name, "brst")]


def test_missing_data_warning_points_at_the_callers_line(tree):
    "The warning names the user's line (this file), called directly or from deep inside `analyze`."
    import warnings
    from mms_mp.pipeline import analyze
    from mms_mp.synthetic import demo_event_dir
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        load_event(W, ("1", "3"), rate="srvy", instruments="fgm", source="local", data_dir=tree)
        analyze(("2019-01-27T12:16:00", "2019-01-27T12:22:00"), ("1",), rate="brst", source="local",
                data_dir=demo_event_dir())
    missing = [w for w in seen if issubclass(w.category, MissingDataWarning)]
    assert len(missing) >= 2
    assert all(w.filename == __file__ for w in missing), [(w.filename, w.lineno) for w in missing]
