"""FPI spectrograms whose energy table changes from record to record, averaged for display.

FPI burst files sweep two energy tables in turn, offset by half a channel in log E (the real burst DIS fixture:
10.64, 13.66, ... eV on one record, 12.06, 15.49, ... eV on the next). Averaging records channel by channel
mixes two energies; the figure must instead average on a common grid (the union of the tables) where a steady
spectrum keeps its peak energy and its width. One table: the plain channel average of the records of each group.
"""
import warnings
from pathlib import Path

import numpy as np
import pytest

from mms_mp.core import from_seconds, seconds_since
from mms_mp.spectra import _group_starts, _rebin, fpi_ion_spectrogram

T0 = np.datetime64("2019-01-27T12:43:00", "ns")
EA = np.geomspace(10, 30000, 32)                       # eV
EB = EA * np.sqrt(EA[1] / EA[0])                       # half a channel higher in log E
REAL = Path(__file__).parent / "fixtures" / "real"


def beam(E, Epk=EA[16], sig=0.25):
    "Log-normal beam peaked at Epk (eV), width sig in ln E; keV/(cm² s sr keV)."
    return 1e6 * np.exp(-np.log(E / Epk) ** 2 / (2 * sig ** 2))


def alternating(M):
    "(M,32) energies: table A on even records, B on odd ones."
    return np.where((np.arange(M) % 2 == 0)[:, None], EA, EB)


def tags(M, dt_s):
    return T0 + (np.arange(M) * dt_s * 1e9).astype("int64").astype("timedelta64[ns]")


def drawn(fig):
    "(cell centre energies eV, cell values) of the records' rows of the drawn mesh."
    qm = fig.axes[0].collections[0]
    Y = qm.get_coordinates()[:, :, 1]
    C = np.ma.getdata(qm.get_array()).reshape(Y.shape[0] - 1, Y.shape[1] - 1)
    return np.sqrt(Y[::2, :-1] * Y[::2, 1:]), C[::2]


@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_alternating_tables_keep_the_peak_energy_and_width(k):
    """A steady beam on two alternating tables, averaged k records at a time: peak at its energy, width unchanged.
    84 records: every group holds both tables (a lone record is tested below)."""
    M = 84
    E = alternating(M)
    tm, Eg, Sg = _rebin(tags(M, 0.15), E, beam(E), int(np.ceil(M / k)), 1.5)
    pk = Eg[np.arange(len(Sg)), np.nanargmax(Sg, 1)]
    np.testing.assert_array_equal(pk, EA[16])
    np.testing.assert_allclose(Sg, beam(Eg), rtol=1e-12)            # the beam sampled on the common grid
    w = np.sqrt((Sg * np.log(Eg / EA[16]) ** 2).sum(1) / Sg.sum(1))
    np.testing.assert_allclose(w, 0.25, rtol=1e-6)


def test_figure_of_alternating_tables_draws_the_peak_at_its_energy():
    "Through the public drawing function: 64 energies half a channel apart, peak cell centred on the beam."
    import matplotlib.pyplot as plt
    M = 600
    E = alternating(M)
    fig = fpi_ion_spectrogram((tags(M, 0.15), E, beam(E)), probe=1, max_records=150, simulated=True)
    Ec, C = drawn(fig)
    assert C.shape == (150, 64)
    np.testing.assert_allclose(Ec[0], np.sort(np.r_[EA, EB]), rtol=1e-12)
    np.testing.assert_allclose(Ec[np.arange(len(C)), C.argmax(1)], EA[16], rtol=1e-12)
    plt.close(fig)


def test_lone_record_after_a_gap_is_interpolated_not_blank():
    "A group holding one table only fills the other table's energies by interpolation in ln E, never beyond."
    sec = np.r_[np.arange(8) * 0.15, 8 * 0.15 + 5.0]                 # 8 records, a 5 s hole, one record of table A
    E = alternating(9)
    S = 3 + 2 * np.log(E)                                            # linear in ln E: interpolation is exact
    t = T0 + (sec * 1e9).astype("int64").astype("timedelta64[ns]")
    tm, Eg, Sg = _rebin(t, E, S, 3, 1.5)
    assert len(tm) == 4 and np.isnan(Sg[-1, -1])                     # EB[-1] lies above table A's top channel
    np.testing.assert_allclose(Sg[-1, :-1], 3 + 2 * np.log(Eg[-1, :-1]), rtol=1e-12)


def test_tables_shifted_record_by_record_go_on_a_log_grid():
    "Energies shifted per record (as by a spacecraft-potential correction): 2K log-spaced energies, peak kept."
    M = 40
    E = EA * (1 + 0.002 * np.arange(M))[:, None]
    tm, Eg, Sg = _rebin(tags(M, 0.15), E, beam(E, Epk=1000.0), 10, 1.5)
    assert Eg.shape == (10, 64)
    np.testing.assert_allclose(np.diff(np.log(Eg[0])), np.log(Eg[0, -1] / Eg[0, 0]) / 63, rtol=1e-9)
    step = np.log(Eg[0, 1] / Eg[0, 0])
    pk = Eg[np.arange(len(Sg)), np.nanargmax(Sg, 1)]
    assert np.all(np.abs(np.log(pk / 1000.0)) <= step / 2 + 1e-12)    # peak in the grid cell holding 1000 eV


