"""Where σ_t comes from, and which part is larger than the crossing-time errors it claims to cover.

SIMULATED planar scenarios (default, fast_thin, noisy_hpca_gap) over noise seeds, at survey rate and (on fewer seeds)
burst rate, with the package's own LMN (`coords.lmn_for_probe`, as nbs/10b and the pipeline run it) and with the true
LMN. Each true crossing is paired with the nearest detection of the same direction (as `bench/tilt_sigma_seeds.py`).
Per pair: Δt = detected − true and σ_t for the B_L half-level time (the crossing's time) and for the density
half-level time beside it (`t_density`, `sigma_t_density`: the time the tilt scan compares), and each part of σ_t as
the package computed it (`crossings._time_layer`'s `parts`, the density check's own `parts`, recorded while the
detector runs):
- quant: Δt_s/√12 (sampling; the density check: `sigma_t_sampled`, the interpolation error of a tanh of its D);
  noise: σ̂/ẏ (sample noise over the mean slope), or the line fit's σ (`centre_fit`);
- level: Δh/ẏ, Δh = max(shift of the half-level between the global and the local levels, `level_rel_sigma`·jump);
  `level_rel` is the floor's own value, `level_rel_sigma`·D/0.76;
- spread: the spread of several half-level crossings inside the layer;
- curve: the density check's line-fit bias where the profile is curved (`line_bias`, de-biased);
- floor: what `sigma_t_floor` adds beyond the sum of the parts above (σ_t = max(√Σ, floor));
- cut: D/√12 where a plateau lies beyond the data (`plateau_beyond_data`); gap: T_gap/√12 (`gap_across_crossing`);
- L: |∂t/∂α|·σ_L, the uncertain turn of L (`detect.with_tilt_sigma`; B_L-timed crossings only).
Also the part of Δt that the L in use explains: Δt_L = −∂t/∂α·α_rem (`detect.dt_dalpha`, signed), α_rem the turn about
N that takes the L in use onto the L′ with no component along the true M (where B·L′'s half-level is the layer centre).

Usage (repository root): .venv/bin/python bench/sigma_t_parts.py [--seeds 0 ... 15] [--brst-seeds 0 ... 7]
Events are written once into $MMS_MP_BENCH_DIR (default /tmp/mms_mp_bench): survey as `planar_{scenario}_{seed}`
(the events of `bench/tilt_levels_seeds.py`), burst as `planar_{scenario}_{seed}_brst` (FGM and FPI burst, HPCA and
MEC survey, ≈ 160 MB each). The rows go to sigma_t_parts_rows.csv in that folder; `--from-csv` re-tabulates them.
"""
import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mms_mp.crossings as crs_mod
import mms_mp.detect as det
from mms_mp.boundary import DetectorCfg
from mms_mp.boundary_multi import detect_crossings_multi
from mms_mp.coords import lmn_for_probe
from mms_mp.core import seconds_since
from mms_mp.crossings import neighbour_bounds
from mms_mp.data import load_event
from mms_mp.simtruth import load_truth
from mms_mp.synthetic import simulate_event
from nonplanar_seeds import md, write_keeping_reading   # bench/ is on sys.path when run as a script
from tilt_levels_seeds import event as srvy_event

SCENARIOS = ("default", "fast_thin", "noisy_hpca_gap")
BRST = ("fgm_brst", "fpi_brst", "hpca_srvy", "mec_srvy")
PARTS = ("quant", "noise", "level", "spread", "curve", "floor", "cut", "gap", "L")
ROOT = Path(os.environ.get("MMS_MP_BENCH_DIR", "/tmp/mms_mp_bench"))
CSV = ROOT / "sigma_t_parts_rows.csv"
TIME_LAYER, ONE_CROSSING, DENSITY_CHECK = crs_mod._time_layer, crs_mod._one_crossing, crs_mod._density_check


