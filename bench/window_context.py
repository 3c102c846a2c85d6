"""Does detecting on a padded context make a window's crossings less window-dependent?

Prototype, not a timing. 2-min windows every 30 s, as in nbs/tutorials/real_fgm_20150902.ipynb ("Does the
detection itself depend on the window?"). Each window is analysed by `mms_mp.pipeline.analyze` with the default
configuration on a *context* around it, and only the crossings whose times lie inside the window are kept.
Contexts (fixed before measuring, nothing tuned to the data):

- `window`: the window itself (the current behaviour);
- `pad 1x`, `pad 2x`: the window ± 1× or 2× its length (clipped where the data end);
- `files`: every sample of the FGM files the window needs (their first to last sample);
- `[context] 1`: the package's option, `analyze(window, config={"context": {"windows": 1}})` (must equal `pad 1x`
  up to the LMN's mean position, taken over the window widened to the context's B data).

Data: the REAL MMS1 FGM burst files of 2015-09-02 (tests/fixtures/real), or with `--sim SCENARIO` a SIMULATED
one-probe event with FGM burst and MEC only (B alone, as in the real files; `mms_mp.synthetic`, 12:15–12:55).

Measured per context, over crossings ≥ 10 s inside a window (same direction within 1 s counts as the same):
- against the whole interval's crossings (the tutorial's metric): found again, new, windows with no usable
  feature. NB: the whole interval is itself the widest context, so this metric favours wide contexts;
- window against window (no reference): for every two overlapping windows, the crossings of either that lie
  ≥ 10 s inside both, and the fraction of them the other finds too (also favours contexts that overlap more);
- SIMULATED only, against the truth (no context bias): true crossings found (same direction, within 1 s or half
  the true layer), detections matching no true crossing (false).

Usage (repository root): .venv/bin/python bench/window_context.py [--sim surface_waves]
"""
import argparse
import tempfile
import warnings
from itertools import combinations
from pathlib import Path

import cdflib
import numpy as np

from mms_mp.pipeline import analyze

WIN, EDGE = np.timedelta64(120, "s"), np.timedelta64(10, "s")
REAL = ("tests/fixtures/real", "mms1/fgm/brst/l2/2015/09/02/*.cdf",
        (np.datetime64("2015-09-02T16:58:44"), np.datetime64("2015-09-02T17:07:04")), "2015-09-02T16:59", 361)
SIM_T = (np.datetime64("2019-01-27T12:15"), np.datetime64("2019-01-27T12:55"))


def analysed(ctx, data, config=None):
    "(crossings [(time, direction)], detect reason) of one analysis of the context `ctx`."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = analyze((str(ctx[0]), str(ctx[1])), ["1"], rate="brst", source="local", data_dir=data,
                    config=config)
    crs = [(np.datetime64(c["time"][:-1]), c["direction"]) for c in r.to_json()["crossings"]]
    return crs, r.status["detect"].reason or ""


def file_spans(data, pattern):
    "[(first, last)] sample time of each FGM burst file."
    out = []
    for f in sorted(Path(data).glob(pattern)):
        ep = cdflib.CDF(str(f)).varget("Epoch")
        out.append(tuple(np.datetime64(x, "ns") for x in cdflib.cdfepoch.to_datetime(ep[[0, -1]])))
    return out


def context(a, b, how, spans, trange):
    "The context of window [a, b) for one variant."
    if how in ("window", "[context] 1"): return a, b
    if how == "files":
        use = [s for s in spans if s[0] < b and s[1] >= a]
        return min(s[0] for s in use), max(s[1] for s in use) + np.timedelta64(1, "ms")
    k = {"pad 1x": 1, "pad 2x": 2}[how]
    return max(a - k * WIN, trange[0]), min(b + k * WIN, trange[1])


def same(x, y, tol=np.timedelta64(1, "s")): return x[1] == y[1] and abs(x[0] - y[0]) < tol


