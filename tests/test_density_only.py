"""`mms-mp analyze` with FPI ion moments and no FGM on any probe: a density-only analysis, flagged and degraded.

The crossings are found and timed on the ion density alone; without B there is no LMN and no MVA normal. Each
crossing carries its group's timing n̂ where the formation resolves all three directions, else the Shue model normal
at its position (a flagged fallback); `normal_unavailable` says why where it has neither (no MEC positions). No V_N,
displacement or thickness is computed (they need the event LMN). Known answers:
- SIMULATED (mms_mp.synthetic, 2019-01-27 12:20–12:30, four probes, FPI fast and MEC only, seed 0): every true
  crossing of the simulator's truth is found, in its direction, within 3 of its own σ_t, and nothing else. Over
  seeds 0–99 (800 true crossings) none was missed, none was extra, 99 % lay within 1 σ_t and the largest
  |Δt|/σ_t was 1.73 (seed 0: all within 1 σ_t), so the bound holds for any draw;
- the model normal of each crossing is the Shue et al. (1998, JGR 103, 17691) normal (Bz 0 nT, Dp 2 nPa) at the
  probe's MEC position at the crossing time, evaluated here from the formula alone (numerical gradient of the
  surface r = r0 (2/(1 + cos θ))^α at the point on the spacecraft's ray, turned into GSE by the rotation about X that
  takes the position's GSM components to its GSE ones), and its σ is the largest angle to the Shue normals over
  Bz ± 5 nT, Dp × / ÷ 2, both models (1997: JGR 102, 9497) and aberration 0 or 4°, the spread it states;
- with a [context] (the detector's levels from one window length each side, SIMULATED 12:20–12:35, window
  12:25–12:30): every crossing kept lies in the window and within 3 σ_t of a true crossing of its probe and
  direction, and every true crossing 10 s or more inside the window is found. Over seeds 0–49 none was missed and the
  largest |Δt|/σ_t was 1.41 (seeds 0–2 run here);
- REAL (tests/fixtures/real, MMS1 FPI burst ion moments, 2015-10-16): MMS1 leaves the magnetosphere (~0.4 cm⁻³)
  for the magnetosheath side (~10 cm⁻³) near 13:05:44 (Burch et al. 2016, Science 352, aaf2939; the fixtures
  README), so the crossing lies where the density rises, 13:05:24–13:06:30, found with the detector's default
  thresholds; 13:06:00–13:06:50 lies wholly on the magnetosheath side (README) and holds no crossing.
"""
import contextlib
import io
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mms_mp.cli import main
from mms_mp.core import R_E_KM, seconds_since
from mms_mp.data import load_event
from mms_mp.schema import validate_result_json

REAL = Path(__file__).parent / "fixtures" / "real"
SIM_W = ("2019-01-27T12:20", "2019-01-27T12:30")
NO_B = "no magnetic field: density-only crossings"
MODEL = "fallback: Shue 1998 model (Bz 0 nT, Dp 2 nPa)"


def shue_normal_by_formula(r_gsm, model="1998", bz=0.0, dp=2.0, aberration_deg=0.0):
    """Outward normal (GSM) of the Shue et al. surface at the point on the ray through `r_gsm` (km), from the
    papers' r0 and α and a numerical gradient of F(x) = |x| − r_mp(θ), θ measured from the model axis
    (cos a, −sin a, 0) (aberration a toward dawn)."""
    if model == "1998":
        r0 = (10.22 + 1.29 * np.tanh(0.184 * (bz + 8.14))) * dp ** (-1 / 6.6)
        al = (0.58 - 0.007 * bz) * (1 + 0.024 * np.log(dp))
    else:
        r0 = (11.4 + (0.013 if bz >= 0 else 0.140) * bz) * dp ** (-1 / 6.6)
        al = (0.58 - 0.010 * bz) * (1 + 0.010 * dp)
    a = np.radians(aberration_deg)
    axis = np.array([np.cos(a), -np.sin(a), 0.0])
    rmp = lambda x: r0 * R_E_KM * (2 / (1 + (x @ axis) / np.linalg.norm(x))) ** al
    F = lambda x: np.linalg.norm(x) - rmp(x)
    u = np.asarray(r_gsm, float) / np.linalg.norm(r_gsm)
    s = rmp(u) * u   # the surface point on the ray
    g = np.array([(F(s + e) - F(s - e)) / 2 for e in np.eye(3)])   # central differences, 1 km steps
    return g / np.linalg.norm(g)