def event(sc: str, seed: int, rate: str) -> Path:
    "The survey event of `tilt_levels_seeds`, or a burst one (written once)."
    if rate == "srvy": return srvy_event(sc, seed)
    d = ROOT / f"planar_{sc}_{seed}_brst"
    if not (d / "truth.json").exists():
        simulate_event(d, scenario=sc, seed=seed, products=BRST, overwrite=True)
    return d


class Recorder:
    """Every `_time_layer` result of each timed crossing and the density check's σ parts, keyed by (probe, time ns):
    the last detector pass wins."""
    def __init__(self): self.calls, self.by_key, self.dparts = [], {}, {}
    def density_check(self, *a, **k):
        r = DENSITY_CHECK(*a, **k)
        self.dparts = r[3]
        return r
    def time_layer(self, *a, **k):
        r = TIME_LAYER(*a, **k)
        self.calls.append((k.get("floor", True), r))
        return r
    def one_crossing(self, pf, fp, ctx, span, zone, new, cfg):
        self.calls, self.dparts = [], {}
        out = ONE_CROSSING(pf, fp, ctx, span, zone, new, cfg)
        if out is not None:
            c = out[0]
            prim = next((r for fl, r in self.calls if fl and isinstance(r, dict)), None)
            dens = next((r for fl, r in self.calls if not fl and isinstance(r, dict)), None)
            if dens is not None: dens = dens | {"parts": self.dparts}   # the density check's own σ parts
            self.by_key[(c.probe, int(c.time.astype("datetime64[ns]").astype("int64")))] = (c.sigma_t_s, prim, dens)
        return out


def parts_of(sig_pre_L: float, r: dict | None, sigma_L: float) -> dict:
    "σ_t's parts (s) so that Σ part² = σ_t²: the layer's (`_time_layer`), the gap's and L's."
    if r is None: return {k: np.nan for k in PARTS}
    p = r["parts"]
    base = np.sqrt(sum(p.get(k, 0.0) ** 2 for k in ("quant", "noise", "level", "spread", "curve")))
    fl = np.sqrt(max(p.get("floor", 0.0) ** 2 - base ** 2, 0.0))
    gap = np.sqrt(max(sig_pre_L ** 2 - r["sigma"] ** 2, 0.0))
    return {**{k: p.get(k, 0.0) for k in ("quant", "noise", "level", "spread", "curve")}, "floor": fl, "cut": p["cut"],
            "gap": gap,
            "L": sigma_L}


def alpha_rem(R: np.ndarray, lmn_true: np.ndarray) -> float:
    "Turn about N (rad, toward M) that takes R's L onto the L′ ⊥ the true M."
    Mt = lmn_true[1]
    return float(np.arctan2(-(R[0] @ Mt), R[1] @ Mt))


def true_levels(tr, L: np.ndarray) -> tuple:
    "The true asymptotic B·L (nT) on the magnetosphere and magnetosheath sides, and n (cm⁻³), for the L in use."
    p, (Lt, Mt, Nt) = tr.params, tr.lmn_gse
    th = np.radians(p.shear_deg)
    B_sp, B_sh = p.B_N_nT * Nt + p.B_sp_nT * Lt, p.B_N_nT * Nt + p.B_sh_nT * (np.cos(th) * Lt + np.sin(th) * Mt)
    return (float(B_sp @ L), float(B_sh @ L)), (p.n_sp_cc, p.n_sh_cc)


def level_errors(r: dict | None, sp: float, sh: float, direction: str, D: float, cfg) -> tuple:
    """Each side's level error, fraction of the jump toward the other side (+: into the layer), magnetosphere and
    magnetosheath side, and the Δt (s) they give the half-level at the tanh's central slope over the true D."""
    if r is None: return np.nan, np.nan, np.nan
    at, bt = (sp, sh) if direction == "out" else (sh, sp)
    J = bt - at
    ea, eb = (r["a"] - at) / J, (bt - r["b"]) / J
    e_sp, e_sh = (ea, eb) if direction == "out" else (eb, ea)
    return e_sp, e_sh, (ea - eb) / 2 * D / np.arctanh(cfg.edge_frac)


