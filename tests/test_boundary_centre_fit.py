"""`crossings.centre_fit`: the half-level time of a layer tracer from a line fit, on known tanh layers."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from mms_mp.boundary import DetectorCfg
from mms_mp.crossings import centre_fit
from mms_mp.core import InputError


@settings(max_examples=60, deadline=None)
@given(t_c=st.floats(40.0, 80.0), width=st.floats(2.0, 60.0), dt=st.floats(0.03, 4.5),
       a=st.floats(0.1, 5.0), ratio=st.floats(3.0, 100.0), rising=st.booleans(), start=st.floats(-0.3, 0.3))
def test_noise_free_tanh_centre(t_c, width, dt, a, ratio, rising, start):
    ("A noise-free tanh layer (76 % width `width`) is timed at its centre from any start inside the layer, "
     "either direction.")
    tau = width / (2 * np.arctanh(0.76)); t = np.arange(0.0, 120.0, dt)
    b = a * ratio; f = 0.5 * (1 + np.tanh((t - t_c) / tau))
    y, lo, hi = (a + (b - a) * f, a, b) if rising else (b - (b - a) * f, b, a)
    assume(width / 2 >= 5 * dt)                  # ≥ 4 samples in the ±width/4 fit window (unresolved: tested below)
    t_f, s_f = centre_fit(t, y, lo, hi, t_c + start * width, t_c - width / 2, t_c + width / 2)
    assert abs(t_f - t_c) < 0.005 * width        # within 0.5 % of the layer (coarse grids leave a little curvature)
    assert np.isfinite(s_f) and s_f < 0.05 * width   # the tanh's curvature is the only residual


def test_noise_averages_down():
    "With white noise the error shrinks with the number of samples in the window (1/√n) and matches the reported σ."
    rng = np.random.default_rng(11); tau = 20 / (2 * np.arctanh(0.76)); out = {}
    for dt in (0.6, 0.15):
        t = np.arange(0.0, 120.0, dt); e, s = [], []
        for _ in range(150):
            y = 0.5 + 19.5 * 0.5 * (1 + np.tanh((t - 60) / tau)) + 1.5 * rng.standard_normal(t.size)
            tf, sf = centre_fit(t, y, 0.5, 20.0, 60.0, 50.0, 70.0); e.append(tf - 60); s.append(sf)
        out[dt] = (np.sqrt(np.mean(np.square(e))), np.median(s))
        assert abs(np.mean(e)) < 3 * out[dt][0] / np.sqrt(150)     # unbiased
        assert 0.7 < out[dt][0] / out[dt][1] < 1.4                 # σ honest
    assert 0.35 < out[0.15][0] / out[0.6][0] < 0.7                 # 4× the samples: error ≈ halved


def test_unresolvable_and_bad_config():
    "Too few samples or no rise through the window: the first guess comes back with σ = NaN; a bad fraction is refused."
    t = np.arange(0.0, 100.0, 10.0); y = (t > 50).astype(float)
    assert centre_fit(t, y, 0.0, 1.0, 55.0, 54.0, 56.0)[0] == 55.0
    assert np.isnan(centre_fit(t, y, 0.0, 1.0, 55.0, 54.0, 56.0)[1])
    flat = np.ones(200); tt = np.arange(200.0)
    assert np.isnan(centre_fit(tt, flat, 0.0, 2.0, 100.0, 80.0, 120.0)[1])
    with pytest.raises(InputError, match="centre_fit_frac"):
        DetectorCfg(centre_fit_frac=0.0)
