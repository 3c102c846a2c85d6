"""The overlay's sign comparison: a published normal nearly perpendicular to ours has no known sign. A walkthrough
printed `84.5° ± 12° (7.1 σ), published n̂ inward` for a normal 95° from ours (n̂·n̂_pub ≈ −0.09)."""
import numpy as np
from hypothesis import given, strategies as st

from mms_mp.cli import _dv, _vs
from mms_mp.overlay import PublishedNormal, compare_normal


def _at(deg: float) -> np.ndarray:
    "A unit normal `deg` degrees from x, in the x–y plane (GSE)."
    return np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg)), 0.0])


def test_walkthrough_normal_95_deg_away_is_undetermined_not_inward():
    c = compare_normal(_at(0), 10.0, PublishedNormal("1", _at(95), "GSE", sigma_deg=6.6))
    assert c["opposite_sign"] is None and abs(c["sigma_angle_deg"] - 12.0) < 0.05
    assert _vs(c).endswith("sign undetermined: within 2σ of perpendicular") and "inward" not in _vs(c)
    far = compare_normal(_at(0), 10.0, PublishedNormal("1", _at(170), "GSE", sigma_deg=6.6))
    assert far["opposite_sign"] is True and _vs(far).endswith("published n̂ inward")


@given(theta=st.floats(0.0, 180.0), sigma=st.floats(0.1, 30.0))
def test_sign_is_known_exactly_outside_two_sigma_of_perpendicular(theta, sigma):
    "Undetermined iff θ lies within 2σ of 90°; elsewhere the sign of n̂·n̂_pub."
    c = compare_normal(_at(0), sigma, PublishedNormal("1", _at(theta), "GSE"))
    if abs(theta - 90.0) < 2 * sigma - 1e-6: assert c["opposite_sign"] is None
    elif abs(theta - 90.0) > 2 * sigma + 1e-6: assert c["opposite_sign"] is (theta > 90.0)


def test_speed_along_a_normal_of_unknown_sign_is_not_compared():
    "Near perpendicular the published V was turned by the unknown sign of n̂·n̂_pub: dV of any sign."
    pub = PublishedNormal("1", _at(95), "GSE", 25.0, 6.6, 3.0)
    c = compare_normal(_at(0), 10.0, pub, V_ours=21.0, sigma_V_ours=4.0)
    assert c["opposite_sign"] is None
    assert all(np.isnan(c[k]) for k in ("published_V_along_ours_km_s", "dV_km_s", "dV_sigma")), c
    assert _dv(c) == "speed not compared: the published n̂'s sign is undetermined"
    far = compare_normal(_at(0), 10.0, PublishedNormal("1", _at(170), "GSE", 25.0, 6.6, 3.0),
                         V_ours=21.0, sigma_V_ours=4.0)
    assert far["published_V_along_ours_km_s"] == -25.0 and _dv(far).startswith("dV +46.0 ± 5 km/s")