def test_one_table_is_the_plain_channel_mean():
    """One energy table (survey, or a burst table repeated): each group of k records, never across the gap, averages
    its times, its energies and each channel's finite values (NaN where it has none), as a slow loop computes them."""
    rng = np.random.default_rng(3)
    sec = np.r_[np.arange(300) * 4.5, 300 * 4.5 + 60 + np.arange(301) * 4.5]   # a 60 s gap after record 300
    t = T0 + (sec * 1e9).astype("int64").astype("timedelta64[ns]")
    S = rng.lognormal(10, 2, (len(t), 32))
    S[rng.random(S.shape) < 0.05] = np.nan
    S[300:313, 7] = np.nan                                # channel 7 unmeasured in the first group after the gap
    for e in (EA, np.broadcast_to(EA, S.shape)):
        for mr in (50, 97, 200):
            k = int(np.ceil(len(t) / mr))                 # records per group: 13, 7, 4
            starts = np.r_[np.arange(0, 300, k), 300 + np.arange(0, 301, k)]
            tm, Eg, Sg = _rebin(t, e, S, mr, 1.5)
            assert len(tm) == len(Eg) == len(Sg) == len(starts)
            for g, (i, j) in enumerate(zip(starts, np.r_[starts[1:], len(t)])):
                ok = np.isfinite(S[i:j])
                n = ok.sum(0)
                t_mean = from_seconds(seconds_since(t[i:j], t[0]).mean(), t[0])
                assert abs((tm[g] - t_mean).astype("int64")) <= 1          # ns
                np.testing.assert_allclose(Eg[g], EA, rtol=1e-14)
                mean = np.where(n > 0, np.where(ok, S[i:j], 0).sum(0) / np.maximum(n, 1), np.nan)
                np.testing.assert_allclose(Sg[g], mean, rtol=1e-12)          # NaN where n = 0, and only there
            assert np.isnan(Sg[len(np.arange(0, 300, k)), 7])


def test_real_burst_file_pairs_keep_each_measured_value():
    "The real burst DIS file (two tables): averaged in pairs, every cell is the value of the record that measured it."
    from mms_mp.data import load_event
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = load_event(("2015-10-16T13:05:24", "2015-10-16T13:07:44"), "1", rate="brst", source="local",
                        data_dir=REAL, instruments=("fpi",))
    S = ev["1"]["Ei_spec"]
    t, E, V = S.time.values, np.asarray(S.energy_eV.values, float), np.asarray(S.values, float)
    assert len(np.unique(E, axis=0)) == 2
    tm, Eg, Sg = _rebin(t, E, V, int(np.ceil(len(t) / 2)), 1.5)
    G = Eg[0]
    np.testing.assert_array_equal(G, np.unique(E))
    assert len(G) == 64
    starts = _group_starts(seconds_since(t, t[0]), 2, 1.5)
    pairs = starts[np.diff(np.r_[starts, len(t)]) == 2]
    assert len(pairs) >= 400
    for i in pairs:
        want = np.full(64, np.nan)
        for r in (i, i + 1):
            want[np.searchsorted(G, E[r])] = V[r]
        np.testing.assert_array_equal(Sg[np.searchsorted(starts, i)], want)


def test_fill_values_in_the_energy_table_leave_out_their_channel_or_record_and_say_so():
    """An FPI energy table with a fill channel (−1e31) and one record's table holding NaN refused the whole
    spectrogram ("energy_eV must be positive"). Now that channel and that record are left out, the rest is drawn
    unchanged, the left-out record is a blank column, and the figure and a MissingDataWarning say how many."""
    import matplotlib.pyplot as plt
    from mms_mp.data import MissingDataWarning
    from mms_mp.spectra import spectrogram_mesh
    M = 60
    t, E = tags(M, 4.5), np.tile(EA, (M, 1))
    S = beam(E)
    E[:, 31], E[20, 7] = -1e31, np.nan
    m = spectrogram_mesh(t, E, S)
    assert (m.n_dropped_records, m.n_dropped_channels, m.n_gaps, m.C.shape) == (1, 1, 1, (2 * 59 - 1, 31))
    keep = np.r_[0:20, 21:M]
    clean = spectrogram_mesh(t[keep], EA[:31], S[keep][:, :31])
    np.testing.assert_array_equal(m.C, clean.C)                        # the rest exactly as if it were clean
    np.testing.assert_array_equal(m.Y, clean.Y)
    assert np.isnan(m.C[2 * 19 + 1]).all()                             # blank between records 19 and 21
    with pytest.warns(MissingDataWarning, match=r"mms2 FPI spectrogram: 1 record\(s\) and 1 energy channel\(s\) "
                                                r"left out"):
        fig = fpi_ion_spectrogram((t, E, S), probe=2, simulated=True)
    note = [x.get_text() for x in fig.axes[0].texts if x.get_gid() == "mms_mp_dropped"]
    assert note == [m.dropped] and "left out" in note[0]
    Ec, C = drawn(fig)
    assert C.shape == (59, 31)
    plt.close(fig)


def test_energy_table_with_nothing_usable_is_refused_in_words():
    from mms_mp.core import InputError
    M = 10
    E = np.full((M, 32), np.nan)
    E[3] = EA                                                           # one usable record only
    with pytest.raises(InputError, match="fewer than 2 records with 2 usable energy channels.*check the energy"):
        fpi_ion_spectrogram((tags(M, 4.5), E, beam(np.tile(EA, (M, 1)))))


def test_one_channel_spectrum_is_refused_with_what_to_do():
    "K = 1 drew an empty figure (no energy edges): a one-channel spectrum has no energy width; plot it against time."
    from mms_mp.core import InputError
    from mms_mp.spectra import spectrogram_mesh
    t = tags(10, 4.5)
    for call in (lambda: spectrogram_mesh(t, [500.0], np.ones((10, 1))),
                 lambda: fpi_ion_spectrogram((t, [500.0], np.ones((10, 1))))):
        with pytest.raises(InputError, match=r"at least 2 energy channels, got 1.*against time"):
            call()
