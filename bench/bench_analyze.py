"""Benchmark: the full `mms_mp.pipeline.analyze` against a bare cdflib read of the same variables.

Usage (from the repo root; not part of the test suite):
    .venv/bin/python bench/bench_analyze.py                  # 40-min 4-probe burst event + scaling 10/40/120 min
    .venv/bin/python bench/bench_analyze.py --minutes 10 40 120 270 --profile
Writes bench/results/analyze.md (and prints it).

Each measurement runs in its own fresh interpreter, so wall time and peak memory (ru_maxrss) include imports and
nothing is shared between runs. The simulated events are written once into a cache folder (MMS_MP_CACHE or
/tmp/mms_mp_bench) and reused.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = "2019-01-27T12:15:00"


def _end(minutes: float) -> str:
    import numpy as np
    return str(np.datetime64(T0) + np.timedelta64(int(minutes * 60), "s"))


def event_dir(minutes: float) -> Path:
    "A simulated 4-probe event of `minutes` starting 12:15 (built once)."
    from mms_mp.synthetic import simulate_event
    root = Path(os.environ.get("MMS_MP_BENCH_DIR", "/tmp/mms_mp_bench"))
    d = root / f"sim_{int(minutes)}min"
    if not (d / "truth.json").exists():
        t = time.perf_counter()
        simulate_event(d, trange=(T0, _end(minutes)), overwrite=True)
        print(f"simulated {minutes} min in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return d


# ---- the two workloads, each run in a child process -------------------------------------------------------------
def child_analyze(d: str, minutes: float, rate: str, profile: str | None) -> dict:
    t_imp = time.perf_counter()
    from mms_mp.pipeline import analyze
    t0 = time.perf_counter()
    kw = dict(rate=rate, source="local", data_dir=d)
    if profile:
        import cProfile
        pr = cProfile.Profile(); pr.enable()
        res = analyze((T0, _end(minutes)), ("1", "2", "3", "4"), **kw)
        pr.disable(); pr.dump_stats(profile)
    else:
        res = analyze((T0, _end(minutes)), ("1", "2", "3", "4"), **kw)
    wall = time.perf_counter() - t0
    n = sum(da.sizes["time"] for p in res.event.probes for da in res.event[p].values())
    files = sorted({f["path"] for f in res.event.provenance})
    same = lambda x, p, da: (x["probe"] == p and x["instrument"] == da.attrs.get("instrument")
                             and x["rate"] == da.attrs.get("rate") and x.get("datatype", "") == da.attrs.get("datatype", x.get("datatype", "")))
    vars_ = sorted({(x["path"], str(da.attrs.get("var"))) for p in res.event.probes for da in res.event[p].values()
                    for x in res.event.provenance if same(x, p, da)})
    return {"wall_s": wall, "import_s": t0 - t_imp, "samples": int(n), "n_files": len(files),
            "stages": {k: round(v.seconds, 3) for k, v in res.status.items()},
            "status": {k: v.status for k, v in res.status.items()}, "vars": vars_}


def child_cdflib(vars_: list) -> dict:
    "Bare cdflib: varget of every variable the event used plus its DEPEND_0 epoch, TT2000 → datetime64 vectorised."
    import numpy as np
    import cdflib
    t0 = time.perf_counter(); n = 0; keep = []  # arrays are kept, as a loader must, so peak memory is comparable
    by_file: dict = {}
    for f, v in vars_:
        for name in str(v).split(","):
            by_file.setdefault(f, set()).add(name.strip())
    for f, names in by_file.items():
        cdf = cdflib.CDF(f)
        for name in names:
            try: y = cdf.varget(name)
            except Exception: continue
            keep.append(y)
            dep = cdf.varattsget(name).get("DEPEND_0")
            if dep:
                tt = cdf.varget(dep)
                t = np.datetime64("2000-01-01T11:58:55.816", "ns") + (np.asarray(tt, "int64") - 5_000_000_000).astype("timedelta64[ns]")
                n += len(t); keep.append(t)
    return {"wall_s": time.perf_counter() - t0, "samples": n}


def run_child(kind: str, *args) -> dict:
    "Run one workload in a fresh interpreter; returns its JSON plus the child's peak RSS (MB)."
    code = ("import json, resource, sys; sys.path.insert(0, %r); import bench_analyze as b; "
            "r = b.child_%s(*json.loads(sys.argv[1])); "
            "r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; print(json.dumps(r))") % (
        str(Path(__file__).parent), kind)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, json.dumps(list(args))], capture_output=True, text=True,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    if out.returncode: raise RuntimeError(out.stderr[-3000:])
    r = json.loads(out.stdout.strip().splitlines()[-1]); r["process_s"] = time.perf_counter() - t
    return r


def top_profile(path: str, n: int = 12) -> list:
    "Functions with the largest cumulative time (our package + cdflib/xarray/numpy hot spots)."
    import pstats
    st = pstats.Stats(path); rows = []
    for (file, line, fn), (cc, nc, tt, ct, callers) in st.stats.items():
        rows.append((ct, tt, nc, f"{Path(file).parent.name}/{Path(file).name}:{fn}"))
    tot = max(r[0] for r in rows)
    rows.sort(reverse=True)
    own = {}
    for ct, tt, nc, name in rows:  # self time grouped by module file
        key = name.split(":")[0]; own[key] = own.get(key, 0) + tt
    return [rows[:n], sorted(own.items(), key=lambda kv: -kv[1])[:n], tot]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", nargs="+", type=float, default=[10, 40, 120])
    ap.add_argument("--rate", default="brst")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "analyze.md"))
    a = ap.parse_args()
    rows = []
    for m in a.minutes:
        d = event_dir(m)
        prof = f"/tmp/mms_mp_bench/analyze_{int(m)}.prof" if (a.profile and m == 40) else None
        an = run_child("analyze", str(d), m, a.rate, prof)
        cd = run_child("cdflib", an.pop("vars"))
        rows.append((m, an, cd, prof))
        print(f"{m:>5.0f} min: {an['samples']:>10,d} samples  analyze {an['wall_s']:.1f} s ({an['peak_rss_mb']:.0f} MB)  "
              f"cdflib {cd['samples']:,} samples {cd['wall_s']:.2f} s ({cd['peak_rss_mb']:.0f} MB)  ratio {an['wall_s'] / cd['wall_s']:.1f}", file=sys.stderr)
    lines = ["# Benchmark: `analyze` vs a bare cdflib read", "",
             f"Machine: {os.cpu_count()} cores, shared with other jobs (load average at start "
             f"{os.getloadavg()[0]:.1f}); Python {sys.version.split()[0]}. Simulated 4-probe events from 12:15 UTC, "
             f"rate `{a.rate}`, source local. Each number is one run in a fresh interpreter; `analyze` wall time excludes "
             "the import of mms_mp (reported separately), peak RSS includes it.", "",
             "| window | samples (all quantities) | files | analyze wall (s) | import (s) | analyze peak RSS (MB) | cdflib samples read | cdflib wall (s) | cdflib peak RSS (MB) | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for m, an, cd, _ in rows:
        lines.append(f"| {m:.0f} min | {an['samples']:,} | {an['n_files']} | {an['wall_s']:.1f} | {an['import_s']:.1f} | "
                     f"{an['peak_rss_mb']:.0f} | {cd['samples']:,} | {cd['wall_s']:.2f} | {cd['peak_rss_mb']:.0f} | {an['wall_s'] / cd['wall_s']:.1f} |")
    lines += ["", "Stage times (s) per window:", "", "| window | " + " | ".join(rows[0][1]["stages"]) + " |",
              "|---|" + "---|" * len(rows[0][1]["stages"])]
    for m, an, _, _ in rows:
        lines.append(f"| {m:.0f} min | " + " | ".join(f"{an['stages'].get(k, float('nan')):.2f}" for k in rows[0][1]["stages"]) + " |")
    for m, an, cd, prof in rows:
        if not prof: continue
        top, own, tot = top_profile(prof)
        lines += ["", f"## Profile of the {m:.0f}-min run (cProfile, {tot:.1f} s under the profiler)", "",
                  "Largest cumulative times:", "", "| cumulative (s) | self (s) | calls | function |", "|---|---|---|---|"]
        lines += [f"| {ct:.2f} | {tt:.2f} | {nc} | `{name}` |" for ct, tt, nc, name in top]
        lines += ["", "Self time by file:", "", "| file | self (s) |", "|---|---|"] + [f"| `{k}` | {v:.2f} |" for k, v in own]
    text = "\n".join(lines) + "\n"
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    main()
