"""pySPEDAS (offline) and `load_event` read the same numbers from the simulator's files.

This proves the simulated files are SDC-compatible for pySPEDAS (its own `mms_load_*` routines with
`no_update=True`, explicit `datatype`, `notplot=True`, no network) and that mms_mp's cdflib reader agrees with
pySPEDAS sample by sample, once mms_mp's documented differences are accounted for: FPI/HPCA tags centred by the
Epoch DELTA variables, flagged samples NaN.
"""
import warnings

import numpy as np
import pytest

from mms_mp.data import EPHEM_PAD, load_event
from mms_mp.layout import PRODUCTS

mms = pytest.importorskip("pyspedas.projects.mms")
from pyspedas.projects.mms.config import CONFIG  # noqa: E402
synthetic = pytest.importorskip("mms_mp.synthetic")

W = ("2019-01-27T12:40:00", "2019-01-27T12:43:00")
LOADERS = {"fgm": "mms_load_fgm", "fpi": "mms_load_fpi", "hpca": "mms_load_hpca", "edp": "mms_load_edp",
           "mec": "mms_load_mec"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim") / "ev"
    synthetic.simulate_event(d, trange=W, probes=("1",))
    return d


def _keys(sim):
    from mms_mp.layout import parse_filename
    return sorted({(fi.instrument, fi.rate, fi.datatype) for fi in map(parse_filename, sim.rglob("*.cdf")) if fi})


def test_pyspedas_loads_every_simulated_product_like_load_event(sim):
    keys = _keys(sim)
    assert len(keys) >= 9, keys  # fgm srvy/brst, fpi fast/brst x2, hpca, edp dce/scpot, mec
    saved = dict(CONFIG); CONFIG["local_data_dir"] = str(sim)
    try:
        for key in keys:
            prod = PRODUCTS[key]
            ps = getattr(mms, LOADERS[prod.instrument])(trange=list(W), probe="1", data_rate=prod.rate,
                                                        datatype=prod.datatype, level="l2", no_update=True,
                                                        notplot=True, latest_version=True, time_clip=False)
            assert ps, f"pySPEDAS loaded nothing for {key}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ev = load_event(W, "1", rate=prod.rate, instruments=prod.instrument, source="local", data_dir=sim)
            shift = next(l["centre_shift_s"] for l in ev.loaded if (l["instrument"], l["rate"], l["datatype"]) == key)
            if prod.centre: assert shift > 0, f"{key}: FPI/HPCA tags must be centred"
            for v in prod.vars:
                if v.name == "fgm_flag": continue
                nm = v.cdf_name("1", prod.rate)
                assert nm in ps, f"pySPEDAS did not load {nm}"
                x = np.asarray(ps[nm]["x"]).astype("datetime64[ns]") + np.timedelta64(int(round(shift * 1e9)), "ns")
                y = np.asarray(ps[nm]["y"], float)
                if v.kind == "vector4": y = y[:, v.col] if v.col is not None else y[:, :3]
                pad = EPHEM_PAD if prod.instrument == "mec" else np.timedelta64(0, "s")   # MEC brackets the window
                inside = (x >= np.datetime64(W[0]) - pad) & (x < np.datetime64(W[1]) + pad)
                mine = ev.get(1, v.name)
                np.testing.assert_array_equal(mine.time.values, x[inside], err_msg=f"{key} {v.name} times")
                a = mine.values.astype(float); b = y[inside]
                ok = ~np.isnan(a)
                np.testing.assert_allclose(a[ok], b[ok], rtol=1e-6, err_msg=f"{key} {v.name} values")
                assert np.isnan(b).reshape(len(b), -1).any(1).sum() <= np.isnan(a).reshape(len(a), -1).any(1).sum()
    finally:
        CONFIG.clear(); CONFIG.update(saved)
