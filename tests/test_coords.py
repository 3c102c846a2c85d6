"""mms_mp.minvar and mms_mp.coords: agreement with pySPEDAS minvar, statistical coverage of the MVA errors,
hostile inputs."""
import numpy as np
import pytest

from mms_mp.core import FrameError, GeometryError, InputError, R_E_KM, gse_to_gsm, gsm_to_gse
from mms_mp.coords import hybrid_lmn, lmn_from_vectors, shue_alpha, shue_normal, shue_r0
from mms_mp.minvar import _harris_sheet, mva, mva_scan, nested_windows, sliding_windows


def _angle(a, b):
    return np.degrees(np.arccos(np.clip(abs(np.dot(a, b)), 0, 1)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mva_matches_pyspedas_minvar(seed):
    "Eigenvalues and eigenvectors agree with pySPEDAS minvar to 1e-10 (eigenvectors up to sign)."
    from pyspedas.cotrans_tools.minvar import minvar
    rng = np.random.default_rng(seed)
    n = rng.normal(size=3)
    B, _ = _harris_sheet(n, rng.normal(size=3), n=500, seed=seed)
    B = B + rng.normal(0, 20, 3)          # arbitrary background field
    res = mva(B)
    _, v, w = minvar(B.copy())
    np.testing.assert_allclose(res.eigenvalues, w, rtol=1e-10, atol=1e-10 * w[0])
    for i in range(3):
        assert abs(abs(res.vectors[i] @ v[:, i]) - 1) < 1e-10


def test_mva_error_coverage_unconstrained():
    "Over 200 noisy sheets with random normals, the true normal lies within 3σ_n in ≥ 95 % (2-D Gaussian: 98.9 %)."
    rng = np.random.default_rng(42)
    hits, bn_hits = [], []
    for seed in range(200):
        n, l = rng.normal(size=3), rng.normal(size=3)
        B, R = _harris_sheet(n, l, seed=seed, BN=3.0)
        r = mva(B)
        hits.append(_angle(r.normal, R[2]) < 3 * r.sigma_n_deg)
        bn_hits.append(abs(abs(r.Bn) - 3.0) < 3 * r.sigma_Bn)
    assert np.mean(hits) >= 0.95
    assert np.mean(bn_hits) >= 0.95


def test_mva_sigma_shrinks_with_samples():
    "Δφ ∝ 1/sqrt(M−1): four times the samples halve the error (S&S eq. 8.23)."
    B1, _ = _harris_sheet([1, 0, 0], [0, 0, 1], n=400, seed=0, noise=0.0)
    B4, _ = _harris_sheet([1, 0, 0], [0, 0, 1], n=1600, seed=0, noise=0.0)
    noise = np.random.default_rng(1)
    r1 = mva(B1 + noise.normal(0, 1, B1.shape)); r4 = mva(B4 + noise.normal(0, 1, B4.shape))
    assert r4.dphi23_deg == pytest.approx(r1.dphi23_deg * np.sqrt(399 / 1599), rel=0.15)


def test_nan_rows_dropped_not_zero_filled():
    "NaN rows are dropped and counted: the result equals MVA on the finite rows."
    B, _ = _harris_sheet([1, 0.2, 0], [0, 0, 1], seed=3)
    Bn = B.copy(); Bn[5, 1] = np.nan; Bn[77] = np.inf
    r, ref = mva(Bn), mva(np.delete(B, [5, 77], axis=0))
    assert (r.n_nan, r.n_samples) == (2, 398)
    np.testing.assert_allclose(r.eigenvalues, ref.eigenvalues, rtol=1e-12)


def test_scan_datetime_windows():
    "Nested windows in datetime64 on a sheet centred at a known time: every normal within 3σ of the truth."
    n = np.array([0.95, 0.2, 0.1]); n /= np.linalg.norm(n)
    B, R = _harris_sheet(n, [0, 0, 1], n=801, seed=7)
    t = np.datetime64("2019-01-27T12:30:00", "ns") + (np.arange(801) * 100_000_000).astype("timedelta64[ns]")
    sc = mva_scan(B, t, nested_windows("2019-01-27T12:30:40", [15, 25, 40]))
    assert np.all(np.degrees(np.arccos(np.abs(sc.normals @ R[2]))) < 3 * sc.sigma_n_deg)
    assert sc.n_samples.tolist() == [301, 501, 801]
    sw = sliding_windows("2019-01-27T12:30:00", "2019-01-27T12:31:20", 40, 20)
    assert len(sw) == 3 and sw[0][0] == np.datetime64("2019-01-27T12:30:00")


def test_scan_small_windows_flagged():
    "A window with too few samples gives a NaN row, not an error or a fake normal."
    B, _ = _harris_sheet([1, 0, 0], [0, 0, 1], seed=0)
    t = np.arange(400.0)
    sc = mva_scan(B, t, [(0, 3), (0, 399)])
    assert not sc.ok[0] and sc.ok[1] and sc.n_samples[0] == 4


@pytest.mark.parametrize("bad, msg", [
    (np.zeros((5, 3)) + 1, "at least 10"),
    (np.zeros((30, 4)), "(N,3)"),
    (np.zeros(30), "(N,3)"),
    (np.zeros((0, 3)), "NaN/inf"),
    ([["a", "b", "c"]] * 20, "must be numeric"),
])
def test_mva_hostile(bad, msg):
    with pytest.raises(InputError) as e:
        mva(bad)
    assert msg in str(e.value)


def test_unknown_frame_and_mismatch():
    B, _ = _harris_sheet([1, 0, 0], [0, 0, 1], seed=0)
    with pytest.raises(FrameError, match="unknown frame"):
        mva(B, frame="XYZ")
    t = lmn_from_vectors([0, 0, 1], [1, 0, 0], frame="GSM")
    with pytest.raises(FrameError, match="is in GSE but this operation needs GSM"):
        t.to_lmn(B, frame="GSE")
    with pytest.raises(FrameError, match="GSE or GSM"):
        hybrid_lmn(B, [10 * R_E_KM, 0, 0], frame="LMN")


def test_positions_hostile():
    with pytest.raises(InputError, match="multiply by 6371.2"):
        shue_normal(np.array([[10.0, 1, 1], [9.0, 2, 0]]))
    with pytest.raises(InputError, match="shape"):
        shue_normal(np.zeros((4, 2)) + 7e4)
    with pytest.raises(InputError, match="NaN"):
        shue_normal([np.nan, 7e4, 0])
    with pytest.raises(InputError, match="dp_nPa"):
        shue_normal([7e4, 0, 0], dp_nPa=0.0)


def test_shue_published_standoff():
    "Shue 1998 r0 for Bz=0, Dp=2 nPa ≈ 10.25 R_E; lower Bz and higher Dp move it Earthward (monotonic)."
    assert shue_r0(0, 2) == pytest.approx(10.2525, abs=1e-3)
    bz = np.linspace(-20, 20, 41)
    assert np.all(np.diff(shue_r0(bz, 2.0)) > 0) and np.all(np.diff(shue_r0(0.0, np.linspace(0.5, 20, 30))) < 0)
    assert np.all(np.diff(shue_alpha(bz, 2.0)) < 0)          # southward IMF flares the tail more


def test_hybrid_sign_both_branches_gse_tilt():
    "On the dusk flank with a 30° tilt, N is outward and L·Z_GSM > 0 whichever branch is taken."
    psi = np.radians(-30)
    pos = np.array([5.0, 9.0, -3.0]) * R_E_KM
    n_gsm = shue_normal(pos).normal[0]
    for kw in (dict(), dict(B0=0.3, bump=0.0, Bg=25.0)):
        # MVA signs reversed on purpose
        B, R = _harris_sheet(-gsm_to_gse(n_gsm, psi), -gsm_to_gse([0, 0, 1.0], psi), seed=11, **kw)
        h = hybrid_lmn(B, pos, frame="GSE", psi_rad=psi)
        assert gse_to_gsm(h.N, psi) @ n_gsm > 0.99 if h.method == "model" else _angle(h.N, R[2]) < 3 * h.sigma_N_deg
        assert gse_to_gsm(h.N, psi) @ n_gsm > 0 and gse_to_gsm(h.L, psi)[2] > 0
        np.testing.assert_allclose(np.cross(h.L, h.M), h.N, atol=1e-12)
    assert h.method == "model" and np.isfinite(h.sigma_N_deg) and h.sigma_N_deg > 0


def test_hybrid_ratio_threshold_is_a_parameter():
    "The same data switch method exactly at ratio_min = λ2/λ3."
    pos = np.array([10.0, 1.0, 1.0]) * R_E_KM
    B, _ = _harris_sheet(shue_normal(pos).normal[0], [0, 0, 1], seed=2)
    r23 = mva(B, frame="GSM").ratio23
    assert hybrid_lmn(B, pos, frame="GSM", ratio_min=r23 * 0.999).method == "MVA"
    assert hybrid_lmn(B, pos, frame="GSM", ratio_min=r23 * 1.001).method == "model"


def test_hybrid_no_position_poor_ratio_raises():
    rng = np.random.default_rng(0)
    with pytest.raises(GeometryError, match="pass pos_gsm_km"):
        hybrid_lmn(rng.normal(size=(100, 3)) + [0, 0, 20], None, frame="GSM")


def test_bootstrap_matches_analytic_across_blocks():
    "With independent noise and many samples (several resample blocks), bootstrap σ_n ≈ S&S σ_n (within 1.5×)."
    from mms_mp.minvar import mva_bootstrap
    B, R = _harris_sheet([0.8, -0.5, 0.3], [0, 0.3, 1], n=60_000, seed=4, noise=3.0)
    bs = mva_bootstrap(B, n_boot=150, seed=1)
    assert 1 / 1.5 < bs.sigma_n_deg / bs.base.sigma_n_deg < 1.5
    assert bs.normals.shape == (150, 3) and np.all(bs.normals @ bs.base.normal > 0)


def test_bootstrap_constrained_coverage():
    "Constrained MVA with true B_N = 0: the truth lies within 3 bootstrap σ in ≥ 90 % of 60 realisations."
    from mms_mp.minvar import mva_bootstrap
    rng = np.random.default_rng(9)
    hits = []
    for seed in range(60):
        B, R = _harris_sheet(rng.normal(size=3), rng.normal(size=3), BN=0.0, seed=seed)
        bs = mva_bootstrap(B, n_boot=200, seed=seed, constraint="<Bn>=0")
        hits.append(_angle(bs.base.normal, R[2]) < 3 * bs.sigma_n_deg)
    assert np.mean(hits) >= 0.9


def test_lmn_for_probe_missing_and_wrong_frame():
    "No positions (MVA alone, or a clear refusal), B in the wrong frame, or all-NaN positions: clear errors."
    import xarray as xr
    from mms_mp.core import NoDataError
    from mms_mp.coords import lmn_for_probe
    B, _ = _harris_sheet([1, 0.1, 0], [0, 0, 1], seed=0)
    t = np.datetime64("2019-01-27T12:30", "ns") + np.arange(len(B)).astype("timedelta64[s]")
    da = lambda v, fr: xr.DataArray(v, dims=("time", "comp"), coords={"time": t}, attrs={"frame": fr})
    pos = np.tile([10 * R_E_KM, 0, 0], (len(t), 1))
    # no position (no MEC, no FGM state): MVA alone, said so; a poor MVA without positions is refused
    lmn = lmn_for_probe({"1": {"B_gse": da(B, "GSE"), "R_gse": da(pos, "GSE")}}, "1")
    assert lmn.method == "MVA" and "no position" in lmn.reason
    noise = np.random.default_rng(1).normal(0, 1, B.shape)
    with pytest.raises(GeometryError, match="no position was given"):
        lmn_for_probe({"1": {"B_gse": da(noise, "GSE")}}, "1")
    with pytest.raises(FrameError, match="B_gse of probe '1' is in GSM"):
        lmn_for_probe({"1": {"B_gse": da(B, "GSM"), "R_gse": da(pos, "GSE"), "R_gsm": da(pos, "GSM")}}, "1")
    with pytest.raises(NoDataError, match="no finite MEC position"):
        lmn_for_probe({"1": {"B_gse": da(B, "GSE"), "R_gse": da(pos * np.nan, "GSE"),
                             "R_gsm": da(pos * np.nan, "GSM")}}, "1")


def test_lmn_for_probe_short_window_interpolates_mec_position():
    ("A window shorter than MEC's 30 s cadence holds no MEC sample: the position is interpolated to its centre, "
     "not refused.")
    import warnings
    from mms_mp.synthetic import demo_event_dir
    from mms_mp.simtruth import load_truth
    from mms_mp.data import load_event
    from mms_mp.coords import lmn_for_probe
    d = demo_event_dir(); tr = load_truth(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = load_event(tr.trange, ("1",), rate="srvy", instruments=("fgm", "mec"), source="local", data_dir=d)
    c = tr.crossings_of("1")[1]
    t_mec = ev["1"]["R_gse"]["time"].values
    a = c.time - np.timedelta64(10, "s"); b = c.time + np.timedelta64(10, "s")
    if ((t_mec >= a) & (t_mec <= b)).any():   # move the 20 s window between two MEC samples
        k = np.searchsorted(t_mec, c.time)
        a, b = t_mec[k - 1] + np.timedelta64(5, "s"), t_mec[k] - np.timedelta64(5, "s")
    l = lmn_for_probe(ev, "1", trange=(a, b))
    assert np.degrees(np.arccos(min(1.0, abs(l.N @ tr.N_gse)))) < 5.0   # MVA or the model fallback, both near truth


@pytest.mark.parametrize("axis", [[1.0, 0, 0], [0.3, -0.8, 0.5], [0, 0, 1.0]])
def test_mva_no_min_variance_raises(axis):
    "A field varying along one axis only (λ2 = λ3 = 0) or constant has no normal: GeometryError, never σ = NaN."
    B1 = 20 + np.outer(np.linspace(-5, 5, 80), axis)
    const = np.tile([4.0, -2.0, 30.0], (80, 1))
    for B, constraint in ((B1, None), (const, None), (const, "<Bn>=0")):
        with pytest.raises(GeometryError, match="no minimum-variance direction"):
            mva(B, constraint=constraint)
    r = mva(B1, allow_degenerate=True)
    assert r.degenerate  # its σ would be 0 or NaN: meaningless, so mva refuses it by default


def test_hybrid_and_scan_handle_degenerate_windows():
    "hybrid_lmn falls back to the model and says why; a scan leaves a degenerate window as a NaN row."
    pos = np.array([10.0, 1.0, 1.0]) * R_E_KM
    B = 20 + np.outer(np.linspace(-5, 5, 80), [0, 0.6, 0.8])
    h = hybrid_lmn(B, pos, frame="GSM")
    assert h.method == "model" and "no minimum-variance direction" in h.reason
    with pytest.raises(GeometryError, match="pass pos_gsm_km"):
        hybrid_lmn(B, None, frame="GSM")
    Bs, _ = _harris_sheet([1, 0, 0], [0, 0, 1], n=200, seed=0)
    Bs[:100] = Bs[0]  # a constant first half
    sc = mva_scan(Bs, np.arange(200.0), [(0.0, 99.0), (0.0, 199.0)])
    assert np.isnan(sc.normals[0]).all() and np.isfinite(sc.normals[1]).all()