def about_x(v, a):
    "v turned by angle a (rad) about X, in the y–z plane."
    return np.array([v[0], np.cos(a) * v[1] - np.sin(a) * v[2], np.sin(a) * v[1] + np.cos(a) * v[2]])


def angle_deg(u, v):
    return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(u, v)), np.dot(u, v))))


def check_model_normals(doc, data):
    "Every crossing of `doc` carries the Shue 1998 normal at its probe's MEC position, GSE, with the stated σ."
    ev = load_event(tuple(t[:-1] for t in doc["trange"]), doc["probes"], instruments=("mec",), source="local",
                    data_dir=data)
    for c in doc["crossings"]:
        n = c["normal"]
        assert c["normal_unavailable"] is None and n["flags"] == ["model_normal"], c
        assert n["method"] == MODEL and n["frame"] == "GSE", n
        assert n["reason"].startswith("no magnetic field, so no MVA: N from Shue 1998 model"), n["reason"]
        t = np.datetime64(c["time"][:-1], "ns")
        r = {}
        for q in ("R_gse", "R_gsm"):
            da = ev[c["probe"]][q]
            x = seconds_since(da["time"].values, t)
            r[q] = np.array([np.interp(0.0, x, da.values[:, k]) for k in range(3)])
        # the rotation about X that takes the GSM position to the GSE one
        (ym, zm), (ye, ze) = r["R_gsm"][1:], r["R_gse"][1:]
        a = np.arctan2(ym * ze - zm * ye, ym * ye + zm * ze)
        n0 = shue_normal_by_formula(r["R_gsm"])
        np.testing.assert_allclose(n["n_hat"], about_x(n0, a), atol=1e-6)
        spread = max(angle_deg(shue_normal_by_formula(r["R_gsm"], m, b, d, ab), n0)
                     for m in ("1997", "1998") for b in (-5.0, 5.0) for d in (1.0, 4.0) for ab in (0.0, 4.0))
        assert abs(n["sigma_deg"] - spread) < 1e-3, (n["sigma_deg"], spread)


def analyze_cli(start, end, data, out, *extra, rate="srvy", probes=("1",)):
    "`mms-mp analyze` in process: (exit code, stdout, stderr, mp_analysis.json or None)."
    o, e = io.StringIO(), io.StringIO()
    argv = ["analyze", "--start", start, "--end", end, "--probes", *probes, "--rate", rate, "--source", "local",
            "--data-dir", str(data), "--outdir", str(out), *extra]
    with warnings.catch_warnings(), contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
        warnings.simplefilter("ignore")
        code = main(argv)
    assert "Traceback" not in e.getvalue(), e.getvalue()
    f = Path(out) / "mp_analysis.json"
    return code, o.getvalue(), e.getvalue(), json.loads(f.read_text()) if f.exists() else None


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    "SIMULATED four-probe event with FPI fast moments and MEC positions, and no FGM file."
    from mms_mp.synthetic import simulate_event
    d = tmp_path_factory.mktemp("dens") / "sim"
    truth = simulate_event(d, trange=SIM_W, products=("fpi_fast", "mec_srvy"), seed=0)
    assert not list(d.rglob("*fgm*"))
    return d, truth


@pytest.fixture(scope="module")
def sim_run(sim, tmp_path_factory):
    d, _ = sim
    out = tmp_path_factory.mktemp("dens_out")
    return analyze_cli(*SIM_W, d, out / "a", "--plot", probes=("1", "2", "3", "4")), out / "a"


def test_simulated_every_true_crossing_found_within_sigma_t(sim, sim_run):
    (code, text, err, doc), _ = sim_run
    _, truth = sim
    assert code == 0, err
    for p in truth.probes:
        got = [c for c in doc["crossings"] if c["probe"] == p]
        true = truth.crossings_of(p)
        assert len(got) == len(true) >= 2, (p, got)
        for c in true:
            x = min((g for g in got if g["direction"] == c.direction),
                    key=lambda g: abs(float(seconds_since(np.datetime64(g["time"][:-1]), c.time))))
            dt = abs(float(seconds_since(np.datetime64(x["time"][:-1]), c.time)))
            assert dt <= 3 * x["sigma_t_s"], (p, c.time, x)


