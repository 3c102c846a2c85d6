"Known answers for the σ chain V_N blend → smoothing → displacement → thickness (referee audit, session 27)."
import numpy as np

from mms_mp.core import M_P_KG, Q_E_C
from mms_mp.crossings import Crossing
from mms_mp.electric import normal_velocity, smooth_normal_velocity
from mms_mp.motion import integrate_disp
from mms_mp.thickness import layer_thickness
from mms_mp.velocity import VelocitySource, exb_source, exb_velocity, moment_sigma, vperp_agreement

T0 = np.datetime64("2020-01-01", "ns")


def _exb_only(n=400):
    "E×B alone (no FPI) on a field with b̂·n̂ = 0.0995: the blend assumes |V∥| = 150 km/s."
    t = T0 + np.arange(n) * np.timedelta64(1, "s")
    B = np.tile([3.0, 0, 30], (n, 1))
    E = np.tile([0, 1.0, 0], (n, 1)) + np.random.default_rng(0).normal(0, 0.05, (n, 3))
    return normal_velocity([exb_source(exb_velocity(E, B, t=t))], [1, 0, 0], frame="GSE", cadence="4.5s")


def test_assumed_vpar_is_not_averaged_down_by_smoothing():
    sm = smooth_normal_velocity(_exb_only())
    assert np.nanmin(sm.sigma_V_N) >= 150 * 3 / np.hypot(3, 30) - 1e-9      # was 2.4 km/s


def test_assumed_vpar_grows_linearly_in_the_displacement():
    sm = smooth_normal_velocity(_exb_only())
    d = integrate_disp(sm.t, sm.V_N, sigma_v=sm.sigma_random_V_N, sigma_sys_v=sm.sigma_sys_V_N, cov_v=sm.cov_blocks)
    g = sm.good
    T = (sm.t[g][-1] - sm.t[g][0]) / np.timedelta64(1, "s")
    np.testing.assert_allclose(d.sigma_total_km[g][-1], 150 * 3 / np.hypot(3, 30) * T, rtol=0.01)   # was 708 km


def test_normal_error_is_not_shrunk_by_the_number_of_sources():
    t, v = np.arange(50.0), np.tile([20.0, 200.0, 0.0], (50, 1))
    two = [VelocitySource(t, v, np.ones(50), np.ones(50, bool), "GSE", k) for k in ("a", "b")]
    r = normal_velocity(two, [1, 0, 0], frame="GSE", cadence=1.0, sigma_n_rad=0.1, scatter_window=0)
    np.testing.assert_allclose(np.nanmedian(r.sigma_V_N), np.hypot(20, np.sqrt(0.5)), rtol=1e-6)   # was 14.2


def test_thickness_systematic_sigma_is_that_of_the_increment():
    ts = np.arange(601.0)
    t = T0 + (ts * 1e9).astype("int64").astype("timedelta64[ns]")
    d = integrate_disp(t, -20 + 0 * ts, sigma_v=1, bias_sigma_km_s=2, sigma_n_rad=0.2,
                       vt_km_s=np.where(ts < 500, 0, 100.0))
    cr = Crossing("1", t[515], "in", 0.9, 0.0, t[510], t[520], t[515], "test", ("B_L",))
    th = layer_thickness(cr, d)
    np.testing.assert_allclose(th.sigma_systematic_km, np.hypot(20, 200), rtol=1e-6)   # was 76.5 km


def test_moment_sigma_is_the_scatter_of_a_mean_of_maxwellian_ions():
    u = np.sqrt(300 * Q_E_C / M_P_KG) / 1e3
    means = np.random.default_rng(2).normal(0, u, (4000, 400)).mean(axis=1)
    s = moment_sigma(np.array([400.0]), np.array([300.0]), accum_s=1.0, kappa_per_s=1.0, floor_km_s=0.0)[0]
    np.testing.assert_allclose(np.std(means) / s, 1.0, atol=0.04)            # was 1/√2


def test_vperp_z_squared_averages_one_for_honest_sigma():
    rng, n = np.random.default_rng(4), 20000
    t, v, B = np.arange(n) * 4.5, np.tile([-100.0, 50.0, 0.0], (n, 1)), np.tile([0.0, 0.0, 30.0], (n, 1))
    E = -1e-3 * np.cross(v, B) + rng.normal(0, 0.3, (n, 3))
    fpi = VelocitySource(t, v + rng.normal(0, 10.0, (n, 3)), np.full(n, 10.0), np.ones(n, bool), "GSE", "FPI ions")
    pc = vperp_agreement(fpi, exb_velocity(E, B, sigma_E_mVm=0.3, sigma_B_nT=1e-6, t=t))
    np.testing.assert_allclose(np.nanmean(pc.z ** 2), 1.0, atol=0.03)       # was 0.8


def test_pipeline_carries_the_blends_shared_error_into_the_displacement():
    """SIMULATED noisy_hpca_gap, MMS2 (FPI flagged for a few samples: E×B assumes V∥ there): the displacement stage
    integrates the blend's shared σ (sigma_sys_V_N) as a bias, ∫σ_sys dt over each segment; before, the pipeline
    left it out."""
    import warnings
    from mms_mp.pipeline import analyze
    from mms_mp.synthetic import demo_event_dir
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(("2019-01-27T12:15", "2019-01-27T12:55"), ["2"], rate="srvy", source="local",
                      data_dir=demo_event_dir("noisy_hpca_gap"))
    v, d = res.vn["2"], res.displacement["2"]
    s = np.nan_to_num(np.asarray(v.sigma_sys_V_N, float))
    assert s.max() > 1.0   # the assumed V∥ gives a shared error where FPI is out
    ts = (np.asarray(v.t) - np.asarray(v.t)[0]) / np.timedelta64(1, "s")
    for g in d.segments:
        i0, i1 = g["i0"], g["i1"]
        want = np.trapezoid(s[i0:i1 + 1], ts[i0:i1 + 1])
        np.testing.assert_allclose(d.sys_parts_km[i1, 1], want, rtol=1e-6, atol=1e-6)
