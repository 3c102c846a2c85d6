"""How far a crossing normal errs, and whether its σ covers the error, when the field barely turns across the layer.

`mms_mp.normals` flags a local normal `low_shear` when the mean fields either side of the layer differ in direction by
less than `SHEAR_MIN_DEG` (`field_shear`). This measures, on SIMULATED events with a known local normal, what the
flag stands for: per crossing, the normal's error against the truth, its σ, whether the error is within 2σ, the
measured shear and the flags, for the simulator's `shear_deg` (the angle from +L to the magnetosheath tangential
field) set to 10–130°, on the planar `default` and the rippled `surface_waves` scenarios, over noise seeds.

The simulator's field is B = B_N N + (1 − f) B_sp + f B_sh + 4f(1 − f) B_rot M (nbs/02a): a straight chord from the
magnetospheric to the magnetosheath field plus a bump of B_rot along M at the centre. Without the bump the variation
is one-dimensional at any shear and MVA has no second direction; the bump gives it one, and its default (12 nT)
does not depend on the shear. A field that turns by θ at nearly constant |B| bulges from the chord by
B̄(1 − cos θ/2), which vanishes as θ → 0, so two bump models are run:
- `fixed`: B_rot = 12 nT at every shear (the simulator's default);
- `arc`: B_rot = 12 nT · (1 − cos θ/2) / (1 − cos 65°), the bulge of a turning field, equal to the default at 130°.

Scoring: each complete true crossing is paired with the detection inside its layer, as `mms_mp.validation` does;
a detection in no complete true layer is false. The rule for reading the table was fixed before it was run (see
MARK in results/low_shear.md).

Usage (repository root): .venv/bin/python bench/low_shear.py [--seeds 0 1 2 3 4] [--brst-seeds 0 1] [--out FILE]
Events are written once into $MMS_MP_BENCH_DIR (default /tmp/mms_mp_bench): survey products ≈ 20 MB each; the
burst subset adds FGM and FPI burst. Per-crossing rows go to low_shear_rows.csv in that folder.
"""
import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mms_mp.core import as_datetime64
from mms_mp.pipeline import analyze
from mms_mp.synthetic import simulate_event
from mms_mp.validation import crossing_scores
from nonplanar_seeds import md, write_keeping_reading   # bench/ is on sys.path when run as a script

TR, PROBES = ("2019-01-27T12:15", "2019-01-27T12:55"), ["1", "2", "3", "4"]
SHEARS = (10, 20, 30, 45, 60, 90, 130)
SCENARIOS = ("default", "surface_waves")
BUMPS = ("fixed", "arc")
SRVY = ("fgm_srvy", "fpi_fast", "hpca_srvy", "edp_fast", "mec_srvy")
BRST = SRVY + ("fgm_brst", "fpi_brst")
BRST_SHEARS = (10, 30, 130)   # the burst subset: below, at and far above SHEAR_MIN_DEG
ROOT = Path(os.environ.get("MMS_MP_BENCH_DIR", "/tmp/mms_mp_bench"))


def b_rot(bump: str, shear: float) -> float:
    "The centre bump along M, nT: the default 12 nT, or the bulge of a field turning by `shear`, 12 nT at 130°."
    if bump == "fixed": return 12.0
    return 12.0 * (1 - np.cos(np.radians(shear) / 2)) / (1 - np.cos(np.radians(65.0)))


def event(sc: str, bump: str, shear: float, seed: int, brst: bool) -> Path:
    "The simulated event (written once; a burst event also holds the survey products)."
    d = ROOT / f"lowshear_{sc}_{bump}_sh{shear:g}_s{seed}{'_brst' if brst else ''}"
    if not (d / "truth.json").exists():
        simulate_event(d, scenario=sc, seed=seed, products=BRST if brst else SRVY, overwrite=True,
                       shear_deg=float(shear), B_rot_nT=b_rot(bump, shear))
    return d


