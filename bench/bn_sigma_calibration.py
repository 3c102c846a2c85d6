"""Is the measurement σ of each crossing's ⟨B⟩·n̂ (nbs/04d_normal_prior) the scatter it claims?

On SIMULATED planar events every crossing has the same true B_N (the simulator's `B_N_nT`, constant), so the scatter
of the measured b_i = ⟨B⟩_i·n̂_i over an event's local normals is their measurement error alone, and a calibrated
σ_b gives (1.4826 MAD b) / median σ_b ≈ 1. Acceptance rule, written before the measurement: that ratio lies within
[0.7, 1.4] in every run (scenario × seed × rate) for the σ_b the package uses. The pull (b − B_N,true)/σ_b
(robust scatter 1.4826 MAD, ≈ 1 when calibrated) is reported beside it.

σ_b candidates, per local normal (`mva_nested`, its window's mean ⟨B⟩ and the eigenvalues of its window):
- `cone`: |B_t| sin σ, σ the normal's total σ (σ_random with M_eff ⊕ σ_window): the package's before session 34;
- `ss_eff`: Sonnerup & Scheible (1998) eq. 8.24, √(λ3/(M−1) + (Δφ32 ⟨B⟩·x2)² + (Δφ31 ⟨B⟩·x1)²), with M = M_eff,
  the normal's own count of independent samples (04b: n/τ, τ from the autocorrelation of B·n̂);
- `ss_m`: the same with every sample independent (M = samples in the window);
- `ss_eff+win`: `ss_eff` ⊕ |B_t| sin σ_window (the plateau's spread taken as a further error of b);
- `cone_rand`: |B_t| sin σ_random (the cone σ without its window part);
- `ss_eff+bwin`: `ss_eff` ⊕ the RMS of b_k − b over the plateau's windows k (each window's ⟨B⟩·n̂_k; the nested
  scan is recorded by wrapping `normals.plateau_normal`): the window part measured on b itself;
- `ss_eff+bnet`: the same with the plateau's own noise taken out (`b_spread`).
Scenarios: `sigma_t_parts`' three planar ones and `default+red`, the default one with `surface_waves`' correlated
FGM noise (0.3 nT, τ = 2 s), where M_eff ≪ M; and `surface_waves` (the events of `bench/nonplanar_seeds.py`), not
planar: the local normal turns, but the simulator's B_N along it is the same 2 nT, and sheath turbulence adds field.

Runs `analyze` (four probes, default configuration) and records the arguments of `apply_bn_prior` (the normals before
the prior). Usage (repository root): .venv/bin/python bench/bn_sigma_calibration.py [--seeds 0 ... 7] [--scenarios ...]
[--csv rows.csv] [--out FILE]; `--from-csv rows.csv` tabulates saved rows again.
Events: `bench/sigma_t_parts.py`'s planar events in $MMS_MP_BENCH_DIR (written once when missing).
"""
import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mms_mp.normals as normals  # noqa: E402
import mms_mp.stages as stages  # noqa: E402
from mms_mp.core import from_seconds  # noqa: E402
from mms_mp.minvar import sigma_bn  # noqa: E402
from mms_mp.normal_prior import window_moments  # noqa: E402
from mms_mp.pipeline import analyze  # noqa: E402
from nonplanar_seeds import event as waves_event, md  # noqa: E402
from sigma_t_parts import BRST, ROOT, SCENARIOS, event  # noqa: E402
from mms_mp.synthetic import simulate_event  # noqa: E402
from tilt_levels_seeds import PRODUCTS  # noqa: E402

TR, PROBES = ("2019-01-27T12:15", "2019-01-27T12:55"), ["1", "2", "3", "4"]
KINDS = ("cone", "cone_rand", "ss_eff", "ss_m", "ss_eff+win", "ss_eff+bwin", "ss_eff+bnet")


RED = dict(red_noise_nT=0.3, red_noise_tau_s=2.0)   # the correlated FGM noise of `surface_waves`


def red_event(seed: int, rate: str) -> Path:
    "The default planar scenario with `surface_waves`' correlated FGM noise (written once): M_eff < M."
    d = ROOT / f"planar_red_{seed}{'_brst' if rate == 'brst' else ''}"
    if not (d / "truth.json").exists():
        simulate_event(d, scenario="default", seed=seed, products=BRST if rate == "brst" else PRODUCTS,
                       overwrite=True, **RED)
    return d


