"""The event's B_N prior on each crossing's normal (mms_mp.normal_prior).

Known answers: the least-variance direction on a cone ⟨B⟩·n̂ = b (analytic for a diagonal variance matrix, and
against every other direction on the cone for random ones); the event's B̄_N on SIMULATED planar crossings, where
every crossing shares the simulator's B_N; refusal and degradation without an exception.
"""
import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mms_mp.config import check_sections
from mms_mp.core import InputError
from mms_mp.normal_prior import (BnPrior, _PHI, apply_bn_prior, cone_normal, event_bn_prior, window_moments,
                                 with_bn_prior)
from mms_mp.normals import CrossingNormal

unit = st.lists(st.floats(-1, 1), min_size=3, max_size=3).filter(lambda v: np.linalg.norm(v) > 0.2)


@settings(max_examples=60, deadline=None)
@given(a=unit, e=unit, ev=st.lists(st.floats(0.1, 10), min_size=3, max_size=3), c=st.floats(-0.9, 0.9),
       ref=unit)
def test_cone_normal_is_the_least_variance_on_its_cone(a, e, ev, c, ref):
    Q, _ = np.linalg.qr(np.array([a, e, ref]).T + 0.01 * np.eye(3))
    M = Q @ np.diag(ev) @ Q.T
    Bm = 20 * np.asarray(e) / np.linalg.norm(e)
    n_ref = np.asarray(ref) / np.linalg.norm(ref)
    n = cone_normal(M, Bm, 20 * c, n_ref)
    if n is None: return   # the cone lies wholly on the other side of n_ref
    assert abs(np.linalg.norm(n) - 1) < 1e-12 and abs(Bm @ n - 20 * c) < 1e-9 and n @ n_ref > 0
    # every other direction of the cone on n_ref's side has at least its variance (up to the grid's refinement)
    eh = Bm / 20
    u = np.cross(eh, np.eye(3)[int(np.argmin(np.abs(eh)))])
    u /= np.linalg.norm(u)
    v = np.cross(eh, u)
    N = c * eh + np.sqrt(1 - c * c) * (np.cos(_PHI)[:, None] * u + np.sin(_PHI)[:, None] * v)
    N = N[N @ n_ref > 1e-6]   # on n_ref's side with a margin: cone_normal keeps every direction beyond 1e-9
    if len(N):
        f = np.einsum("ki,ij,kj->k", N, M, N)
        assert n @ M @ n <= f.min() + 1e-9 * max(ev)


def test_prior_needs_enough_finite_crossings_and_matching_shapes():
    assert event_bn_prior([1.0, np.nan, 2.0, 3.0, 4.0], [1.0] * 5) is None
    assert event_bn_prior([1.0, 2.0], [1.0, 1.0], min_crossings=2).n == 2
    with pytest.raises(InputError, match="differ in shape"):
        event_bn_prior([1.0, 2.0], [1.0])


def _cn(n, sigma=5.0, method="mva_nested", window=(None, None)):
    n = np.asarray(n, float) / np.linalg.norm(n)
    L = np.cross(n, [0, 1.0, 0])
    L /= np.linalg.norm(L)
    return CrossingNormal(n, L, np.cross(n, L), "GSE", sigma, 3.0, 4.0, method, window,
                          np.array([9.0, 4.0, 1.0]), 20.0, "test")


def test_a_normal_without_a_cone_or_sigma_is_kept_and_flagged():
    pr = BnPrior(30.0, 0.0, 0.0, 0.0, 9, 0.0, 9)   # |B̄_N| beyond |⟨B⟩|: no cone
    out = with_bn_prior(_cn([0, 0, 1.0]), np.array([20.0, 0, 0]), np.diag([9.0, 4, 1]), pr)
    assert out.flags == ("bn_prior_rejected",) and np.array_equal(out.n_hat, [0, 0, 1.0])
    out = with_bn_prior(_cn([0, 0, 1.0], sigma=np.nan), np.array([20.0, 0, 0]), np.diag([9.0, 4, 1]),
                        BnPrior(0.0, 0.0, 0.0, 0.0, 9, 0.0, 9))
    assert "bn_prior_rejected" in out.flags


def test_window_without_rows_and_fallbacks_are_left_alone():
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(100) * np.timedelta64(100, "ms")
    B = np.tile([20.0, 0, 2.0], (100, 1))
    assert window_moments(t, B, (t[0] - np.timedelta64(60, "s"), t[0] - np.timedelta64(30, "s"))) is None
    fb = _cn([0, 0, 1.0], method="fallback: event LMN")
    out, pr = apply_bn_prior({"1": [fb] * 6}, {"1": (t, B)})
    assert pr is None and out["1"][0] is fb