def crossing_rows(doc: dict, truth: dict) -> tuple:
    "`crossing_scores`' rows with the paired detection's measured shear, flags and λ2/λ3; false detections."
    tab, false = crossing_scores(doc, truth)
    inside = lambda c, x: as_datetime64(c["layer_start"]) <= as_datetime64(x["time"]) <= as_datetime64(c["layer_end"])
    extra = []
    for p in doc["probes"]:   # the same pairing as crossing_scores, in its order
        dc = [x for x in doc["crossings"] if x["probe"] == p]
        for c in (c for c in truth["crossings"] if c["probe"] == p and c["complete"]):
            nm = next(((x.get("normal") or {}) for x in dc if inside(c, x)), {})
            lam = nm.get("eigenvalues") or [np.nan] * 3
            extra.append({"shear_meas": nm.get("shear_deg", np.nan), "normal_flags": " ".join(nm.get("flags", [])),
                          "l23": nm.get("lambda2_lambda3", np.nan), "n_eff": nm.get("n_eff", np.nan),
                          "sigma_random": nm.get("sigma_random_deg", np.nan), "l1": lam[0], "l2": lam[1], "l3": lam[2],
                          "sigma_window": nm.get("sigma_window_deg", np.nan)})
    return pd.concat([tab, pd.DataFrame(extra, index=tab.index)], axis=1), false


