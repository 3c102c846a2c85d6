"""The trust rule of the χ² scan of L's turn about N (`mms_mp.detect.tilt_scan`) on hand-made χ² curves whose answer
is known: a turn is applied only if it is asked for (a significant χ² drop), its minimum lies inside the scan, and it
brings the density and B_L′ half-level times within a quarter of a layer (rms). The curve stands in for
`tilt_cost`: Σ Δt² = n (rms² + (0.2 s/deg · (α − best))²), every weight 1."""
from types import SimpleNamespace

import numpy as np
import pytest

import mms_mp.detect as det
from mms_mp.boundary import DetectorCfg


def scan(monkeypatch, best_deg, rms_s, layer_s=10.0, n=40):
    "tilt_scan on one probe whose χ² is the curve above."
    def cost(pf, crs, t0, al, cfg):
        raw = n * (rms_s ** 2 + (0.2 * (np.degrees(al) - best_deg)) ** 2)
        return raw, n, raw, [layer_s] * n
    monkeypatch.setattr(det, "tilt_cost", cost)
    pf = SimpleNamespace(used=("B_L", "density"), t_B=np.array(["2019-01-27T12:00"], "datetime64[ns]"))
    return det.tilt_scan([(pf, [object()])], DetectorCfg())


def test_a_turn_that_brings_the_times_together_is_applied(monkeypatch):
    s = scan(monkeypatch, best_deg=15, rms_s=1.0)          # rms 1 s ≤ 10 s / 4
    assert s.trusted and np.degrees(s.alpha) == pytest.approx(15) and np.degrees(s.best) == pytest.approx(15)


def test_a_turn_that_leaves_the_times_a_layer_apart_is_refused(monkeypatch):
    s = scan(monkeypatch, best_deg=15, rms_s=5.0)          # rms 5 s > 10 s / 4, and still asked for
    assert not s.trusted and s.alpha == 0.0 and np.degrees(s.best) == pytest.approx(15)
    assert np.degrees(s.sigma_used) >= 15                  # the L in use is at least |best| from the best one


def test_a_minimum_beyond_the_scan_is_refused(monkeypatch):
    s = scan(monkeypatch, best_deg=55, rms_s=1.0)          # the χ² falls to the scan's end (±40°)
    assert not s.trusted and s.alpha == 0.0 and np.degrees(s.best) == pytest.approx(40)


def test_no_turn_asked_for_is_no_turn_and_no_flag(monkeypatch):
    s = scan(monkeypatch, best_deg=0.4, rms_s=2.0)         # χ² at 0° within the noise of the best
    assert s.trusted and s.alpha == 0.0


def scan_probes(monkeypatch, bests_deg, rms_s=1.0, n=40):
    "tilt_scan on several probes, each with the curve above about its own best turn."
    def cost(pf, crs, t0, al, cfg):
        raw = n * (rms_s ** 2 + (0.2 * (np.degrees(al) - pf.best)) ** 2)
        return raw, n, raw, [10.0] * n
    monkeypatch.setattr(det, "tilt_cost", cost)
    t = np.array(["2019-01-27T12:00"], "datetime64[ns]")
    pfs = [SimpleNamespace(used=("B_L", "density"), t_B=t, best=b) for b in bests_deg]
    return det.tilt_scan([(pf, [object()]) for pf in pfs], DetectorCfg())


def test_probes_that_agree_keep_the_curvature_sigma(monkeypatch):
    s = scan_probes(monkeypatch, [15, 15, 15])
    # s² within the probes = 3n rms²/(3n − 3), Δχ² = 3n (0.2 Δα)²/s²: σ = rms/(0.2 √(3n − 3)) deg
    assert s.scale == 1.0 and np.degrees(s.sigma) == pytest.approx(1 / (0.2 * np.sqrt(117)), rel=1e-6)


def test_probes_that_disagree_widen_sigma_by_their_birge_ratio(monkeypatch):
    s = scan_probes(monkeypatch, [10, 20])
    sp = 1 / (0.2 * np.sqrt(39))                    # each probe's own σ (s² within the probes = 2n/(2n − 2)), deg
    assert np.degrees(s.best) == pytest.approx(15)
    assert s.scale == pytest.approx(np.sqrt(2 * 5 ** 2 / sp ** 2), rel=1e-6)    # √(Σ (α_p − α̂)²/σ_p² / (P − 1))
    # joint σ (sp/√2) times S: the PDG answer for two values 10° apart, their mean known to 5°; counting their
    # disagreement in the joint s² as well would give 7.0°
    assert np.degrees(s.sigma) == pytest.approx(5.0, rel=1e-6)