def test_simulated_crossings_carry_the_shue_model_normal(sim, sim_run):
    "No MVA without B and no timing n̂ from this formation: each crossing carries the Shue normal at its position."
    (code, text, err, doc), out = sim_run
    assert validate_result_json(doc) is doc
    assert sorted(doc["density_only"]) == ["1", "2", "3", "4"] and doc["lmn"] == {}
    for c in doc["crossings"]:
        assert c["vn"] is None and "B_unavailable" in c["flags"]
        # why timing gave no n̂ for it: this formation resolves one direction of three
        assert "; no timing n̂: its 4-probe group's timing resolves 1 of 3 directions, so it gives V along the " \
               "model normals (status timing)" in c["normal"]["reason"], c["normal"]["reason"]
    check_model_normals(doc, sim[0])
    st = doc["status"]
    assert st["lmn"]["status"] == "skipped" and st["lmn"]["reason"].startswith(NO_B)
    assert st["normals"]["status"] == "ok" and st["normals"]["reason"].startswith(
        f"{NO_B}: no MVA normal without B; of {len(doc['crossings'])} crossings, 0 carry their group's timing n̂, "
        f"{len(doc['crossings'])} the Shue model normal")
    assert "not computed along these normals" in st["normals"]["reason"]
    for k in ("vn", "displacement", "crossing_vn", "thickness"):   # nothing along a normal, and why
        assert st[k]["status"] == "skipped" and "did not succeed" in st[k]["reason"], (k, st[k])
    assert doc["vn"] == {} and doc["displacement"] == {} and doc["thickness"] == []
    # timing takes the density times; this string resolves one direction: V along the model normals
    assert st["timing"]["status"] == "ok" and doc["detection"]["L"] == {}
    assert "no magnetic field" in doc["detection"]["tilt_note"]
    csv = pd.read_csv(out / "crossings.csv")
    assert len(csv) == len(doc["crossings"]) and set(csv["normal_method"]) == {MODEL}
    np.testing.assert_allclose(csv[["n_x_gse", "n_y_gse", "n_z_gse"]].values,
                               [c["normal"]["n_hat"] for c in doc["crossings"]], atol=1e-6)   # CSV: 7 digits
    assert csv["V_N_kms"].isna().all() and csv["simulated"].all() and set(csv["normal_flags"]) == {"model_normal"}
    html = (out / "report.html").read_text()
    assert "density-only" in html and MODEL in html and (out / "figures" / "overview.png").exists()
    assert "density-only analysis (no magnetic field)" in text.splitlines()[1]
    assert "all three directions, else V along the crossings' model normals" in text.splitlines()[1]
    assert "else the Shue model normal at its position" in text.splitlines()[1]
    assert any(ln.startswith("  normals: ") and "the Shue model normal at their position" in ln
               for ln in text.splitlines())


def test_simulated_strict_exits_6_naming_no_magnetic_field(sim, tmp_path):
    d, _ = sim
    code, _, err, doc = analyze_cli(*SIM_W, d, tmp_path / "s", "--strict", "--quiet")
    assert code == 6, err
    why = [ln for ln in err.splitlines() if ln.startswith("mms-mp analyze --strict: degraded: ")]
    assert any(f"MMS1: {NO_B}" in ln for ln in why), why


def test_simulated_window_without_crossing_gives_none(sim, tmp_path):
    "12:20–12:23:30 lies before every probe's first true layer: zero crossings, exit 0, no error."
    d, truth = sim
    end = np.datetime64("2019-01-27T12:23:30")
    assert all(c.layer_start > end for c in truth.crossings)
    code, _, err, doc = analyze_cli(SIM_W[0], str(end), d, tmp_path / "n", "--quiet", probes=("1", "2", "3", "4"))
    assert code == 0 and doc["crossings"] == [] and sorted(doc["density_only"]) == ["1", "2", "3", "4"], err
    assert doc["status"]["timing"] == {**doc["status"]["timing"], "status": "skipped",
                                       "reason": "no crossing was detected, so there is nothing to time"}