def test_use_false_measures_without_turning():
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(100) * np.timedelta64(100, "ms")
    rng = np.random.default_rng(0)
    B = np.c_[20 * np.tanh(np.linspace(-3, 3, 100)), rng.normal(0, 1, 100), 2 + rng.normal(0, 0.1, 100)]
    cns = [_cn([0.05, 0, 1.0], window=(t[0], t[-1]))] * 6
    out, pr = apply_bn_prior({"1": cns}, {"1": (t, B)}, use=False)
    assert out["1"] is cns and pr is not None and abs(pr.b0_nT - 2) < 1.5


def test_config_section_is_checked():
    check_sections({"normal_prior": {"use": False, "min_crossings": 3, "max_turn_sigma": 2.5}})
    with pytest.raises(InputError, match="unknown parameter"):
        check_sections({"normal_prior": {"gate": 2}})
    with pytest.raises(InputError):
        check_sections({"normal_prior": {"min_crossings": 1}})


@pytest.fixture(scope="module")
def planar(tmp_path_factory):
    "A SIMULATED planar event (20 min, 2 probes, survey) and its analysis with and without the prior."
    import warnings
    from mms_mp.pipeline import analyze
    from mms_mp.synthetic import simulate_event
    d = tmp_path_factory.mktemp("planar")
    tr = ("2019-01-27T12:15", "2019-01-27T12:35")
    simulate_event(d, trange=tr, probes=("1", "2"), seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on = analyze(tr, ["1", "2"], rate="srvy", source="local", data_dir=d)
        off = analyze(tr, ["1", "2"], rate="srvy", source="local", data_dir=d,
                      config={"normal_prior": {"use": False}})
    return json.loads((d / "truth.json").read_text()), on, off


def test_planar_event_prior_holds_the_simulated_bn(planar):
    truth, on, off = planar
    pr = on.bn_prior
    assert pr is not None and pr.n >= 5 and on.to_json()["normal_prior"] == pr.as_dict()
    assert off.bn_prior is not None and off.to_json()["normal_prior"]["n"] == pr.n   # measured, not applied
    bn = truth["params"]["B_N_nT"]
    assert abs(pr.b0_nT - bn) < 0.2 and pr.spread_nT < 0.2
    for p, ns in on.normals.items():
        for a, b in zip(ns, off.normals[p]):
            if b.method.startswith("fallback"): continue
            assert b.method.endswith("mva_nested") or "prior" not in b.method
            assert a.method == b.method + " + event B_N prior" or "bn_prior_rejected" in a.flags
            turned = np.degrees(np.arccos(min(1.0, a.n_hat @ b.n_hat)))
            assert turned <= 3 * b.sigma_deg and a.sigma_deg >= b.sigma_deg
            assert abs(a.sigma_constraint_deg - turned) < 1e-6 or "bn_prior_rejected" in a.flags


def test_console_says_the_prior_value_and_what_it_did(planar):
    from mms_mp.cli import summary_lines
    truth, on, off = planar
    (line,) = [s for s in summary_lines(on) if s.startswith("event normal field")]
    b0 = float(line.split("B̄_N = ")[1].split(" ±")[0])
    assert abs(b0 - truth["params"]["B_N_nT"]) < 0.2 and "local normals turned toward it" in line
    (line,) = [s for s in summary_lines(off) if s.startswith("event normal field")]
    assert line.endswith("measured, not applied ([normal_prior] use = false)")

def _tilted_lesson():
    "The 04d lesson: a normal 6° from z toward y, ⟨B⟩ along x, variances 9, 4, 1: the b = 0 cone normal is z."
    tilt = np.radians(6.0)
    n6 = np.array([0.0, np.sin(tilt), np.cos(tilt)])
    cn = CrossingNormal(n6, np.array([1.0, 0, 0]), np.cross(n6, [1.0, 0, 0]), "GSE", 5.0, 4.0, 3.0,
                        "mva_nested", (None, None), np.array([9.0, 4.0, 1.0]), 20.0, "test")
    return cn, np.array([20.0, 0, 0]), np.diag([9.0, 4.0, 1.0])


def test_a_turn_judges_the_outward_sign_again_from_the_turned_normal_and_its_grown_sigma():
    "σ 5° → √(4² + 3² + 6²) = 7.8°: a normal 13° from the plane ⊥ N_ref is then within 2σ of it (04b's rule)."
    cn, Bm, M = _tilted_lesson()
    a = np.radians(77.0)
    N_ref, L_ref = np.array([np.sin(a), 0, np.cos(a)]), np.array([-np.cos(a), 0, np.sin(a)])
    R = np.array([L_ref, np.cross(N_ref, L_ref), N_ref])
    assert np.degrees(np.arcsin(cn.n_hat @ N_ref)) > 10   # before: 12.9° off the plane, σ 5°: not ambiguous
    out = with_bn_prior(cn, Bm, M, BnPrior(0.0, 0.0, 0.0, 0.0, 9, 0.0, 9), R_ref=R)
    assert abs(out.sigma_constraint_deg - 6) < 1e-6 and abs(out.sigma_deg - np.sqrt(61)) < 1e-9
    assert "sign_ambiguous" in out.flags                  # 13.0° < 2σ = 15.6°
    far = np.array([[0, 1.0, 0], [-1.0, 0, 0], [0, 0, 1.0]])   # N_ref = z: far from the plane, flag dropped
    out = with_bn_prior(replace(cn, flags=("sign_ambiguous",)), Bm, M, BnPrior(0.0, 0.0, 0.0, 0.0, 9, 0.0, 9), R_ref=far)
    assert "sign_ambiguous" not in out.flags
    refs = apply_bn_prior({"1": [cn]}, {"1": (np.array([], "datetime64[ns]"), np.zeros((0, 3)))},
                          refs={"1": R})[0]   # no window: nothing measured, nothing turned, no error
    assert refs["1"][0] is cn


def test_a_refusal_says_why_without_a_nan_angle():
    cn, Bm, M = _tilted_lesson()
    out = with_bn_prior(cn, Bm, M, BnPrior(30.0, 0.0, 0.0, 0.0, 9, 0.0, 9))   # |B̄_N| > |⟨B⟩|: no cone
    assert "bn_prior_rejected" in out.flags and "nan" not in out.reason and "no direction" in out.reason
    out = with_bn_prior(replace(cn, sigma_deg=np.nan), Bm, M, BnPrior(0.0, 0.0, 0.0, 0.0, 9, 0.0, 9))
    assert "bn_prior_rejected" in out.flags and "nan" not in out.reason and "σ is unknown" in out.reason
    out = with_bn_prior(replace(cn, sigma_deg=1.5), Bm, M, BnPrior(0.0, 0.0, 0.0, 0.0, 9, 0.0, 9))
    assert "6° away, beyond 3σ (4.5°)" in out.reason


def test_only_plain_mva_normals_are_measured_and_turned():
    "Timing normals (density-only crossings) and normals already turned are neither measured nor turned again."
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(100) * np.timedelta64(100, "ms")
    rng = np.random.default_rng(0)
    B = np.c_[20 * np.tanh(np.linspace(-3, 3, 100)), rng.normal(0, 1, 100), 2 + rng.normal(0, 0.1, 100)]
    how = "timing: 4-probe group, density half-level times"
    timing = [_cn([0.05, 0, 1.0], method=how, window=(t[0], t[-1]))] * 6
    out, pr = apply_bn_prior({"1": timing}, {"1": (t, B)})
    assert pr is None and all(a is b for a, b in zip(out["1"], timing))
    once, pr = apply_bn_prior({"1": [_cn([0.05, 0, 1.0], window=(t[0], t[-1]))] * 6}, {"1": (t, B)})
    assert pr is not None and all(c.method.endswith("+ event B_N prior") for c in once["1"])
    twice, pr2 = apply_bn_prior(once, {"1": (t, B)})
    assert pr2 is None and all(a is b for a, b in zip(twice["1"], once["1"]))


def test_each_b_has_the_mva_sigma_of_its_normal_field_with_m_eff():
    """σ_b of a local normal is MVA's σ of ⟨B_N⟩ (Sonnerup & Scheible eq. 8.24) with the window's M_eff, as
    `window_mva` states it: the same number by two routes (moments of the window, the normal's eigenvalues and axes)."""
    from mms_mp.minvar import _harris_sheet, window_mva
    from mms_mp.normal_prior import _measured
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(600) * np.timedelta64(62500, "us")
    B, _ = _harris_sheet([0.9, 0.4, 0.1], [0, 0, 1.0], n=600, BN=2.0, noise=1.0, seed=4)
    B = B + np.convolve(np.random.default_rng(5).normal(0, 1, 609), np.ones(10) / 10, "valid")[:, None]
    r, n_eff, sig = window_mva(B, "GSE")
    assert 2 < n_eff < 300   # correlated samples: M_eff well below M = 600
    cn = CrossingNormal(r.normal, r.vectors[0], r.vectors[1], "GSE", sig, sig, 0.0, "mva_nested", (t[0], t[-1]),
                        r.eigenvalues, n_eff, "test")
    b, sb = _measured(cn, window_moments(t, B, cn.window))
    assert abs(b - r.Bn) < 1e-9 and abs(sb - r.sigma_Bn) < 1e-9 * r.sigma_Bn
