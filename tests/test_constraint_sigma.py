"""σ of a constrained (⟨B_N⟩ = 0) per-crossing normal includes what the constraint costs (σ_constraint).

Known answers: a tanh current sheet with a chosen normal (`minvar._harris_sheet`). With B_N = 0 the constraint is
right and costs little; with B_N ≠ 0 (a rotational discontinuity) the constrained normal is turned away from the truth
by about atan(B_N / |⟨B_t⟩|), which the noise and window parts of σ do not see. Unconstrained normals carry
σ_constraint = 0 and keep their σ bit for bit.
"""
import numpy as np
import pytest

from mms_mp.minvar import _harris_sheet
from mms_mp.normals import crossing_normal, nested_scan
from mms_mp.schema import normal_json

N0 = np.array([0.9, 0.4, 0.1]) / np.linalg.norm([0.9, 0.4, 0.1])
T = np.datetime64("2019-01-27T12:00", "ns") + (np.arange(4000) * 50_000_000).astype("timedelta64[ns]")


def sheet(bn, seed=1):
    B, R = _harris_sheet(N0, [0.0, 0.0, 1.0], n=len(T), B0=30.0, Bg=20.0, bump=5.0, BN=bn, noise=0.5, seed=seed)
    return B, R


def err_deg(cn):
    return float(np.degrees(np.arccos(min(1.0, abs(cn.n_hat @ N0)))))


@pytest.mark.parametrize("bn", [2.0, 5.0, -4.0])
def test_rd_bias_is_in_sigma(bn):
    B, R = sheet(bn)
    cn = crossing_normal(T, B, T[2000], 25.0, R, constraint="<Bn>=0")
    bias = np.degrees(np.arctan(abs(bn) / 20.0))                # ⟨B_t⟩ ≈ the 20 nT guide field (+ bump)
    assert err_deg(cn) > 0.5 * bias                              # the constraint did turn the normal
    assert err_deg(cn) > 2 * np.hypot(cn.sigma_random_deg, cn.sigma_window_deg)   # old σ: dishonest
    assert err_deg(cn) <= 2 * cn.sigma_deg
    assert 0.7 * err_deg(cn) < cn.sigma_constraint_deg < 1.5 * err_deg(cn) + 1
    assert "σ_constraint" in cn.reason and cn.method == "mva_nested <Bn>=0"


def test_td_constraint_costs_little():
    B, R = sheet(0.0)
    cn = crossing_normal(T, B, T[2000], 25.0, R, constraint="<Bn>=0")
    assert cn.sigma_constraint_deg < 1.0 and err_deg(cn) <= 2 * cn.sigma_deg


def test_unconstrained_unchanged():
    B, R = sheet(3.0)
    cn = crossing_normal(T, B, T[2000], 25.0, R)
    assert cn.sigma_constraint_deg == 0.0
    assert cn.sigma_deg == float(np.hypot(cn.sigma_random_deg, cn.sigma_window_deg))
    assert nested_scan(T, B, T[2000], 25.0).free_normals is None


def test_free_normals_follow_the_scan_sign_and_json():
    B, R = sheet(3.0)
    sc = nested_scan(T, B, T[2000], 25.0, constraint="<Bn>=0")
    assert sc.free_normals.shape == sc.normals.shape
    assert (np.sum(sc.free_normals * sc.normals, axis=1) > 0).all()
    d = normal_json(crossing_normal(T, B, T[2000], 25.0, R, constraint="<Bn>=0"))
    assert d["sigma_constraint_deg"] > 0 and np.isclose(
        d["sigma_deg"], np.sqrt(d["sigma_random_deg"] ** 2 + d["sigma_window_deg"] ** 2
                                + d["sigma_constraint_deg"] ** 2))