def test_simulated_window_without_crossing_with_B_is_not_a_failure(tmp_path):
    """The same window with FGM too: no crossing is no failure of timing or thickness (both skipped, saying
    why), so exit 0, and 6 with --strict naming the missing crossing (README: exit codes)."""
    from mms_mp.synthetic import simulate_event
    d, end = tmp_path / "full", "2019-01-27T12:23:30"
    simulate_event(d, trange=SIM_W, products=("fgm_srvy", "fpi_fast", "mec_srvy"), seed=0)
    code, _, err, doc = analyze_cli(SIM_W[0], end, d, tmp_path / "n", "--quiet", probes=("1", "2", "3", "4"))
    st = doc["status"]
    assert code == 0 and doc["crossings"] == [] and doc["density_only"] == {}, (err, st)
    assert st["timing"]["status"] == st["thickness"]["status"] == "skipped", st
    assert st["thickness"]["reason"] == "no crossing was detected, so there is no layer to measure"
    code, _, err, _ = analyze_cli(SIM_W[0], end, d, tmp_path / "s", "--quiet", "--strict", probes=("1", "2"))
    assert code == 6 and "no magnetopause crossing found in the window" in err, err

def test_real_burch_event_density_only_end_to_end(tmp_path):
    "REAL MMS1 FPI burst: exit 0 (6 with --strict), ≥ 1 crossing where the density rises, flagged density-only."
    code, text, err, doc = analyze_cli("2015-10-16T13:05:24", "2015-10-16T13:07:43", REAL, tmp_path / "r",
                                       rate="brst")
    assert code == 0, err
    validate_result_json(doc)
    assert doc["simulated"] is False and list(doc["density_only"]) == ["1"] and "density-only" in text
    assert len(doc["crossings"]) >= 1
    rise = [c for c in doc["crossings"] if "2015-10-16T13:05:24" <= c["time"] <= "2015-10-16T13:06:30"]
    # no MEC file among the fixtures: no model normal either, and each crossing says so
    assert rise and all(c["normal"] is None and "no model normal either: no MEC positions of MMS1"
                        in c["normal_unavailable"]["reason"] for c in doc["crossings"])
    assert doc["status"]["normals"]["status"] == "skipped"
    assert rise[0]["direction"] == "out" and rise[0]["sigma_t_s"] > 0
    code, _, err, _ = analyze_cli("2015-10-16T13:05:24", "2015-10-16T13:07:43", REAL, tmp_path / "s",
                                  "--strict", "--quiet", rate="brst")
    assert code == 6 and NO_B in err, err


def test_real_sheath_window_without_crossing_gives_none(tmp_path):
    "REAL MMS1 FPI burst, 13:06:00–13:06:50 on the magnetosheath side: zero crossings and why, exit 0."
    code, _, err, doc = analyze_cli("2015-10-16T13:06:00", "2015-10-16T13:06:50", REAL, tmp_path / "q", "--quiet",
                                    rate="brst")
    assert code == 0 and doc["crossings"] == [], err
    assert "no feature usable" in doc["status"]["detect"]["reason"]


def test_real_fast_moments_two_hours(tmp_path):
    "REAL MMS1 FPI fast 2015-12-01 12:00–14:00: density-only crossings in both directions, each with σ_t."
    code, _, err, doc = analyze_cli("2015-12-01T12:00", "2015-12-01T14:00", REAL, tmp_path / "f", "--quiet")
    assert code == 0, err
    validate_result_json(doc)
    assert {c["direction"] for c in doc["crossings"]} == {"in", "out"}
    assert all(c["sigma_t_s"] > 0 and c["normal"] is None for c in doc["crossings"])


def test_mixed_run_drops_the_probe_without_B_and_says_how(sim, tmp_path):
    "A probe without B beside probes with B is dropped (density and B_L times are not mixed), saying how to run it."
    from mms_mp.synthetic import simulate_event
    d = tmp_path / "mixed"
    simulate_event(d, trange=SIM_W, probes=("1", "2"), products=("fgm_srvy", "fpi_fast", "mec_srvy"), seed=0)
    for f in (d / "mms2" / "fgm").rglob("*.cdf"): f.unlink()
    code, _, err, doc = analyze_cli(*SIM_W, d, tmp_path / "m", "--quiet", probes=("1", "2"))
    assert code == 0 and doc["probes"] == ["1"] and doc["density_only"] == {}, err
    assert "analyse MMS2 alone (probes='2')" in doc["probes_dropped"]["2"]   # the CLI's stderr: --probes 2


