"""Not a timing: σ of density-only analyses against the simulator's truth (nbs/10a "The density timer's σ", nbs/14f).

SIMULATED events with FPI moments and MEC only (no FGM: the analysis is density-only), the planar `default`
scenario, 12:15–12:55 UTC, one folder per seed and rate under $MMS_MP_BENCH_DIR (default /tmp/mms_mp_bench), built
once. For each run of `mms_mp.pipeline.analyze`:
- crossing times: Δt = detected − true centre time of the nearest true crossing, against σ_t (the density timer);
- timing V of each crossing group (on the 2019-01-27 string: constrained to the crossings' Shue model normals)
  against the boundary's true mean speed between the group's first and last true crossings, ΔX/Δt
  (`Truth.X`), and against the simulator's instantaneous V_N at the reference probe's crossing.
A calibrated σ gives rms z ≈ 1 and about 95 % within 2σ.

Usage (from the repo root): .venv/bin/python bench/density_only_sigma.py [--brst 0 1 2 3] [--srvy 0 1] [--out F]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

W = ("2019-01-27T12:15:00", "2019-01-27T12:55:00")
PRODUCTS = {"brst": ("fpi_brst", "mec_srvy"), "srvy": ("fpi_fast", "mec_srvy")}


def event_dir(rate: str, seed: int) -> Path:
    "A SIMULATED density-only event (FPI + MEC) of one rate and seed, built once."
    from mms_mp.synthetic import simulate_event
    d = Path(os.environ.get("MMS_MP_BENCH_DIR", "/tmp/mms_mp_bench")) / f"densonly_{rate}_{seed}"
    if not (d / "truth.json").exists():
        simulate_event(d, trange=W, products=PRODUCTS[rate], seed=seed, overwrite=True)
    return d


def run(rate: str, seed: int) -> tuple:
    "(crossing z list, group rows) of one event: z = Δt/σ_t; rows (V, σ_V, ΔX/Δt, V_N at the reference)."
    from mms_mp.core import seconds_since
    from mms_mp.pipeline import analyze
    from mms_mp.simtruth import load_truth
    d = event_dir(rate, seed)
    truth = load_truth(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(W, ("1", "2", "3", "4"), rate=rate, source="local", data_dir=d)
    near = lambda p, t: min(truth.crossings_of(p), key=lambda x: abs(float(seconds_since(x.time, t))))
    z = [float(seconds_since(c.time, near(c.probe, c.time).time)) / c.sigma_t_s for c in res.crossings]
    rows = []
    for g, t in res.timings:
        ts = sorted(near(p, c.time).time for p, c in g.crossings.items())
        dX = float(truth.X(np.array([ts[-1]]))[0] - truth.X(np.array([ts[0]]))[0])
        v_ref = near(g.ref, g.crossings[g.ref].time).V_N_kms
        rows.append((t.V_km_s, t.sigma_V_km_s, dX / float(seconds_since(ts[-1], ts[0])), v_ref))
    return z, rows


def cover(z) -> str:
    "rms, within 1σ and 2σ of a list of z."
    z = np.abs(np.asarray(z, float))
    return f"{np.sqrt(np.mean(z ** 2)):.2f} | {np.mean(z <= 1):.2f} | {np.mean(z <= 2):.2f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brst", type=int, nargs="*", default=[0, 1, 2, 3])
    ap.add_argument("--srvy", type=int, nargs="*", default=[0, 1])
    ap.add_argument("--out", type=Path, default=None, help="also write the table to this file")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    lines = ["| rate | seeds | crossings | σ_t: rms z | ≤1σ | ≤2σ | groups | V − ΔX/Δt: rms z | ≤1σ | ≤2σ "
             "| V − V_N(ref): rms z | ≤1σ | ≤2σ |", "|---" * 13 + "|"]
    for rate, seeds in (("brst", a.brst), ("srvy", a.srvy)):
        if not seeds: continue
        z, rows = [], []
        for s in seeds:
            zs, rs = run(rate, s)
            z += zs
            rows += rs
        V, S, dxdt, vref = (np.array(c) for c in zip(*rows))
        lines.append(f"| {rate} | {' '.join(map(str, seeds))} | {len(z)} | {cover(z)} | {len(rows)} | "
                     f"{cover((V - dxdt) / S)} | {cover((V - vref) / S)} |")
    text = "\n".join(lines) + f"\n\n(SIMULATED; {time.perf_counter() - t0:.0f} s)\n"
    print(text)
    if a.out: a.out.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