def b_spread(scan, run, t, B, cn, se: float) -> tuple:
    """(RMS of b_k − b over the plateau's windows k, the same net of their own random part), nT. b_k = ⟨B⟩_k·n̂_k
    (n̂_k on n̂'s side); nested windows share samples, so b_k − b has variance |σ_k² − σ_b²| from noise alone
    (σ_k: eq. 8.24 of window k with its M_eff), and the net part is √max(0, mean (b_k − b)² − mean |σ_k² − σ_b²|)."""
    d2, v = [], []
    b = window_moments(t, B, cn.window)[0] @ cn.n_hat
    for k in run:
        mk = window_moments(t, B, tuple(from_seconds(scan.windows[k], scan.t0)))
        if mk is None: continue
        nk = scan.normals[k] * np.sign(scan.normals[k] @ cn.n_hat)
        x1 = scan.max_var[k] - (scan.max_var[k] @ nk) * nk
        x1 /= np.linalg.norm(x1)
        Bx = np.array([mk[0] @ x1, mk[0] @ np.cross(nk, x1), mk[0] @ nk])
        d2.append((Bx[2] - b) ** 2)
        v.append(abs(sigma_bn(scan.eigenvalues[k], Bx, max(float(scan.n_eff[k]), 2.0)) ** 2 - se**2))
    raw = float(np.sqrt(np.sum(d2) / max(len(d2) - 1, 1)))
    return raw, float(np.sqrt(max(0.0, np.mean(d2) - np.mean(v)))) if d2 else np.nan


def rows_of(crossing_normals: dict, fields: dict, scans: dict) -> list:
    "b and every σ_b candidate of each local normal (nT); `scans`: window (ns, ns) -> (nested scan, plateau)."
    out = []
    for p, ns in crossing_normals.items():
        t, B = fields[p]
        t = np.asarray(t).astype("datetime64[ns]")
        for cn in ns:
            if cn.method != "mva_nested": continue
            mom = window_moments(t, B, cn.window)
            if mom is None: continue
            Bm, _ = mom
            i, j = np.searchsorted(t, np.datetime64(cn.window[0], "ns")), np.searchsorted(
                t, np.datetime64(cn.window[1], "ns"), "right")
            m = int(np.isfinite(B[i:j]).all(axis=1).sum())
            n = np.asarray(cn.n_hat, float)
            b = float(Bm @ n)
            Bt = float(np.linalg.norm(Bm - b * n))
            Bx = np.array([Bm @ cn.L, Bm @ cn.M, b])
            lam = np.asarray(cn.eigenvalues, float)
            se = sigma_bn(lam, Bx, max(cn.n_eff, 2.0))
            key = tuple(int(np.datetime64(x, "ns").astype("int64")) for x in cn.window)
            bw, bn = b_spread(*scans[key], t, B, cn, se) if key in scans else (np.nan, np.nan)
            out.append({"probe": p, "b": b, "Bt": Bt, "sigma_deg": cn.sigma_deg, "n_eff": cn.n_eff, "m": m,
                        "cone": Bt * np.sin(np.radians(cn.sigma_deg)),
                        "cone_rand": Bt * np.sin(np.radians(cn.sigma_random_deg)), "ss_eff": se, "ss_m": sigma_bn(lam, Bx, m),
                        "ss_eff+win": float(np.hypot(se, Bt * np.sin(np.radians(cn.sigma_window_deg)))),
                        "ss_eff+bwin": float(np.hypot(se, bw)), "ss_eff+bnet": float(np.hypot(se, bn))})
    return out


def run(d: Path, rate: str) -> tuple:
    "(per-normal rows, the prior analyze computed) of one event and rate."
    seen, orig, orig_pn, scans = {}, stages.apply_bn_prior, normals.plateau_normal, {}

    def spy(ns, fields, **k):
        seen["rows"] = rows_of(ns, fields, scans)
        return orig(ns, fields, **k)

    def pn(scan, run, *a):
        cn = orig_pn(scan, run, *a)
        scans[tuple(int(np.datetime64(x, "ns").astype("int64")) for x in cn.window)] = (scan, run)
        return cn
    stages.apply_bn_prior, normals.plateau_normal = spy, pn
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = analyze(TR, PROBES, rate=rate, source="local", data_dir=d)
    finally:
        stages.apply_bn_prior, normals.plateau_normal = orig, orig_pn
    return seen.get("rows", []), res.bn_prior