def one(sc: str, seed: int, rate: str, lmn_kind: str) -> list:
    "Every true crossing of one run, paired with its detection: Δt, σ_t and its parts, for B_L and density."
    d = event(sc, seed, rate)
    tr = load_truth(d)
    rec = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = load_event(tr.trange, tr.probes, rate=rate, source="local", data_dir=d)
        lmn = {p: lmn_for_probe(ev, p) for p in tr.probes} if lmn_kind == "package" else tr.lmn_gse
        crs_mod._time_layer, crs_mod._one_crossing, crs_mod._density_check = (rec.time_layer, rec.one_crossing,
                                                                              rec.density_check)
        try: mc = detect_crossings_multi(ev, lmn, frame="GSE")
        finally: crs_mod._time_layer, crs_mod._one_crossing, crs_mod._density_check = (TIME_LAYER, ONE_CROSSING,
                                                                                       DENSITY_CHECK)
    cfg, rows = DetectorCfg(), []
    for p in tr.probes:
        cl = mc.crossings[p]
        pf = cl.features
        t0 = pf.t_B[0]
        ts = seconds_since(pf.t_B, t0)
        los, his = neighbour_bounds(list(cl), t0)
        ar = alpha_rem(mc.R_used[p], tr.lmn_gse)
        bl, nl = true_levels(tr, mc.R_used[p][0])
        for c in tr.crossings_of(p):
            k = [i for i, x in enumerate(cl) if x.direction == c.direction]
            if not k: continue
            i = min(k, key=lambda i: abs(float(seconds_since(cl[i].time, c.time))))
            x = cl[i]
            sig_pre, prim, dens = rec.by_key.get((p, int(x.time.astype("datetime64[ns]").astype("int64"))),
                                                 (np.nan, None, None))
            dtda = det.dt_dalpha(ts, pf.B_lmn, x, t0, cfg, los[i], his[i]) if x.method.startswith("B_L") else 0.0
            e_sp, e_sh, dt_lev = level_errors(prim, *bl, c.direction, c.duration_s, cfg)
            row = {"scenario": sc, "seed": seed, "rate": rate, "lmn": lmn_kind, "probe": p, "dir": c.direction,
                   "complete": c.complete, "true D (s)": c.duration_s, "D (s)": x.duration_s,
                   "method": x.method.split(" ")[0], "flags": " ".join(x.flags),
                   "dt": float(seconds_since(x.time, c.time)), "sigma": x.sigma_t_s,
                   "dt_L": -dtda * ar if np.isfinite(dtda) else np.nan, "alpha_rem (deg)": np.degrees(ar),
                   "sigma_L (deg)": mc.tilt_sigma_deg, "level_rel": cfg.level_rel_sigma * x.duration_s / cfg.edge_frac,
                   "e_sp": e_sp, "e_sh": e_sh, "dt_lev": dt_lev,
                   **{f"s_{k}": v for k, v in parts_of(sig_pre, prim, x.sigma_t_L_s).items()}}
            if x.t_density is not None and dens is not None:
                n_sp, n_sh, n_lev = level_errors(dens, *nl, c.direction, c.duration_s, cfg)
                row.update({"dt_n": float(seconds_since(x.t_density, c.time)), "sigma_n": x.sigma_t_density,
                            "n_e_sp": n_sp, "n_e_sh": n_sh, "dt_n_lev": n_lev,
                            **{f"n_{k}": v for k, v in parts_of(dens["sigma"], dens, 0.0).items()}})
            rows.append(row)
    return rows


rms = lambda x: float(np.sqrt(np.mean(np.square(x))))


def coverage(g: pd.DataFrame, dt: str, sig: str, pre: str) -> dict:
    "rms Δt/σ, the fractions within 1σ and 2σ, and each part's median share of σ²."
    z = g[dt] / g[sig]
    out = {"n": len(g), "rms Δt (s)": rms(g[dt]), "median σ (s)": g[sig].median(), "rms Δt/σ": rms(z),
           "≤1σ": np.mean(abs(z) <= 1), "≤2σ": np.mean(abs(z) <= 2)}
    return out | {f"share {k}": (g[f"{pre}{k}"] ** 2 / g[sig] ** 2).median() for k in PARTS if f"{pre}{k}" in g}


