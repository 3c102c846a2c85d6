"""Benchmark: `mms_mp.data.load_event` against a bare cdflib read of the same variables (and pySPEDAS).

Usage:  .venv/bin/python bench/bench_load.py [--repeat 3] [--rounds 3] [--before DIR] [--no-pyspedas]
            [--out bench/results/load.md]

Cases (A-C: SIMULATED data written by mms_mp.synthetic, in the SDC layout; D, E: real MMS files):
  A. the 40-min 4-probe demo event, survey/fast rates (all five instruments)
  B. the same event, burst rates (FGM/FPI/EDP-dce burst; HPCA, MEC, EDP scpot survey)
  C. 1 h of 128 S/s FGM burst for 4 probes (460,800 samples per probe)
  D. the real MMS1 FGM burst files of 2015-09-02 in tests/fixtures/real (2 files, 64,000 samples; no MEC
     file, so the loader also reads the FGM state positions, and so does the bare read)
  E. the real MMS1 FGM burst files of 2019-11-30 (format v5.219.0; 2 files, 5 min), read as in D
Each measurement runs in its own subprocess: imports first (not timed), one warm-up read (page cache), then
`--repeat` timed reads; the best and median wall times are reported. Peak memory is the subprocess's
ru_maxrss, and its increase over the ru_maxrss after imports (before any data is read).

`load_event` is measured twice: "warm" with the sha256 digest cache on (the warm-up read fills it, so the timed
reads take every digest from it: re-loading files already loaded) and "cold" with MMS_MP_SHA256_CACHE=0 (every
file hashed on every read: a first load). The subprocesses use a fresh MMS_MP_CACHE folder, so the user's digest
cache is neither read nor written.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r'''
import json, resource, sys, time, warnings
import numpy as np
warnings.simplefilter("ignore")
how, d, t0, t1, rate, ins, repeat = (sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5],
                                     sys.argv[6].split(","), int(sys.argv[7]))
probes = sys.argv[8]
from mms_mp.layout import PRODUCTS, find_local_files
try: from mms_mp.layout import STATE  # FGM state positions (read by the loader when MEC is absent)
except ImportError: STATE = {}
from mms_mp.core import tt2000_to_datetime64
from mms_mp.cdfread import SURVEY, DATATYPES
from mms_mp.data import load_event
import cdflib
if how == "pyspedas":
    import pyspedas.projects.mms as mms
    from pyspedas.projects.mms.config import CONFIG
    CONFIG["local_data_dir"] = d

def prods():
    out = []
    for i in ins:
        for dt in DATATYPES[i]:
            r = rate if (i, rate, dt) in PRODUCTS else SURVEY[i]
            out.append(PRODUCTS[(i, r, dt)])
    return out

def files():
    return [(pr, f) for pr in prods() for p in probes for f in find_local_files(d, p, *pr.key, (t0, t1))]

FILES = files()

def bare(conv):
    n = 0
    for pr, f in FILES:
        c = cdflib.CDF(str(f.path))
        p = f.probe
        tt = c.varget(pr.epoch.format(p=p, rate=pr.rate))
        t = tt2000_to_datetime64(tt) if conv == "vec" else np.asarray(cdflib.cdfepoch.to_datetime(tt))
        for nm in dict.fromkeys(v.cdf_name(p, pr.rate) for v in pr.vars):
            a = c.varget(nm)
            n += a.size
        st = STATE.get(pr.key)
        if st is None or "mec" in ins or st.epoch not in c.cdf_info().zVariables: continue
        tt = tt2000_to_datetime64(c.varget(st.epoch))
        for v in st.vars: n += c.varget(v.cdf_name(p, st.rate)).size
    return n

def bare_pp():
    import pycdfpp
    n = 0
    for pr, f in FILES:
        c = pycdfpp.load(str(f.path))
        p = f.probe
        tt = tt2000_to_datetime64(c[pr.epoch.format(p=p, rate=pr.rate)].values.view(np.int64))
        for nm in dict.fromkeys(v.cdf_name(p, pr.rate) for v in pr.vars): n += c[nm].values.size
        st = STATE.get(pr.key)
        if st is None or "mec" in ins or st.epoch not in c: continue
        tt = tt2000_to_datetime64(c[st.epoch].values.view(np.int64))
        for v in st.vars: n += c[v.cdf_name(p, st.rate)].values.size
    return n

def run():
    if how == "load_event":
        ev = load_event((t0, t1), tuple(probes), rate=rate, instruments=ins, source="local", data_dir=d)
        return len(ev.provenance)
    if how == "bare": return bare("vec")
    if how == "bare_to_datetime": return bare("cdflib")
    if how == "bare_pycdfpp": return bare_pp()
    if how == "pyspedas":
        n = 0
        for pr in prods():
            for p in probes:
                r = getattr(mms, "mms_load_" + pr.instrument)(trange=[t0, t1], probe=p, data_rate=pr.rate,
                                                              datatype=pr.datatype, level="l2", no_update=True,
                                                              notplot=True, latest_version=True, time_clip=False)
                n += len(r or {})
        return n

base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # after imports and the file search
run()  # warm-up: page cache, lazy imports
ts = []
for _ in range(repeat):
    s = time.perf_counter()
    run()
    ts.append(time.perf_counter() - s)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(ts=ts, peak_mb=peak / 1024, base_mb=base / 1024)))
'''


def measure(how, d, trange, rate, ins, repeat, cache, before=None, probes="1234"):
    env = dict(os.environ, MMS_MP_CACHE=str(cache), MMS_MP_SHA256_CACHE="0" if how == "load_event_cold" else "1")
    env.pop("MMS_MP_CDF_READER", None)
    if how == "load_event_pycdfpp": env["MMS_MP_CDF_READER"] = "pycdfpp"  # the opt-in C++ reader
    # the child's reader: every load_event row runs "load_event" (bare_pycdfpp must stay bare_pycdfpp)
    # `python -c` puts the working directory first on sys.path, ahead of the editable install: with cwd=before the
    # child imports the older mms_mp extracted there
    r = subprocess.run([sys.executable, "-c", CHILD,
                        {"load_event_cold": "load_event", "load_event_before": "load_event",
                         "load_event_pycdfpp": "load_event"}.get(how, how), str(d), *trange, rate, ",".join(ins),
                        str(repeat), probes], capture_output=True, text=True, env=env,
                       cwd=before if how == "load_event_before" else None)
    if r.returncode: raise RuntimeError(r.stderr[-2000:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def machine():
    import numpy, cdflib, xarray
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), "?")
    load = os.getloadavg()
    return (f"{cpu}, {os.cpu_count()} cores, {int(mem) / 2**20:.0f} GB RAM, load average {load[0]:.1f} "
            "(shared machine), "
            f"Python {platform.python_version()}, numpy {numpy.__version__}, cdflib {cdflib.__version__}, "
            f"xarray {xarray.__version__}, "
            f"{platform.system()} {platform.release()}")


def main():
    import shutil
    work = Path(tempfile.mkdtemp(prefix="mms_mp_bench_"))
    try: run(work)
    finally: shutil.rmtree(work, ignore_errors=True)  # the simulated 1 h event (~80 MB) and the children's cache


def run(work):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "load.md"))
    ap.add_argument("--no-pyspedas", action="store_true", help="skip the pySPEDAS rows (its import alone costs ~4 s)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measure every reader once per round, rounds interleaved (a load burst "
                    "on the shared machine then hits all readers alike); best and median over all rounds")
    ap.add_argument("--before", default=None,
                    help="folder holding an older mms_mp package (e.g. `git archive <rev> mms_mp | tar -x -C DIR`): "
                    "adds a `load_event_before` row measured in the same rounds")
    a = ap.parse_args()
    from mms_mp.synthetic import demo_event_dir, simulate_event
    t = time.perf_counter()
    demo = demo_event_dir()
    t_demo = time.perf_counter() - t
    fgm1h = work / "fgm1h"
    t = time.perf_counter()
    simulate_event(fgm1h, trange=("2019-01-27T12:00", "2019-01-27T13:00"), products=("fgm_brst",))
    t_sim = time.perf_counter() - t
    REAL, WREAL = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "real", ("2015-09-02T16:58:44",
                                                                                        "2015-09-02T17:07:05")
    ALL = ["fgm", "fpi", "hpca", "edp", "mec"]
    W40 = ("2019-01-27T12:15", "2019-01-27T12:55")
    W60 = ("2019-01-27T12:00", "2019-01-27T13:00")
    cases = [("A. 40 min, 4 probes, survey/fast, all instruments", demo, W40, "srvy", ALL),
             ("B. 40 min, 4 probes, burst, all instruments", demo, W40, "brst", ALL),
             ("C. 1 h FGM burst 128 S/s, 4 probes", fgm1h, W60, "brst", ["fgm"]),
             ("D. real MMS1 FGM burst 2015-09-02, 2 files (with FGM positions)", REAL, WREAL, "brst", ["fgm"]),
             ("E. real MMS1 FGM burst 2019-11-30, 2 files v5 (with FGM positions)", REAL,
              ("2019-11-30T09:11:53", "2019-11-30T09:16:53"), "brst", ["fgm"])]
    rows = []
    load0 = os.getloadavg()[0]
    t_run = time.perf_counter()
    for name, d, w, rate, ins in cases:
        hows = (["load_event_before"] if a.before else []) + ["load_event", "load_event_pycdfpp", "load_event_cold",
                                                              "bare", "bare_pycdfpp", "bare_to_datetime"] + \
               ([] if a.no_pyspedas else ["pyspedas"])
        runs = {h: [] for h in hows}
        for _ in range(a.rounds):
            for h in hows:
                runs[h].append(measure(h, d, w, rate, ins, a.repeat, work / "cache", a.before,
                                       "1" if d == REAL else "1234"))
        res = {h: dict(best=min(min(r["ts"]) for r in rs), median=float(np.median([t for r in rs for t in r["ts"]])),
                       peak_mb=max(r["peak_mb"] for r in rs), base_mb=min(r["base_mb"] for r in rs))
               for h, rs in runs.items()}
        for h in hows:
            r = res[h]
            rows.append((name, h, r["best"], r["median"], r["best"] / res["bare"]["best"], r["peak_mb"],
                         r["peak_mb"] - r["base_mb"]))
            print(f"{name:52s} {h:18s} best {r['best']:.3f} s  median {r['median']:.3f} s  "
                  f"x{r['best'] / res['bare']['best']:.2f}  peak {r['peak_mb']:.0f} MB", flush=True)
    lines = ["# load benchmark: `load_event` vs a bare cdflib read (SIMULATED data; cases D and E: real MMS files)", "",
             f"Recorded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
             f"`python bench/bench_load.py --repeat {a.repeat} --rounds {a.rounds}"
             f"{' --before DIR' if a.before else ''}{' --no-pyspedas' if a.no_pyspedas else ''}` "
             f"({time.perf_counter() - t_run:.0f} s).", "",
             f"Machine: {machine()}; load average {load0:.1f} when the run started, "
             f"{os.getloadavg()[0]:.1f} when it ended.", "",
             f"Data: the simulated 2019-01-27 demo event (`demo_event_dir()`, built in {t_demo:.1f} s "
             "or taken from the cache) and a "
             f"simulated 1 h of 128 S/s FGM burst for 4 probes (written in {t_sim:.1f} s); "
             "cases D and E read the real MMS1 FGM "
             "burst files in tests/fixtures/real (formats v4.18.0 and v5.219.0).", "",
             "- `load_event`: the full loader (find files, read the window, centre, clean times, fill → NaN, flags, "
             "xarray, sha256 provenance), "
             "warm: every file's sha256 from the digest cache (files loaded before, unchanged); "
             "it reads with cdflib (the default).",
             "- `load_event_pycdfpp`: the same, warm, with `MMS_MP_CDF_READER=pycdfpp` (the opt-in C++ reader).",
             "- `load_event_cold`: the same with `MMS_MP_SHA256_CACHE=0`: every file hashed (sha256) on every read, "
             "as on a first load.",
             "- `bare`: cdflib `varget` of the epoch and every catalogue variable of the same files, whole files, "
             "with the exact "
             "vectorised TT2000 → datetime64 conversion; no slicing, no NaN handling, no xarray.",
             "- `bare_to_datetime`: the same with `cdflib.cdfepoch.to_datetime`.",
             "- `bare_pycdfpp`: the bare read with pycdfpp (`load`, `.values` of the same variables, "
             "same TT2000 conversion).",
             "- `pyspedas`: pySPEDAS 2.2.1 `mms_load_*` with `no_update=True`, explicit datatype, `notplot=True`, "
             "`latest_version=True`.",
             *([f"- `load_event_before`: `load_event` of the older mms_mp in `--before` ({a.before}), same rounds "
                "(warm: the digest cache of that code, where it has one)."] if a.before else []),
             "",
             f"Each row: {a.rounds} subprocesses (one per round, rounds interleaved across readers), "
             f"each with one warm-up read then {a.repeat} timed reads; "
             "best and median over all timed reads. Ratio = best / best of `bare`. "
             "Peak = the subprocess's ru_maxrss; Δ = its growth over the RSS after imports, "
             "i.e. the memory the reads needed.", "",
             "| case | reader | best (s) | median (s) | ratio to bare | peak RSS (MB) | Δ RSS (MB) |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {n} | {h} | {b:.3f} | {m:.3f} | {r:.2f} | {p:.0f} | {dp:.0f} |" for n, h, b, m, r, p, dp in rows]
    lines += ["", "Targets: `load_event` ≤ 1.5 × bare read; 1 h of 128 S/s FGM for 4 probes in ≤ 1 s.", ""]
    for n in dict.fromkeys(r[0] for r in rows):
        c = {h: (b, r) for n2, h, b, m, r, p, dp in rows if n2 == n}
        for h in [h for h in ("load_event_before", "load_event", "load_event_pycdfpp", "load_event_cold") if h in c]:
            lines.append(f"- {n.split('.')[0]} `{h}`: {c[h][0]:.2f} s, {c[h][1]:.2f} × bare "
                         f"({'meets' if c[h][1] <= 1.5 else 'misses'} the 1.5 × target)"
                         + (f"; {'meets' if c[h][0] <= 1 else 'misses'} the 1 s target" if n.startswith("C.") else "")
                         + ".")
    out = Path(a.out)
    keep = ""  # hand-written sections ("## ..." headings: notes, earlier results) survive a re-run
    if out.exists() and "\n## " in out.read_text(): keep = out.read_text()[out.read_text().index("\n## "):]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n" + keep)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
