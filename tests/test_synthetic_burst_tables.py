"""Simulated FPI burst files sweep two energy tables in turn, as the real burst files do.

The real burst DIS fixture (MMS1 2015-10-16, v3.3.0) carries each record's energies, (time, 32), alternating
record by record between two tables, the odd one the even one × 1.13335 (half a channel in ln E), and says
which in `mms1_dis_steptable_parity_brst` (CDF_UINT1, 0/1); the fast files carry one table and no parity.
A simulated event must look the same, and each burst record's spectrum must be the simulator's Maxwellians at
that record's own energies (noise off, so the answer is exact). Fast files keep their one table.
"""
from pathlib import Path

import numpy as np
import pytest

from mms_mp import synthetic as S
from mms_mp.core import M_P_KG
from mms_mp.layout import FPI_BURST_TABLE_RATIO, get_product, sdc_path
from mms_mp.spectra import _common_grid

REAL = Path(__file__).parent / "fixtures" / "real" / "mms1" / "fpi"
WIN = ("2019-01-27T12:22", "2019-01-27T12:30")    # crossings on every probe: both populations are seen


def _cdf(path):
    import cdflib
    return cdflib.CDF(str(path))


def _epoch(c):
    import cdflib
    return cdflib.cdfepoch.to_datetime(c.varget("Epoch")).astype("datetime64[ns]")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    d = tmp_path_factory.mktemp("sim") / "ev"
    tr = S.simulate_event(d, trange=WIN, probes=("1",), products=("fpi_brst", "fpi_fast"), noise_scale=0.0)
    return d, tr


def test_table_ratio_is_the_real_burst_files():
    "FPI_BURST_TABLE_RATIO is the odd/even table ratio of the real burst DIS file (its top channels)."
    c = _cdf(REAL / "brst/l2/dis-moms/2015/10/16/mms1_fpi_brst_l2_dis-moms_20151016130524_v3.3.0.cdf")
    par, E = c.varget("mms1_dis_steptable_parity_brst"), c.varget("mms1_dis_energy_brst").astype(float)
    even, odd = np.unique(E[par == 0], axis=0), np.unique(E[par == 1], axis=0)
    assert even.shape == odd.shape == (1, 32)
    assert np.median(odd[0, -8:] / even[0, -8:]) == pytest.approx(FPI_BURST_TABLE_RATIO, rel=1e-5)


def _burst(d, q, dtype):
    "Each simulated MMS1 burst file of the species, opened, with its (spectrum, energy, parity) variable names."
    prod = get_product("fpi", "brst", dtype)
    sv = prod.var(f"E{q}_spec")
    names = [x.format(p="1", rate="brst") for x in (sv.cdf, sv.depend_1, sv.parity)]
    files = sorted(sdc_path(d, "1", "fpi", "brst", dtype, "2019-01-27T12:00").parent.glob("*.cdf"))
    assert files, "the simulated event has burst files"
    return [(_cdf(f), names) for f in files]


# ions and electrons: (species, FPI datatype, burst cadence s)
SPECIES = pytest.mark.parametrize("q,dtype,dt", [("i", "dis-moms", 0.15), ("e", "des-moms", 0.03)])


def _even(q):
    "The simulator's even burst table, eV: a quarter channel below its fast table (as in the real files)."
    return S.ENERGY_TABLE_EV[q] / np.sqrt(FPI_BURST_TABLE_RATIO)