def tetrahedron_density_event(side_km=1000.0, seed=0):
    """SIMULATED (mms_mp.toy): four stationary probes of a regular tetrahedron (side `side_km`)
    with FPI-like ion density and positions only, crossing the toy's planar layer (outward normal
    +X GSE, boundary at A sin(ωt + φ) along it): each probe's series is `toy_probe(off=its X)`."""
    import xarray as xr
    from mms_mp.toy import toy_probe
    v = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) * side_km / np.sqrt(8)
    a, b = 0.4, 0.7   # turned so that no edge lies along X
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    v = v @ (rz @ ry).T
    ev = {}
    for i, p in enumerate("1234"):
        d, _ = toy_probe(off=v[i, 0], seed=10 * seed + i, he=False)
        r = np.tile(np.array([60000.0, 20000.0, 5000.0]) + v[i], (len(d["t_n"]), 1))
        ev[p] = {"Ni": xr.DataArray(d["Ni"], coords={"time": d["t_n"]}, dims="time"),
                 "R_gse": xr.DataArray(r, coords={"time": d["t_n"], "comp": list("xyz")},
                                       dims=("time", "comp"), attrs={"frame": "GSE", "units": "km"})}
    return ev


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tetrahedron_density_timing_gives_the_outward_normal_and_V(seed):
    """Density-only timing on a formation that resolves all three directions: n̂ is the true
    outward normal (+X) within 3σ_n and V the true V_N along it within 3σ_V, for "in" (boundary
    moving out, V > 0) and "out" (V < 0) crossings alike. Known answer: the toy boundary moves at
    A ω cos(ωt + φ) along +X (`toy_probe` defaults)."""
    from mms_mp.boundary_multi import detect_crossings_multi
    from mms_mp.core import seconds_since
    from mms_mp.stages import AnalysisResult
    from mms_mp.stages_timing import stage_timing
    from mms_mp.toy import TOY_T0
    ev = tetrahedron_density_event(seed=seed)
    mc = detect_crossings_multi(ev, None, probes=list("1234"), frame="GSE")
    res = AnalysisResult(trange=(), probes=list("1234"), event=ev, matched=mc,
                         crossings=[c for cl in mc.crossings.values() for c in cl],
                         density_only={p: "no FGM" for p in "1234"})
    tims = stage_timing(res, {})
    assert {g.direction for g, _ in tims} == {"in", "out"}
    w, A, phase = 2 * np.pi / 300.0, 1500.0, 0.3   # toy_probe's period, amplitude and phase
    for g, t in tims:
        tc = float(seconds_since(g.crossings[g.ref].time, TOY_T0))
        V_true = A * w * np.cos(w * tc + phase)
        ang = np.degrees(np.arccos(np.clip(t.n_hat[0], -1, 1)))   # to +X: 180° if inward
        assert t.resolved_dims == 3 and ang <= 3 * t.sigma_n_deg, (g.direction, t.n_hat)
        assert abs(t.V_km_s - V_true) <= 3 * t.sigma_V_km_s, (g.direction, t.V_km_s, V_true)
        assert np.sign(t.V_km_s) == (1 if g.direction == "in" else -1)
        assert t.orientation.startswith("outward"), t.orientation
        for c in g.crossings.values():   # each crossing carries its group's n̂ (no GSM positions: no model)
            n = res.normal_of(c)
            np.testing.assert_allclose(n.n_hat, t.n_hat, atol=1e-12)
            assert n.sigma_deg == t.sigma_n_deg and "timing_normal" in n.flags
            assert n.method == "timing: 4-probe group, density half-level times"
    timed = {id(c) for g, _ in tims for c in g.crossings.values()}
    for c in res.crossings:   # the others have none, and say why
        if id(c) not in timed: assert "no timing n̂: " in res.no_normal_reason(c)


