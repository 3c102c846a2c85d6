"""Benchmark: the full `mms_mp.pipeline.analyze` against a bare cdflib read of the same variables.

Usage (from the repo root; not part of the test suite):
    .venv/bin/python bench/bench_analyze.py                  # 40-min 4-probe burst event + scaling 10/40/120 min
    .venv/bin/python bench/bench_analyze.py --minutes 10 40 120 270 --profile
Writes bench/results/analyze_run.md (and prints it): the latest run only. bench/results/analyze.md is the history
(issue 13's target and each session's status, written by hand from such runs); the script does not overwrite it.

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


def fgm_day_dir(hours: float = 24.0, day: str = "2019-01-28") -> Path:
    """One probe of SIMULATED burst FGM (128 S/s) for `hours`, in 10-min segment files (built once).

    A planar magnetopause (fixed LMN) swept back and forth over the probe: B_L = 30 tanh(s) nT with s a sum of two
    slow sines (one crossing every few minutes, half-widths of a few s), B_M = 5 nT, B_N = 2 nT, 0.3 nT noise.
    The synthetic module's ephemeris covers only 2019-01-27 10–15 UT, so the files are written directly with
    mms_mp.cdfwrite."""
    import numpy as np
    from mms_mp.cdfwrite import write_product_cdf
    from mms_mp.layout import get_product, sdc_path
    root = Path(os.environ.get("MMS_MP_BENCH_DIR", "/tmp/mms_mp_bench"))
    d = root / f"fgm_{hours:g}h"
    if (d / "done").exists(): return d
    t_start = time.perf_counter()
    prod, rng = get_product("fgm", "brst", ""), np.random.default_rng(0)
    N = np.array([0.9, 0.3, 0.3]) / np.linalg.norm([0.9, 0.3, 0.3])
    L = np.cross(N, [0, 1, 0])
    L /= np.linalg.norm(L)
    R = np.array([L, np.cross(N, L), N])                       # rows L, M, N in GSE
    t0, seg = np.datetime64(day, "ns"), 600
    for k in range(int(round(hours * 3600 / seg))):
        s = (k * seg + np.arange(seg * 128) / 128)             # s since t0
        x = 4 * np.sin(2 * np.pi * s / 1400) + 1.5 * np.sin(2 * np.pi * s / 377 + 1)
        blmn = np.column_stack([30 * np.tanh(x), np.full(len(s), 5.0), np.full(len(s), 2.0)])
        b = (blmn + rng.normal(0, 0.3, blmn.shape)) @ R
        t = t0 + np.round(s * 1e9).astype("int64").astype("timedelta64[ns]")
        write_product_cdf(sdc_path(d, "1", "fgm", "brst", "", t[0]), "1", prod, t,
                          {"B_gse": b, "fgm_flag": np.zeros(len(t), "uint32")})
    tm = t0 + np.arange(0, int(hours * 3600) + 31, 30).astype("timedelta64[s]")   # MEC: the LMN stage needs R
    R_gse = np.tile([10.0 * 6371.2, 3.0 * 6371.2, 1.0 * 6371.2], (len(tm), 1))
    write_product_cdf(sdc_path(d, "1", "mec", "srvy", "epht89q", tm[0]), "1", get_product("mec", "srvy", "epht89q"),
                      tm, {"R_gse": R_gse, "R_gsm": R_gse, "Vsc_gse": np.zeros((len(tm), 3)),
                           "Vsc_gsm": np.zeros((len(tm), 3))})
    (d / "done").write_text("ok")
    print(f"wrote {hours:g} h of FGM burst in {time.perf_counter() - t_start:.0f} s", file=sys.stderr)
    return d


# ---- the two workloads, each run in a child process -------------------------------------------------------------
def child_analyze(d: str, trange: list, probes: list, rate: str, profile: str | None) -> dict:
    import warnings
    warnings.simplefilter("ignore")   # the missing-product warnings of the FGM-only tree
    t_imp = time.perf_counter()
    from mms_mp.pipeline import analyze
    t0, c0 = time.perf_counter(), time.process_time()
    kw = dict(rate=rate, source="local", data_dir=d)
    if profile:
        import cProfile
        pr = cProfile.Profile()
        pr.enable()
        res = analyze(tuple(trange), tuple(probes), **kw)
        pr.disable()
        pr.dump_stats(profile)
    else:
        res = analyze(tuple(trange), tuple(probes), **kw)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = sum(da.sizes["time"] for p in res.event.probes for da in res.event[p].values())
    files = sorted({f["path"] for f in res.event.provenance})
    same = lambda x, p, da: (x["probe"] == p and x["instrument"] == da.attrs.get("instrument")
                             and x["rate"] == da.attrs.get("rate")
                             and x.get("datatype", "") == da.attrs.get("datatype", x.get("datatype", "")))
    vars_ = sorted({(x["path"], str(da.attrs.get("var"))) for p in res.event.probes for da in res.event[p].values()
                    for x in res.event.provenance if same(x, p, da)})
    return {"wall_s": wall, "cpu_s": cpu, "import_s": t0 - t_imp, "samples": int(n), "n_files": len(files),
            "crossings": len(res.crossings),
            "stages": {k: round(v.seconds, 3) for k, v in res.status.items()},
            "status": {k: v.status for k, v in res.status.items()}, "vars": vars_}


def child_cdflib(vars_: list) -> dict:
    "Bare cdflib: varget of every variable the event used plus its DEPEND_0 epoch, TT2000 → datetime64 vectorised."
    import numpy as np
    import cdflib
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    keep = []  # arrays are kept, as a loader must, so peak memory is comparable
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
                t = (np.datetime64("2000-01-01T11:58:55.816", "ns")
                     + (np.asarray(tt, "int64") - 5_000_000_000).astype("timedelta64[ns]"))
                n += len(t)
                keep.append(t)
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "samples": n}


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
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["process_s"] = time.perf_counter() - t
    return r


def top_profile(path: str, n: int = 12) -> list:
    "Functions with the largest cumulative time (our package + cdflib/xarray/numpy hot spots)."
    import pstats
    st = pstats.Stats(path)
    rows = []
    for (file, line, fn), (cc, nc, tt, ct, callers) in st.stats.items():
        rows.append((ct, tt, nc, f"{Path(file).parent.name}/{Path(file).name}:{fn}"))
    tot = max(r[0] for r in rows)
    rows.sort(reverse=True)
    own = {}
    for ct, tt, nc, name in rows:  # self time grouped by module file
        key = name.split(":")[0]
        own[key] = own.get(key, 0) + tt
    return [rows[:n], sorted(own.items(), key=lambda kv: -kv[1])[:n], tot]


def child_import() -> dict:
    "Wall time of `import mms_mp` and of the pipeline, and whether heavy modules came with them."
    t = time.perf_counter()
    import mms_mp
    t1 = time.perf_counter()
    import mms_mp.pipeline
    t2 = time.perf_counter()
    heavy = [m for m in ("pandas", "scipy", "xarray", "dask", "matplotlib", "pyspedas", "cdflib") if m in sys.modules]
    return {"import_mms_mp_s": t1 - t, "import_pipeline_s": t2 - t1, "loaded_by_pipeline": heavy}


def machine() -> str:
    import platform
    la = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.node() or 'host'}: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
            f"Python {sys.version.split()[0]}; load average (1/5/15 min) at start {la}")


def measure(label: str, d: Path, trange: tuple, probes: tuple, rate: str, prof: str | None) -> dict:
    "analyze (no plots) and the bare cdflib read of the same variables, each in a fresh interpreter."
    an = run_child("analyze", str(d), list(trange), list(probes), rate, None)
    if prof: run_child("analyze", str(d), list(trange), list(probes), rate, prof)   # profiled apart: not timed
    cd = run_child("cdflib", an.pop("vars"))
    row = {"label": label, "an": an, "cd": cd, "prof": prof, "ratio": an["wall_s"] / cd["wall_s"],
           "cpu_ratio": an["cpu_s"] / cd["cpu_s"]}
    print(f"{label:>14}: {an['samples']:>11,d} samples  analyze {an['wall_s']:.1f} s ({an['peak_rss_mb']:.0f} MB)  "
          f"cdflib {cd['samples']:,} samples {cd['wall_s']:.2f} s ({cd['peak_rss_mb']:.0f} MB)  "
          f"ratio {row['ratio']:.1f} (CPU {an['cpu_s']:.1f} / {cd['cpu_s']:.2f} s = {row['cpu_ratio']:.1f})",
          file=sys.stderr)
    return row


def table(rows: list) -> list:
    "Markdown rows: sizes, times, memory, ratio; then the stage times."
    out = ["| run | samples (all quantities) | files | crossings | analyze wall (s) | s per M samples | "
           "analyze peak RSS (MB) | cdflib samples read | cdflib wall (s) | cdflib peak RSS (MB) | ratio | "
           "analyze CPU (s) | cdflib CPU (s) | CPU ratio |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        an, cd = r["an"], r["cd"]
        out.append(f"| {r['label']} | {an['samples']:,} | {an['n_files']} | {an['crossings']} | {an['wall_s']:.1f} | "
                   f"{an['wall_s'] / an['samples'] * 1e6:.2f} | {an['peak_rss_mb']:.0f} | {cd['samples']:,} | "
                   f"{cd['wall_s']:.2f} | {cd['peak_rss_mb']:.0f} | {r['ratio']:.1f} | {an['cpu_s']:.2f} | "
                   f"{cd['cpu_s']:.2f} | {r['cpu_ratio']:.1f} |")
    stages = list(dict.fromkeys(k for r in rows for k in r["an"]["stages"]))
    out += ["", "Stage times (s); `-` = skipped (no plasma/E data or one probe):", "",
            "| run | " + " | ".join(stages) + " |", "|---|" + "---|" * len(stages)]
    for r in rows:
        st, ss = r["an"]["stages"], r["an"]["status"]
        out.append(f"| {r['label']} | " + " | ".join(f"{st[k]:.2f}" if ss.get(k) == "ok" else "-" for k in stages)
                   + " |")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", nargs="*", type=float, default=[10, 40, 120])
    ap.add_argument("--rate", default="brst")
    ap.add_argument("--srvy", action="store_true", help="also the 40-min event at survey rate")
    ap.add_argument("--fgm-hours", nargs="*", type=float, default=[3, 8, 24],
                    help="one-probe FGM-only burst runs (hours; none: skip)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "analyze_run.md"))
    a = ap.parse_args()
    import numpy as np
    head = machine()
    imp = run_child("import")
    rows = []
    for m in a.minutes:
        prof = f"/tmp/mms_mp_bench/analyze_{int(m)}.prof" if (a.profile and m == 40) else None
        rows.append(measure(f"{m:.0f} min {a.rate}", event_dir(m), (T0, _end(m)), ("1", "2", "3", "4"), a.rate, prof))
        if a.srvy and m == 40:
            rows.append(measure("40 min srvy", event_dir(m), (T0, _end(m)), ("1", "2", "3", "4"), "srvy", None))
    for h in a.fgm_hours or []:
        d = fgm_day_dir(max(a.fgm_hours))
        t1 = str(np.datetime64("2019-01-28T00:00:00") + np.timedelta64(int(h * 3600), "s"))
        rows.append(measure(f"{h:g} h FGM 1 probe", d, ("2019-01-28T00:00:00", t1), ("1",), "brst", None))
    lines = ["# Benchmark: `analyze` vs a bare cdflib read", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {head}. The machine is shared with other "
             "jobs: wall times scatter by up to 2× between runs. SIMULATED events: 4-probe events from 12:15 UTC "
             "(mms_mp.synthetic, all instruments) and one-probe burst FGM (+ a MEC file) written with "
             "mms_mp.cdfwrite (`fgm_day_dir`). Each number is one run in a fresh interpreter; `analyze` wall time "
             "excludes the import of mms_mp.pipeline, peak RSS includes it; CPU is `time.process_time` over the same "
             "span (all threads of the process). No plots, no output files.", "",
             f"Import (fresh interpreter): `import mms_mp` {imp['import_mms_mp_s']:.2f} s, then "
             f"`import mms_mp.pipeline` {imp['import_pipeline_s']:.2f} s (loads: "
             f"{', '.join(imp['loaded_by_pipeline']) or 'none of pandas/scipy/xarray/dask/matplotlib/pyspedas'}).",
             ""] + table(rows)
    for r in rows:
        if not r["prof"]: continue
        top, own, tot = top_profile(r["prof"])
        lines += ["", f"## Profile of the {r['label']} run (cProfile, {tot:.1f} s under the profiler)", "",
                  "Largest cumulative times:", "", "| cumulative (s) | self (s) | calls | function |",
                  "|---|---|---|---|"]
        lines += [f"| {ct:.2f} | {tt:.2f} | {nc} | `{name}` |" for ct, tt, nc, name in top]
        lines += (["", "Self time by file:", "", "| file | self (s) |", "|---|---|"]
                  + [f"| `{k}` | {v:.2f} |" for k, v in own])
    text = "\n".join(lines) + "\n"
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    main()