@SPECIES
def test_burst_file_has_two_alternating_tables(sim, q, dtype, dt):
    "Each record's energies: the even table on parity 0, × FPI_BURST_TABLE_RATIO on parity 1, in turn."
    for c, (spec, en, pa) in _burst(sim[0], q, dtype):
        assert c.varinq(pa).Data_Type_Description == "CDF_UINT1"
        par, E, t = c.varget(pa), c.varget(en), _epoch(c)
        assert set(np.unique(par)) == {0, 1}
        step = np.diff(t).astype("int64") == round(dt * 1e9)
        assert step.mean() > 0.99 and np.all(np.diff(par.astype(int))[step] != 0)   # alternate record by record
        tables = np.unique(E, axis=0)
        assert tables.shape == (2, 32)
        np.testing.assert_array_equal(E[par == 0], np.float32(_even(q))[None].repeat((par == 0).sum(), 0))
        np.testing.assert_allclose(E[par == 1] / E[par == 0][:1], FPI_BURST_TABLE_RATIO, rtol=1e-6)
        np.testing.assert_allclose(np.sqrt(tables[0] * tables[1]), S.ENERGY_TABLE_EV[q], rtol=1e-6)   # fast midway


def _model(tr, q, t, E, accum):
    "The simulator's two Maxwellians (mixed by the true sheath fraction f) at energies E, plus its floor."
    p = tr.params
    f = S._observe(tr, "1", t, accum, 1)["f"]
    Tsp, Tsh, m, floor = ((p.Ti_sp_eV, p.Ti_sh_eV, M_P_KG, 1e3) if q == "i"
                          else (p.Te_sp_eV, p.Te_sh_eV, S.M_ELECTRON_KG, 1e4))
    n = len(t)
    return (S.maxwellian_def(E, p.n_sp_cc * (1 - f), np.full(n, Tsp), m)
            + S.maxwellian_def(E, p.n_sh_cc * f, np.full(n, Tsh), m) + floor)


@SPECIES
def test_each_record_peaks_where_the_maxwellian_does_at_its_energies(sim, q, dtype, dt):
    "Noise off: each record's spectrum is the model at its own energies, so it peaks where the model does."
    d, tr = sim
    for c, (spec, en, pa) in _burst(d, q, dtype):
        S_, E, t = c.varget(spec).astype(float), c.varget(en).astype(float), _epoch(c)
        ok = S_[:, 0] > -1e30                                   # fill records are fill
        M = _model(tr, q, t[ok], E[ok], dt)
        np.testing.assert_allclose(S_[ok], M, rtol=2e-6)         # REAL4 values and energies in the file
        np.testing.assert_array_equal(S_[ok].argmax(1), M.argmax(1))
        odd = c.varget(pa)[ok] == 1
        assert odd.sum() > 100                                  # and on the odd records the even table is wrong
        Me = _model(tr, q, t[ok][odd], np.broadcast_to(_even(q), (odd.sum(), 32)), dt)
        assert np.median(np.abs(S_[ok][odd] / Me - 1)) > 0.05


def test_fast_files_keep_one_table_and_no_parity(sim):
    d, _ = sim
    for q, dtype in (("i", "dis-moms"), ("e", "des-moms")):
        c = _cdf(sdc_path(d, "1", "fpi", "fast", dtype, "2019-01-27T12:00"))
        assert not any("parity" in v for v in c.cdf_info().zVariables)
        E = c.varget(f"mms1_{dtype[:3]}_energy_fast")
        np.testing.assert_array_equal(np.unique(E, axis=0), np.float32(S.ENERGY_TABLE_EV[q])[None])


def test_loaded_burst_spectra_go_on_the_common_grid(sim):
    "Loaded, a simulated burst spectrum has two tables: the spectrogram puts them on 64 common energies."
    from mms_mp.data import load_event
    d, _ = sim
    ev = load_event(("2019-01-27T12:24", "2019-01-27T12:26"), "1", rate="brst", source="local", data_dir=d,
                    instruments=("fpi",))
    for name in ("Ei_spec", "Ee_spec"):
        E = np.asarray(ev["1"][name].energy_eV.values, float)
        G = _common_grid(E)
        assert G is not None and len(G) == 64
        np.testing.assert_allclose(G[1::2] / G[::2], FPI_BURST_TABLE_RATIO, rtol=1e-6)
