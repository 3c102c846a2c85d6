"""Hostile inputs to crossing detection, spectrograms, boundary coordinates and the timing stage, each
against a known answer: a clear mms_mp error (class and a phrase of its message), or a flagged result.

- timing stage: one probe without positions (its MEC folder removed, or its MEC file replaced by random bytes,
  on a hard-linked copy of the SIMULATED demo event) is left out of each crossing group, named in the reason,
  and timing still runs on the other three probes;
- detect_crossings / spectrogram_mesh: float-second times (read as ns since 1970 before), an energy table of
  the wrong length, density whose time tags lie outside the B data;
- coords: NaN or out-of-range angles and positions (ψ, aberration, the Shue model off its surface), NaN or
  2-component vectors, mismatched or non-numeric Shue inputs, negative σ.
"""
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from mms_mp.core import InputError

EVENT = ("2019-01-27T12:15", "2019-01-27T12:55")


# ------------------------------------------------------------------------------------------- timing stage
@pytest.fixture(scope="module")
def demo():
    "The SIMULATED demo event tree (cached per test run, see conftest)."
    from mms_mp.synthetic import demo_event_dir
    return Path(demo_event_dir())


def _copy(demo, tmp_path):
    "A hard-linked copy of the demo tree (breaking a file means replacing its link, not editing it)."
    root = tmp_path / "tree"
    shutil.copytree(demo, root, copy_function=os.link)
    return root


def _no_mec(root):
    shutil.rmtree(root / "mms3" / "mec")


def _garbage_mec(root):
    (f,) = sorted((root / "mms3" / "mec").rglob("*.cdf"))
    f.unlink()
    f.write_bytes(np.random.default_rng(0).bytes(200_000))


@pytest.mark.parametrize("breakit", [_no_mec, _garbage_mec], ids=["mec_removed", "mec_random_bytes"])
def test_timing_leaves_out_a_probe_without_positions(demo, tmp_path, breakit):
    "MMS3 without MEC: timing on MMS1, 2, 4 for every group (the intact tree gives 8), the reason names MMS3."
    from mms_mp.pipeline import analyze
    root = _copy(demo, tmp_path)
    breakit(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(EVENT, rate="srvy", source="local", data_dir=root)
    # the simulated FGM files carry no position record, so MMS3 truly has no position (no FGM fallback)
    assert "R_gse" not in res.event["3"] and all("R_gse" in res.event[p] for p in "124")
    st = res.status["timing"]
    assert st.status == "ok" and st.degraded, st
    assert "MMS3 left out of the timing of 8 crossing group(s)" in st.reason
    assert "no R_gse positions" in st.reason
    assert len(res.timings) == 8
    assert all(sorted(g.crossings) == ["1", "2", "4"] for g, _ in res.timings)
    assert all(list(t.probes) == ["1", "2", "4"] for _, t in res.timings)
    assert all(np.isfinite(t.V_km_s) for _, t in res.timings)


def test_timing_drops_a_probe_whose_positions_miss_the_crossing():
    "A NaN position (ephemeris not covering the crossing) leaves that probe out; ref moves to a kept probe."
    from types import SimpleNamespace as NS
    from mms_mp.boundary_multi import CrossingGroup
    from mms_mp.stages_timing import _with_positions
    t = np.datetime64("2019-01-27T12:30", "ns")
    cr = {p: NS(time=t, confidence=1.0) for p in "123"}
    g = CrossingGroup("in", cr, {"1": np.full(3, np.nan), "2": np.zeros(3), "3": np.ones(3)}, "GSE", "1")
    cut, why = _with_positions(g)
    assert list(cut.crossings) == ["2", "3"] and cut.ref == "2"
    assert why == {"1": "its positions do not cover its crossing time"}
