"""Layer thickness (mms_mp.thickness): known answers from a planar tanh layer moving at a chosen speed past a
moving spacecraft, property-tested over speeds, thicknesses and spacecraft velocities; hostile inputs."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from mms_mp.crossings import Crossing
from mms_mp.core import InputError, FrameError
from mms_mp.motion import integrate_disp
from mms_mp.thickness import layer_thickness, layer_thicknesses, timing_thickness

T0 = np.datetime64("2019-01-27T12:30:00", "ns")
EDGE = np.arctanh(0.76)


def to_t(x):
    return T0 + (np.asarray(x) * 1e9).astype("int64").astype("timedelta64[ns]")


def setup(delta, V, vsc, sigma_t=0.2, t_c=300.0):
    "Boundary moving at V (km/s, along n̂), spacecraft at vsc along n̂: the crossing and its true edges."
    tt = np.arange(0, 600, 0.5)
    disp = integrate_disp(to_t(tt), np.full(tt.size, V), frame="GSE")
    half = delta * EDGE / abs(V - vsc)
    d = "in" if V > vsc else "out"           # s = n·r − X decreases when the boundary outruns the spacecraft
    cr = Crossing("1", to_t(t_c), d, 0.9, sigma_t, to_t(t_c - half), to_t(t_c + half), to_t(t_c), "test", ())
    tp = np.arange(-60, 700, 30.0); n = np.array([0.6, 0.8, 0.0])
    pos = (to_t(tp), np.outer(vsc * tp, n) + [6e4, 2e4, 5e3])
    return cr, disp, pos, n


@settings(max_examples=40, deadline=None)
@given(st.floats(100, 1000), st.floats(5, 60), st.sampled_from([-1, 1]), st.floats(-4, 4))
def test_thickness_is_two_delta_with_spacecraft_motion(delta, speed, sign, vsc):
    V = sign * speed
    assume(abs(V - vsc) >= 5.0)          # the whole layer (≤ 200 s each side) must lie inside the 600 s of V_N data
    cr, disp, pos, n = setup(delta, V, vsc)
    th = layer_thickness(cr, disp, positions=pos, n_hat=n)
    assert th.thickness_km == pytest.approx(2 * delta * EDGE, rel=1e-6)
    assert th.sc_motion_km == pytest.approx(vsc * cr.duration_s, rel=1e-6, abs=1e-6)
    # σ from the edge times only (no V_N σ given): |v_sc,n − V_N| σ_t at each edge
    assert th.sigma_edges_km == pytest.approx(np.sqrt(2) * abs(vsc - V) * 0.2, rel=1e-3)
    # ignoring the spacecraft motion is wrong by exactly v_sc,n × duration, and flagged
    th0 = layer_thickness(cr, disp)
    assert th0.thickness_km == pytest.approx(abs(V) * cr.duration_s, rel=1e-6)
    assert "sc_motion_ignored" in th0.flags
    # timing cross-check with the same (constant) speed gives the same thickness
    assert timing_thickness(cr, V, 0.0, vsc).thickness_km == pytest.approx(2 * delta * EDGE, rel=1e-6)


def test_sigma_parts_random_and_systematic():
    cr, _, pos, n = setup(400.0, 20.0, 0.0)
    tt = np.arange(0, 600, 0.5)
    disp = integrate_disp(to_t(tt), np.full(tt.size, 20.0), sigma_v=4.0, bias_sigma_km_s=1.0)
    th = layer_thickness(cr, disp, positions=pos, n_hat=n)
    D = cr.duration_s
    assert th.sigma_systematic_km == pytest.approx(1.0 * D, rel=0.02)             # bias × elapsed time
    assert th.sigma_random_km == pytest.approx(4.0 * 0.5 * np.sqrt(D / 0.5), rel=0.1)  # √N σ dt
    assert th.sigma_km == pytest.approx(np.sqrt(th.sigma_random_km ** 2 + th.sigma_systematic_km ** 2
                                                + th.sigma_edges_km ** 2))


def test_monte_carlo_coverage_of_sigma():
    "With noisy V_N the reported σ covers the scatter of the thickness (pull rms ≈ 1)."
    rng = np.random.default_rng(0); cr, _, pos, n = setup(400.0, 25.0, 1.0, sigma_t=0.0)
    tt = np.arange(0, 600, 1.0); pulls = []
    for _ in range(200):
        v = 25.0 + rng.normal(0, 6.0, tt.size)
        th = layer_thickness(cr, integrate_disp(to_t(tt), v, sigma_v=6.0), positions=pos, n_hat=n)
        pulls.append((th.thickness_km - 2 * 400 * EDGE) / th.sigma_km)
    assert 0.8 < np.std(pulls) < 1.25 and abs(np.mean(pulls)) < 0.25


def test_hostile_inputs():
    cr, disp, pos, n = setup(400.0, 20.0, 1.0)
    tt = np.arange(0, 600, 0.5)
    with pytest.raises(InputError, match="float seconds"):
        layer_thickness(cr, integrate_disp(tt, np.full(tt.size, 20.0)))
    with pytest.raises(InputError, match="without n_hat"):
        layer_thickness(cr, disp, positions=pos)
    with pytest.raises(FrameError, match="n_hat is in GSM"):
        layer_thickness(cr, disp, positions=pos, n_hat=n, n_frame="GSM")
    with pytest.raises(InputError, match="not finite"):
        timing_thickness(cr, np.nan)
    v = np.full(tt.size, 20.0); v[(tt > 290) & (tt < 310)] = np.nan       # a V_N gap inside the layer
    th = layer_thickness(cr, integrate_disp(to_t(tt), v), positions=pos, n_hat=n)
    assert np.isnan(th.thickness_km) and "gap_in_layer" in th.flags


def test_many_crossings_and_timing_pairs():
    cr, disp, pos, n = setup(300.0, -30.0, 2.0)

    class G:  # a matched group holding this crossing
        crossings = {"1": cr}

    class Tm:  # a timing result whose normal is the opposite orientation: V must flip sign
        V_km_s, sigma_V_km_s, n_hat, frame = 30.0, 2.0, -n, "GSE"

    res = layer_thicknesses({"1": [cr]}, {"1": disp}, positions={"1": pos}, n_hat=n, timing=[(G, Tm)])
    assert [r.method for r in res] == ["integrated V_N", "timing V × duration"]
    assert res[0].thickness_km == pytest.approx(2 * 300 * EDGE, rel=1e-6)
    assert res[1].thickness_km == pytest.approx(2 * 300 * EDGE, rel=1e-6)
    assert res[1].sigma_systematic_km == pytest.approx(2.0 * cr.duration_s)


def test_layer_outside_the_velocity_data_is_nan_and_flagged():
    cr, disp, pos, n = setup(400.0, 1.0, 0.0)     # 1 km/s: the layer spans ±400 s, beyond the 600 s of V_N
    th = layer_thickness(cr, disp, positions=pos, n_hat=n)
    assert np.isnan(th.thickness_km) and np.isnan(th.sigma_km) and "gap_in_layer" in th.flags


@settings(max_examples=30, deadline=None)
@given(st.floats(200, 800), st.floats(15, 40), st.floats(-0.4, 0.4), st.floats(0.5, 2.0))
def test_timing_sigma_covers_a_linearly_changing_speed(delta, V0, a_frac, v_ratio):
    """Boundary speed V_N = V0 + a (t − t_c) across the layer, timing speed V0·v_ratio (another probe's crossing):
    the true thickness is 2·0.996 δ; V × duration is off by D(mean V_N − V), which the σ from σ_V alone misses
    but the σ with the V_N series (D·RMS(V_N − V) in quadrature) covers."""
    w = delta * EDGE; D0 = 2 * w / V0; a = a_frac * V0 / D0      # speed changes by up to ±40 % of V0 across the layer
    tt = np.arange(0, 800, 0.5); tc = 400.0
    disp = integrate_disp(to_t(tt), V0 + a * (tt - tc), frame="GSE")
    # edge times solve a τ²/2 + V0 τ = ±w; the root nearest 0 in the cancellation-free form (also right for a → 0)
    disc = V0 ** 2 + 2 * a * np.array([w, -w])
    assume(np.all(disc > 0))                                    # both edges are reached
    tau = 2 * np.array([w, -w]) / (V0 + np.sqrt(disc))
    assume(np.all(np.abs(V0 + a * tau) > 3.0))                  # the boundary keeps moving across the whole layer
    cr = Crossing("1", to_t(tc), "in", 0.9, 0.0, to_t(tc + tau.min()), to_t(tc + tau.max()), to_t(tc), "test", ())
    assert layer_thickness(cr, disp).thickness_km == pytest.approx(2 * w, rel=1e-3)   # ∫V_N is exact
    V = V0 * v_ratio
    old, new = timing_thickness(cr, V, 0.5), timing_thickness(cr, V, 0.5, disp=disp)
    err = abs(new.thickness_km - 2 * w)
    assert "constant_speed_unchecked" in old.flags and "constant_speed_unchecked" not in new.flags
    assert err <= new.sigma_km * 1.0001
    D = cr.duration_s                                          # model part: D·|mean(V_N) − V| ≤ D·RMS ≤ its σ
    assert new.sigma_systematic_km >= abs(2 * w - V * D) * 0.999
    # via layer_thicknesses the displacement is passed on: same σ
    chk = layer_thicknesses([cr], disp, timing=(V, 0.5))[-1]
    assert chk.sigma_km == pytest.approx(new.sigma_km, rel=1e-9)


def test_timing_constant_speed_adds_no_model_error():
    cr, disp, pos, n = setup(400.0, 20.0, 0.0)
    th = timing_thickness(cr, 20.0, 1.0, 0.0, disp=disp)
    assert th.sigma_systematic_km == pytest.approx(1.0 * cr.duration_s, rel=1e-3)
    assert "constant_speed_unchecked" not in th.flags