def summary(rows: list, bn_true: float) -> dict:
    "Observed scatter / median σ_b and the pull's robust scatter, for each candidate."
    df = pd.DataFrame(rows)
    b = df["b"].to_numpy()
    s = {"normals": len(df), "median b": round(float(np.median(b)), 3), "MAD b": round(rmad(b), 4)}
    for k in KINDS:
        s[f"σ {k}"] = round(float(df[k].median()), 4)
        s[f"ratio {k}"] = round(rmad(b) / float(df[k].median()), 2)
        s[f"pull {k}"] = round(rmad((b - bn_true) / df[k].to_numpy()), 2)
    return s


def rmad(x) -> float: return 1.4826 * float(np.median(np.abs(x - np.median(x))))


def pooled(df: pd.DataFrame, rng) -> str:
    "Per scenario and rate over the seeds: the rule's ratio and the pull; per run: how many leave [0.7, 1.4]."
    rows = []
    for (sc, rate), g in df.groupby(["scenario", "rate"], sort=False):
        bn = g["B_N true"].to_numpy()
        r = {"scenario": sc, "rate": rate, "runs": g.seed.nunique(), "normals": len(g),
             "median M_eff/M": round(float((g.n_eff / g.m).median()), 3)}
        for k in KINDS:
            r[f"ratio {k}"] = round(rmad(g.b.to_numpy()) / float(g[k].median()), 2)
            r[f"pull {k}"] = round(rmad((g.b.to_numpy() - bn) / g[k].to_numpy()), 2)
        rows.append(r)
    runs = list(df[df.scenario != "surface_waves"].groupby(["scenario", "rate", "seed"]))   # the rule's: planar
    head = "## Pooled over the seeds\n\n" + md(pd.DataFrame(rows)) + "\n"
    if not runs: return head
    per = pd.DataFrame([{k: rmad(g.b.to_numpy()) / float(g[k].median()) for k in KINDS} for _, g in runs])
    chance = lambda s: np.mean([not 0.7 <= rmad(s * rng.standard_normal(len(s))) / np.median(s) <= 1.4
                                for _ in range(400)])
    lines = [f"- `{k}`: per-run ratio median {per[k].median():.2f}, range {per[k].min():.2f}–{per[k].max():.2f}; "
             f"outside [0.7, 1.4] in {int(((per[k] < 0.7) | (per[k] > 1.4)).sum())} of {len(per)} runs, "
             f"{sum(chance(g[k].to_numpy()) for _, g in runs):.1f} expected by chance were it calibrated"
             for k in KINDS]
    return head + "\n## Per run (planar scenarios)\n\n" + "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2, 3])
    ap.add_argument("--rates", nargs="*", default=["srvy", "brst"])
    ap.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    ap.add_argument("--out", default="")
    ap.add_argument("--csv", default="", help="every normal's row, to pool runs")
    ap.add_argument("--from-csv", default="", help="tabulate these saved rows, run nothing")
    a = ap.parse_args()
    if a.from_csv:
        print(pooled(pd.read_csv(a.from_csv), np.random.default_rng(0)))
        return
    out, allrows, t0 = [], [], time.perf_counter()
    for sc in a.scenarios:
        for seed in a.seeds:
            for rate in a.rates:
                d = (red_event(seed, rate) if sc == "default+red" else waves_event(seed) if sc == "surface_waves"
                     else event(sc, seed, rate))
                bn = json.loads((d / "truth.json").read_text())["params"]["B_N_nT"]
                rows, pr = run(d, rate)
                allrows += [{"scenario": sc, "seed": seed, "rate": rate, "B_N true": bn, **x} for x in rows]
                r = {"scenario": sc, "seed": seed, "rate": rate, "B_N true": bn, **summary(rows, bn),
                     "prior B̄_N": None if pr is None else round(pr.b0_nT, 3),
                     "prior s_b": None if pr is None else round(pr.spread_nT, 3)}
                out.append(r)
                print(json.dumps(r, ensure_ascii=False), flush=True)
    df = pd.DataFrame(out)
    if a.csv: pd.DataFrame(allrows).to_csv(a.csv, index=False)
    text = (f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {time.perf_counter() - t0:.0f} s, "
            f"scenarios {a.scenarios}, seeds {a.seeds}, rates {a.rates}.\n\n"
            + pooled(pd.DataFrame(allrows), np.random.default_rng(0)) + "\n## Every run\n\n" + md(df) + "\n")
    if a.out: Path(a.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
