"""Benchmark: `electric.smooth_normal_velocity` and `motion.integrate_disp(cov_v=...)` against series length.

Usage (from the repo root; not part of the test suite):
    .venv/bin/python bench/bench_smooth.py                 # N = 533 (40 min at 4.5 s) … 19200 (24 h)
Writes bench/results/smooth.md (and prints it).

The input is a synthetic V_N (two sinusoids as the simulator's boundary, white noise of 5 km/s at 4.5 s): what the
pipeline's V_N stage smooths. The smoother's λ search is O(N) per evaluation (banded Cholesky); the posterior covariance
is dense per block (O(n²) memory, n ≤ max_block = 4000), and so is the covariance propagation of the integral.
Peak memory is numpy's traced allocation peak (tracemalloc), in one process per size.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (533, 2000, 4000, 8000, 19200)


def child(n: int) -> dict:
    import time, tracemalloc
    import numpy as np
    from mms_mp.electric import NormalVelocity, smooth_normal_velocity
    from mms_mp.motion import integrate_disp
    t = np.arange(n) * 4.5
    rng = np.random.default_rng(0)
    v = 25 * np.cos(2 * np.pi * t / 600) + 12 * np.cos(2 * np.pi * t / 210) + rng.normal(0, 5, n)
    nv = NormalVelocity(t, v, np.full(n, 5.0), {}, {}, {}, np.array([1.0, 0, 0]), "GSE", np.ones(n))
    # imports
    smooth_normal_velocity(NormalVelocity(t[:50], v[:50], np.full(50, 5.0), {}, {}, {}, nv.n_hat, "GSE", np.ones(50)))
    tracemalloc.start()
    a = time.perf_counter()
    s = smooth_normal_velocity(nv)
    b = time.perf_counter()
    d = integrate_disp(t, s.V_N, sigma_v=s.sigma_random_V_N, sigma_sys_v=s.sigma_sys_V_N, cov_v=s.cov_blocks)
    c = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return dict(n=n, smooth_s=b - a, integrate_s=c - b, peak_mb=peak / 2**20, blocks=len(s.smoothing.blocks),
                width_s=float(np.nanmean(s.smoothing.width_s)))


def main():
    rows = []
    for n in SIZES:
        out = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True, cwd=ROOT,
                             check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    lines = ["# V_N smoothing and covariance integration", "",
             "`bench/bench_smooth.py` on this machine (2 cores, shared); synthetic V_N at 4.5 s. One process per size.",
             "",
             "| samples (4.5 s) | span | blocks | smooth s | integrate (cov) s | peak traced MB | averaging time s |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['n']} | {r['n'] * 4.5 / 3600:.1f} h | {r['blocks']} | {r['smooth_s']:.3f} | "
                     f"{r['integrate_s']:.3f} | "
                     f"{r['peak_mb']:.0f} | {r['width_s']:.1f} |")
    txt = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results" / "smooth.md").write_text(txt, encoding="utf-8")
    print(txt)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child": print(json.dumps(child(int(sys.argv[2]))))
    else: main()
