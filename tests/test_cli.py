"""`mms-mp` command line: every exit code provoked for real, and the JSON of a real demo run.

Exit codes (mms_mp.cli): 0 ok, 2 bad arguments / InputError, 3 no usable data (NoDataError), 4 analysis failed,
5 the analysis ran to the end but a stage failed.
The simulated event comes from mms_mp.synthetic.demo_event_dir() (MMS_MP_CACHE is a temp dir, see conftest).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mms_mp.cli import build_parser, cli_words, event_config, main
from mms_mp.core import InputError
from mms_mp.outputs import CSV_DIGITS
from mms_mp.schema import validate_result_json

CSV_TOL = 10.0 ** (1 - CSV_DIGITS)   # a CSV float is the JSON's to CSV_DIGITS significant digits

TR = ["--start", "2019-01-27T12:15:00", "--end", "2019-01-27T12:55:00"]


def cli(*args, timeout=300):
    "Run `python -m mms_mp.cli ARGS` in a fresh interpreter (what a shell user gets)."
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "mms_mp.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="session")
def demo_dir():
    from mms_mp.synthetic import demo_event_dir
    return Path(demo_event_dir())


@pytest.fixture(scope="session")
def demo_run(demo_dir, tmp_path_factory):
    "One real `mms-mp demo` run, shared by the tests that read its outputs."
    out = tmp_path_factory.mktemp("demo")
    r = cli("demo", "--outdir", out, "--quiet")
    return r, out


def T(s):
    "An ISO-8601 'Z' time as datetime64[ns]."
    return np.datetime64(s.rstrip("Z"), "ns")


def demo_docs(demo_run, demo_dir):
    "(output folder, its mp_analysis.json, the simulator's truth.json) of the shared demo run."
    out = demo_run[1]
    return (out, json.loads((out / "mp_analysis.json").read_text()),
            json.loads((demo_dir / "truth.json").read_text()))


def every_flag(doc: dict) -> set:
    "Every flag a result document carries: on crossings, their normals and thicknesses."
    fl = {f for c in doc["crossings"] for f in c["flags"] + list((c["normal"] or {}).get("flags") or [])}
    return fl | {f for t in doc["thickness"] for f in t.get("flags") or []}


def test_demo_exit0_and_outputs(demo_run):
    r, out = demo_run
    assert r.returncode == 0, r.stderr
    doc = json.loads((out / "mp_analysis.json").read_text())
    assert doc["simulated"] is True and json.loads((out / "manifest.json").read_text())["simulated"] is True
    assert every_flag(doc)
    assert every_flag(doc) <= set(doc["flags_glossary"]), every_flag(doc) - set(doc["flags_glossary"])
    for f in ("mp_analysis.json", "crossings.csv", "layer_thickness.csv", "displacement_mms1.csv", "normal_velocity_mms1.csv",
              "report.html", "figures/overview.png"):
        assert (out / f).is_file(), f"demo did not write {f}"
    assert not list(out.rglob("*.part")), "a temporary .part file was left behind"
    assert "SIMULATED" in (out / "report.html").read_text()
    # crossings.csv repeats the JSON crossings: V_N at each crossing along its own normal, with σ
    import pandas as pd
    xc, doc = (pd.read_csv(out / "crossings.csv", dtype={"probe": str}),
               json.loads((out / "mp_analysis.json").read_text()))
    assert list(zip(xc.probe, xc.time)) == [(c["probe"], c["time"]) for c in doc["crossings"]]
    vn = [c["vn"]["V_N_km_s"] if c["vn"] else np.nan for c in doc["crossings"]]
    np.testing.assert_allclose(xc.V_N_kms, np.array(vn, float), rtol=CSV_TOL)   # CSV_DIGITS significant digits
    assert np.isfinite(xc.V_N_kms).sum() > 0 and (xc.sigma_V_N_kms.dropna() > 0).all()


def test_demo_json_schema_and_known_answers(demo_run, demo_dir):
    "The demo's JSON follows mms_mp/2 and its crossings/normals agree with the simulator's ground truth."
    _, out = demo_run
    doc = validate_result_json(json.loads((out / "mp_analysis.json").read_text()))
    assert doc["schema"] == "mms_mp/2" and doc["frame"] == "GSE" and doc["provenance"]["simulated"] is True
    assert all(len(f["sha256"]) == 64 for f in doc["provenance"]["files"]) and doc["provenance"]["files"]
    assert doc["units"]["eigenvalues"].startswith("nT²") and "0–1" in doc["units"]["crossings[].confidence"]
    truth = json.loads((demo_dir / "truth.json").read_text())
    gapped = {d["probe"] for d in truth["defects"] if d["kind"] == "gap"}   # the simulator's injected data gaps
    assert {c["probe"] for c in doc["provenance"]["coverage"] if not c["covers_window"]} == gapped
    for c in (c for c in truth["crossings"] if c["complete"]):
        # the detected layer centre must lie inside the true layer, with the right direction
        hits = [x for x in doc["crossings"] if x["probe"] == c["probe"] and x["direction"] == c["direction"]
                and T(c["layer_start"]) <= T(x["time"]) <= T(c["layer_end"])]
        assert len(hits) == 1, f"truth crossing {c['probe']} {c['direction']} {c['time']}: detected {hits}"
    n_true = np.array(truth["N"]["value"])
    for p, l in doc["lmn"].items():
        ang = np.degrees(np.arccos(np.clip(np.dot(l["N"], n_true), -1, 1)))
        assert ang <= 3 * l["sigma_N_deg"], (f"MMS{p}: N is {ang:.1f}° from the true normal, "
                                             f"σ_N = {l['sigma_N_deg']:.1f}°")
        assert l["per_crossing_spread_deg"]["n_fallback"] == 0 and l["per_crossing_spread_deg"]["max"] < 1.0
    for c in doc["crossings"]:  # a planar boundary: every crossing's own normal is the true one
        n = c["normal"]
        assert n["frame"] == "GSE" and n["method"].startswith("mva_nested") and isinstance(c["flags"], list)
        assert np.degrees(np.arccos(np.clip(np.dot(n["n_hat"], n_true), -1, 1))) < 1.0
    assert set(doc["detection"]["L"]) == {"1", "2", "3", "4"} and doc["comparison"] is None
    assert doc["detection"]["tilt_note"] is None    # densities loaded: the tilt was tested
    assert doc["detection"]["tilt_sigma_scale"] >= 1.0   # the Birge ratio never shrinks σ
    assert all("per-crossing MVA normals" in g["method"] for g in doc["timing_groups"])
    # each delay's σ in the fit: its crossing's σ_t ⊕ σ_r|m| (σ_r = 0.1 km, |m| = 1/|V|)
    for g in doc["timing_groups"]:
        want = {p: np.hypot(s, 0.1 / abs(g["V_km_s"])) for p, s in g["delays"]["sigma_s"].items()}
        assert g["sigma_delay_s"].keys() == g["residuals_s"].keys() == want.keys()
        np.testing.assert_allclose([g["sigma_delay_s"][p] for p in want], list(want.values()), rtol=1e-6)


def test_demo_says_which_rate_each_product_came_from_and_why(demo_run, demo_dir):
    """rate auto on the simulated event: MMS3's burst files hold a 45-s dropout, so its survey data are used. The
    JSON lists those burst files as found and not used, and why; report.html shows it; the summary says it first."""
    from mms_mp.cli import _rate_lines
    out, doc, _ = demo_docs(demo_run, demo_dir)
    rates = doc["provenance"]["rates"]
    rejected = [r for r in rates if not r["used"] and r["files"]]
    assert {(r["probe"], r["rate"]) for r in rejected} == {("3", "brst")}
    assert all("do not cover the window" in r["reason"] for r in rejected)
    used = {(r["probe"], r["instrument"], r["datatype"]): r["rate"] for r in rates if r["used"]}
    assert used[("3", "fgm", "")] == "srvy" and used[("1", "fgm", "")] == "brst"
    assert all(r["span"] for r in rates if r["used"])
    assert "burst samples do not cover the window" in (out / "report.html").read_text()
    lines = _rate_lines([r for r in rates if r["probe"] == "3"], auto=True)
    assert lines[0].startswith("  not used: fgm brst (4 file(s))"), lines
    assert "  fgm srvy: auto: burst files do not cover the window; srvy used" in lines



def test_rate_summary_decides_on_the_rate_asked_not_on_the_reason_wording():
    """Survey read although burst files exist: said when the loader chose the rate (rate auto), not when survey was
    asked for. The line was decided by the reason's first word ("auto"): a reworded reason hid it, and a reason
    starting with "auto" showed it after an explicit --rate."""
    from mms_mp.cli import _rate_lines
    r = dict(probe="3", instrument="fgm", datatype="", rate="srvy", used=True, span=["a", "b"], files=["x.cdf"],
             reason="burst files do not cover the window; srvy used", partial=False)
    assert _rate_lines([r], auto=True) == ["  fgm srvy: burst files do not cover the window; srvy used"]
    assert _rate_lines([r | {"reason": "auto: burst files do not cover the window"}], auto=False) == []
    assert _rate_lines([r | {"rate": "brst"}], auto=True) == []      # burst read: the rate a reader expects

def test_exit2_time_order():
    r = cli("analyze", "--start", "2019-01-27T12:55", "--end", "2019-01-27T12:15", "--source", "local")
    assert r.returncode == 2, r.stderr
    assert "is not before end" in r.stderr and "Traceback" not in r.stderr


def test_exit2_argparse_and_bad_probe():
    r = cli("analyze", *TR, "--bogus")
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr
    assert main(["analyze", *TR, "--probes", "5", "--source", "local", "--quiet"]) == 2


def test_exit2_config_unknown_parameter(tmp_path, capsys):
    cfg = tmp_path / "event.toml"
    cfg.write_text('source = "local"\n[detector]\np_enter = 0.7\nmin_dwel_s = 5.0\n')
    assert main(["analyze", *TR, "--config", str(cfg), "--quiet", "--outdir", str(tmp_path / "o")]) == 2
    assert "min_dwel_s" in capsys.readouterr().err
    cfg.write_text('source = "local"\n[detector]\np_enter = 0.2\n')  # p_enter must be > 0.5
    assert main(["analyze", *TR, "--config", str(cfg), "--quiet", "--outdir", str(tmp_path / "o")]) == 2


def test_config_file_overridden_by_flags(tmp_path):
    cfg = tmp_path / "event.toml"
    cfg.write_text('start = "2019-01-27T12:00"\nend = "2019-01-27T13:00"\nprobes = ["1", "2"]\nrate = "brst"\n'
                   '[lmn]\nratio_min = 8.0\n')
    args = build_parser().parse_args(["analyze", "--config", str(cfg), "--probes", "3", "--end", "2019-01-27T12:30"])
    c = event_config(args)
    assert (c["start"], c["end"], c["probes"], c["rate"], c["lmn"]) == ("2019-01-27T12:00", "2019-01-27T12:30", ["3"],
                                                                        "brst", {"ratio_min": 8.0})
    with pytest.raises(InputError, match="missing --start and --end"):
        event_config(build_parser().parse_args(["analyze"]))


def test_exit3_empty_data_dir(tmp_path):
    (tmp_path / "nodata").mkdir()   # an empty folder (one that does not exist is exit 2: see below)
    r = cli("analyze", *TR, "--source", "local", "--data-dir", tmp_path / "nodata", "--outdir", tmp_path / "o")
    assert r.returncode == 3, r.stderr
    assert "no usable data" in r.stderr and "mms1" in r.stderr and "Traceback" not in r.stderr


def _analyze_json(root, out, capsys) -> dict:
    "mms-mp analyze of the demo window on the data folder `root`: exit 0, and its mp_analysis.json."
    code = main(["analyze", *TR, "--source", "local", "--data-dir", str(root), "--outdir", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    return json.loads((out / "mp_analysis.json").read_text())


def test_without_mec_positions_from_fgm_state_and_timing(demo_dir, tmp_path, capsys):
    """A data folder without MEC: the FGM files' own position records serve (the JSON says so for every probe),
    so the LMN is the hybrid one and timing runs on every matched group. How close all this is to the MEC-based
    analysis is tests/test_fgm_state_positions.py."""
    from mms_mp.data import POSITION_SOURCE
    from test_fgm_state_positions import tree_without
    root = tree_without(demo_dir, tmp_path / "no_mec", lambda n: "_mec_" in n)
    doc = _analyze_json(root, tmp_path / "o", capsys)
    st = [r for r in doc["provenance"]["rates"] if r["part"] == "state"]
    assert sorted(r["probe"] for r in st) == ["1", "2", "3", "4"] and {r["reason"] for r in st} == {POSITION_SOURCE}
    assert all("no position" not in r["reason"] for r in doc["lmn"].values())
    assert doc["status"]["timing"]["status"] == "ok" and len(doc["timing_groups"]) == 8


def test_without_any_position_mva_alone_and_no_timing(demo_dir, tmp_path, capsys):
    """A data folder without MEC and with FGM files that carry no position records (`no_position_tree`): the
    LMN is MVA alone, said so, and it matches the simulator's N; crossings are found on every probe (the run
    exits 0, no stage failed); timing, which needs positions, says why it did not run."""
    from test_fgm_state_positions import no_position_tree
    doc = _analyze_json(no_position_tree(demo_dir, tmp_path / "no_pos"), tmp_path / "o", capsys)
    truth = json.loads((demo_dir / "truth.json").read_text())
    assert not any(r["part"] == "state" for r in doc["provenance"]["rates"])
    for r in doc["lmn"].values():
        assert r["method"] == "MVA" and "no position" in r["reason"]
        assert np.degrees(np.arccos(abs(np.dot(r["N"], truth["N"]["value"])))) < 1.0
    assert doc["status"]["timing"]["status"] == "skipped" and "positions" in doc["status"]["timing"]["reason"]
    # each probe's crossings are still found, with their own normals; only the matching across probes is not done
    assert doc["status"]["detect"]["status"] == "ok" and "not matched" in doc["status"]["detect"]["reason"]
    assert {c["probe"] for c in doc["crossings"]} == {"1", "2", "3", "4"}
    assert all(c["normal"]["n_hat"] for c in doc["crossings"])


def test_exit2_uncreatable_output(demo_dir, tmp_path, capsys):
    "An --outdir that cannot be created (a file sits where a parent folder must go) is a bad argument → exit 2."
    (tmp_path / "afile").write_text("x")
    args = ["analyze", *TR, "--probes", "1", "--source", "local", "--data-dir", str(demo_dir),
            "--outdir", str(tmp_path / "afile" / "results")]
    assert main(args + ["--quiet"]) == 2
    err = capsys.readouterr().err
    assert "bad input" in err and "afile" in err and "Traceback" not in err
    assert main(args + ["-v"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_exit4_analysis_failure(tmp_path, monkeypatch, capsys):
    "Any other exception (here a bug inside analyze) → exit 4 with the reason, no traceback unless -v."
    import mms_mp.cli
    def broken(*a, **kw): raise RuntimeError("disk full")
    monkeypatch.setattr(mms_mp.cli, "analyze", broken)
    args = ["analyze", *TR, "--probes", "1", "--source", "local", "--outdir", str(tmp_path / "o")]
    assert main(args + ["--quiet"]) == 4
    err = capsys.readouterr().err
    assert "analysis failed: RuntimeError: disk full" in err and "Traceback" not in err
    assert main(args + ["-v"]) == 4
    assert "Traceback" in capsys.readouterr().err


def test_exit5_a_failed_stage_is_not_success(demo_dir, tmp_path, monkeypatch, capsys):
    "A stage that fails (here thickness) → the other outputs are written, stderr names it, exit 5, not 0."
    import mms_mp.pipeline
    def broken(res, cfg): raise RuntimeError("thickness blew up")
    plan = tuple((n, broken if n == "thickness" else f, needs) for n, f, needs in mms_mp.pipeline.PLAN)
    monkeypatch.setattr(mms_mp.pipeline, "PLAN", plan)
    out = tmp_path / "o"
    args = ["analyze", *TR, "--probes", "1", "2", "3", "4", "--source", "local", "--data-dir", str(demo_dir),
            "--outdir", str(out), "--quiet"]
    assert main(args) == 5
    assert "stage thickness failed: RuntimeError: thickness blew up" in capsys.readouterr().err
    doc = json.loads((out / "mp_analysis.json").read_text())
    assert doc["status"]["thickness"]["status"] == "failed" and doc["status"]["timing"]["status"] == "ok"
    assert len(doc["crossings"]) > 0


def test_version_and_help(capsys):
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("mms_mp ")
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in ("demo", "analyze", "report", "batch", "overlay-template"))
    assert "exit codes: 0 ok" in out and "5 it finished" in out   # --help says what each code means


SHORT = ["--start", "2019-01-27T12:16", "--end", "2019-01-27T12:22"]


def test_original_form_python_m_without_subcommand(demo_dir, tmp_path):
    "`python -m mms_mp.cli --start ... --end ... --probes ... --plot` (the original toolkit's form) runs analyze."
    r = cli(*SHORT, "--probes", "1", "2", "--plot", "--source", "local", "--data-dir", demo_dir,
            "--outdir", tmp_path, "--quiet", "--dpi", "60")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "mp_analysis.json").is_file() and png_dpi(tmp_path / "figures" / "overview.png") == 60


def png_dpi(path) -> int:
    "The resolution a PNG says it was written at, dots per inch."
    from PIL import Image
    with Image.open(path) as im: return round(im.info["dpi"][0])


def test_figures_default_dpi_and_bad_dpi_is_exit2(demo_run, tmp_path, capsys):
    "Figures are 150 dpi unless --dpi says otherwise; a --dpi that is not 20–1200 (or in --config) is exit 2."
    assert {png_dpi(p) for p in (demo_run[1] / "figures").glob("*.png")} == {150}
    for bad in ("0", "abc", "72.5", "5000"):
        assert main(["analyze", *TR, "--source", "local", "--dpi", bad, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "argument --dpi" in err and "20–1200" in err and "300 for publication" in err, err
    cfg = tmp_path / "event.toml"
    cfg.write_text('source = "local"\ndpi = 10\n')
    assert main(["analyze", *TR, "--config", str(cfg), "--quiet", "--outdir", str(tmp_path / "o")]) == 2
    assert "dpi must be a whole number of dots per inch in 20–1200, got 10" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert "300 for publication" in " ".join(cli("analyze", "--help").stdout.split())


@pytest.mark.parametrize("cmd", [["report", "--out", "r"], ["batch", "events.csv", "--out", "o"]])
def test_report_and_batch_bad_dpi_is_exit2_as_analyze(cmd, capsys):
    "report and batch take --dpi (they had none: 'unrecognized arguments'); a bad value is the message analyze gives."
    for bad in ("0", "abc", "72.5", "5000"):
        assert main([*cmd, *TR, "--dpi", bad, "--quiet"] if cmd[0] == "report" else [*cmd, "--dpi", bad]) == 2
        err = capsys.readouterr().err
        assert "argument --dpi" in err and "20–1200" in err and "300 for publication" in err, err
    assert "300 for publication" in " ".join(cli(cmd[0], "--help").stdout.split())


@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")   # urllib3's IPv6 probe on import
def test_report_dpi_from_config_is_checked_before_a_kernel_starts(tmp_path, capsys):
    "`dpi = 10` in --config: exit 2 with the analyze message; no output folder, no kernel (sockets are off here)."
    cfg = tmp_path / "event.toml"
    cfg.write_text('source = "local"\ndpi = 10\n')
    assert main(["report", *TR, "--config", str(cfg), "--out", str(tmp_path / "r"), "--quiet"]) == 2
    assert "dpi must be a whole number of dots per inch in 20–1200, got 10" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_original_form_main_without_subcommand(demo_dir, tmp_path, capsys):
    "`mms-mp --start ...` with no sub-command is `mms-mp analyze --start ...`; its summary names the stages."
    code = main([*SHORT, "--probes", "1", "--source", "local", "--data-dir", str(demo_dir), "--outdir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "stages: load ok" in out and "timing skipped" in out and "needs at least 2 probes" in out
    assert "crossing normals 1 local" in out


def test_overlay_template_stdout_and_path(tmp_path, capsys):
    from mms_mp.overlay import overlay_template, read_overlay
    assert main(["overlay-template"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(overlay_template())
    assert main(["overlay-template", str(tmp_path / "pub.json"), "--quiet"]) == 0
    f = tmp_path / "pub.json"
    with pytest.raises(InputError, match="placeholder"):   # as shipped: refused, never cited as published
        read_overlay(f, ["1", "2", "3", "4"])
    f.write_text(f.read_text().replace("10.0000/replace-me", "10.1029/x").replace("Author et al.", "Someone et al."))
    with pytest.raises(InputError, match="'time' is still the template's placeholder"):
        read_overlay(f, ["1", "2", "3", "4"])
    f.write_text(f.read_text().replace("YYYY-MM-DDThh:mm:ssZ", "2019-01-27T12:18:45Z"))
    pubs = read_overlay(f, ["1", "2", "3", "4"])
    assert set(pubs) == {"1", "2", "3", "4"} and pubs["4"].time == np.datetime64("2019-01-27T12:18:45", "ns")


@pytest.mark.parametrize("doc, message", [
    ({"per_probe": {"1": {"V_ph_km_s": 20}}}, "missing key 'n_hat'"),
    ({"per_probe": {"1": {"n_hat": [0.5, 0, 0]}}}, "has length 0.5"),
    ({"per_probe": {"1": {"n_hat": [0, 0, 0]}}}, "has length 0"),
    ({"per_probe": {"1": {"n_hat": [1, 0, 0], "frame": "HGI"}}}, "unknown frame 'HGI'"),
    ({"per_probe": {"2": {"n_hat": [1, 0, 0]}}}, "none of its probes (2) is in this run"),
    ({"normals": {}}, "needs an object 'per_probe'"),
])
def test_exit2_bad_overlay_file(demo_dir, tmp_path, capsys, doc, message):
    f = tmp_path / "pub.json"
    f.write_text(json.dumps(doc))
    code = main(["analyze", *SHORT, "--probes", "1", "--source", "local", "--data-dir", str(demo_dir),
                 "--outdir", str(tmp_path / "o"), "--overlay-json", str(f), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "bad input" in err and message in err, err
    assert not (tmp_path / "o").exists()  # refused before any work


def test_exit2_missing_overlay_file(tmp_path, capsys):
    code = main(["analyze", *SHORT, "--probes", "1", "--source", "local", "--outdir", str(tmp_path / "o"),
                 "--overlay-json", str(tmp_path / "none.json"), "--quiet"])
    assert code == 2 and "does not exist" in capsys.readouterr().err



def test_exit2_local_data_dir_not_a_folder(tmp_path, capsys):
    "--source local with a data folder that does not exist: the user's argument (exit 2), one line, in CLI words."
    code = main(["analyze", *SHORT, "--probes", "1", "--source", "local", "--data-dir", str(tmp_path / "nowhere"),
                 "--outdir", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "is not a folder" in err[0], err
    assert "--source sdc" in err[0] and "source='sdc'" not in err[0]   # the flag, not the Python keyword
    assert not (tmp_path / "o").exists()


def test_no_data_hint_in_cli_words(tmp_path, capsys):
    "An empty data folder: exit 3, and the hint names the CLI flag (--source sdc), not the keyword argument."
    code = main(["analyze", *SHORT, "--probes", "1", "--source", "local", "--data-dir", str(tmp_path),
                 "--outdir", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 3 and "run with --source sdc to download" in err and "source='sdc'" not in err, err

def test_overlay_comparison_in_json(demo_dir, tmp_path):
    "With the simulator's true normal as the published one, our normals are within a degree of it."
    truth = json.loads((demo_dir / "truth.json").read_text())
    f = tmp_path / "pub.json"
    f.write_text(json.dumps({"per_probe": {p: {"n_hat": truth["N"]["value"], "V_ph_km_s": 20.0} for p in "12"}}))
    assert main(["analyze", *SHORT, "--probes", "1", "2", "--source", "local", "--data-dir", str(demo_dir),
                 "--outdir", str(tmp_path / "o"), "--overlay-json", str(f), "--quiet"]) == 0
    doc = validate_result_json(json.loads((tmp_path / "o" / "mp_analysis.json").read_text()))
    cmp = doc["comparison"]
    assert doc["status"]["compare"]["status"] == "ok" and set(cmp["per_probe"]) == {"1", "2"}
    for c in cmp["per_probe"].values():
        assert c["event_lmn"]["angle_deg"] < 1.0 and c["crossing_median"]["angle_deg"] < 1.0
    assert len(doc["timing_groups"]) == 1 and len(cmp["timing"]) == 2   # the run's only group: each entry, no time
    for c in cmp["timing"]:
        assert c["match"].startswith("the only timing group")
        assert abs(c["dV_km_s"] - (doc["timing_groups"][0]["V_km_s"] - 20.0)) < 1e-9


def test_overlay_time_picks_one_timing_group(demo_dir, tmp_path, capsys):
    "A published entry with a time is compared with the timing group at that time only; its speed, along our n̂."
    tr = ["--start", "2019-01-27T12:16", "--end", "2019-01-27T12:30"]   # three crossing groups
    truth = json.loads((demo_dir / "truth.json").read_text())
    first = lambda: json.loads((tmp_path / "o" / "mp_analysis.json").read_text())["timing_groups"]
    run = lambda f: main(["analyze", *tr, "--probes", "1", "2", "--source", "local", "--data-dir",
                          str(demo_dir), "--outdir", str(tmp_path / "o"), "--overlay-json", str(f)])
    f = tmp_path / "pub.json"
    f.write_text(json.dumps({"per_probe": {"1": {"n_hat": truth["N"]["value"]}}}))
    assert run(f) == 0
    cmp = json.loads((tmp_path / "o" / "mp_analysis.json").read_text())["comparison"]
    assert not cmp["timing"] and "gives no time and 3 timing groups" in cmp["timing_not_compared"]["1"]
    g = [g for g in first() if "1" in g["probes"]][1]
    t_ref = g["time"]
    inward = [-x for x in truth["N"]["value"]]   # the same normal and motion, given the other way round
    f.write_text(json.dumps({"time": t_ref, "per_probe": {"1": {"n_hat": inward, "V_ph_km_s": -g["V_km_s"],
                                                                 "sigma_V_km_s": 1.0},
                                                           "2": {"n_hat": truth["N"]["value"]}}}))
    capsys.readouterr()
    assert run(f) == 0
    cmp = validate_result_json(json.loads((tmp_path / "o" / "mp_analysis.json").read_text()))["comparison"]
    assert [(c["time"], c["probe"]) for c in cmp["timing"]] == [(t_ref, "1"), (t_ref, "2")]   # each entry compared
    c = cmp["timing"][0]
    assert c["opposite_sign"] and abs(c["dV_km_s"]) < 1e-9
    assert c["published_sigma_given"] == {"n_hat": False, "V": True}
    assert cmp["per_probe"]["1"]["crossing_at_time"]["angle_deg"] < 5.0
    out = capsys.readouterr().out
    assert "our σ only: published σ not given" in out and "published n̂ inward" in out and "dV +0.0 ±" in out
    assert "no published speed to compare" in out   # MMS2's entry gives no V


def test_dpi_alone_writes_figures(demo_dir, tmp_path):
    "--dpi asks for figures at that resolution: it implies --plot, as --pdf does."
    assert main(["analyze", *SHORT, "--probes", "1", "--source", "local", "--data-dir", str(demo_dir),
                 "--outdir", str(tmp_path / "o"), "--dpi", "60", "--quiet"]) == 0
    pngs = list((tmp_path / "o" / "figures").glob("*.png"))
    assert pngs and {png_dpi(p) for p in pngs} == {60}


def test_documented_config_example_is_accepted(tmp_path):
    "The TOML example in nbs/16_cli.ipynb uses only parameters the stages accept."
    from mms_mp.config import check_sections, load_config
    p = tmp_path / "event.toml"
    p.write_text('start = "2019-01-27T12:15:00"\nend = "2019-01-27T12:55:00"\nprobes = ["1", "2", "3", "4"]\n'
                 'rate = "brst"\nsource = "local"\ndata_dir = "~/mms_data"\noutdir = "results"\nplot = true\n'
                 'dpi = 300\noverlay_json = "published.json"\n[normals]\nplateau_deg = 10.0\nratio_min = 2.0\n'
                 '[lmn]\nratio_min = 5.0\nbz_nT = -2.0\ndp_nPa = 2.0\n[detector]\np_enter = 0.7\nmin_dwell_s = 5.0\n'
                 '[vn]\ncadence = "1s"\n[displacement]\nbias_sigma_km_s = 2.0\n[timing]\nsigma_r_km = 0.1\n')
    cfg = check_sections(load_config(p))
    assert cfg["dpi"] == 300 and cfg["lmn"]["bz_nT"] == -2.0
    assert cfg["timing"]["sigma_r_km"] == 0.1 and cfg["normals"]["ratio_min"] == 2.0


def test_console_script_installed():
    "`mms-mp` (settings.ini console_scripts) is installed beside this interpreter and answers --version."
    exe = Path(sys.executable).parent / "mms-mp"
    if not exe.exists():
        pytest.skip("mms_mp is not installed as a package in this interpreter (no console script)")
    r = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"mms_mp {__import__('mms_mp').__version__}"


def test_demo_vn_is_smoothed_and_within_10_percent_of_truth(demo_run, demo_dir):
    ("normal_velocity_mms<p>.csv: the smoothed V_N (JSON says how) is within 10 % RMS of the simulator's V_N "
     "at its crossings.")
    import pandas as pd
    out, doc, truth = demo_docs(demo_run, demo_dir)
    ts = np.array([T(x) for x in truth["series"]["time"]]); vt = np.array(truth["series"]["V_N_kms"])
    for p in ("1", "2", "3", "4"):
        sm = doc["vn"][p]["smoothing"]
        assert sm["order"] == 2 and all(10 < w < 120 for w in sm["width_s"]), sm        # an averaging time, stated
        df = pd.read_csv(out / f"normal_velocity_mms{p}.csv")
        assert {"V_N_kms", "sigma_V_N_kms", "V_N_blend_kms", "V_N_ExB_kms", "V_N_FPI_ions_kms"} <= set(df.columns)
        for src in ("ExB", "FPI_ions", "HPCA_He_plus"):   # each source's V_N comes with its σ, > 0 where V_N is
            ok = df[f"V_N_{src}_kms"].notna()
            assert ok.any() and (df.loc[ok, f"sigma_V_N_{src}_kms"] > 0).all(), src
        assert df["simulated"].all()                      # a copied CSV still says it is simulated
        t = np.array([T(x) for x in df["time"]]); v = df["V_N_kms"].to_numpy()
        near = np.zeros(len(t), bool)
        for c in truth["crossings"]:
            if c["probe"] == p:
                near |= ((t >= T(c["layer_start"]) - np.timedelta64(60, "s"))
                         & (t <= T(c["layer_end"]) + np.timedelta64(60, "s")))
        near &= np.isfinite(v)
        true_v = np.interp(t[near].astype(np.int64), ts.astype(np.int64), vt)
        assert np.sqrt(np.mean((v[near] - true_v) ** 2)) < 0.10 * np.sqrt(np.mean(true_v ** 2))


def test_rerun_leaves_only_this_runs_files(demo_dir, tmp_path):
    "A rerun replaces the output folder as one unit: no figure, table or link of the earlier run survives."
    out = tmp_path / "out"
    base = (*SHORT, "--source", "local", "--data-dir", demo_dir, "--outdir", out, "--quiet")
    assert cli(*base, "--probes", "1", "2", "--plot").returncode == 0
    assert (out / "figures" / "summary_mms2.png").is_file() and (out / "manifest.json").is_file()
    r = cli(*base, "--probes", "1")
    assert r.returncode == 0, r.stderr
    files = {f["path"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert not (out / "figures").exists() and not any("mms2" in f or f.startswith("figures/") for f in files)
    assert {f.name for f in out.iterdir()} == files | {"manifest.json"}
    assert ".png" not in (out / "report.html").read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.") and "staging" in p.name]


def test_overlay_drawn_in_timing_figures(demo_dir, tmp_path):
    "The published normal reaches the formation and timing figures: the angle drawn is the one the JSON reports."
    from mms_mp.outputs import figure_jobs
    from mms_mp.pipeline import analyze
    import matplotlib.pyplot as plt
    truth = json.loads((demo_dir / "truth.json").read_text())
    f = tmp_path / "pub.json"
    f.write_text(json.dumps({"per_probe": {p: {"n_hat": truth["N"]["value"], "V_ph_km_s": 20.0} for p in "12"}}))
    res = analyze(SHORT[1::2], ["1", "2"], source="local", data_dir=demo_dir, overlay_json=f)
    jobs = dict(figure_jobs(res))
    fig = jobs["formation"]()
    assert fig.mms_mp_published_angle_deg < 1.0  # the simulator's truth vs our timing n̂
    fig2 = jobs["timing"]()
    assert set(fig2.mms_mp_published_delays_s) == {"1", "2"}
    assert fig2.mms_mp_residual_sigma_s == res.timing.sigma_delay_s and min(res.timing.sigma_delay_s.values()) > 0
    bars = [np.ptp(s[:, 1]) / 2 for c in fig2.axes[1].collections for s in c.get_segments()]   # ± σ_t drawn
    np.testing.assert_allclose(bars, [res.timing.sigma_delay_s[p] for p in sorted(res.timing.sigma_delay_s)])
    # the entries are matched to timing groups once, by the comparison stage; the figures draw what it matched
    assert sorted(p for _, p, _ in res.published_timing) == ["1", "2"]
    res.published_timing = []
    assert np.isnan(dict(figure_jobs(res))["formation"]().mms_mp_published_angle_deg)
    plt.close("all")


def test_demo_vn_along_each_crossing_normal(demo_run, demo_dir):
    "Each crossing's V_N along its own normal matches the simulator's V_N at that crossing within its σ."
    _, doc, truth = demo_docs(demo_run, demo_dir)
    n_true = np.array(truth["N"]["value"])
    z = []
    for c in doc["crossings"]:
        v = c["vn"]
        assert v is not None and v["frame"] == "GSE" and v["normal_method"] == c["normal"]["method"]
        assert np.allclose(v["n_hat"], c["normal"]["n_hat"])
        tc = min((x for x in truth["crossings"] if x["probe"] == c["probe"]),
                 key=lambda x: abs(T(x["time"]) - T(c["time"])))
        want = np.sign(np.dot(v["n_hat"], n_true)) * tc["V_N_kms"]  # truth V_N is along the true +N
        z.append((v["V_N_km_s"] - want) / v["sigma_V_N_km_s"])
    z = np.abs(z)
    assert len(z) >= 28 and z.max() < 3.5 and np.median(z) < 1.5, z
    integrated = [t for t in doc["thickness"] if t["method"] == "integrated V_N"]
    assert integrated and all(t["normal"].startswith("crossing normal") for t in integrated)


def test_probes_with_commas_as_pyspedas_users_write_them():
    "`--probes 1,2 3` is probes 1, 2 and 3, as `--probes 1 2 3` is."
    from mms_mp.cli import build_parser, event_config
    args = lambda *p: build_parser().parse_args(["analyze", "--start", "2019-01-27T12:15", "--end",
                                                  "2019-01-27T12:55", "--probes", *p])
    assert event_config(args("1,2", "3"))["probes"] == event_config(args("1", "2", "3"))["probes"] == ["1", "2", "3"]
    assert event_config(args("1, 2"))["probes"] == ["1", "2"]


def test_csv_tables_carry_the_normal_they_are_along(demo_run):
    "Each CSV names the normal of its numbers: V_N and Δs along the event N (JSON lmn), thickness along its own."
    import pandas as pd
    out = demo_run[1]
    doc = json.loads((out / "mp_analysis.json").read_text())
    for p, lmn in doc["lmn"].items():
        for name in (f"normal_velocity_mms{p}.csv", f"displacement_mms{p}.csv"):
            df = pd.read_csv(out / name)
            np.testing.assert_allclose(df[["n_x_gse", "n_y_gse", "n_z_gse"]].to_numpy(),
                                       np.tile(lmn["N"], (len(df), 1)), atol=CSV_TOL)
    th = pd.read_csv(out / "layer_thickness.csv", dtype={"probe": str})
    n = th[["n_x_gse", "n_y_gse", "n_z_gse"]].to_numpy()
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=CSV_TOL)
    want = {(t["probe"], t["time"], t["method"]): t["n_hat"] for t in doc["thickness"]}
    for (_, r), v in zip(th.iterrows(), n):
        np.testing.assert_allclose(v, want[(r["probe"], r["time"], r["method"])], atol=CSV_TOL)
    own = th[th.method == "integrated V_N"]
    assert own.normal.str.startswith("crossing normal").all()
    assert (th[th.method != "integrated V_N"].normal == "timing n̂ of its crossing group").all()


def test_demo_flags_a_new_user_tries(capsys):
    "`demo --plot` is accepted (demo always writes figures); a scenario that does not exist is refused with the list."
    a = build_parser().parse_args(["demo", "--plot", "--scenario", "surface_waves"])
    assert a.plot and a.scenario == "surface_waves"
    assert main(["demo", "--scenario", "windy"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'windy'" in err and "surface_waves" in err


def test_overlay_with_more_probes_than_the_run(demo_dir, tmp_path, capsys):
    "A paper's 4-probe table on a 1-probe run was refused; now probe 1 is compared and the others are listed."
    f = tmp_path / "pub.json"
    f.write_text(json.dumps({"frame": "GSE", "source": "test", "per_probe": {
        p: {"n_hat": [0.6, 0.8, 0.0]} for p in ("1", "mms2", "3", "4")}}))
    code = main(["analyze", *SHORT, "--probes", "1", "--source", "local", "--data-dir", str(demo_dir),
                 "--outdir", str(tmp_path / "o"), "--overlay-json", str(f), "--quiet"])
    doc = json.loads((tmp_path / "o" / "mp_analysis.json").read_text())
    assert code == 0 and set(doc["comparison"]["per_probe"]) == {"1"}
    assert doc["comparison"]["not_compared"] == dict.fromkeys(("2", "3", "4"), "not in this run")
    code = main(["analyze", *SHORT, "--probes", "1", "--source", "local", "--data-dir", str(demo_dir),
                 "--outdir", str(tmp_path / "o"), "--overlay-json", str(f)])
    assert code == 0 and "MMS3 published, not compared: not in this run" in capsys.readouterr().out


def test_batch_help_lists_every_events_column(capsys):
    "`mms-mp batch --help` names every column the events CSV may have (seed was missing)."
    from mms_mp.batch import EVENT_COLUMNS
    main(["batch", "--help"])
    out = capsys.readouterr().out.replace("\n", "").replace(" ", "")
    assert all(c in out for c in EVENT_COLUMNS), [c for c in EVENT_COLUMNS if c not in out]


def closed_stdout(*args, timeout=300):
    "Run `python -m mms_mp.cli ARGS` whose stdout's reader has gone before it writes (`mms-mp ... | head`, early)."
    env = {**os.environ, "MPLBACKEND": "Agg"}
    p = subprocess.Popen([sys.executable, "-m", "mms_mp.cli", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    p.stdout.close()   # the reader goes away: every write to stdout now fails with EPIPE
    err = p.stderr.read()
    return p.wait(timeout=timeout), err


@pytest.mark.parametrize("cmd", ["analyze", "batch"])
def test_stdout_closed_early_ends_the_printing_not_the_run(demo_dir, tmp_path, cmd):
    """`mms-mp analyze ... | head` exited 4 ("analysis failed: BrokenPipeError") after its outputs were written. A
    reader gone stops the printing only: no traceback, no BrokenPipeError, the outputs complete, and the run's own
    code (here --strict's 6: one probe, so timing skipped), with the lines meant for stderr still on stderr."""
    out = tmp_path / "o"
    if cmd == "analyze":
        argv = ["analyze", *SHORT, "--probes", "1", "--source", "local", "--data-dir", demo_dir, "--outdir", out,
                "--strict"]
    else:
        (tmp_path / "e.csv").write_text(f"name,start,end,probes,data_dir,source\none,{SHORT[1]},{SHORT[3]},1,"
                                        f"{demo_dir},local\n")
        argv, out = ["batch", tmp_path / "e.csv", "--out", tmp_path / "b", "--scheduler", "synchronous",
                     "--strict"], tmp_path / "b" / "one"
    code, err = closed_stdout(*argv)
    assert "Traceback" not in err and "Broken" not in err and "Exception ignored" not in err, err
    assert code == 6, err
    if cmd == "analyze": assert "mms-mp analyze --strict: degraded: stage timing skipped" in err
    from mms_mp.outset import check_set
    assert check_set(out) == []   # every file its manifest lists, as listed, and nothing else
    validate_result_json(json.loads((out / "mp_analysis.json").read_text()))


def test_overlay_template_to_a_closed_pipe_exits_0():
    "The command whose work is printing: its reader gone, it stops quietly with 0 (was 4, 'analysis failed')."
    assert closed_stdout("overlay-template") == (0, "")


def test_a_pipe_closed_before_the_work_ends_stops_it_with_141(tmp_path, monkeypatch, capsys):
    """A BrokenPipeError inside the work: stopped as SIGPIPE stops a process, not 4. It said nothing even where
    stderr still reads, so a run stopped before its outputs looked like a quiet one: stderr now says so."""
    import mms_mp.cli
    def cut(*a, **kw): raise BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(mms_mp.cli, "analyze", cut)
    args = ["analyze", *TR, "--probes", "1", "--source", "local", "--outdir", str(tmp_path / "o")]
    assert main(args) == 141 == mms_mp.cli.EXIT_PIPE
    out, err = capsys.readouterr()
    assert out == "" and err == ("mms-mp analyze: stopped: a pipe closed under the run (BrokenPipeError: [Errno 32] "
                                 "Broken pipe); it did not finish\n")


def closed_fd(fd, *args, timeout=300):
    """Run `python -m mms_mp.cli ARGS` with file descriptor `fd` closed from the start (`mms-mp ... >&-` or
    `2>&-`; Python's sys.stdout or sys.stderr is then None): (exit code, stdout, stderr)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, "-m", "mms_mp.cli", *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=env, preexec_fn=lambda: os.close(fd))
    return r.returncode, r.stdout, r.stderr


def test_stdout_closed_from_the_start_is_no_error():
    """`mms-mp --help >&-` ended in a traceback (exit 1) and `overlay-template >&-` in "analysis failed:
    AttributeError" (exit 4): `say` flushed a sys.stdout that is None. Nothing can be shown: the run's own code."""
    assert closed_fd(1, "--help") == (0, "", "")
    assert closed_fd(1, "overlay-template") == (0, "", "")


def test_stderr_closed_from_the_start_keeps_messages_off_stdout():
    "With stderr closed (`2>&-`) the error line went to stdout, into whatever reads the command's output."
    code, out, err = closed_fd(2, "analyze", "--start", "x", "--end", "2019-01-27T12:55:00", "--probes", "1")
    assert (code, out, err) == (2, "", "")


def test_verbose_traceback_to_a_closed_stderr_keeps_the_exit_code():
    """With -v the traceback goes to stderr first: its reader gone, print_exc raised inside the handler and the run
    exited 1 instead of its own code (2 here: a bad time)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    p = subprocess.Popen([sys.executable, "-m", "mms_mp.cli", "analyze", "-v", "--start", "x", "--end",
                          "2019-01-27T12:55:00", "--probes", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    p.stderr.close()   # the reader of stderr goes away before anything is written
    out = p.stdout.read()
    assert (p.wait(timeout=120), out) == (2, "")


def test_bad_option_names_the_config_file_only_when_one_was_given(tmp_path):
    "A bad --probes said 'options (command line over --config file)' when no --config was given."
    ap = build_parser()
    args = ap.parse_args(["analyze", "--start", "2019-01-27T12:15", "--end", "2019-01-27T12:55", "--probes", "5"])
    with pytest.raises(InputError) as e: event_config(args)
    assert str(e.value).startswith("options: ") and "config" not in str(e.value), e.value
    toml = tmp_path / "ev.toml"
    toml.write_text('start = "2019-01-27T12:15"\nend = "2019-01-27T12:55"\n')
    args = ap.parse_args(["analyze", "--config", str(toml), "--probes", "5"])
    with pytest.raises(InputError, match=f"options \\(command line over {toml}\\): "): event_config(args)


def test_a_bad_section_value_in_the_config_file_names_the_file(tmp_path):
    "An unknown key named the TOML file, a bad value inside a section did not ('[lmn] ratio_min = 0.5: …')."
    toml = tmp_path / "ev.toml"
    toml.write_text('start = "2019-01-27T12:15"\nend = "2019-01-27T12:55"\n[lmn]\nratio_min = 0.5\n')
    args = build_parser().parse_args(["analyze", "--config", str(toml)])
    with pytest.raises(InputError, match=f"^{toml}: \\[lmn\\] ratio_min = 0.5"): event_config(args)


@pytest.mark.parametrize("toml, words", [
    ('outdir = 5\n', ": outdir = 5 has type int"),   # the key as the file spells it
    ('data_dirr = "x"\n', "allowed: ['data_dir', "),   # the keys a TOML file may hold
])
def test_config_file_errors_keep_the_files_key_names(tmp_path, capsys, toml, words):
    "cli_words made a TOML key a flag: 'ev.toml: --outdir = 5', 'allowed: ['--data-dir', …]'."
    cfg = tmp_path / "ev.toml"
    cfg.write_text(toml)
    assert main(["analyze", "--config", str(cfg), *SHORT]) == 2
    err = capsys.readouterr().err
    assert words in err and "--outdir" not in err and "--data-dir" not in err, err


def test_a_folder_in_a_cli_hint_is_one_shell_word():
    "data_dir='/my data' became '--data-dir /my data', two shell words; outdir='' vanished."
    assert cli_words("(data_dir='/my data')") == "(--data-dir '/my data')"
    assert cli_words("outdir='' is empty") == "--outdir '' is empty"
    assert cli_words("probes='1'") == "--probes 1"


@pytest.mark.parametrize("toml, words", [
    ('source = "xx"\n', "source = 'xx'; expected one of ('auto', 'sdc', 'spdf', 'local')"),
    ('rate = "xx"\n', "rate = 'xx'; expected one of ('auto', 'srvy', 'brst')"),
])
def test_a_bad_source_or_rate_in_the_config_file_names_the_file_and_key(tmp_path, capsys, toml, words):
    "`source = \"xx\"` in a config file was reported as 'ev.toml: --source xx', a flag the user never typed."
    cfg = tmp_path / "ev.toml"
    cfg.write_text(toml)
    assert main(["analyze", "--config", str(cfg), *SHORT]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}: {words}" in err and "--source" not in err and "--rate" not in err, err


def test_missing_data_warning_points_the_cli_user_at_the_json_not_at_event_missing(demo_dir, tmp_path):
    """A CLI user has no `event` object: the MissingDataWarning's "(see event.missing)" pointed at nothing they
    have. On the command line it points at the lines below it and at mp_analysis.json's provenance.missing."""
    import shutil
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    shutil.rmtree(data / "mms2" / "hpca")   # MMS2 without HPCA: a product not loaded, the run goes on
    r = cli("analyze", *SHORT, "--probes", "1", "2", "--source", "local", "--data-dir", data, "--outdir",
            tmp_path / "o")
    assert r.returncode == 0, r.stderr
    assert "event.missing" not in r.stderr + r.stdout, r.stderr
    head = next(x for x in r.stderr.splitlines() if "not loaded" in x)
    assert head.endswith("product(s) not loaded (below, and in mp_analysis.json under provenance.missing):"), head
    doc = json.loads((tmp_path / "o" / "mp_analysis.json").read_text())
    assert [(m["probe"], m["instrument"]) for m in doc["provenance"]["missing"]] == [("2", "hpca")]
    assert "  mms2 hpca srvy moments: no hpca srvy moments files for mms2" in r.stderr


def test_a_probes_tables_and_figures_share_its_label(demo_run, capsys):
    """The tables were displacement_1.csv and normal_velocity_1.csv, the figures figures/displacement_mms1.png: one
    probe, two names. Every per-probe file is now named by the label MMS uses (mms1 … mms4): on disk, in the
    manifest and in the help."""
    import re
    out = demo_run[1]
    for p in "1234":
        for f in (f"displacement_mms{p}.csv", f"normal_velocity_mms{p}.csv", f"figures/displacement_mms{p}.png",
                  f"figures/summary_mms{p}.png"):
            assert (out / f).is_file(), f
    by_digit = [f.name for f in out.rglob("*") if re.search(r"_\d\.\w+$", f.name)]
    assert not by_digit, by_digit
    listed = {f["path"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert {"displacement_mms1.csv", "normal_velocity_mms1.csv", "figures/displacement_mms1.png"} <= listed
    for cmd in ("demo", "analyze"):
        assert main([cmd, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "displacement_mms<p>.csv" in text and "normal_velocity_mms<p>.csv" in text, text


CTRL_C_AT_IMPORT = """import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a terminal
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == %r: os.kill(os.getpid(), signal.SIGINT)   # Ctrl-C as that import starts
sys.meta_path.insert(0, Interrupt())
sys.argv[1:] = ["--version"]
"""


@pytest.mark.parametrize("at", ["mms_mp.cli", "numpy", "mms_mp.pipeline"])
def test_ctrl_c_while_the_cli_loads_is_one_line(at):
    """A Ctrl-C in the first second (numpy and the pipeline being imported) printed a KeyboardInterrupt traceback
    from importlib. The console script enters through mms_mp.console, which loads the CLI inside a try."""
    code = CTRL_C_AT_IMPORT % at + "from mms_mp.console import main; sys.exit(main())"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "MPLBACKEND": "Agg"})
    assert (r.returncode, r.stderr) == (130, "mms-mp: interrupted\n")
    ini = (Path(__file__).resolve().parents[1] / "settings.ini").read_text()
    assert "console_scripts = mms-mp=mms_mp.console:main" in ini


SWALLOWED = """import signal, sys, weakref
signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a terminal
from mms_mp import pipeline
from mms_mp.cli import main
load = pipeline.stage_load
class _O: pass
def _swallowed(res, cfg):
    "The load stage, then Ctrl-C's handler run inside a weakref callback: Python prints and drops its exception."
    out = load(res, cfg)
    o = _O()
    r = weakref.ref(o, lambda _: signal.getsignal(signal.SIGINT)(signal.SIGINT, None))
    del o
    return out
pipeline.stage_load = _swallowed
sys.exit(main(sys.argv[1:]))
"""


def test_a_ctrl_c_python_drops_still_stops_the_run(demo_dir, tmp_path):
    """A SIGINT whose KeyboardInterrupt was raised inside a weakref callback was printed as "Exception ignored in
    ... KeyboardInterrupt" and dropped: the run went on, replaced the set and exited 0. Now it stops (exit 130),
    the earlier set is kept, and no traceback is printed (SIMULATED 2019-01-27, MMS1)."""
    from mms_mp.outset import check_set
    out = tmp_path / "out"
    args = ["analyze", "--start", "2019-01-27T12:15", "--end", "2019-01-27T12:25", "--probes", "1",
            "--source", "local", "--data-dir", str(demo_dir), "--outdir", str(out), "--quiet"]
    assert main(args) == 0
    manifest = (out / "manifest.json").read_text()
    r = subprocess.run([sys.executable, "-c", SWALLOWED, *args], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "MPLBACKEND": "Agg"})
    assert (r.returncode, r.stderr) == (130, f"mms-mp: interrupted; {out} still holds the earlier set, "
                                             "unchanged\n")
    assert (out / "manifest.json").read_text() == manifest and not check_set(out)


def test_a_ctrl_c_after_the_set_is_written_says_it_is_complete(demo_dir, tmp_path, monkeypatch, capsys):
    """A SIGINT just after the commit gave exit 130 and no word, though the new set was complete. Now the line
    says so (here Ctrl-C comes while the summary is printed, after `analyze` has replaced the set)."""
    from mms_mp import cli as cli_mod
    from mms_mp.outset import check_set
    def ctrl_c(res): raise KeyboardInterrupt
    monkeypatch.setattr(cli_mod, "summary_lines", ctrl_c)
    out = tmp_path / "out"
    code = main(["analyze", "--start", "2019-01-27T12:15", "--end", "2019-01-27T12:25", "--probes", "1",
                 "--source", "local", "--data-dir", str(demo_dir), "--outdir", str(out)])
    err = capsys.readouterr().err
    assert code == 130 and err.endswith(f"mms-mp: interrupted after the run had written {out}: that set is "
                                        "complete (its manifest.json lists every file)\n"), err
    assert not check_set(out)


def test_a_ctrl_c_after_the_report_is_written_says_it_is_complete_and_where(tmp_path, monkeypatch, capsys):
    """`report`: a Ctrl-C just after its commit said only 'mms-mp: interrupted', though OUT held the complete new
    report. Now it says the report is complete and where it is, as analyze does for its set. (The report's own
    content is not the point: run_report is replaced by a writer of a report set through the same output_set.)"""
    from mms_mp import cli as cli_mod
    from mms_mp.outset import check_set, output_set
    def report_then_ctrl_c(trange, out, probes, **kw):
        with output_set(out, kind="report") as st:
            (st / "event_report.html").write_text("<html>report</html>")
        raise KeyboardInterrupt   # just after the commit
    monkeypatch.setattr(cli_mod, "run_report", report_then_ctrl_c)
    out = tmp_path / "rep"
    assert main(["report", *TR, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err == (f"mms-mp: interrupted after the run had written {out}: the report is complete "
                   f"({out / 'event_report.html'}; its manifest.json lists every file)\n"), err
    assert not check_set(out)
    def ctrl_c_before(trange, out, probes, **kw): raise KeyboardInterrupt
    monkeypatch.setattr(cli_mod, "run_report", ctrl_c_before)   # the next run, stopped before its commit
    assert main(["report", *TR, "--out", str(out)]) == 130
    assert capsys.readouterr().err == f"mms-mp: interrupted; {out} still holds the earlier set, unchanged\n"


@pytest.mark.parametrize("cmd", ["analyze", "report"])
def test_a_window_too_long_for_the_grids_is_said_in_cli_terms(tmp_path, capsys, cmd):
    """A 10-year window (--start 2015-03-13 --end 2026-01-01) loaded the data, then failed two stages (exit 5) in
    the resampler's words: 'use a coarser cadence or a shorter t_range'. It is bad input: exit 2 before any data are
    read, naming the flags, the limit and its unit. The known answer: 50,000,000 grid points of 0.5 s are
    25,000,000 s = 289.35 days."""
    from mms_mp import pipeline
    from mms_mp.core import MAX_POINTS
    out = "--out" if cmd == "report" else "--outdir"
    run = lambda *a: main([cmd, "--start", "2015-03-13", "--end", "2026-01-01", "--probes", "1", "--source",
                           "local", "--data-dir", str(tmp_path), out, str(tmp_path / "o"), *a])
    assert run() == 2
    err = capsys.readouterr().err
    assert ("--start 2015-03-13 to --end 2026-01-01 is 3947 days long" in err
            and "[detector] grid_dt_s = 0.5 s" in err and f"more than the {MAX_POINTS:,} allowed" in err
            and "the longest window at that spacing is 289.35 days (2.5e+07 s)" in err), err
    assert "t_range" not in err and "coarser cadence" not in err and not (tmp_path / "o").exists()
    # the limit follows the settings: a coarser detector grid and a finer V_N one, from --config
    cfg = tmp_path / "c.toml"
    cfg.write_text('[detector]\ngrid_dt_s = 60.0\n[vn]\ncadence = "1s"\n')
    assert run("--config", str(cfg)) == 2
    assert "[vn] cadence = 1 s" in capsys.readouterr().err
    # a coarse detector grid alone: V_N's own grid (stages.VN_CADENCE, 4.5 s) is the one too long,
    # 50,000,000 × 4.5 s = 2604.17 days (was left to fail late, in the resampler's words)
    cfg.write_text('[detector]\ngrid_dt_s = 60.0\n')
    assert run("--config", str(cfg)) == 2
    err = capsys.readouterr().err
    assert "[vn] cadence = 4.5 s" in err and "the longest window at that spacing is 2604.17 days" in err, err
    # one window length of context each side: three window lengths of data on the detector's grid
    cfg.write_text('[context]\nwindows = 1\n')
    assert main([cmd, "--start", "2019-01-01", "--end", "2019-04-30", "--config", str(cfg), "--source", "local",
                 "--data-dir", str(tmp_path), out, str(tmp_path / "o")]) == 2
    assert "with [context] windows = 1" in capsys.readouterr().err


@pytest.mark.parametrize("verbose", [0, 1])
def test_warnings_are_one_line_in_cli_words_with_and_without_v(monkeypatch, caplog, verbose):
    """With -v, a warning came in Python's default form: a file and line, the library's words ('(see event.missing)',
    source='sdc') and the source line below. Now it is one line in the CLI's words either way; -v adds where it was
    raised, on the same line."""
    import logging
    import warnings
    from mms_mp.cli import setup_logging
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)   # restored after the test
    monkeypatch.setattr(logging.getLogger("mms_mp"), "level", logging.getLogger("mms_mp").level)
    with warnings.catch_warnings():
        logging.captureWarnings(False)   # an earlier main() left it on, around another test's warnings.showwarning
        setup_logging(verbose=verbose)
        warnings.simplefilter("always")
        with caplog.at_level(logging.WARNING, logger="py.warnings"):
            warnings.warn("2 product(s) not loaded (see event.missing): run with source='sdc' to download",
                          UserWarning)
    logging.captureWarnings(False)
    msg = caplog.records[-1].getMessage()
    head = ("UserWarning: 2 product(s) not loaded (below, and in mp_analysis.json under provenance.missing): run with "
            "--source sdc to download")
    assert "\n" not in msg.strip() and msg.startswith(head), msg
    import re
    assert msg.strip() == head if not verbose else re.fullmatch(re.escape(head) + r" \(at \S+test_cli\.py:\d+\)",
                                                                 msg.strip()), msg


def test_verbose_with_quiet_is_refused(capsys):
    "`-v --quiet` was accepted and --quiet silently won: now it is a usage error naming both."
    assert main(["analyze", *TR, "-v", "--quiet"]) == 2
    assert "argument --quiet: not allowed with argument -v/--verbose" in capsys.readouterr().err


def test_demo_into_a_folder_of_other_files_says_the_cli_way(tmp_path, capsys):
    "`demo --data-dir <non-empty folder>` said 'pass overwrite=True', which the CLI has no way to do."
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    assert main(["demo", "--data-dir", str(tmp_path / "d"), "--outdir", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "holds files but no simulated event (truth.json); give a new or empty folder" in err
    assert "overwrite" not in err and (tmp_path / "d" / "notes.txt").read_text() == "mine"


def test_a_ctrl_c_dropped_as_the_command_ends_is_still_exit_130(monkeypatch, capsys):
    """A Ctrl-C that Python dropped (raised inside a weakref callback) just before the command returned: exit 0
    and an "Exception ignored ... KeyboardInterrupt" traceback. Now 130 and one line, no traceback."""
    import weakref
    from mms_mp import cli as cli_mod
    def _raise(_): raise KeyboardInterrupt   # what Ctrl-C's handler does, here inside the callback
    def command(args):
        o = type("O", (), {})()
        r = weakref.ref(o, _raise)
        del o   # the callback runs: its KeyboardInterrupt goes to sys.unraisablehook
        return 0 if r() is None else 4
    monkeypatch.setitem(cli_mod.COMMANDS, "overlay-template", command)
    assert main(["overlay-template"]) == 130
    assert capsys.readouterr().err == "mms-mp: interrupted\n"


LATE_CTRL_C = """import os, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)   # as in a terminal
sys.argv[1:] = ["overlay-template", %r, "--quiet"]
from mms_mp.console import main
code = main()
os.kill(os.getpid(), signal.SIGINT)   # Ctrl-C after the command returned, as the interpreter exits
time.sleep(0.2)
sys.exit(code)
"""


def test_a_ctrl_c_as_the_interpreter_exits_keeps_the_runs_exit_code(tmp_path):
    """A Ctrl-C after the run had committed its set, while Python exited, ended the process with 130 and no word
    (Python's exit puts SIGINT back to its default). The console script ignores SIGINT once the command returned."""
    r = subprocess.run([sys.executable, "-c", LATE_CTRL_C % str(tmp_path / "pub.json")], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})
    assert (r.returncode, r.stderr) == (0, "") and (tmp_path / "pub.json").is_file()


def test_timing_line_says_which_of_equally_large_groups_it_shows():
    "Two 4-probe groups: the line named 'the one with most probes' although another was as large."
    from types import SimpleNamespace as NS
    from mms_mp.cli import _timing_lines
    t = NS(n_hat=np.array([1.0, 0, 0]), frame="GSE", sigma_n_deg=1.2, V_km_s=-20.0, sigma_V_km_s=2.0,
           method="timing")
    g4 = NS(crossings={p: NS(time=np.datetime64("2019-01-27T12:20", "ns")) for p in "1234"}, ref="1",
            direction="in")
    g3 = NS(crossings={p: None for p in "123"})
    one = _timing_lines(NS(timing=t, timing_group=g4, timings=[(g4, t), (g3, t)]))[0]
    two = _timing_lines(NS(timing=t, timing_group=g4, timings=[(g4, t), (g4, t), (g3, t)]))[0]
    assert "the one with most probes" in one and "method timing: n = (+1.000, +0.000, +0.000) GSE ± 1.2°" in one
    assert "the first of the 2 with 4 probes" in two


def test_sigterm_while_a_set_is_written_is_one_line_and_exit_143(monkeypatch, capsys):
    "`Terminated` (SIGTERM inside an output set) reached the user as a traceback and exit 1."
    from mms_mp import cli
    from mms_mp.outset import Terminated
    def killed(args, late): raise Terminated("signal 15 (SIGTERM)")
    monkeypatch.setattr(cli, "_command", killed)
    assert cli.main(["overlay-template"]) == 143
    err = capsys.readouterr().err
    assert err.strip() == "mms-mp: terminated (SIGTERM)" and "Traceback" not in err


def test_verbose_warning_names_the_package_line_not_the_console_script(tmp_path):
    """REAL MMS1 FGM files: `mms-mp analyze -v` says where each warning was raised. Warnings point at the user's
    line when mms_mp is called from code; from the command line there is none, and '(at …/bin/mms-mp:6)' said
    nothing: the CLI names the package's line that called the loader."""
    exe = Path(sys.executable).parent / "mms-mp"
    if not exe.exists():
        pytest.skip("mms_mp is not installed as a package in this interpreter (no console script)")
    real = Path(__file__).parent / "fixtures" / "real"
    r = subprocess.run([str(exe), "analyze", "--start", "2015-09-02T16:58", "--end", "2015-09-02T17:08",
                        "--probes", "1", "--rate", "brst", "--source", "local", "--data-dir", str(real), "-v"],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    heads = [ln for ln in r.stderr.splitlines() if "MissingDataWarning" in ln]
    assert heads and all(ln.startswith("mms-mp: warning: MissingDataWarning: ") for ln in heads), heads
    at = [ln.split(" (at ")[1].split(")")[0] for ln in heads]
    assert r.returncode == 0 and at, r.stderr[-2000:]
    assert all(f"{os.sep}mms_mp{os.sep}" in a and not a.startswith(str(exe)) for a in at), at