def test_validator_wants_normal_or_why_not_never_both(sim_run):
    """A density-only crossing carries a model or timing normal, or says why it has none; never an MVA normal, and
    no crossing carries a normal and a reason for none."""
    import copy
    from mms_mp.core import InputError
    from mms_mp.schema import physics_checks
    (code, text, err, doc), out = sim_run
    bad = copy.deepcopy(doc)
    bad["crossings"][0]["normal"] = None
    with pytest.raises(InputError, match="with neither a normal .model or timing. nor normal_unavailable"):
        validate_result_json(bad)
    bad = copy.deepcopy(doc)
    bad["crossings"][0]["normal"]["method"] = "mva_nested"
    with pytest.raises(InputError, match="a normal by 'mva_nested' for density-only MMS"): validate_result_json(bad)
    for dens in (doc["density_only"], {}):   # with or without B: a normal, or a reason for none, not both
        bad = copy.deepcopy(doc) | {"density_only": dens}
        bad["crossings"][0]["normal_unavailable"] = {"method": "unavailable", "reason": "no MEC positions"}
        errs = physics_checks(bad, [])
        assert any("a normal and normal_unavailable" in e for e in errs), errs


CTX_SIM = ("2019-01-27T12:20", "2019-01-27T12:35")
CTX_W = ("2019-01-27T12:25", "2019-01-27T12:30")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_context_density_only_end_to_end(tmp_path, seed):
    """SIMULATED FPI fast + MEC, no FGM, 12:20–12:35; the window 12:25–12:30 with [context] windows = 1: the
    detector's levels come from 12:20–12:35 (the JSON gives the density's span there), the crossings kept lie in the
    window, each within 3 σ_t of a true crossing, every true crossing ≥ 10 s inside the window is found, and each
    carries the Shue model normal at its position (see the module docstring for the seeds checked)."""
    from mms_mp.synthetic import simulate_event
    d = tmp_path / "sim"
    truth = simulate_event(d, trange=CTX_SIM, products=("fpi_fast", "mec_srvy"), seed=seed)
    cfg = tmp_path / "ctx.toml"
    cfg.write_text("[context]\nwindows = 1\n")
    code, text, err, doc = analyze_cli(*CTX_W, d, tmp_path / "o", "--config", str(cfg), probes=("1", "2", "3", "4"))
    assert code == 0, err
    validate_result_json(doc)
    ctx = doc["provenance"]["context"]
    assert (ctx["from"], ctx["windows"], ctx["trange"]) == ("context", 1.0, ["2019-01-27T12:20:00.000Z",
                                                                            "2019-01-27T12:35:00.000Z"])
    assert "B_data" not in ctx and sorted(ctx["Ni_data"]) == ["1", "2", "3", "4"]
    for a, b in ctx["Ni_data"].values():   # the density reaches well beyond the window on both sides
        assert a < "2019-01-27T12:21" and b > "2019-01-27T12:34", (a, b)
    t0, t1 = (np.datetime64(x, "ns") for x in CTX_W)
    got = [(c, np.datetime64(c["time"][:-1], "ns")) for c in doc["crossings"]]
    assert got
    for c, t in got:
        assert t0 <= t < t1
        dt = min(abs(float(seconds_since(t, x.time))) for x in truth.crossings_of(c["probe"])
                 if x.direction == c["direction"])
        assert dt <= 3 * c["sigma_t_s"], (c, dt)
    margin = np.timedelta64(10, "s")
    for x in truth.crossings:
        if t0 + margin <= x.time < t1 - margin:
            assert any(c["probe"] == x.probe and c["direction"] == x.direction
                       and abs(float(seconds_since(t, x.time))) <= 3 * c["sigma_t_s"] for c, t in got), x
    check_model_normals(doc, d)
    line = next(ln for ln in text.splitlines() if "the window and its [context]" in ln)
    assert line.startswith("detection levels from 2019-01-27T12:20:00.000Z – 2019-01-27T12:35:00.000Z"), line


