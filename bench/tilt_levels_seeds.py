"""How well the χ² scan of L's turn about N finds the true L on the SIMULATED planar scenarios, over noise seeds.

The scan times the half-level of B·L′ at each crossing, with the levels of B_L and B_M on each side of the layer
(`mms_mp.detect.side_levels`). Session 25 changed where those levels come from. This measures both rules on the same
events, so that one realisation (the demo event, seed 0, in nbs/10b) does not decide:
- `old`: windows of `level_window_s` (60 s) beginning half a layer beyond each edge, blind to neighbouring crossings
  (the rule before session 25; defined here, not in the package);
- `package`: the detector's own level windows (`contrast_windows`), stopping halfway to the neighbouring crossings.

Per event: the L in use against the true L (deg), the scan's σ_L, and the crossing times' median |Δt| and fraction
within 2σ_t, with the package's own LMN (`coords.lmn_for_probe`) at survey rate, as nbs/10b runs it.

Usage (repository root): .venv/bin/python bench/tilt_levels_seeds.py [--seeds 1 2 3 4 5] [--out FILE]
Events (survey products only, ≈ 10 MB each) are written once into $MMS_MP_BENCH_DIR (default /tmp/mms_mp_bench).
"""
import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import mms_mp.detect as det
from mms_mp.boundary_multi import detect_crossings_multi
from mms_mp.coords import lmn_for_probe
from mms_mp.core import seconds_since
from mms_mp.crossings import median_in
from mms_mp.data import load_event
from mms_mp.simtruth import load_truth
from mms_mp.synthetic import simulate_event
from nonplanar_seeds import md, write_keeping_reading   # bench/ is on sys.path when run as a script

PRODUCTS = ("fgm_srvy", "fpi_fast", "hpca_srvy", "edp_fast", "mec_srvy")
SCENARIOS = ("default", "noisy_hpca_gap")
PACKAGE = det.side_levels


def old_side_levels(ts, Y, t_s, t_e, lo, hi, cfg):
    "The levels before session 25: 60-s windows half a layer beyond each edge; `lo`, `hi` ignored."
    D, W = t_e - t_s, cfg.level_window_s
    side = lambda a, b: np.array([median_in(ts, y, a, b, max(cfg.min_dwell_s, D / 2)) for y in Y.T])
    return side(t_s - D / 2 - W, t_s - D / 2), side(t_e + D / 2, t_e + D / 2 + W)


def event(sc: str, seed: int) -> Path:
    d = Path(os.environ.get("MMS_MP_BENCH_DIR", "/tmp/mms_mp_bench")) / f"planar_{sc}_{seed}"
    if not (d / "truth.json").exists():
        simulate_event(d, scenario=sc, seed=seed, products=PRODUCTS, overwrite=True)
    return d


def score(tr, mc) -> dict:
    "The L in use against the true L, σ_L, and the crossing times against the true ones."
    L = next(iter(mc.R_used.values()))[0]
    e = []
    for p in tr.probes:
        for c in tr.crossings_of(p):
            dd = [x for x in mc.crossings[p] if x.direction == c.direction]
            x = min(dd, key=lambda x: abs(float(seconds_since(x.time, c.time))), default=None)
            if x: e.append(float(seconds_since(x.time, c.time)) / np.r_[1.0, x.sigma_t_s])
    e = np.array(e)
    return {"turn (deg)": round(mc.tilt_deg, 1), "σ_L (deg)": round(mc.tilt_sigma_deg, 2),
            "L error (deg)": round(float(np.degrees(np.arccos(min(1.0, abs(L @ tr.lmn_gse[0]))))), 2),
            "median |Δt| (s)": round(float(np.median(abs(e[:, 0]))), 3),
            "within 2σ_t": round(float(np.mean(abs(e[:, 1]) <= 2)), 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "tilt_levels_seeds.md"))
    a = ap.parse_args()
    rows, t0 = [], time.perf_counter()
    for sc in SCENARIOS:
        for seed in a.seeds:
            tr = load_truth(event(sc, seed))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ev = load_event(tr.trange, tr.probes, rate="srvy", source="local", data_dir=event(sc, seed))
                lmn = {p: lmn_for_probe(ev, p) for p in tr.probes}
                for rule, f in (("old", old_side_levels), ("package", PACKAGE)):
                    det.side_levels = f
                    rows.append({"scenario": sc, "seed": seed, "levels": rule,
                                 **score(tr, detect_crossings_multi(ev, lmn, frame="GSE"))})
                    print(rows[-1], flush=True)
    det.side_levels = PACKAGE
    df = pd.DataFrame(rows)
    agg = df.groupby(["scenario", "levels"])[["L error (deg)", "median |Δt| (s)", "within 2σ_t"]].mean().round(2)
    df["L error / σ_L"] = (df["L error (deg)"] / df["σ_L (deg)"]).round(2)
    text = (f"# The L-turn scan's levels over noise seeds (SIMULATED planar scenarios, survey)\n\n"
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {time.perf_counter() - t0:.0f} s, "
            f"seeds {a.seeds} (seed 0 is the demo event of nbs/10b). Written by `bench/tilt_levels_seeds.py`.\n\n"
            "## Means over the seeds\n\n" + md(agg.reset_index()) + "\n\n## Every run\n\n" + md(df) + "\n")
    write_keeping_reading(Path(a.out), text)
    print(text)


if __name__ == "__main__":
    main()
