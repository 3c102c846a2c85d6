"""Hostile inputs to crossing detection, spectrograms, boundary coordinates and the timing stage,
each against a known answer: a clear mms_mp error (class and a phrase of its message), or a flagged
result.

- timing stage: one probe without positions (its MEC folder removed, or its MEC file replaced by
  random bytes, on a hard-linked copy of the SIMULATED demo event) is left out of each crossing
  group, named in the reason, and timing still runs on the other three probes;
- detect_crossings / spectrogram_mesh / fpi_spectrogram: float-second times (read as ns since 1970
  before), density whose time tags lie outside the B record, two samples of B, an energy table of
  the wrong length, bad drawing options (colour map, colour limits, max_records);
- coords: NaN or out-of-range angles and positions (ψ, aberration, the Shue model off its surface),
  NaN or 2-component vectors, mismatched or non-numeric Shue inputs, negative σ.
"""
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from mms_mp.core import InputError

EVENT = ("2019-01-27T12:15", "2019-01-27T12:55")


# ---------------------------------------------------------------------------- timing stage
@pytest.fixture(scope="module")
def demo():
    "The SIMULATED demo event tree (cached per test run, see conftest)."
    from mms_mp.synthetic import demo_event_dir
    return Path(demo_event_dir())


def _copy(demo, tmp_path):
    "A hard-linked copy of the demo tree (breaking a file replaces its link, never edits it)."
    root = tmp_path / "tree"
    shutil.copytree(demo, root, copy_function=os.link)
    return root


def _no_fgm_state(root):
    "MMS3's FGM files without their own position records (else they serve when MEC is missing)."
    from test_fgm_state_positions import strip_state
    for f in sorted((root / "mms3" / "fgm").rglob("*.cdf")): strip_state(f)


def _no_mec(root):
    shutil.rmtree(root / "mms3" / "mec")
    _no_fgm_state(root)


def _garbage_mec(root):
    (f,) = sorted((root / "mms3" / "mec").rglob("*.cdf"))
    f.unlink()
    f.write_bytes(np.random.default_rng(0).bytes(200_000))
    _no_fgm_state(root)


