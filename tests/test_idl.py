"""mms_mp.idl: the IDL .sav reader on the real 2019-01-27 SPEDAS output, and compare_lmn on triads with known angles."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mms_mp.core import FrameError, InputError, NoDataError, gse_to_gsm
from mms_mp.idl import check_triad, compare_lmn, load_sav, unix_to_datetime64

SAV = "tests/fixtures/mp_lmn_systems_20190127_1215_1255_mp_ver2.sav"


@pytest.fixture(scope="module")
def idl(repo_root):
    return load_sav(repo_root / SAV, frame="GSM")


def test_reader_keys_shapes_frame(idl):
    assert sorted(idl.triads) == ["1", "2", "3", "4"]
    assert idl.frame == "GSM"
    for p in "1234":
        R = idl.R(p)
        assert R.shape == (3, 3)
        np.testing.assert_allclose(np.linalg.norm(R, axis=1), 1.0, atol=1e-12)  # unit vectors
        assert idl.R(f"mms{p}") is R
        s = idl.series[f"vi_lmn{p}"]
        assert s.values.shape == (len(s.time), 3) and s.frame == "LMN"
        assert s.time.dtype == np.dtype("datetime64[ns]")
        assert np.all(np.diff(s.time) > np.timedelta64(0))


def test_reader_times_in_event_window(idl):
    lo, hi = np.datetime64("2019-01-27T11:00", "ns"), np.datetime64("2019-01-27T14:00", "ns")
    for s in idl.series.values():
        assert lo <= s.time[0] and s.time[-1] <= hi
        step = np.diff(s.time).astype("int64") / 1e9
        np.testing.assert_allclose(np.median(step), 4.5, atol=1e-3)  # FPI fast cadence
    a, b = idl.tranges["trange_full"]
    assert (a, b) == (np.datetime64("2019-01-27T12:15", "ns"), np.datetime64("2019-01-27T12:55", "ns"))
    for p in "1234":
        a, b = idl.tranges[f"trange_lmn{p}"]
        assert np.datetime64("2019-01-27T12:42", "ns") < a < b < np.datetime64("2019-01-27T12:44", "ns")


def test_unix_seconds_known_epochs():
    # 2019-01-27T00:00:00Z is 1548547200 s after the Unix epoch (17923 days)
    assert unix_to_datetime64(17923 * 86400.0) == np.datetime64("2019-01-27", "ns")
    assert unix_to_datetime64(1548592980.25) == np.datetime64("2019-01-27T12:43:00.25", "ns")


def _rot(axis, deg):
    a = np.asarray(axis, float) / np.linalg.norm(axis); t = np.radians(deg)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * K + (1 - np.cos(t)) * K @ K


@settings(max_examples=40, deadline=None)
@given(deg=st.floats(0.0, 179.0), axis=st.sampled_from([0, 1, 2]))
def test_compare_rotation_about_one_axis(deg, axis):
    """Rotating a triad by θ about its own axis k moves the other two axes by exactly θ and k by 0."""
    R0 = _rot([0.3, -0.5, 0.8], 37.0)                 # an arbitrary right-handed triad
    R = (_rot(R0[axis], deg) @ R0.T).T
    c = compare_lmn(R, R0, ours_frame="GSM", idl_frame="GSM")
    expect = np.full(3, deg); expect[axis] = 0.0
    np.testing.assert_allclose([c.angle_L_deg, c.angle_M_deg, c.angle_N_deg], expect, atol=1e-5)
    assert c.frame == "GSM"


def test_compare_flipped_axis_is_180():
    R0 = np.eye(3); R = R0 * [[1], [-1], [-1]]       # M and N flipped (still right-handed)
    c = compare_lmn(R, R0, ours_frame="GSE", idl_frame="GSE")
    np.testing.assert_allclose([c.angle_L_deg, c.angle_M_deg, c.angle_N_deg], [0, 180, 180], atol=1e-9)


def test_compare_converts_gse_to_gsm_with_psi(idl):
    psi = np.radians(12.5)
    ours_gse = gse_to_gsm(idl.R("2"), -psi)           # the IDL GSM triad expressed in GSE
    c = compare_lmn(ours_gse, idl.R("2"), ours_frame="GSE", idl_frame="GSM", psi_rad=psi)
    assert c.max_deg < 1e-5
    # without the rotation they differ by ψ in the axes not along X
    with pytest.raises(FrameError, match="psi_rad"):
        compare_lmn(ours_gse, idl.R("2"), ours_frame="GSE", idl_frame="GSM")


def test_compare_object_with_R_and_frame(idl):
    class Lmn:  # what mms_mp.coords returns: .R (rows L, M, N) and .frame
        R = idl.R("1"); frame = "GSM"
    c = compare_lmn(Lmn(), idl.R("1"), idl_frame="GSM")
    assert c.max_deg < 1e-6


def test_idl_triads_valid_but_n_is_along_z(idl):
    """The file's facts as documented in nbs/14_idl: right-handed orthonormal, L_z = 0, N within 20° of +Z."""
    for p in "1234":
        chk = check_triad(idl.R(p), "GSM")
        assert chk.ok and abs(chk.det - 1) < 1e-12
        L, M, N = idl.R(p)
        assert abs(L[2]) < 1e-12
        assert np.degrees(np.arccos(N[2])) < 20


def test_hostile_inputs(tmp_path, idl):
    with pytest.raises(NoDataError, match="no IDL .sav file"):
        load_sav(tmp_path / "missing.sav")
    bad = tmp_path / "junk.sav"; bad.write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match="not a readable IDL .sav file"):
        load_sav(bad)
    with pytest.raises(FrameError, match="unknown frame"):
        load_sav(SAV, frame="XYZ")
    with pytest.raises(InputError, match="no LMN triad for probe 5"):
        idl.R(5)
    with pytest.raises(InputError, match=r"\(3,3\) triad"):
        compare_lmn(np.eye(2), np.eye(3), ours_frame="GSM", idl_frame="GSM")
    with pytest.raises(FrameError, match="has no frame"):
        compare_lmn(np.eye(3), np.eye(3))
