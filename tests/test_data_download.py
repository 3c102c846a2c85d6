"""Wiring of the download paths (source="sdc"/"spdf"/"auto") with pySPEDAS's MMS loaders replaced by fakes.

Real downloads cannot run here (no network; pytest-socket). The fakes check the arguments pySPEDAS would get,
the CONFIG it would see and that stdin is an empty stream (no login prompt can block), then "download" by
writing a known file where pySPEDAS would put it.
"""
import sys

import numpy as np
import pytest

from mms_mp.core import NoDataError
from mms_mp.data import load_event
from mms_mp.layout import get_product, sdc_dir
from test_data import CADENCE, T0, W, f_of, write_product

mms = pytest.importorskip("pyspedas.projects.mms")
from pyspedas.projects.mms.config import CONFIG  # noqa: E402

LOADERS = {"fgm": "mms_load_fgm", "fpi": "mms_load_fpi", "hpca": "mms_load_hpca", "edp": "mms_load_edp",
           "mec": "mms_load_mec"}


@pytest.fixture
def online(monkeypatch):
    "The data centres answer (the reachability check passes although sockets are blocked here)."
    import mms_mp.data
    monkeypatch.setattr(mms_mp.data, "reachable", lambda source, timeout_s=2.0: (True, ""))


@pytest.fixture
def fakes(monkeypatch, online):
    calls = []

    def make(ins):
        def fake(**kw):
            from pathlib import Path
            calls.append(dict(kw, instrument=ins, config=dict(CONFIG), stdin=sys.stdin.read()))
            if kw.get("fail"): raise ConnectionError("no route to host")
            prod = get_product(ins, kw["data_rate"], kw["datatype"]); root = Path(CONFIG["local_data_dir"])
            if prod.rate == "brst":
                f = write_product(root, kw["probe"], prod, -30, 300)
                if kw.get("spdf"):  # SPDF layout: burst files without the DD/ directory
                    f = f.rename(f.parent.parent / f.name)
            else:
                f = write_product(root, kw["probe"], prod, -60, 300,
                                  t_file=T0 if prod.instrument != "fpi" else np.datetime64("2019-01-27T12:00"))
            return [str(f)] if CONFIG["download_only"] else {"some_var": {}}
        return fake
    for ins, name in LOADERS.items():
        monkeypatch.setattr(mms, name, make(ins))
    return calls


def test_sdc_download_arguments_config_and_stdin(tmp_path, fakes):
    before = dict(CONFIG)
    ev = load_event(W, "1", rate="srvy", source="sdc", data_dir=tmp_path)
    assert CONFIG == before  # restored
    got = {(c["instrument"], c["datatype"]) for c in fakes}
    assert got == {("fgm", ""), ("fpi", "dis-moms"), ("fpi", "des-moms"), ("hpca", "moments"), ("edp", "dce"),
                   ("edp", "scpot"), ("mec", "epht89q")}
    for c in fakes:   # MEC is asked for ±60 s more, so that its 30-s positions bracket the window (EPHEM_PAD)
        want = (["2019-01-27T12:39:00.000", "2019-01-27T12:45:00.000"] if c["instrument"] == "mec"
                else ["2019-01-27T12:40:00.000", "2019-01-27T12:44:00.000"])
        assert c["trange"] == want
        assert ((c["probe"], c["level"], c["latest_version"], c["notplot"], c["no_update"], c["time_clip"])
                == ("1", "l2", True, True, False, False))
        assert "spdf" not in c
        assert c["config"]["local_data_dir"] == str(tmp_path) and c["config"]["download_only"] is True
        assert c["stdin"] == ""  # a login prompt would read an empty user name, never block
    s = (ev.get(1, "B_gse").time.values - T0).astype(np.int64) / 1e9
    np.testing.assert_allclose(ev.get(1, "B_gse").values[:, 0], f_of("B_gse", s), rtol=1e-6)
    assert ev.source == "sdc" and not ev.missing