def against_parts(g: pd.DataFrame) -> dict:
    "The B_L times' errors against each part: rms of each, rms Δt/σ without it, and Δt split into L and the rest."
    res, noL = g.dt - g.dt_L, np.sqrt(g.sigma ** 2 - g.s_L ** 2)
    out = {"n": len(g), "rms Δt (s)": rms(g.dt)}
    out |= {f"rms {k} (s)": rms(g[f"s_{k}"]) for k in ("level", "L", "floor", "noise")}
    out |= {f"rms Δt/σ−{k}": rms(g.dt / np.sqrt(np.maximum(g.sigma ** 2 - g[f"s_{k}"] ** 2, 1e-12)))
            for k in ("level", "L", "floor")}
    return out | {"rms Δt_L/L part": rms(g.dt_L / g.s_L), "rms (Δt−Δt_L)/σ−L": rms(res / noL),
                  "corr(Δt_L, Δt−Δt_L)": np.corrcoef(g.dt_L, res)[0, 1],
                  "mean Δt in/out (s)": f"{g.dt[g.dir == 'in'].mean():+.2f}/{g.dt[g.dir == 'out'].mean():+.2f}",
                  "mean Δt_L in/out (s)": f"{g.dt_L[g.dir == 'in'].mean():+.2f}/{g.dt_L[g.dir == 'out'].mean():+.2f}"}


def levels(g: pd.DataFrame) -> dict:
    "Each side's level error (fraction of the jump, + into the layer) and how much of Δt − Δt_L they explain."
    res = g.dt - g.dt_L
    return {"n": len(g), "magnetosphere level mean ± sd (%)": f"{100 * g.e_sp.mean():.2f} ± {100 * g.e_sp.std():.2f}",
            "magnetosheath level mean ± sd (%)": f"{100 * g.e_sh.mean():.2f} ± {100 * g.e_sh.std():.2f}",
            "rms Δt−Δt_L (s)": rms(res), "rms Δt from levels (s)": rms(g.dt_lev),
            "corr": np.corrcoef(res, g.dt_lev)[0, 1], "rms left (s)": rms(res - g.dt_lev),
            "rms level part (s)": rms(g.s_level)}