def vs_truth(sub, a, b, truth):
    "(true crossings ≥ 10 s inside, found, false detections ≥ 10 s inside, [|Δt| s]) of one window."
    tol = lambda c: max(np.timedelta64(1, "s"), (c.layer_end - c.layer_start) / 2)
    inside = [c for c in truth if c.complete and a + EDGE <= c.time <= b - EDGE]
    dts = [min(abs(s[0] - c.time) for s in sub if same((c.time, c.direction), s, tol(c)))
           / np.timedelta64(1, "ms") / 1e3 for c in inside
           if any(same((c.time, c.direction), s, tol(c)) for s in sub)]
    det = [s for s in sub if a + EDGE <= s[0] <= b - EDGE]
    false = sum(not any(same((c.time, c.direction), s, tol(c)) for c in truth) for s in det)
    return len(inside), len(dts), false, dts


def measure(how, full, spans, starts, data, trange, truth=None):
    "Per-window rows and the pairwise agreement for one context variant."
    rows, kept, dts = [], {}, []
    for a in starts:
        b = a + WIN
        cfg = {"context": {"windows": 1}} if how == "[context] 1" else None
        crs, why = analysed(context(a, b, how, spans, trange), data, cfg)
        sub = [c for c in crs if a <= c[0] < b]
        kept[a] = sub
        inside = [c for c in full if a + EDGE <= c[0] <= b - EDGE]
        new = [s for s in sub if a + EDGE <= s[0] <= b - EDGE and not any(same(s, c) for c in full)]
        vt = vs_truth(sub, a, b, truth) if truth else ()
        dts += list(vt[3:] and vt[3])
        rows.append((len(inside), sum(any(same(c, s) for s in sub) for c in inside), len(new),
                     "no feature usable" in why) + vt[:3])
    tot, hit = 0, 0
    for a1, a2 in combinations(starts, 2):
        lo, hi = max(a1, a2) + EDGE, min(a1, a2) + WIN - EDGE
        if lo >= hi: continue
        for x, y in ((a1, a2), (a2, a1)):
            mine = [c for c in kept[x] if lo <= c[0] <= hi]
            tot += len(mine)
            hit += sum(any(same(c, o) for o in kept[y]) for c in mine)
    return np.array(rows, float), hit / tot if tot else np.nan, tot, np.array(dts)


def setup(sim):
    "(data dir, file glob, trange, first window start, last start offset s, truth crossings or None)."
    if not sim: return REAL + (None,)
    from mms_mp.synthetic import simulate_event
    d = Path(tempfile.mkdtemp(prefix="window_context_")) / "ev"
    tr = simulate_event(d, scenario=sim, probes=("1",), products=("fgm_brst", "mec_srvy"), seed=0)
    return (d, "mms1/fgm/brst/l2/2019/01/27/*.cdf", SIM_T, "2019-01-27T12:16", 35 * 60,
            tr.crossings_of("1"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", default="", help="SIMULATED scenario (mms_mp.synthetic.SCENARIOS); default: REAL")
    data, pattern, trange, first, last, truth = setup(ap.parse_args().sim)
    starts = np.datetime64(first) + np.arange(0, last + 1, 30).astype("timedelta64[s]")
    full, _ = analysed(trange, data)
    spans = file_spans(data, pattern)
    print(f"whole interval: {len(full)} crossings; {len(starts)} windows; files: "
          f"{[(str(s[0])[11:19], str(s[1])[11:19]) for s in spans]}")
    head = "| context | found again | new | no usable feature | windows agree (pairs) |"
    print(head + (" truth found | false | |Δt| median / p90 / > 1 s |" if truth else ""))
    print("|---" * (head.count("|") - 1 + 3 * bool(truth)) + "|")
    for how in ("window", "pad 1x", "pad 2x", "files", "[context] 1"):
        r, agree, n, dt = measure(how, full, spans, starts, data, trange, truth)
        line = (f"| {how} | {r[:, 1].sum() / r[:, 0].sum():.0%} ({int(r[:, 1].sum())}/{int(r[:, 0].sum())}) "
                f"| {int(r[:, 2].sum())} | {int(r[:, 3].sum())} of {len(r)} | {agree:.0%} ({n}) |")
        if truth:
            line += (f" {r[:, 5].sum() / r[:, 4].sum():.0%} ({int(r[:, 5].sum())}/{int(r[:, 4].sum())})"
                     f" | {int(r[:, 6].sum())} | {np.median(dt):.2f} / {np.percentile(dt, 90):.2f} s"
                     f" / {np.sum(dt > 1)} |")
        print(line)


if __name__ == "__main__":
    main()