@pytest.mark.parametrize("breakit", [_no_mec, _garbage_mec], ids=["no_mec", "mec_random_bytes"])
def test_timing_leaves_out_a_probe_without_positions(demo, tmp_path, breakit):
    "MMS3 without MEC nor FGM position records: timing on MMS1, 2, 4 in all 8 groups; the reason names MMS3."
    from mms_mp.pipeline import analyze
    root = _copy(demo, tmp_path)
    breakit(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(EVENT, rate="srvy", source="local", data_dir=root)
    # MMS3's FGM files lost their position records too: it truly has none (no FGM fallback)
    assert "R_gse" not in res.event["3"] and all("R_gse" in res.event[p] for p in "124")
    st = res.status["timing"]
    assert st.status == "ok" and st.degraded, st
    assert "MMS3 left out of the timing of 8 crossing group(s)" in st.reason
    assert "no R_gse positions" in st.reason
    assert len(res.timings) == 8
    assert all(sorted(g.crossings) == ["1", "2", "4"] for g, _ in res.timings)
    assert all(list(t.probes) == ["1", "2", "4"] for _, t in res.timings)
    assert all(np.isfinite(t.V_km_s) for _, t in res.timings)


def test_timing_drops_a_probe_whose_positions_miss_the_crossing():
    "A NaN position (ephemeris not covering the crossing) leaves the probe out; ref moves on."
    from types import SimpleNamespace as NS
    from mms_mp.boundary_multi import CrossingGroup
    from mms_mp.stages_timing import _with_positions
    t = np.datetime64("2019-01-27T12:30", "ns")
    cr = {p: NS(time=t, confidence=1.0) for p in "123"}
    pos = {"1": np.full(3, np.nan), "2": np.zeros(3), "3": np.ones(3)}
    g = CrossingGroup("in", cr, pos, "GSE", "1")
    cut, why = _with_positions(g)
    assert list(cut.crossings) == ["2", "3"] and cut.ref == "2"
    assert why == {"1": "its positions do not cover its crossing time"}


# ---------------------------------------------------------------- detect_crossings and spectra
T0 = np.datetime64("2019-01-27T12:20:00", "ns")


def _harris3(n=4000, dt=0.125):
    "SIMULATED probe: B_L = 40 tanh(3 sin x) nT (three crossings) and a density that follows it."
    t = T0 + (np.arange(n) * dt * 1e9).astype("int64").astype("timedelta64[ns]")
    x = np.linspace(-6, 6, n)
    B = np.stack([40 * np.tanh(3 * np.sin(x)), 5 + 0 * x, 10 / np.cosh(x)], 1)
    B += 0.3 * np.random.default_rng(1).standard_normal((n, 3))
    tn = T0 + np.arange(n // 36) * np.timedelta64(4500, "ms")
    Ni = 5 + 10 * (np.tanh(3 * np.sin(np.linspace(-6, 6, tn.size))) < 0)
    return t, B, tn, Ni


def test_detect_float_times_refused():
    "Float seconds were read as ns since 1970 (0 crossings, not 3): now InputError."
    from mms_mp.detect import detect_crossings
    t, B, _, _ = _harris3()
    assert len(detect_crossings(t, B, np.eye(3), lmn_frame="GSE")) == 3
    with pytest.raises(InputError, match="time tags must be datetime64.*from_seconds"):
        detect_crossings(np.arange(t.size) * 0.125, B, np.eye(3), lmn_frame="GSE")


def test_detect_float_density_times_refused():
    "The same for the density (and HPCA) time tags."
    from mms_mp.detect import detect_crossings
    t, B, tn, Ni = _harris3()
    with pytest.raises(InputError, match=r"Ni \(probe 1\): time tags must be datetime64"):
        detect_crossings(t, B, np.eye(3), np.arange(tn.size) * 4.5, Ni, lmn_frame="GSE", probe="1")


def test_detect_no_crossings_where_there_is_no_B():
    "Density a day before B: its 3 state changes (outside the B record) are dropped and flagged."
    from mms_mp.detect import detect_crossings
    t, B, tn, Ni = _harris3()
    ref = detect_crossings(t, B, np.eye(3), lmn_frame="GSE")
    cr = detect_crossings(t, B, np.eye(3), tn - np.timedelta64(1, "D"), Ni, lmn_frame="GSE")
    assert len(cr) == 3 and "crossings_outside_B_dropped" in cr.flags
    assert all(c.time >= t[0] for c in cr)
    np.testing.assert_array_equal([c.time for c in cr], [c.time for c in ref])
    # density on the B days is used as before: nothing dropped, nothing flagged
    both = detect_crossings(t, B, np.eye(3), tn, Ni, lmn_frame="GSE")
    assert len(both) == 3 and "crossings_outside_B_dropped" not in both.flags
    assert all("density" in c.features for c in both)


def test_detect_keeps_a_crossing_inside_a_B_gap_flagged():
    "B missing for 2 min over the middle crossing: B brackets it, so it is kept and flagged."
    from mms_mp.detect import detect_crossings
    t, B, tn, Ni = _harris3()
    full = detect_crossings(t, B, np.eye(3), tn, Ni, lmn_frame="GSE")
    keep = np.abs((t - full[1].time) / np.timedelta64(1, "s")) > 60
    cr = detect_crossings(t[keep], B[keep], np.eye(3), tn, Ni, lmn_frame="GSE")
    assert len(cr) == 3 and "crossings_outside_B_dropped" not in cr.flags
    assert "gap_across_crossing" in cr[1].flags and cr[1].confidence < full[1].confidence


def _spec():
    t = T0 + np.arange(100) * np.timedelta64(4500, "ms")
    E = np.logspace(1, 4, 32)
    return t, E, np.abs(np.random.default_rng(0).standard_normal((100, 32))) + 1


def test_spectrogram_float_times_refused():
    "Float seconds were read as ns since 1970 (a mesh in the first µs of 1970)."
    from mms_mp.spectra import spectrogram_mesh, fpi_ion_spectrogram
    t, E, S = _spec()
    with pytest.raises(InputError, match="time tags must be datetime64"):
        spectrogram_mesh(np.arange(100.0) * 4.5, E, S)
    with pytest.raises(InputError, match="time tags must be datetime64"):
        fpi_ion_spectrogram((np.arange(100.0) * 4.5, E, S), probe=1)


def test_spectrogram_energy_table_of_wrong_length():
    "An energy table of 5 for 32 channels: InputError naming both shapes."
    from mms_mp.spectra import spectrogram_mesh, fpi_ion_spectrogram
    t, E, S = _spec()
    with pytest.raises(InputError, match=r"energy_eV of shape \(5,\) does not fit spec \(100, 32"):
        spectrogram_mesh(t, E[:5], S)
    for e in (E[:5], np.tile(E, (7, 1))):       # (K,) too short, (M,K) with too few records
        with pytest.raises(InputError, match="does not fit spec"):
            fpi_ion_spectrogram((t, e, S), probe=1, trange=(str(t[10]), str(t[50])))
    assert spectrogram_mesh(t, E, S).C.shape == (199, 32)


# ---------------------------------------------------------------------------------- coords
POS = np.array([60000.0, 20000.0, 5000.0])   # km GSM, dayside


@pytest.mark.parametrize("psi", [np.nan, np.inf, 1e6, "0.1rad"])
def test_hybrid_lmn_psi_must_be_a_finite_angle(psi):
    "ψ = NaN gave N = NaN with a finite σ; ψ = 1e6 (degrees by mistake?) was used as given."
    from mms_mp.coords import hybrid_lmn
    with pytest.raises(InputError, match="psi_rad"):
        hybrid_lmn(np.ones((100, 3)), POS, psi_rad=psi)


def test_hybrid_lmn_valid_psi_unchanged():
    from mms_mp.coords import hybrid_lmn
    h = hybrid_lmn(np.ones((100, 3)), POS, psi_rad=0.1)
    assert h.method == "model" and np.isfinite(h.R).all() and 0 < h.sigma_N_deg < 10


def test_shue_normal_on_the_tail_axis():
    "The model surface is at infinite distance down the tail axis: GeometryError, not −inf."
    from mms_mp.coords import shue_normal
    from mms_mp.core import GeometryError
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # no numpy RuntimeWarning on the way
        with pytest.raises(GeometryError, match="does not apply there"):
            shue_normal(np.array([-200000.0, 0, 0]))


def test_hybrid_lmn_where_the_model_does_not_fix_N():
    "Near the tail axis the Shue normal turns by 177° over plausible inputs: no model N."
    from mms_mp.coords import hybrid_lmn
    from mms_mp.core import GeometryError
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GeometryError, match="Shue normal is not determined at this position"):
            hybrid_lmn(np.ones((100, 3)), np.array([-100000.0, 1000.0, 0]), psi_rad=0.1)
        with pytest.raises(GeometryError, match="tail axis"):
            hybrid_lmn(np.ones((100, 3)), np.array([-100000.0, 0, 0]), psi_rad=0.1)


def test_hybrid_lmn_mva_normal_with_an_undetermined_model_says_so():
    "A good MVA normal is kept near the tail axis; the reason says its sign is unsure."
    from mms_mp.coords import hybrid_lmn
    from mms_mp.minvar import mva
    rng = np.random.default_rng(3)
    s = np.linspace(-3, 3, 400)
    B = np.c_[np.zeros_like(s) + 2, 30 * np.sin(np.pi * (np.tanh(s) + 1) / 2), 30 * np.tanh(s)]
    B += rng.normal(0, 0.5, B.shape)
    assert mva(B, frame="GSM").ratio23 > 5
    h = hybrid_lmn(B, np.array([-100000.0, 1000.0, 0]), frame="GSM")
    assert h.method == "MVA" and "sign of N, taken from it, is not reliable" in h.reason


def test_shue_normal_aberration_nan():
    from mms_mp.coords import shue_normal
    for a in (np.nan, np.inf, "four"):
        with pytest.raises(InputError, match="aberration_deg"):
            shue_normal(POS, aberration_deg=a)


@pytest.mark.parametrize("bz,dp,msg", [
    (np.zeros(3), np.ones(2), "must have one shape"),
    ("a", 2.0, "must be numbers"),
    (np.nan, 2.0, "bz_nT must be finite"),
    (0.0, np.inf, "dp_nPa must be > 0"),
])
def test_shue_r0_bad_inputs(bz, dp, msg):
    from mms_mp.coords import shue_r0, shue_alpha
    for f in (shue_r0, shue_alpha):
        with pytest.raises(InputError, match=msg):
            f(bz, dp)


def test_shue_r0_arrays_still_broadcast():
    from mms_mp.coords import shue_r0
    np.testing.assert_allclose(shue_r0(np.array([0.0, -5.0]), 2.0),
                               [shue_r0(0.0, 2.0), shue_r0(-5.0, 2.0)])


@pytest.mark.parametrize("L,N,msg", [
    ([np.nan, 0, 0], [0, 0, 1], "L must be a 3-component"),
    ([1, 0, 0], [0, np.inf, 1], "N must be a 3-component"),
    ([1, 0], [0, 1], "L must be a 3-component"),
    ([1, 0, 0], [[0, 0, 1]], "N must be a 3-component"),
    ("x", [0, 0, 1], "L must be a 3-component"),
])
def test_lmn_from_vectors_bad_vectors(L, N, msg):
    from mms_mp.coords import lmn_from_vectors
    with pytest.raises(InputError, match=msg):
        lmn_from_vectors(L, N, frame="GSE")


def test_lmn_from_vectors_sigma():
    from mms_mp.coords import lmn_from_vectors
    for s in (-3, np.inf, "big"):
        with pytest.raises(InputError, match="sigma_N_deg must be ≥ 0"):
            lmn_from_vectors([1, 0, 0], [0, 0, 1], frame="GSE", sigma_N_deg=s)
    assert np.isnan(lmn_from_vectors([1, 0, 0], [0, 0, 1], frame="GSE").sigma_N_deg)
    assert lmn_from_vectors([1, 0, 0], [0, 0, 1], frame="GSE", sigma_N_deg=3).sigma_N_deg == 3.0


@pytest.mark.parametrize("kw,msg", [
    (dict(cmap="nope"), "unknown colour map 'nope'"),
    (dict(max_records=0), "max_records must be a whole number ≥ 1"),
    (dict(max_records=-5), "max_records must be a whole number ≥ 1"),
    (dict(vmin=-1.0), "vmin must be > 0"),
    (dict(vmax=np.nan), "vmax must be > 0"),
    (dict(vmin="1"), "vmin must be > 0"),
    (dict(vmin=10.0, vmax=1.0), "vmin ≤ vmax"),
])
def test_spectrogram_drawing_options(kw, msg):
    "Options matplotlib refused late (bad cmap: raw ValueError) or took silently."
    import matplotlib.pyplot as plt
    from mms_mp.spectra import fpi_ion_spectrogram
    t, E, S = _spec()
    with pytest.raises(InputError, match=msg):
        fpi_ion_spectrogram((t, E, S), probe=1, **kw)
    plt.close("all")


def test_detect_two_samples_says_too_few_not_all_nan():
    "Two finite samples of B were reported as 'no finite samples (all NaN or fill)'."
    from mms_mp.core import NoDataError
    from mms_mp.detect import detect_crossings
    t, B, _, _ = _harris3()
    with pytest.raises(NoDataError, match=r"fewer than 10 finite samples each \(B_L 2\)"):
        detect_crossings(t[:2], B[:2], np.eye(3), lmn_frame="GSE", probe="1")
    with pytest.raises(NoDataError, match=r"no finite samples \(all NaN or fill"):
        detect_crossings(t, B * np.nan, np.eye(3), lmn_frame="GSE", probe="1")


def test_detect_one_feature_message_grammar_and_negative_density():
    "One unusable feature read 'density have no finite samples'; a density ≤ 0 is said to count as missing."
    from mms_mp.core import NoDataError
    from mms_mp.detect import detect_crossings
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(200) * np.timedelta64(150, "ms")
    with pytest.raises(NoDataError, match=r"probe 1: density has no finite samples \(all NaN or fill; a density ≤ 0"):
        detect_crossings(None, None, None, t_n=t, Ni=-np.ones(200), probe="1")