def table(df: pd.DataFrame, by: list, f, *a) -> pd.DataFrame:
    "`f` of each group of `by`, one row each, rounded."
    rows = [{**dict(zip(by, k)), **f(g, *a)} for k, g in df.groupby(by)]
    return pd.DataFrame(rows).round(2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", nargs="*", type=int, default=list(range(16)))
    ap.add_argument("--brst-seeds", nargs="*", type=int, default=list(range(8)))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "sigma_t_parts.md"))
    ap.add_argument("--from-csv", action="store_true")
    a = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    if a.from_csv: df = pd.read_csv(CSV)
    else:
        jobs = [(sc, s, "srvy", k) for sc in SCENARIOS for s in a.seeds for k in ("package", "true")]
        jobs += [(sc, s, "brst", "package") for sc in SCENARIOS for s in a.brst_seeds]
        rows = []
        for j in jobs:
            rows += one(*j)
            print(j, len(rows), f"{time.process_time() - c0:.0f} s CPU", flush=True)
        df = pd.DataFrame(rows)
        df.to_csv(CSV, index=False)
    df["flags"] = df["flags"].fillna("")
    df["cut"] = df["flags"].str.contains("plateau_beyond_data")
    df["layer"] = np.where(df["D (s)"] > df.groupby(["scenario", "rate"])["D (s)"].transform("median"), "long", "short")
    run = ["scenario", "seed", "rate", "lmn"]   # the L in use against σ_L, per run (mean over the probes)
    zL = df.groupby(run)["alpha_rem (deg)"].transform("mean") / df["sigma_L (deg)"]
    df["L in use"] = np.where(abs(zL) <= 2, "within 2σ_L", "beyond 2σ_L")
    bl = pd.concat([df.assign(time="B_L"), df[df.dt_n.notna()].assign(
        time="density", dt=lambda x: x.dt_n, sigma=lambda x: x.sigma_n,
        **{f"s_{k}": (lambda x, k=k: x[f"n_{k}"]) for k in PARTS})])
    seeds = lambda r: ", ".join(map(str, sorted(df[df.rate == r].seed.unique())))
    kept = df[~df.cut & df.dt_L.notna()]
    when = ("re-tabulated from the rows of an earlier run" if a.from_csv else
            f"{time.process_time() - c0:.0f} s CPU ({time.perf_counter() - t0:.0f} s wall)")
    text = (f"# The parts of σ_t against the crossing-time errors (SIMULATED planar scenarios)\n\n"
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {when}; survey seeds {seeds('srvy')}, "
            f"burst seeds {seeds('brst')}. Written by `bench/sigma_t_parts.py` (rows in "
            "`$MMS_MP_BENCH_DIR/sigma_t_parts_rows.csv`). Δt = detected − true centre time. A calibrated σ gives "
            "rms Δt/σ ≈ 1, 68 % within 1σ, 95 % within 2σ. `share X`: median over crossings of X²/σ² (the parts "
            "add in quadrature to σ; `floor` is what `sigma_t_floor` adds beyond the others). LMN: `package` = "
            "`coords.lmn_for_probe` per probe (as nbs/10b and the pipeline), `true` = the simulator's.\n\n"
            "## Coverage and shares, by scenario, rate, LMN and time (B_L: the crossing time, σ_t; density: "
            "`t_density`, `sigma_t_density`), crossings with `plateau_beyond_data` apart\n\n"
            + md(table(bl[~bl.cut], ["time", "lmn", "scenario", "rate"], coverage, "dt", "sigma", "s_")) +
            "\n\n## The crossings with `plateau_beyond_data` (B_L time, package LMN)\n\n"
            + md(table(bl[bl.cut & (bl.time == "B_L") & (bl.lmn == "package")], ["scenario", "rate"], coverage,
                       "dt", "sigma", "s_")) +
            "\n\n## The B_L times against each part (package LMN; `plateau_beyond_data` apart)\n\n"
            "`rms Δt/σ−X`: with X taken out of σ in quadrature. Δt_L = −∂t/∂α·α_rem (`detect.dt_dalpha`, signed): "
            "the part of Δt the L in use explains, α_rem the turn about N from the L in use to the L′ with no "
            "component along the true M. `rms Δt_L/L part` tests the L part alone, `rms (Δt−Δt_L)/σ−L` the other "
            "parts.\n\n"
            + md(table(kept[kept.lmn == "package"], ["scenario", "rate"], against_parts)) +
            "\n\n## The levels behind Δt − Δt_L (B_L time, `plateau_beyond_data` apart)\n\n"
            "Each side's level as timed (`_time_layer`'s a, b) against the true asymptote of B·L for the L in use, as "
            "a fraction of the jump (+: toward the other side, into the layer); `Δt from levels` = the half-level "
            "shift they give over the tanh's central slope, |b − a|·atanh(0.76)/D_true.\n\n"
            + md(table(kept, ["lmn", "scenario", "rate"], levels)) +
            "\n\n## Subsets (B_L time, package LMN): long and short layers (about the median D of the scenario and "
            "rate)\n\n" + md(table(df[~df.cut & (df.lmn == "package")], ["rate", "layer"], coverage, "dt", "sigma",
                                     "s_")) +
            "\n\n## Subsets (B_L time, package LMN): runs whose L in use (mean α_rem over the probes) lies within or "
            "beyond 2σ_L of the L′ ⊥ true M\n\n"
            + md(table(df[~df.cut & (df.lmn == "package")], ["scenario", "rate", "L in use"], coverage, "dt",
                       "sigma", "s_")) + "\n")
    write_keeping_reading(Path(a.out), text)
    print(text)


if __name__ == "__main__":
    main()