def test_tetrahedron_timing_normal_replaces_the_model_normal():
    """With GSM positions too (ψ = 20°), the normals stage first gives every crossing the Shue model normal; the
    timing of a group that resolves all three directions then replaces it by the group's n̂ (+x within 3σ_n), and
    the reason gives the model normal's angle from it, the formula's angle here (the toy's planar layer is not the
    model's magnetopause: that angle is the check a reader makes)."""
    import xarray as xr
    from mms_mp.boundary_multi import detect_crossings_multi
    from mms_mp.stages import AnalysisResult, StageStatus, stage_normals
    from mms_mp.stages_timing import stage_timing
    psi = np.radians(20.0)
    ev = tetrahedron_density_event(seed=0)
    for d in ev.values():   # GSM: GSE turned by 20° about X (the analysis takes ψ from the pair)
        r = d["R_gse"]
        d["R_gsm"] = xr.DataArray(about_x(r.values.T, -psi).T, coords=r.coords, dims=r.dims,
                                  attrs={"frame": "GSM", "units": "km"})
    mc = detect_crossings_multi(ev, None, probes=list("1234"), frame="GSE")
    res = AnalysisResult(trange=(), probes=list("1234"), event=ev, matched=mc,
                         crossings=[c for cl in mc.crossings.values() for c in cl],
                         density_only={p: "no FGM" for p in "1234"}, status={"normals": StageStatus()})
    stage_normals(res, {})
    assert all(res.normal_of(c).method == MODEL for c in res.crossings)
    tims = stage_timing(res, {})
    for g, t in tims:
        for p, c in g.crossings.items():
            n = res.normal_of(c)
            np.testing.assert_allclose(n.n_hat, t.n_hat, atol=1e-12)
            assert angle_deg(n.n_hat, [1.0, 0, 0]) <= 3 * n.sigma_deg and n.flags[0] == "timing_normal"
            tc = c.time
            r = {q: np.array([np.interp(0.0, seconds_since(ev[p][q]["time"].values, tc), ev[p][q].values[:, k])
                              for k in range(3)]) for q in ("R_gse", "R_gsm")}
            (ym, zm), (ye, ze) = r["R_gsm"][1:], r["R_gse"][1:]
            m = about_x(shue_normal_by_formula(r["R_gsm"]), np.arctan2(ym * ze - zm * ye, ym * ye + zm * ze))
            said = re.search(r"the Shue model normal here lies (\d+)° from it", n.reason)
            assert said and abs(int(said.group(1)) - angle_deg(m, t.n_hat)) <= 0.5 + 1e-3, n.reason   # 12.5–14.7°
    timed = {id(c) for g, _ in tims for c in g.crossings.values()}
    for c in res.crossings:   # the one left out keeps its model normal and says why
        if id(c) not in timed:
            assert res.normal_of(c).method == MODEL and "; no timing n̂: " in res.normal_of(c).reason
    assert "of 13 crossings, 12 carry their group's timing n̂, 1 the Shue model normal" in res.status["normals"].reason


def test_simulated_string_timing_gives_V_along_the_model_normals(sim, sim_run):
    """SIMULATED: the near-collinear 2019-01-27 string resolves one direction of three; without B each group's
    timing is constrained to its crossings' Shue model normals, and its V (outward on "in" crossings) lies within
    3σ_V of the simulator's normal speed averaged over the group's crossings (what timing measures: the boundary's
    mean speed while it passes the string; 2 seeds × 8 groups: rms (V − V̄)/σ_V 0.83, 94 % within 2σ)."""
    (code, text, err, doc), _ = sim_run
    _, truth = sim
    assert code == 0, err
    assert doc["timing"] is not None and len(doc["timing_groups"]) >= 2
    for g in doc["timing_groups"]:
        assert g["degenerate"] and g["resolved_dims"] == 1 and g["formation"]["label"] == "string", g
        assert g["constraint"].startswith("n from Shue 1998 model") and "no magnetic field" in g["constraint"]
        t = np.datetime64(g["time"][:-1])
        near = lambda p: min(truth.crossings_of(p), key=lambda c: abs(float(seconds_since(c.time, t))))
        c, v_mean = near(g["ref_probe"]), np.mean([near(p).V_N_kms for p in g["probes"]])
        assert c.direction == g["direction"] and np.sign(g["V_km_s"]) == (1 if c.direction == "in" else -1)
        assert abs(g["V_km_s"] - v_mean) <= 3 * g["sigma_V_km_s"], (g["time"], g["V_km_s"], v_mean)
        assert g["sigma_V_normal_km_s"] > 0   # the model normal's σ is in σ_V, and what it leaves out is said
        assert any(f.startswith("normal from the Shue model: its σ is the model's spread over its inputs")
                   for f in g["flags"]), g["flags"]
