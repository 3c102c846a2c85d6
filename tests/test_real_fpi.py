"""Single-probe methods on the REAL MMS1 FPI moment files (tests/fixtures/real, see its README.md), offline.

No FGM, EDP, HPCA or MEC file exists for these dates, so the crossing detector runs on the density alone
(`detect_crossings(None, None, None, t_n, Ni)`), with its default thresholds (never tuned to these files).
Known answers:
- 2015-10-16, burst DIS: MMS1 leaves the magnetosphere (~0.4 cm⁻³) for the magnetosheath side (~10 cm⁻³) near
  13:05:44 (Burch et al. 2016, Science 352, aaf2939; the fixtures README);
- 2015-12-01, fast DIS and DES: two separate spectrometers see one boundary, so crossings found on the ion and
  on the electron density alone agree in time and direction within their σ_t.
The spectrogram of a real file keeps its energy table and values (cell for cell, gaps blank).
"""
import warnings
from pathlib import Path

import numpy as np
import pytest

from mms_mp.core import NoDataError, seconds_since
from mms_mp.data import load_event
from mms_mp.detect import detect_crossings
from mms_mp.spectra import spectrogram_mesh

REAL = Path(__file__).parent / "fixtures" / "real"
BURCH = ("2015-10-16T13:05:24", "2015-10-16T13:07:44")
DEC1 = ("2015-12-01T12:00", "2015-12-01T14:00")


def fpi(trange, rate):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_event(trange, "1", rate=rate, source="local", data_dir=REAL, instruments=("fpi",))


def from_density(ev, q):
    n = ev["1"][q]
    return detect_crossings(None, None, None, n.time.values, n.values, probe="1")


@pytest.fixture(scope="module")
def dec1():
    return fpi(DEC1, "fast")


def test_burch_event_entry_from_ion_density_alone():
    "One outward crossing within 5 s of 13:05:44, from ~0.4 to ~10 cm⁻³; σ_t at least the quantisation."
    ev = fpi(BURCH, "brst")
    crs = from_density(ev, "Ni")
    assert len(crs) == 1 and crs[0].direction == "out"
    c = crs[0]
    assert abs(float(seconds_since(c.time, np.datetime64("2015-10-16T13:05:44")))) < 5
    assert 0.2 < c.levels["before"] < 0.8 and 5 < c.levels["after"] < 20
    assert c.sigma_t_s >= 0.15 / np.sqrt(12) and 0 < c.confidence <= 1
    assert crs.flags == ["B_unavailable", "hpca_unavailable"]


def test_ion_and_electron_crossings_agree(dec1):
    "Every ion crossing has an electron crossing of the same direction within 2 combined σ_t."
    ci, ce = from_density(dec1, "Ni"), from_density(dec1, "Ne")
    assert len(ci) >= 4
    for x in ci:
        near = min((y for y in ce if y.direction == x.direction),
                   key=lambda y: abs(float(seconds_since(y.time, x.time))))
        assert abs(float(seconds_since(near.time, x.time))) <= 2 * np.hypot(x.sigma_t_s, near.sigma_t_s)


def test_what_one_species_alone_sees_is_doubtful(dec1):
    "A crossing on the electrons with no ion crossing within a minute carries a low confidence."
    ci, ce = from_density(dec1, "Ni"), from_density(dec1, "Ne")
    alone = [y for y in ce if min(abs(float(seconds_since(y.time, x.time))) for x in ci) > 60]
    assert all(y.confidence < 0.5 for y in alone)


def test_no_density_and_no_B_is_a_clear_error():
    with pytest.raises(NoDataError, match="no B and no ion density"):
        detect_crossings(None, None, None, probe="1")


def test_real_spectrogram_keeps_the_file_values(dec1):
    "The mesh of the DIS omni spectrogram holds the file's values cell for cell and its energy table."
    S = dec1["1"]["Ei_spec"]
    m = spectrogram_mesh(S.time.values, S.energy_eV.values, S.values)
    np.testing.assert_array_equal(m.C[::2], np.asarray(S.values, float))
    E = np.broadcast_to(np.asarray(S.energy_eV.values, float), S.shape)
    lo, hi = np.minimum(m.Y[::2, :-1], m.Y[::2, 1:]), np.maximum(m.Y[::2, :-1], m.Y[::2, 1:])
    assert np.all((lo < E) & (E < hi))                                   # each channel inside its cell
    dt = np.diff(S.time.values).astype("int64") / 1e9
    assert m.n_gaps == int((dt > 1.5 * np.median(dt)).sum()) >= 1    # the data gap after 13:50 is blank
