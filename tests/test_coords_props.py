"""Property tests (hypothesis) for mms_mp.coords: triads orthonormal and right-handed, round trips, rotation covariance,
Shue normals unit and outward."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from mms_mp.core import GeometryError, R_E_KM
from mms_mp.coords import hybrid_lmn, lmn_from_vectors, shue_normal
from mms_mp.minvar import mva

finite = st.floats(-200, 200, allow_nan=False, allow_infinity=False)
fields = st.integers(10, 60).flatmap(lambda n: arrays(np.float64, (n, 3), elements=finite))
unit3 = arrays(np.float64, 3, elements=st.floats(-1, 1)).filter(lambda v: np.linalg.norm(v) > 0.1)
SET = settings(max_examples=60, deadline=None)


def _is_rotation(R):
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
    assert abs(np.linalg.det(R) - 1) < 1e-9


def _nondegenerate(B):
    C = np.cov(B.T)
    return np.all(np.isfinite(C)) and np.linalg.eigvalsh(C)[0] > 1e-6 * max(np.trace(C), 1e-300)


@SET
@given(fields)
def test_mva_triad_orthonormal_right_handed(B):
    assume(_nondegenerate(B))
    r = mva(B)
    _is_rotation(r.vectors)
    assert r.eigenvalues[0] >= r.eigenvalues[1] >= r.eigenvalues[2] >= -1e-9 * r.eigenvalues[0]
    assert r.normal[0] >= 0 and r.vectors[0][2] >= 0                   # documented sign rule


@SET
@given(fields)
def test_constrained_triad_and_zero_bn(B):
    assume(_nondegenerate(B) and np.linalg.norm(B.mean(0)) > 1e-3 * np.abs(B).max())
    r = mva(B, constraint="<Bn>=0", allow_degenerate=True)
    _is_rotation(r.vectors)
    if r.degenerate:  # equal variances in the plane ⟂ ⟨B⟩: no constrained normal, so mva refuses it by default
        with pytest.raises(GeometryError, match="no minimum-variance direction"):
            mva(B, constraint="<Bn>=0")
    assert abs(r.Bn) <= 1e-9 * np.linalg.norm(r.B_mean)
    assert r.eigenvalues[0] >= r.eigenvalues[2] * (1 - 1e-9)


@SET
@given(fields, unit3, st.floats(0, 2 * np.pi))
def test_mva_rotation_covariance(B, axis, angle):
    "Rotating the data by Q rotates the eigenvectors by Q and leaves the eigenvalues unchanged."
    assume(_nondegenerate(B))
    lam = np.linalg.eigvalsh(np.cov(B.T))
    assume(np.min(np.diff(lam)) > 1e-3 * lam[-1])                    # separated eigenvalues: eigenvectors defined
    k = axis / np.linalg.norm(axis); K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    Q = np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K
    r, rq = mva(B), mva(B @ Q.T)
    np.testing.assert_allclose(rq.eigenvalues, r.eigenvalues, rtol=1e-7, atol=1e-9 * r.eigenvalues[0])
    dots = np.abs(np.einsum("ij,ij->i", rq.vectors, r.vectors @ Q.T))
    np.testing.assert_allclose(dots, 1, atol=1e-6)


@SET
@given(unit3, unit3, arrays(np.float64, (5, 3), elements=finite))
def test_lmn_round_trip(L, N, V):
    assume(np.linalg.norm(np.cross(L / np.linalg.norm(L), N / np.linalg.norm(N))) > 1e-3)
    t = lmn_from_vectors(L, N, frame="GSM")
    _is_rotation(t.R)
    np.testing.assert_allclose(t.from_lmn(t.to_lmn(V, frame="GSM")), V, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(t.to_lmn(V, frame="GSM"), axis=1), np.linalg.norm(V, axis=1), atol=1e-9)


dayside = st.tuples(st.floats(6, 25), st.floats(0, 85), st.floats(-180, 180))   # (r R_E, θ deg, φ deg)


def _pos(r, th, ph):
    th, ph = np.radians(th), np.radians(ph)
    return r * R_E_KM * np.array([np.cos(th), np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph)])


@SET
@given(st.lists(dayside, min_size=1, max_size=8), st.floats(-15, 15), st.floats(0.5, 20),
       st.sampled_from(["1997", "1998"]), st.floats(0, 5))
def test_shue_normal_unit_outward(pts, bz, dp, model, ab):
    P = np.array([_pos(*p) for p in pts])
    s = shue_normal(P, bz_nT=bz, dp_nPa=dp, model=model, aberration_deg=ab)
    np.testing.assert_allclose(np.linalg.norm(s.normal, axis=1), 1, atol=1e-12)
    assert np.all(np.einsum("ij,ij->i", s.normal, s.mapped_km) > 0)       # outward
    assert np.all(s.radial_angle_deg < 90)
    # the mapped point lies on the same ray and on the model surface
    np.testing.assert_allclose(np.cross(s.mapped_km, P) / np.linalg.norm(P, axis=1)[:, None] ** 2, 0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(P, axis=1) - np.linalg.norm(s.mapped_km, axis=1), s.distance_km,
                               rtol=1e-9, atol=1e-6)


@SET
@given(fields, dayside, st.floats(-0.6, 0.6), st.floats(1, 20))
def test_hybrid_triad_outward(B, p, psi, ratio_min):
    assume(_nondegenerate(B))
    pos = _pos(*p)
    h = hybrid_lmn(B, pos, frame="GSE", psi_rad=psi, ratio_min=ratio_min)
    _is_rotation(h.R)
    n_gse = shue_normal(pos).normal[0]
    from mms_mp.core import gsm_to_gse
    assert h.N @ gsm_to_gse(n_gse, psi) >= 0
    assert h.method in ("MVA", "model") and f"{h.ratio23:.2f}" in h.reason


@SET
@given(st.floats(2, 150), st.floats(-180, 180), st.floats(-15, 15), st.floats(0.5, 20),
       st.sampled_from(["1997", "1998"]))
def test_shue_normal_perpendicular_to_surface(th_deg, ph_deg, bz, dp, model):
    ("Finite-difference tangents of the model surface along θ and azimuth are ⊥ the normal "
     "(surface gradient, not radial).")
    from mms_mp.coords import shue_alpha, shue_r0
    r0, al = shue_r0(bz, dp, model), shue_alpha(bz, dp, model)
    S = lambda t, p: r0 * R_E_KM * (2 / (1 + np.cos(t))) ** al * np.array([np.cos(t), np.sin(t) * np.cos(p),
                                                                           np.sin(t) * np.sin(p)])
    t, p, h = np.radians(th_deg), np.radians(ph_deg), 1e-6
    n = shue_normal(1.2 * S(t, p), bz_nT=bz, dp_nPa=dp, model=model).normal[0]
    for d in ((S(t + h, p) - S(t - h, p)), (S(t, p + h) - S(t, p - h))):
        assert abs(n @ d / np.linalg.norm(d)) < 1e-6
    assert n @ S(t, p) > 0


@SET
@given(fields, arrays(np.float64, 3, elements=finite))
def test_mva_offset_invariance(B, c):
    "A constant offset (e.g. a calibration offset) changes ⟨B⟩ but not the variance matrix: same eigenvalues and triad."
    assume(_nondegenerate(B))
    lam = np.linalg.eigvalsh(np.cov(B.T)); assume(np.min(np.diff(lam)) > 1e-3 * lam[-1])
    r, ro = mva(B), mva(B + c)
    np.testing.assert_allclose(ro.eigenvalues, r.eigenvalues, rtol=1e-6, atol=1e-9 * r.eigenvalues[0])
    np.testing.assert_allclose(np.abs(np.einsum("ij,ij->i", ro.vectors, r.vectors)), 1, atol=1e-6)
