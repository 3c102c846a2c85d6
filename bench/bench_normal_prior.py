"""Benchmark: the cost of the event's B_N prior on the crossing normals (`[normal_prior] use`).

Usage (from the repo root; not part of the test suite):
    .venv/bin/python bench/bench_normal_prior.py --rounds 4
Runs `analyze` (no plots, no outputs) on the SIMULATED 40-min 4-probe event of bench_analyze.py at brst and srvy,
prior on (the default) and off (`config={"normal_prior": {"use": False}}`), alternating on/off in fresh interpreters.
Each run reports wall and CPU time (`time.process_time`) of `analyze`, the stage times (`res.status[...].seconds`,
wall), and the wall/CPU time spent inside `apply_bn_prior` itself (timed by wrapping it; with use = false it still
measures the prior, so it still computes every window's moments). Prints a JSON line per run and a summary.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(d: str, trange: list, rate: str, use: bool) -> dict:
    import warnings
    warnings.simplefilter("ignore")
    from mms_mp import pipeline, stages
    from mms_mp.pipeline import analyze
    inner, stage_cpu = {"wall": 0.0, "cpu": 0.0}, {}
    run_stage = pipeline.run_stage

    def cpu_stage(status, name, *a, **k):   # CPU time of each stage beside its wall `seconds`
        c = time.process_time()
        try: return run_stage(status, name, *a, **k)
        finally: stage_cpu[name] = round(time.process_time() - c, 4)
    pipeline.run_stage = cpu_stage
    orig = stages.apply_bn_prior

    def timed(*a, **k):
        w, c = time.perf_counter(), time.process_time()
        try: return orig(*a, **k)
        finally:
            inner["wall"] += time.perf_counter() - w
            inner["cpu"] += time.process_time() - c
    stages.apply_bn_prior = timed
    cfg = None if use else {"normal_prior": {"use": False}}
    w, c = time.perf_counter(), time.process_time()
    res = analyze(tuple(trange), ("1", "2", "3", "4"), rate=rate, source="local", data_dir=d, config=cfg)
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    pr = res.bn_prior
    return {"rate": rate, "use": use, "wall_s": wall, "cpu_s": cpu, "prior_wall_s": inner["wall"],
            "prior_cpu_s": inner["cpu"], "crossings": len(res.crossings),
            "stages": {k: round(v.seconds, 4) for k, v in res.status.items()}, "stage_cpu": stage_cpu,
            "status": {k: v.status for k, v in res.status.items()},
            "prior": None if pr is None else {k: getattr(pr, k) for k in ("b0_nT", "spread_nT", "n")
                                              if hasattr(pr, k)}}


def run(*args) -> dict:
    code = ("import json, resource, sys; sys.path.insert(0, %r); import bench_normal_prior as b; "
            "r = b.child(*json.loads(sys.argv[1])); "
            "r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; "
            "r['process_cpu_s'] = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]); print(json.dumps(r))") % str(HERE)
    out = subprocess.run([sys.executable, "-c", code, json.dumps(list(args))], capture_output=True, text=True,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    if out.returncode: raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--rates", nargs="*", default=["brst", "srvy"])
    ap.add_argument("--warmup", type=int, default=1, help="unrecorded runs per rate first (file cache)")
    a = ap.parse_args()
    sys.path.insert(0, str(HERE))
    import bench_analyze as ba
    d = ba.event_dir(40)
    tr = [ba.T0, ba._end(40)]
    print("load average at start " + " / ".join(f"{x:.1f}" for x in os.getloadavg()), file=sys.stderr)
    for rate in a.rates:
        for _ in range(a.warmup): run(str(d), tr, rate, True)
    rows = []
    for k in range(a.rounds):
        for rate in a.rates:
            for use in ((True, False) if k % 2 == 0 else (False, True)):   # alternate which goes first
                r = run(str(d), tr, rate, use)
                rows.append(r)
                print(json.dumps(r), flush=True)
    print("load average at end " + " / ".join(f"{x:.1f}" for x in os.getloadavg()), file=sys.stderr)
    for rate in a.rates:
        for use in (True, False):
            rr = [r for r in rows if r["rate"] == rate and r["use"] == use]
            med = lambda key, st=None: statistics.median(r[key][st] if st else r[key] for r in rr)
            lo = lambda key, st=None: min(r[key][st] if st else r[key] for r in rr)
            print(f"{rate} prior {'on ' if use else 'off'} n={len(rr)}: analyze CPU median {med('cpu_s'):.2f} "
                  f"(min {lo('cpu_s'):.2f}) s, wall median {med('wall_s'):.2f} s; normals wall median "
                  f"{med('stages', 'normals'):.3f} (min {lo('stages', 'normals'):.3f}) s, CPU median "
                  f"{med('stage_cpu', 'normals'):.3f} (min {lo('stage_cpu', 'normals'):.3f}) s; crossing_vn "
                  f"CPU median {med('stage_cpu', 'crossing_vn'):.3f} s; apply_bn_prior CPU median "
                  f"{med('prior_cpu_s') * 1e3:.1f} ms; peak RSS {med('peak_rss_mb'):.0f} MB", file=sys.stderr)

if __name__ == "__main__":
    main()
