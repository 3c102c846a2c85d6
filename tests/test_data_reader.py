"""The loader's two CDF readers: pycdfpp (`_MetaPP`, used when it imports) against cdflib (`_Meta`, the reference
and the fallback). Every read the loader makes (descriptor, records or a record range, attribute) must give the
same type, dtype, shape and bytes with both, on every variable and attribute of the real files in
tests/fixtures/real and of a SIMULATED tree; and `load_event` must give the same Event with either reader, and
when pycdfpp is missing."""
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pytest

import mms_mp.cdfread as cdfread
from mms_mp.cdfread import _Meta, _MetaPP, _reader
from mms_mp.data import load_event
from mms_mp.synthetic import demo_event_dir

pycdfpp = pytest.importorskip("pycdfpp")
REAL = Path(__file__).parent / "fixtures" / "real"


def same(x, y, what):
    "Same type, dtype, shape and bytes (NaN payloads included)."
    assert type(x) is type(y), (what, type(x), type(y))
    if isinstance(x, (np.ndarray, np.generic)):
        assert x.dtype == y.dtype and np.shape(x) == np.shape(y), (what, x.dtype, y.dtype, np.shape(x), np.shape(y))
        if x.dtype.kind not in "OU":
            assert np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(y).tobytes(), what
        else: assert np.array_equal(x, y), what
    else: assert x == y, (what, x, y)


def compare_file(path) -> int:
    "Compare every variable (whole, and a few record ranges) and every attribute entry; return the reads compared."
    c = cdflib.CDF(str(path))
    ref, pp = _Meta(c), _MetaPP(path, pycdfpp.load(str(path)))
    n = 0
    for nm in c.cdf_info().zVariables:
        a, b = ref.vdr(nm), pp.vdr(nm)
        assert (a.record_vary, a.max_rec) == (b.record_vary, b.max_rec), (path.name, nm)
        ranges = [(0, None)]
        if a.record_vary and a.max_rec > 4: ranges += [(0, 0), (1, 3), (2, a.max_rec - 1), (a.max_rec, a.max_rec)]
        for s, e in ranges:
            same(ref.get(nm, a, s, e), pp.get(nm, b, s, e), (path.name, nm, s, e))
            n += 1
        for att in list(c.varattsget(nm)) + ["NO_SUCH_ATTRIBUTE"]:
            same(ref.att(att, nm), pp.att(att, nm), (path.name, nm, att))
            n += 1
    for att in c.globalattsget():
        for k in range(2):
            same(ref.att(att, k), pp.att(att, k), (path.name, att, k))
            n += 1
    return n


def test_pycdfpp_reads_every_real_file_exactly_as_cdflib():
    files = sorted(REAL.rglob("*.cdf"))
    assert len(files) == 7
    assert sum(compare_file(f) for f in files) > 4000


def test_pycdfpp_reads_a_simulated_tree_exactly_as_cdflib():
    files = sorted(demo_event_dir().rglob("mms1/**/*.cdf"))
    assert len(files) > 10
    for f in files: compare_file(f)


def test_reader_is_cdflib_unless_pycdfpp_is_asked_for(monkeypatch):
    f = next(REAL.rglob("*.cdf"))
    monkeypatch.delenv("MMS_MP_CDF_READER", raising=False)
    assert isinstance(_reader(f), _Meta) and not isinstance(_reader(f), _MetaPP)
    monkeypatch.setenv("MMS_MP_CDF_READER", "pycdfpp")
    assert isinstance(_reader(f), _MetaPP)
    monkeypatch.setattr(cdfread, "_PYCDFPP", [None])  # as when `import pycdfpp` fails
    assert isinstance(_reader(f), _Meta)


def test_asking_for_a_missing_pycdfpp_warns_and_reads_with_cdflib(monkeypatch):
    import builtins
    real_import = builtins.__import__
    def no_pycdfpp(name, *a, **k):
        if name == "pycdfpp": raise ImportError("no pycdfpp here")
        return real_import(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", no_pycdfpp)
    monkeypatch.setattr(cdfread, "_PYCDFPP", [])
    monkeypatch.setenv("MMS_MP_CDF_READER", "pycdfpp")
    with pytest.warns(UserWarning, match="pycdfpp is not installed"):
        assert isinstance(_reader(next(REAL.rglob("*.cdf"))), _Meta)


def test_a_file_pycdfpp_cannot_open_goes_to_cdflib_and_its_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MMS_MP_CDF_READER", "pycdfpp")
    bad = tmp_path / "mms1_fgm_brst_l2_20150902165844_v4.18.0.cdf"
    bad.write_bytes(b"\xcd\xf3\x00\x01 not a CDF")
    calls, real = [], cdflib.CDF
    monkeypatch.setattr(cdflib, "CDF", lambda p, *a, **k: calls.append(p) or real(p, *a, **k))
    with pytest.raises(Exception):
        _reader(bad)
    assert calls == [str(bad)]  # cdflib was asked, and its error is the one raised


def events(monkeypatch, how):
    "The Events of three windows (real FGM, real FPI, SIMULATED 4-instrument burst) read with reader `how`."
    if how in ("pycdfpp", "missing"): monkeypatch.setenv("MMS_MP_CDF_READER", "pycdfpp")
    if how == "missing": monkeypatch.setattr(cdfread, "_PYCDFPP", [None])
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out.append(load_event(("2015-09-02T16:58:44", "2015-09-02T17:07:05"), "1", rate="brst", instruments="fgm",
                              source="local", data_dir=REAL))
        out.append(load_event(("2015-12-01T12:00", "2015-12-01T13:00"), "1", rate="auto", source="local",
                              data_dir=REAL))
        out.append(load_event(("2019-01-27T12:30", "2019-01-27T12:40"), ("1", "2"), rate="brst", source="local",
                              data_dir=demo_event_dir()))
    monkeypatch.delenv("MMS_MP_CDF_READER", raising=False)
    monkeypatch.setattr(cdfread, "_PYCDFPP", [])
    return out


@pytest.mark.parametrize("how", ["cdflib", "missing"])
def test_load_event_is_the_same_with_either_reader(monkeypatch, how):
    for a, b in zip(events(monkeypatch, "pycdfpp"), events(monkeypatch, how)):
        assert (a.qc, a.loaded, a.missing, a.rates, a.provenance) == (b.qc, b.loaded, b.missing, b.rates, b.provenance)
        assert a.data.keys() == b.data.keys()
        for p in a.data:
            assert a.data[p].keys() == b.data[p].keys()
            for k, da in a.data[p].items():
                db = b.data[p][k]
                assert da.dtype == db.dtype and da.dims == db.dims and da.attrs == db.attrs, k
                assert da.values.tobytes() == db.values.tobytes(), k
                for c in da.coords: assert np.array_equal(da[c].values, db[c].values), (k, c)