def run(sc: str, bump: str, shear: float, seed: int, rate: str) -> tuple:
    "One analysis scored per crossing: (rows, false detections per probe)."
    d = event(sc, bump, shear, seed, rate == "brst")
    truth = json.loads((d / "truth.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = analyze(TR, PROBES, rate=rate, source="local", data_dir=d).to_json()
    tab, false = crossing_rows(doc, truth)
    return tab.assign(scenario=sc, bump=bump, shear=shear, seed=seed, rate=rate), false


def summary(g: pd.DataFrame) -> pd.Series:
    "One cell of the table: detection, the local normals' errors and coverage, flags, measured shear."
    f = g[g.found]
    loc = f[~f.method.str.startswith("fallback")]
    within = lambda x: round(float((x.err <= 2 * x.sigma).mean()), 2) if len(x) else np.nan
    q = lambda x, p: round(float(x.quantile(p)), 1) if len(x) else np.nan
    return pd.Series({"runs": g.seed.nunique(), "true": len(g), "found": int(g.found.sum()),
                      "false max": int(g.false_max.max()), "shear meas median": q(f.shear_meas, 0.5),
                      "local": len(loc), "fallback": len(f) - len(loc), "err median": q(loc.err, 0.5),
                      "err p90": q(loc.err, 0.9), "σ median": q(loc.sigma, 0.5), "within 2σ": within(loc),
                      "within 2σ all": within(f), "low_shear": round(float(loc.normal_flags.str.contains("low_shear").mean()), 2)
                      if len(loc) else np.nan, "λ2/λ3 median": q(loc.l23, 0.5)})


def by_measured(df: pd.DataFrame) -> pd.DataFrame:
    "Local normals pooled over shear parameters and seeds, binned by the measured shear."
    loc = df[df.found & ~df.method.str.startswith("fallback")].copy()
    loc["measured shear (deg)"] = pd.cut(loc.shear_meas, [0, 15, 30, 45, 60, 90, 180], right=False)
    g = loc.groupby(["scenario", "bump", "rate", "measured shear (deg)"], observed=True)
    out = g.apply(lambda x: pd.Series({"n": len(x), "err median": round(x.err.median(), 1),
                                        "err p90": round(x.err.quantile(0.9), 1), "σ median": round(x.sigma.median(), 1),
                                        "within 2σ": round(float((x.err <= 2 * x.sigma).mean()), 2)}),
                  include_groups=False).reset_index()
    return out.astype({"n": int})


def by_ratio(df: pd.DataFrame, split: float = 60.0) -> pd.DataFrame:
    "Survey local normals of the turbulent scenario by λ2/λ3, below and above `split` deg of measured shear."
    loc = df[df.found & ~df.method.str.startswith("fallback") & (df.scenario == "surface_waves") & (df.rate == "srvy")]
    loc = loc.assign(**{"λ2/λ3": pd.cut(loc.l23, [1, 3, 5, 10, 20, 50, 200, np.inf], right=False),
                        f"shear meas < {split:g}°": loc.shear_meas < split})
    g = loc.groupby(["λ2/λ3", f"shear meas < {split:g}°"], observed=True)
    out = g.apply(lambda x: pd.Series({"n": len(x), "err median": round(x.err.median(), 1),
                                       "σ median": round(x.sigma.median(), 1),
                                       "within 2σ": round(float((x.err <= 2 * x.sigma).mean()), 2),
                                       "err > 90°": round(float((x.err > 90).mean()), 2)}),
                  include_groups=False).reset_index()
    return out.astype({"n": int})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--brst-seeds", nargs="*", type=int, default=[0, 1])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "low_shear.md"))
    ap.add_argument("--csv", default=str(ROOT / "low_shear_rows.csv"))
    ap.add_argument("--from-csv", action="store_true", help="tabulate the rows of an earlier run; run nothing")
    a = ap.parse_args()
    if a.from_csv: return write(pd.read_csv(a.csv, keep_default_na=False, na_values=[""]), a, "from " + a.csv)
    jobs = [(sc, b, s, seed, "srvy") for sc in SCENARIOS for b in BUMPS for s in SHEARS for seed in a.seeds]
    jobs += [(sc, "arc", s, seed, "brst") for sc in SCENARIOS for s in BRST_SHEARS for seed in a.brst_seeds]
    rows, t0 = [], time.process_time()
    for j in jobs:
        tab, false = run(*j)
        rows.append(tab.assign(false_max=max(false.values(), default=0)))
        print(j, len(tab), int(tab.found.sum()), round(float(tab.err.median()), 2), flush=True)
    df = pd.concat(rows, ignore_index=True)
    df.to_csv(a.csv, index=False)
    write(df, a, f"{time.process_time() - t0:.0f} s CPU")


def write(df: pd.DataFrame, a, how: str):
    "The tables of results/low_shear.md, keeping the reading by hand."
    df = df.assign(found=df.found.astype(bool), method=df.method.fillna("none").astype(str),
                   normal_flags=df.normal_flags.fillna("").astype(str))
    a.seeds, a.brst_seeds = ([int(x) for x in sorted(df[df.rate == r].seed.unique())] for r in ("srvy", "brst"))
    cells = df.groupby(["scenario", "bump", "rate", "shear"]).apply(summary, include_groups=False).reset_index()
    ints = ["runs", "true", "found", "false max", "local", "fallback"]
    cells[ints] = cells[ints].astype(int)
    text = (f"# Crossing normals at low magnetic shear (SIMULATED)\n\n"
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {how}. "
            f"Survey seeds {a.seeds}; burst seeds {a.brst_seeds} (`arc` bump, shear {list(BRST_SHEARS)}). "
            "`shear`: the simulator's parameter (deg); `shear meas`: `field_shear` of the paired detections (deg). "
            "Errors and σ in deg, of the local (MVA) normals; `within 2σ all` counts fallbacks too; `low_shear`: "
            "share of local normals flagged.\n\n"
            "## By the shear parameter\n\n" + md(cells) +
            "\n\n## Local normals by measured shear, pooled over parameters and seeds\n\n" + md(by_measured(df)) +
            "\n\n## surface_waves (survey, both bumps): by λ2/λ3 and measured shear\n\n" + md(by_ratio(df)) + "\n")
    write_keeping_reading(Path(a.out), text)
    print(text)


if __name__ == "__main__":
    main()