def test_spdf_burst_files_are_moved_into_the_sdc_layout(tmp_path, fakes):
    ev = load_event(W, "2", rate="brst", instruments="fgm", source="spdf", data_dir=tmp_path)
    c, = fakes
    assert c["spdf"] is True and c["data_rate"] == "brst" and c["config"]["download_only"] is False
    f = ev.provenance[0]["path"]
    assert f.startswith(str(sdc_dir(tmp_path, 2, get_product("fgm", "brst"), T0)))  # .../2019/01/27/
    assert len(ev.get(2, "Bmag")) == int(240 * 128)


def test_auto_uses_local_files_when_they_cover(tmp_path, fakes):
    write_product(tmp_path, "3", get_product("mec", "srvy", "epht89q"), -60, 300, t_file=T0)
    ev = load_event(W, "3", instruments="mec", source="auto", data_dir=tmp_path)
    assert fakes == [] and ev.has(3, "R_gse")
    ev = load_event(W, "3", instruments=("mec", "hpca"), source="auto", data_dir=tmp_path)
    assert [(c["instrument"], c["datatype"]) for c in fakes] == [("hpca", "moments")] and ev.has(3, "N_Oplus")


def test_local_never_calls_pyspedas(tmp_path, fakes):
    with pytest.raises(NoDataError, match="no fgm srvy files for mms4"):
        load_event(W, "4", rate="srvy", source="local", data_dir=tmp_path)
    assert fakes == []


def test_failed_download_is_reported(tmp_path, monkeypatch, online):
    def down(**kw): raise ConnectionError("no route to host")
    monkeypatch.setattr(mms, "mms_load_fgm", down)
    with pytest.raises(NoDataError, match=r"download from sdc failed \(ConnectionError: no route to host\)"):
        load_event(W, "1", instruments="fgm", source="sdc", data_dir=tmp_path)


def test_an_unreachable_data_centre_is_checked_once_before_any_download(tmp_path, monkeypatch):
    """Offline, pySPEDAS returns nothing after ~14 s of retries per product. The data centre is probed once per load,
    before the first download (here the socket guard refuses: not reachable); no product is then attempted."""
    import time
    import mms_mp.data
    calls, probes = [], []
    def empty(**kw): calls.append(kw["datatype"]); return []
    for name in LOADERS.values(): monkeypatch.setattr(mms, name, empty)
    real = mms_mp.data.reachable
    monkeypatch.setattr(mms_mp.data, "reachable", lambda src, timeout_s=2.0: probes.append(src) or real(src, timeout_s))
    t0 = time.perf_counter()
    with pytest.raises(NoDataError) as e:
        load_event(W, ("1", "2"), rate="srvy", source="sdc", data_dir=tmp_path)
    assert time.perf_counter() - t0 < 2.0
    assert calls == [] and probes == ["sdc"]                           # 14 products, no attempt, one probe
    msg = str(e.value)
    assert msg.count("not downloaded: data centre lasp.colorado.edu not reachable") == 14


def test_reachable_says_why_in_well_under_its_timeout(monkeypatch):
    "A refused connection is reported at once, naming the host."
    import time
    import mms_mp.data
    monkeypatch.setitem(mms_mp.data.DATA_CENTRES, "sdc", "127.0.0.1")
    t0 = time.perf_counter()
    ok, why = mms_mp.data.reachable("sdc")
    assert not ok and why.startswith("data centre 127.0.0.1 not reachable") and time.perf_counter() - t0 < 2.0


def test_reachable_gives_up_after_its_timeout(monkeypatch):
    "A data centre that never answers (a name lookup or connect that hangs) is reported after `timeout_s`."
    import socket
    import threading
    import time
    import mms_mp.data
    release = threading.Event()
    monkeypatch.setattr(socket, "create_connection",
                        lambda *a, **k: release.wait(5) or (_ for _ in ()).throw(OSError()))
    t0 = time.perf_counter()
    ok, why = mms_mp.data.reachable("spdf", timeout_s=0.3)
    release.set()
    assert not ok and why == "data centre cdaweb.gsfc.nasa.gov not reachable (no answer within 0.3 s)"
    assert time.perf_counter() - t0 < 1.0
