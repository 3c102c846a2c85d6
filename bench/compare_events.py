"""Check that two mms_mp checkouts load identical `Event`s (a speed change must not change a result).

Usage (from outside the repository, as for bench_load.py):
    python bench/compare_events.py DIR_A DIR_B      # DIR_x holds an mms_mp package, e.g. from `git archive REV mms_mp`

Each checkout loads, in its own subprocess, cases A-D of bench_load.py and three `rate="auto"` windows (two on the
SIMULATED demo event, one on the real files in tests/fixtures/real); every DataArray (values as bytes, dtype, dims,
coordinates, indexes, attributes) and `qc`, `loaded`, `missing`, `rates`, provenance, summary and `dataset()` are
compared. Prints "identical" or the fields that differ; exit status 1 when any differ.
"""
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r'''
import pickle, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
from mms_mp.data import load_event
from mms_mp.synthetic import demo_event_dir, simulate_event
out_path, real, fgm1h = sys.argv[1], sys.argv[2], sys.argv[3]
if not (Path := __import__("pathlib").Path)(fgm1h).exists():
    simulate_event(fgm1h, trange=("2019-01-27T12:00", "2019-01-27T13:00"), products=("fgm_brst",))
ALL = ["fgm", "fpi", "hpca", "edp", "mec"]
demo = str(demo_event_dir())
W40 = ("2019-01-27T12:15", "2019-01-27T12:55")
cases = {"A": (W40, "1234", "srvy", ALL, demo), "B": (W40, "1234", "brst", ALL, demo),
         "auto": (W40, "1234", "auto", ALL, demo),
         "auto_long": (("2019-01-27T12:00", "2019-01-27T13:30"), "12", "auto", ALL, demo),
         "C": (("2019-01-27T12:00", "2019-01-27T13:00"), "1234", "brst", ["fgm"], fgm1h),
         "D": (("2015-09-02T16:58:44", "2015-09-02T17:07:05"), "1", "brst", ["fgm"], real),
         "D_auto": (("2015-09-02T16:50:00", "2015-09-02T17:10:00"), "1", "auto", ["fgm"], real)}
def canon(da):
    return dict(name=da.name, dims=da.dims, dtype=str(da.dtype), shape=da.shape, values=np.asarray(da.values).tobytes(),
                attrs=repr(sorted(da.attrs.items())), indexes=sorted(da.indexes),
                coords={k: (c.dims, str(c.dtype), np.asarray(c.values).tobytes()) for k, c in da.coords.items()})
out = {}
for k, (w, pr, rate, ins, d) in cases.items():
    try: ev = load_event(w, tuple(pr), rate=rate, instruments=ins, source="local", data_dir=d)
    except Exception as e:
        out[k] = repr(e)
        continue
    out[k] = dict(trange=ev.trange, simulated=ev.simulated, source=ev.source, qc=repr(ev.qc), loaded=repr(ev.loaded),
                  missing=repr(ev.missing), rates=repr(ev.rates), provenance=repr(ev.provenance), summary=ev.summary(),
                  data={p: {q: canon(da) for q, da in dd.items()} for p, dd in ev.data.items()},
                  dataset={p: repr(ev.dataset(p)) for p in ev.probes})
# the simulated tree's folder is named by a hash of the simulator's code (layout included): two checkouts can read
# the same files from two folders, so the folder name is not compared
import re
def same_folder(x):
    if isinstance(x, str): return re.sub(r"(sim_[0-9]{8}_[a-z]+)_[0-9a-f]{16}", r"\1_HASH", x)
    if isinstance(x, dict): return {k: same_folder(v) for k, v in x.items()}
    return x
out = same_folder(out)
pickle.dump(out, open(out_path, "wb"))
'''


def main():
    a, b = sys.argv[1:3]
    real = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "real"
    with tempfile.TemporaryDirectory(prefix="mms_mp_cmp_") as tmp:
        res = []
        for k, d in enumerate((a, b)):
            out = Path(tmp) / f"{k}.pkl"
            subprocess.run([sys.executable, "-c", CHILD, str(out), str(real), str(Path(tmp) / "fgm1h")],
                           check=True, cwd=d)  # cwd first on sys.path: the checkout's mms_mp is imported
            res.append(pickle.load(open(out, "rb")))
    x, y = res
    bad = [(k, f) for k in x for f in (x[k] if isinstance(x[k], dict) else [None])
           if (x[k].get(f) if f else x[k]) != (y.get(k, {}).get(f) if f and isinstance(y.get(k), dict) else y.get(k))]
    for k, f in bad: print(f"{k}: {f or 'result'} differs")
    print("identical" if not bad and x.keys() == y.keys() else f"{len(bad)} field(s) differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
