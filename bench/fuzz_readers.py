"""Damaged CDFs: what cdflib and pycdfpp do with them (why cdflib stays the default reader).

Usage (from the repo root; not part of the test suite; needs pycdfpp: pip install 'mms_mp[fast]'):
    .venv/bin/python bench/fuzz_readers.py --trials 150 --seed 1   # writes bench/results/fuzz_readers.md

Each trial copies one file (the real MMS files in tests/fixtures/real, GZIP-compressed, and small SIMULATED files of
the demo event, uncompressed), damages it one way, and reads every variable and attribute of the copy with each
reader in its own child process (a crash ends only the child):
- `trunc`: cut to 5–99.9 % of its length (an interrupted download);
- `flip`: 1–20 random bytes set to random values;
- `block`: 1 KB zeroed at a random offset.
Outcomes per reader: `ok` (read without complaint), `error` (a Python exception: the loader turns it into a message
naming the file), `crash` (the process died on a signal: no message, no output), `timeout`. For the reads that ended
`ok`, the values are compared with the undamaged file's: `ok, values changed` is a silent wrong answer.
`pycdfpp+guard` is pycdfpp behind a size check (file shorter than the end-of-file offset in its GDR → cdflib).
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r'''
import os, struct, sys, hashlib
path, which = sys.argv[1], sys.argv[2]

def short(path):
    "True when the file is shorter than the end of file its GDR records (cut short), or not a plain CDF 3."
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(28)
        if len(head) < 28 or struct.unpack(">II", head[:8]) != (0xCDF30001, 0x0000FFFF): return True
        gdr = struct.unpack(">q", head[20:28])[0]
        if not 0 < gdr < size - 44: return True
        f.seek(gdr + 36)
        return not 0 < struct.unpack(">q", f.read(8))[0] <= size

def digest_pycdfpp(path):
    import pycdfpp
    c = pycdfpp.load(path)
    if c is None: raise ValueError("pycdfpp.load returned None")
    h = hashlib.sha256()
    for n, v in sorted(c.items()):
        h.update(n.encode())
        h.update(v.values.tobytes())
        for k, a in v.attributes.items(): h.update(repr(a.value).encode())
    for k, a in c.attributes.items(): h.update(repr([a[i] for i in range(len(a))]).encode())
    return h.hexdigest()

def digest_cdflib(path):
    import cdflib, numpy as np
    c = cdflib.CDF(path)
    info = c.cdf_info()
    h = hashlib.sha256()
    for n in sorted(info.zVariables + info.rVariables):
        h.update(n.encode())
        h.update(np.asarray(c.varget(n)).tobytes())
        h.update(repr(c.varattsget(n)).encode())
    h.update(repr(c.globalattsget()).encode())
    return h.hexdigest()

if which == "pycdfpp+guard" and short(path):
    print("guard")
    sys.exit()
print((digest_cdflib if which == "cdflib" else digest_pycdfpp)(path))
'''

READERS = ("cdflib", "pycdfpp", "pycdfpp+guard")


def files() -> list:
    real = sorted((ROOT / "tests" / "fixtures" / "real").rglob("*.cdf"))
    from mms_mp.synthetic import demo_event_dir
    sim = [p for p in sorted(Path(demo_event_dir()).rglob("*.cdf")) if p.stat().st_size < 2_000_000][:6]
    return real + sim


def read(child: Path, path: Path, which: str) -> str:
    try:
        r = subprocess.run([sys.executable, str(child), str(path), which], capture_output=True, text=True,
                           timeout=120)
    except subprocess.TimeoutExpired: return "timeout"
    if r.returncode < 0: return "crash"
    if r.returncode: return "error"
    return r.stdout.strip()


def damage(data: bytearray, kind: str, rng: random.Random) -> bytearray:
    if kind == "trunc": return data[:int(len(data) * rng.uniform(0.05, 0.999))]
    if kind == "flip":
        for _ in range(rng.randint(1, 20)): data[rng.randrange(len(data))] = rng.randrange(256)
        return data
    i = rng.randrange(len(data))
    data[i:i + 1024] = bytes(len(data[i:i + 1024]))
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=150)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng, fs = random.Random(a.seed), files()
    counts = collections.Counter()
    with tempfile.TemporaryDirectory() as d:
        child = Path(d) / "child.py"
        child.write_text(CHILD)
        ref = {(p, w): read(child, p, w) for p in fs for w in ("cdflib", "pycdfpp")}   # undamaged digests
        for t in range(a.trials):
            src = rng.choice(fs)
            kind = rng.choice(("trunc", "flip", "block"))
            cp = Path(d) / f"t{t}.cdf"
            cp.write_bytes(damage(bytearray(src.read_bytes()), kind, rng))
            for w in READERS:
                out = read(child, cp, w)
                if len(out) == 64:   # a digest: read without complaint
                    out = "ok, values unchanged" if out == ref[(src, w.split("+")[0])] else "ok, values changed"
                counts[("real (GZIP)" if "fixtures" in str(src) else "simulated", kind, w, out)] += 1
            cp.unlink()
    import cdflib, pycdfpp
    lines = [f"# Damaged CDFs: cdflib and pycdfpp (`bench/fuzz_readers.py`)", "",
             f"Recorded {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC with `python bench/fuzz_readers.py "
             f"--trials {a.trials} --seed {a.seed}`; cdflib {cdflib.__version__}, pycdfpp {pycdfpp.__version__}, "
             f"Python {sys.version.split()[0]}.", "",
             f"Files: {len(fs)} ({sum('fixtures' in str(p) for p in fs)} real MMS L2 files, GZIP-compressed; the rest "
             "SIMULATED, uncompressed). One damaged copy per trial, read by each reader in its own process.", "",
             "| files | damage | reader | outcome | trials |", "|---|---|---|---|---|"]
    lines += [f"| {f} | {k} | {w} | {o} | {n} |" for (f, k, w, o), n in sorted(counts.items())]
    text = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results" / "fuzz_readers.md"
    notes = ""
    if out.exists() and "## Notes" in out.read_text(): notes = "\n## Notes" + out.read_text().split("## Notes", 1)[1]
    out.write_text(text + notes)
    print(text)


if __name__ == "__main__":
    main()
