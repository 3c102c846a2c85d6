"""Four-probe FGM-only events: positions from the FGM files' own state records, end to end (offline).

Real FGM L2 files carry the spacecraft position every 30 s on `Epoch_state`; with no MEC file the loader uses
them (`mms_mp.data._positions_from_fgm`). The SIMULATED demo event (`mms_mp.synthetic`) writes those records
as the real files do: the same ephemeris as its MEC files, but at the ephemeris table's own time tags
(hh:mm:23 and :53 s), while MEC samples it at whole half-minutes. Here the demo folder is copied (symlinks)
without its MEC files and `analyze` runs on all four probes, survey and burst: the positions must come from
the FGM state records, timing and thickness must run, and every timing group's n̂ and V, every thickness and
every crossing position must agree with the MEC-based analysis of the same event, both close to the truth.

`no_position_tree` (no MEC and FGM files rewritten without their state records) is shared with
tests/test_cli.py and tests/test_hostile_detect_coords.py: the way to build an event with no position at all.
"""
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pytest

from mms_mp.data import POSITION_SOURCE, load_event
from mms_mp.multispacecraft import positions_at
from mms_mp.simtruth import load_formation, load_truth

GM_EARTH = 398600.4418  # km³/s²
STATE_DT_S = 30.0  # spacecraft position cadence of the FGM state records and of MEC, s
REAL4_HALF_ULP_KM = 2.0 ** -8  # |x| < 2¹⁷ km: REAL4 rounds a position component by at most this, km


def tree_without(src: Path, dst: Path, skip) -> Path:
    "A copy of the event folder `src` made of symlinks, without the files whose name `skip(name)` is true."
    for f in src.rglob("*"):
        if f.is_file() and not skip(f.name):
            to = dst / f.relative_to(src)
            to.parent.mkdir(parents=True, exist_ok=True)
            to.symlink_to(f)
    return dst


def strip_state(f: Path) -> None:
    "Replace the FGM CDF `f` (a file, a link or a hard link) by a copy without `Epoch_state` and its variables."
    from test_real_files import copy_cdf
    src = f.rename(f.with_name(f.name + ".orig"))   # moves the link itself: its target is never written
    r = cdflib.CDF(str(src))
    on_state = [v for v in r.cdf_info().zVariables if r.varattsget(v).get("DEPEND_0") == "Epoch_state"]
    labels = [r.varattsget(v).get("LABL_PTR_1") for v in on_state]
    copy_cdf(src, f, drop={"Epoch_state", *on_state, *filter(None, labels)})
    src.unlink()


def no_position_tree(src: Path, dst: Path, probes="1234") -> Path:
    "The event `src` without MEC, and the FGM files of `probes` without their state records: no position."
    root = tree_without(src, dst, lambda n: "_mec_" in n)
    for p in probes:
        for f in sorted((root / f"mms{p}" / "fgm").rglob("*.cdf")): strip_state(f)
    return root


@pytest.fixture(scope="module")
def demo():
    from mms_mp.synthetic import demo_event_dir
    return Path(demo_event_dir())


@pytest.fixture(scope="module")
def no_mec(demo, tmp_path_factory):
    return tree_without(demo, tmp_path_factory.mktemp("fgm_only") / "ev", lambda n: "_mec_" in n)


def _analyze(rate, root):
    from mms_mp.pipeline import analyze
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the simulator's deliberate gaps, fills and flags
        return analyze(load_truth(root).trange, rate=rate, source="local", data_dir=root)


@pytest.fixture(scope="module", params=["srvy", "brst"])
def pair(request, demo, no_mec):
    "(rate, MEC-based analysis, FGM-state-based analysis) of the demo event, four probes."
    return request.param, _analyze(request.param, demo), _analyze(request.param, no_mec)


def test_positions_come_from_the_fgm_state_records(pair):
    rate, mec, fgm = pair
    for p in "1234":
        for q in ("R_gse", "R_gsm"):
            assert fgm.event[p][q].attrs["position_source"] == POSITION_SOURCE
            assert mec.event[p][q].attrs["instrument"] == "mec" and "position_source" not in mec.event[p][q].attrs
        assert fgm.event[p]["R_gse"].attrs["source"].startswith(f"mms{p}_fgm_{rate}_l2_")
    st = [x for x in fgm.event.loaded if x.get("part") == "state"]
    assert sorted(x["probe"] for x in st) == list("1234") and all(x["rate_reason"] == POSITION_SOURCE for x in st)
    assert fgm.event.summary().count(f"R_gse, R_gsm from {POSITION_SOURCE}") == 4


def test_timing_thickness_and_matching_run_on_fgm_positions(pair):
    _, mec, fgm = pair
    for s in ("detect", "timing", "thickness"):
        assert fgm.status[s].status == "ok" and not fgm.status[s].degraded, fgm.status[s]
    assert len(fgm.timings) == len(mec.timings) == 8
    for (ga, _), (gb, _) in zip(mec.timings, fgm.timings):
        assert ga.times == gb.times and ga.direction == gb.direction   # the same groups, matched alike
        assert sorted(gb.crossings) == list("1234") and len(gb.positions_km) == 4
    assert len(fgm.thickness) == len(mec.thickness) > 0


