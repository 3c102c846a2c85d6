"""Spike screening (mms_mp.quality.spike_mask, applied to B by apply_masks): glitches of 1–3 samples are
removed and counted; steps, however sharp, and real current sheets are kept."""
import warnings
from pathlib import Path

import numpy as np
from hypothesis import assume, given, settings, strategies as st

from mms_mp.data import load_event
from mms_mp.quality import apply_masks, offset_mask, spike_mask

REAL = Path(__file__).parent / "fixtures" / "real"


@settings(max_examples=60, deadline=None)
@given(width=st.floats(0.1, 50.0), jump=st.floats(1.0, 200.0), noise=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**16))
def test_a_current_sheet_is_never_a_spike(width, jump, noise, seed):
    "A tanh reversal of any width (down to a fraction of a sample) and size, in noise: nothing removed."
    rng = np.random.default_rng(seed)
    s = np.arange(-400, 400) / width
    B = np.column_stack([jump / 2 * np.tanh(s), 3 + 0 * s, -5 + 0 * s]) + rng.normal(0, noise + 1e-3, (800, 3))
    assert spike_mask(B).good.all() and offset_mask(B).good.all()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3), size=st.floats(50.0, 1e4), comp=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_a_glitch_of_up_to_three_samples_is_removed(n, size, comp, seed):
    "A glitch of n ≤ 3 samples, ≥ 50 nT, on a noisy quiet field: exactly its samples are removed."
    rng = np.random.default_rng(seed)
    B = np.array([20.0, -4.0, 7.0]) + rng.normal(0, 0.1, (600, 3))
    at = rng.integers(10, 580)
    B[at:at + n, comp] += size * rng.choice([-1, 1])
    q = spike_mask(B)
    assert np.flatnonzero(~q.good).tolist() == list(range(at, at + n)) and q.reasons["spike"] == n


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 1280), size=st.floats(5.0, 1e4), seed=st.integers(0, 2**16))
def test_an_offset_block_is_removed_exactly(n, size, seed):
    "A block of 2–1280 samples shifted by a random vector of ≥ 5 nT (noise 0.1 nT), then back: exactly it is removed."
    rng = np.random.default_rng(seed)
    B = np.array([20.0, -4.0, 7.0]) + rng.normal(0, 0.1, (1600, 3))
    u = rng.normal(size=3)
    at = rng.integers(10, 1600 - n - 10)
    B[at:at + n] += size * u / np.linalg.norm(u)
    q = offset_mask(B)
    assert np.flatnonzero(~q.good).tolist() == list(range(at, at + n)) and q.reasons["offset block"] == n


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 400), size=st.floats(5.0, 200.0), turn=st.floats(20.0, 180.0), seed=st.integers(0, 2**16))
def test_an_excursion_that_comes_back_rotated_is_kept(n, size, turn, seed):
    """Off and back in one sample each, but the return jump rotated by ≥ 20°: not an offset, nothing removed, wherever
    the rotation is resolved in the noise. offset_mask calls a block an offset when |jump off + jump back| ≤ 0.25
    |jump off|; the rotation makes that ratio 2 sin(turn/2) (0.35 at 20°), and the 0.1 nT noise adds 0.2 nT per
    component to the sum of the two jumps. At 5 nT and 20° the ratio is only 2.4σ above 0.25 and 0.4 % of noise draws
    look like an offset (13 of 3000), so the claim is tested where the margin is ≥ 5σ (size ≥ 10.3 nT at 20°)."""
    assume(size * (2 * np.sin(np.radians(turn) / 2) - 0.25) >= 5 * 0.2)
    rng = np.random.default_rng(seed)
    B = np.array([20.0, -4.0, 7.0]) + rng.normal(0, 0.1, (1000, 3))
    a = np.radians(turn)
    B[400:400 + n] += [size, 0.0, 0.0]
    B[400 + n:] += [size * (1 - np.cos(a)), size * np.sin(a), 0.0]      # the level after differs
    assert offset_mask(B).good.all()


def _demo_event():
    from mms_mp.synthetic import demo_event_dir
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_event(("2019-01-27T12:15", "2019-01-27T12:35"), ("1", "2"), source="local",
                          data_dir=demo_event_dir())


def test_apply_masks_removes_injected_spikes_and_counts_them():
    "SIMULATED event with 25 glitches injected into MMS1 B: each becomes NaN and 'why: spike' counts them."
    ev = _demo_event()
    B = ev["1"]["B_gse"]
    rng = np.random.default_rng(7)
    at = np.sort(rng.choice(np.arange(100, B.shape[0] - 100, 50), 25, replace=False))
    vals = B.values.copy()
    vals[at, 0] += 300.0
    ev["1"]["B_gse"] = B.copy(data=vals)
    before = np.isnan(vals).any(axis=1)
    counts = apply_masks(ev, ["1", "2"])
    after = np.isnan(ev["1"]["B_gse"].values).any(axis=1)
    assert after[at].all() and counts["1"]["B_gse"]["why: spike"] == 25
    assert (after & ~before).sum() == 25                      # nothing else removed
    assert counts["2"]["B_gse"].get("why: spike", 0) == 0     # the untouched probe keeps every sample


def test_real_current_sheets_are_kept():
    "REAL MMS1 burst B (2015-09-02 dusk flank, dozens of sharp current sheets; 2019-11-30 quiet): no spike."
    for tr in (("2015-09-02T16:58:44", "2015-09-02T17:07:04"), ("2019-11-30T09:11:53", "2019-11-30T09:16:53")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ev = load_event(tr, ("1",), rate="brst", source="local", data_dir=REAL)
        counts = apply_masks(ev, ["1"])
        assert counts["1"]["B_gse"].get("why: spike", 0) == 0, counts
        assert counts["1"]["B_gse"].get("why: offset block", 0) == 0, counts