def _true_group(truth, g):
    "The true crossings nearest each detected crossing of group `g` (within 10 s)."
    out = {}
    for p, c in g.crossings.items():
        tc = min(truth.crossings_of(p), key=lambda x: abs(float((x.time - c.time) / np.timedelta64(1, "s"))))
        assert abs((tc.time - c.time) / np.timedelta64(1, "s")) < 10
        out[p] = tc
    return out


def test_timing_agrees_with_mec_within_sigma_and_with_the_truth(pair, demo):
    rate, mec, fgm = pair
    truth = load_truth(demo)
    assert len(fgm.timings) == len(mec.timings) == 8
    for (g, a), (_, b) in zip(mec.timings, fgm.timings):
        ang = np.degrees(np.arccos(np.clip(a.n_hat @ b.n_hat, -1, 1)))
        assert ang <= min(a.sigma_n_deg, b.sigma_n_deg)
        assert abs(a.V_km_s - b.V_km_s) <= min(a.sigma_V_km_s, b.sigma_V_km_s)
        v_true = np.mean([c.V_N_kms for c in _true_group(truth, g).values()])   # along the true +N
        for t in (a, b):
            s = np.sign(t.n_hat @ truth.N_gse)
            assert np.degrees(np.arccos(abs(t.n_hat @ truth.N_gse))) < 0.2
            assert abs(s * t.V_km_s - v_true) < 3 * t.sigma_V_km_s, (rate, t.summary(), v_true)   # |z| ≤ 2.1


def test_thickness_agrees_with_mec_within_sigma(pair):
    "The same crossings measured; where a thickness is found (not at the data's edge), both agree within σ."
    _, mec, fgm = pair
    n = 0
    for a, b in zip(mec.thickness, fgm.thickness):
        assert (a.probe, a.time, a.method) == (b.probe, b.time, b.method)
        assert np.isnan(a.thickness_km) == np.isnan(b.thickness_km)
        if np.isnan(a.thickness_km): continue
        n += 1
        assert abs(a.thickness_km - b.thickness_km) <= min(a.sigma_km, b.sigma_km)
        assert np.isnan(a.sc_motion_km) == np.isnan(b.sc_motion_km)   # the positions' part: removed in both
        assert not abs(a.sc_motion_km - b.sc_motion_km) > 0.05   # km
    assert n > 40


def test_crossing_positions_agree_with_mec_and_the_ephemeris(pair):
    """Both are 30-s records of one ephemeris, linearly interpolated: each is within a·Δt²/8 of the truth
    (a: the orbit's acceleration, GM/r² to within 9 % in the shipped table's second differences, so
    1.2 GM/r² here; ≈ 8 m), the FGM ones also within REAL4 rounding."""
    _, mec, fgm = pair
    fm, worst = load_formation(), 0.0
    for g, _ in fgm.timings:
        rf = positions_at({p: fgm.event[p]["R_gse"] for p in g.crossings}, g.times)
        rm = positions_at({p: mec.event[p]["R_gse"] for p in g.crossings}, g.times)
        for p, t in g.times.items():
            r_true = fm.position(p, t, "GSE")[0]
            bound = 1.2 * GM_EARTH / (r_true @ r_true) * STATE_DT_S**2 / 8
            assert np.linalg.norm(rm[p] - r_true) <= bound
            assert np.linalg.norm(rf[p] - r_true) <= bound + np.sqrt(3) * REAL4_HALF_ULP_KM
            worst = max(worst, np.linalg.norm(rf[p] - rm[p]))
            np.testing.assert_allclose(g.positions_km[p], rf[p], rtol=0, atol=1e-9)   # what timing used
    assert 0 < worst < 0.05   # km: far below a kilometre, and not zero (the two grids differ)


def test_unreadable_mec_falls_back_to_fgm_state(demo, tmp_path):
    "MMS3's MEC file replaced by random bytes: its positions come from its FGM file, the others' from MEC."
    root = tree_without(demo, tmp_path / "ev", lambda n: False)
    (f,) = sorted((root / "mms3" / "mec").rglob("*.cdf"))
    f.unlink()
    f.write_bytes(np.random.default_rng(0).bytes(200_000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = load_event(("2019-01-27T12:20", "2019-01-27T12:30"), rate="srvy", instruments=("fgm", "mec"),
                        source="local", data_dir=root)
    assert ev["3"]["R_gse"].attrs["position_source"] == POSITION_SOURCE
    assert all(ev[p]["R_gse"].attrs["instrument"] == "mec" for p in "124")
    assert any(m["probe"] == "3" and m["instrument"] == "mec" for m in ev.missing)


def test_no_mec_and_no_state_records_means_no_position(demo, tmp_path):
    root = no_position_tree(demo, tmp_path / "ev", probes="2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = load_event(("2019-01-27T12:20", "2019-01-27T12:30"), ("1", "2"), rate="srvy",
                        instruments=("fgm", "mec"), source="local", data_dir=root)
    assert "R_gse" not in ev["2"] and "B_gse" in ev["2"]
    assert ev["1"]["R_gse"].attrs["position_source"] == POSITION_SOURCE
    assert not any(x.get("part") == "state" and x["probe"] == "2" for x in ev.loaded)
