"""Hostile inputs, each against a known answer: a clear error with the documented exit code (2 usage, 3 no data,
4 analysis failure), or a flagged, degraded result; never a traceback, a silent wrong answer or a lost output.

Every case starts from one small SIMULATED event (2019-01-27 12:22–12:34, survey, four probes, real DEFEPH
formation) with one thing broken: an argument, a configuration value, a file, the values in a file, the
formation, or the process around a run. Other suites test the same machinery in depth (test_data, test_outset,
test_real_files, test_boundary_hostile, test_quality_spikes); this one walks the whole list in one place.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import cdflib
import numpy as np
import pytest

from mms_mp.cli import main
from mms_mp.multispacecraft import timing_normal
from mms_mp.outset import check_set
from mms_mp.pipeline import analyze

W = ("2019-01-27T12:22:00", "2019-01-27T12:34:00")
ARGS = ["--start", W[0], "--end", W[1], "--rate", "srvy", "--source", "local"]


@pytest.fixture(scope="session")
def sim(tmp_path_factory):
    "The clean SIMULATED tree every case breaks a copy of (survey and burst files, four probes)."
    from mms_mp.synthetic import simulate_event
    d = tmp_path_factory.mktemp("hostile") / "sim"
    simulate_event(d, trange=W, overwrite=True)
    return d


def broken(sim, tmp_path, probe="1", instrument="fgm", rate="srvy"):
    "A hard-linked copy of the tree; returns (root, the file of `probe`/`instrument`/`rate` to break)."
    root = tmp_path / "tree"
    shutil.copytree(sim, root, copy_function=os.link)
    (f,) = sorted((root / f"mms{probe}" / instrument / rate).rglob("*.cdf"))[:1]
    return root, f


def replace(f: Path, data: bytes):
    "Write new bytes in place of a hard link (the shared original is untouched)."
    f.unlink()
    f.write_bytes(data)


def cli(tmp_path, *argv, data=None, outdir=None):
    "Run `mms-mp analyze` in process: (exit code, what it printed on stderr)."
    import contextlib
    import io
    err = io.StringIO()
    extra = ["--data-dir", str(data)] if data else []
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["analyze", *argv, *extra, "--outdir", str(outdir or tmp_path / "out"), "--quiet"])
    text = err.getvalue()
    assert "Traceback" not in text, text
    return code, text


def run(root, probes=("1", "2", "3", "4"), **kw):
    "`analyze` on a tree, warnings silenced (they are asserted elsewhere)."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze(W, list(probes), rate="srvy", source="local", data_dir=root, **kw)


# ---------------------------------------------------------------------------------------------- arguments
BAD_ARGS = {
    "end before start": (["--start", W[1], "--end", W[0]], "not before end"),
    "empty window": (["--start", W[0], "--end", W[0]], "not before end"),
    "impossible date": (["--start", "2019-13-45T00:00", "--end", W[1]], "2019-13-45"),
    "not a time": (["--start", "yesterday", "--end", W[1]], "yesterday"),
    "probe 5": (["--start", *W[:1], "--end", W[1], "--probes", "5"], "is not an MMS probe"),
    "probe mms7": (["--start", *W[:1], "--end", W[1], "--probes", "mms7"], "is not an MMS probe"),
    "rate slow": (["--start", W[0], "--end", W[1], "--rate", "slow"], "slow"),   # fast/burst are pySPEDAS words: read
    "source cdaweb": (["--start", W[0], "--end", W[1], "--source", "cdaweb"], "cdaweb"),
    "missing config": (["--config", "/nonexistent/event.toml"], "does not exist"),
}


@pytest.mark.parametrize("case", list(BAD_ARGS))
def test_bad_arguments_exit_2(case, tmp_path):
    argv, msg = BAD_ARGS[case]
    code, line = cli(tmp_path, *argv)
    assert code == 2 and msg in line, (code, line)
    assert not (tmp_path / "out").exists(), "nothing is written for a usage error"


def test_outdir_that_is_a_file_exit_2(sim, tmp_path):
    (tmp_path / "f").write_text("keep me")
    code, line = cli(tmp_path, *ARGS, data=sim, outdir=tmp_path / "f")
    assert code == 2 and "is a file" in line and (tmp_path / "f").read_text() == "keep me"


def test_outdir_under_proc_exit_2(sim, tmp_path):
    code, line = cli(tmp_path, *ARGS, data=sim, outdir="/proc/mms_mp_out")
    assert code == 2, line


def test_outdir_holding_foreign_files_is_refused_and_kept(sim, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    code, line = cli(tmp_path, *ARGS, data=sim, outdir=out)
    assert code == 2 and "no manifest.json" in line and (out / "thesis.tex").read_text() == "years of work"


# ---------------------------------------------------------------------------------------------- configuration
BAD_CONFIG = {
    "unknown key": ('colour = "red"\n', "unknown key(s) ['colour']"),
    "unknown parameter": ('[lmn]\nratio_mn = 5\n', "[lmn] has unknown parameter(s) ['ratio_mn']"),
    "section not a table": ('lmn = 5\n', "[lmn] must be a table"),
    "dwell as text": ('[detector]\nmin_dwell_s = "abc"\n', "[detector] min_dwell_s = 'abc': expected int or float"),
    "ratio as text": ('[lmn]\nratio_min = "five"\n', "[lmn] ratio_min = 'five': expected int or float"),
    "negative lambda": ('[smoothing]\nlam = -1\n', "[smoothing] lam = -1: expected a number > 0"),
    "negative sigma": ('[timing]\nnormal_sigma_deg = -1\n', "normal_sigma_deg = -1: expected a number ≥ 0"),
    "fraction over 1": ('[timing]\nresolve_frac = 1.5\n', "resolve_frac = 1.5: expected a number ≥ 0 and ≤ 1"),
    "nan": ('[lmn]\nratio_min = nan\n', "expected a finite number"),
    "infinite": ('[normals]\nplateau_deg = inf\n', "plateau_deg = inf"),
    "bool for number": ('[vn]\nscatter_window = true\n', "scatter_window = True: expected int"),
    "unknown word": ('[displacement]\nscheme = "euler"\n', "expected one of ['trap', 'simpson']"),
    "order 7": ('[smoothing]\norder = 7\n', "expected one of [0, 1, 2, 3]"),
    "start = 123": ('start = 123\nend = "2019-01-27T12:34"\n', "start = 123 has type int"),
    "plot = yes": ('plot = "yes"\n', "plot = 'yes' has type str; expected bool"),
    "p_enter below p_exit": ('[detector]\np_enter = 0.2\n', "p_enter"),
    "not TOML": ('[lmn\nratio_min = 5\n', "not valid TOML"),
    "negative dwell": ('[detector]\nmin_dwell_s = -3\n', "[detector] min_dwell_s = -3: expected a number > 0 and ≤ 3600"),
    "pipeline's own argument": ('[timing]\noutward_hint = [1, 0, 0]\n', "[timing] has unknown parameter(s)"),
}


@pytest.mark.parametrize("case", list(BAD_CONFIG))
def test_bad_config_exit_2_naming_the_key(case, sim, tmp_path):
    text, msg = BAD_CONFIG[case]
    cfg = tmp_path / "event.toml"
    cfg.write_text(text)
    code, line = cli(tmp_path, *ARGS, "--config", str(cfg), data=sim)
    assert code == 2 and msg in line, (code, line)
    assert not (tmp_path / "out").exists()


API_BAD = {
    "ratio as text": ({"lmn": {"ratio_min": "five"}}, "[lmn] ratio_min = 'five': expected int or float"),
    "negative lambda": ({"smoothing": {"lam": -1}}, "[smoothing] lam = -1: expected a number > 0"),
    "integer count as float": ({"timing": {"n_mc": 1.5}}, "[timing] n_mc = 1.5: expected int"),
    "zero windows": ({"normals": {"min_windows": 0}}, "[normals] min_windows = 0: expected a number ≥ 1"),
    "model as number": ({"lmn": {"model": 1997}}, "expected one of ['1997', '1998']"),
    "p_enter over 1": ({"detector": {"p_enter": 2}}, "[detector] need 0 < p_exit < 0.5 < p_enter < 1"),
}


@pytest.mark.parametrize("case", list(API_BAD))
def test_bad_api_config_is_an_input_error(case, sim):
    "The same checks on `analyze(config=...)`: an InputError naming [section] key = value and what is allowed."
    from mms_mp.core import InputError
    cfg, msg = API_BAD[case]
    with pytest.raises(InputError) as e:
        run(sim, ("1",), config=cfg)
    assert msg in str(e.value), str(e.value)


@pytest.mark.parametrize("trange", [(123, W[1]), (W[0], 1.5e18)])
def test_a_number_for_a_time_is_refused(sim, trange):
    "A bare number is not read as a time since 1970 (which would be a 49-year window)."
    from mms_mp.core import InputError
    with pytest.raises(InputError, match="is a number, not a time"):
        analyze(trange, ["1"], rate="srvy", source="local", data_dir=sim)


# ---------------------------------------------------------------------------------------------- files
def _dropped_probe_1(sim, tmp_path, data: bytes, why: str):
    root, f = broken(sim, tmp_path)
    replace(f, data)
    res = run(root)
    assert res.probes == ["2", "3", "4"] and why in res.dropped["1"], res.dropped
    assert f.name in res.dropped["1"]
    assert "MMS1 not analysed: " in res.status["load"].reason
    doc = res.to_json()
    assert doc["probes_dropped"]["1"] == res.dropped["1"] and doc["timing"] is not None   # 3 probes still time
    return res


def test_zero_byte_fgm_file(sim, tmp_path):
    _dropped_probe_1(sim, tmp_path, b"", "")


def test_truncated_fgm_file(sim, tmp_path):
    f = sorted((sim / "mms1/fgm/srvy").rglob("*.cdf"))[0]
    _dropped_probe_1(sim, tmp_path, f.read_bytes()[: f.stat().st_size // 2], "corrupt or truncated")


def test_random_bytes_fgm_file(sim, tmp_path):
    _dropped_probe_1(sim, tmp_path, np.random.default_rng(0).bytes(200_000), "")


def _rewritten(sim, tmp_path, edit=None, dims=None, globals_=None):
    "Probe 1's survey FGM file rewritten by the CDF copier of test_real_files; returns (tree, file)."
    from test_real_files import copy_cdf
    root, f = broken(sim, tmp_path)
    src = tmp_path / "orig.cdf"
    shutil.copy(f, src)
    f.unlink()
    copy_cdf(src, f, edit, dims=dims, globals_=globals_)
    return root, f


def test_fgm_file_of_another_probe_is_refused(sim, tmp_path):
    "MMS2's data under MMS1's name (its Source_name says MMS2): not read as MMS1, and the reason says why."
    src = sorted((sim / "mms1/fgm/srvy").rglob("*.cdf"))[0]
    ga = cdflib.CDF(str(src)).globalattsget()
    ga["Source_name"] = ["MMS2>MMS Satellite Number 2"]
    root, f = _rewritten(sim, tmp_path, globals_=ga)
    res = run(root)
    assert "1" in res.dropped and "is not MMS1" in res.dropped["1"], res.dropped


def test_fgm_variable_of_the_wrong_shape_is_refused(sim, tmp_path):
    "B with 3 columns where L2 has (x, y, z, |B|): the product is dropped with the variable named, no IndexError."
    def edit(rec):
        k = _bvar(rec)
        rec[k] = np.ascontiguousarray(rec[k][:, :3])
    src = sorted((sim / "mms1/fgm/srvy").rglob("*.cdf"))[0]
    k = next(v for v in cdflib.CDF(str(src)).cdf_info().zVariables if v.endswith("_b_gse_srvy_l2"))
    root, f = _rewritten(sim, tmp_path, edit, dims={k: [3]})
    res = run(root)
    assert "1" in res.dropped and k in res.dropped["1"] and "expected (N, 4)" in res.dropped["1"]


def test_fgm_file_without_its_field_is_refused(sim, tmp_path):
    "An FGM file whose B variables are all fill: probe 1 is dropped with the reason; the others run."
    def edit(rec):
        for k in [k for k in rec if "_b_" in k and k.endswith("_srvy_l2")]: rec[k][:] = -1e31
    root, f = _rewritten(sim, tmp_path, edit)
    res = run(root)
    assert np.isnan(res.event["1"]["B_gse"].values).all()
    assert res.probes == ["2", "3", "4"] and "are fill, NaN or outside VALIDMIN/VALIDMAX" in res.dropped["1"]
    assert set(res.lmn) == {"2", "3", "4"} and res.timing is not None     # the other three still time


def test_dropped_probe_is_named_in_the_summary_and_the_json(sim, tmp_path, capsys):
    "CLI, MMS1's FGM file truncated to nothing: exit 0 for three probes, MMS1 and its reason printed and written."
    root, f = broken(sim, tmp_path)
    replace(f, b"")
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["analyze", *ARGS, "--data-dir", str(root), "--outdir", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "probes 2 3 4" in text and "MMS1 not analysed: " in text and f.name in text, text
    tl = next(ln for ln in text.splitlines() if ln.startswith("timing, "))   # n̂ with its frame and σ
    assert re.search(r"n = \([^)]*\) GSE ± [0-9.]+°, V = -?[0-9.]+ ± [0-9.]+ km/s", tl), tl
    doc = json.loads((out / "mp_analysis.json").read_text())
    assert f.name in doc["probes_dropped"]["1"] and doc["probes"] == ["2", "3", "4"]


def test_every_fgm_file_unreadable_density_only(sim, tmp_path):
    "No probe has B, every probe has FPI: a density-only run (tests/test_density_only.py), degraded: 6 with --strict."
    root = tmp_path / "tree"
    shutil.copytree(sim, root, copy_function=os.link)
    for f in root.rglob("*fgm*srvy*.cdf"): replace(f, b"")
    code, text = cli(tmp_path, *ARGS, "--strict", data=root)
    assert code == 6 and "MMS1: no magnetic field: density-only crossings" in text and "corrupt or truncated" in text


def test_every_fgm_and_fpi_file_unreadable_exit_3(sim, tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(sim, root, copy_function=os.link)
    for f in [*root.rglob("*fgm*srvy*.cdf"), *root.rglob("*fpi*fast*.cdf")]: replace(f, b"")
    code, line = cli(tmp_path, *ARGS, data=root)
    assert code == 3 and "no FGM magnetic field and no FPI ion density" in line and "MMS1: " in line, line
    assert "corrupt or truncated" in line


def test_empty_data_dir_exit_3(tmp_path):
    (tmp_path / "empty").mkdir()
    code, line = cli(tmp_path, *ARGS, data=tmp_path / "empty")
    assert code == 3 and "no usable MMS data" in line and "mms1" in line


def test_window_outside_the_files_exit_3(sim, tmp_path):
    code, line = cli(tmp_path, "--start", "2019-01-28T12:00", "--end", "2019-01-28T12:10", "--rate", "srvy",
                     "--source", "local", data=sim)
    assert code == 3


def test_two_versions_of_one_file_newest_wins(sim, tmp_path):
    root, f = broken(sim, tmp_path)
    older = f.with_name(f.name.replace("v5.177.0", "v5.100.0"))
    shutil.copy(f, older)
    res = run(root, ("1",))
    names = [p["name"] for p in res.event.provenance]
    assert f.name in names and older.name not in names


def test_file_of_another_day_is_not_read(sim, tmp_path):
    root, f = broken(sim, tmp_path)
    other = f.with_name(f.name.replace("20190127", "20190128"))
    shutil.copy(f, other)
    res = run(root, ("1",))
    assert other.name not in [p["name"] for p in res.event.provenance]


def test_missing_plasma_gives_skipped_stages_with_reasons(sim, tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(sim, root, copy_function=os.link)
    for p in "1234":
        for inst in ("fpi", "hpca", "edp"): shutil.rmtree(root / f"mms{p}" / inst)
    res = run(root)
    assert res.status["vn"].status == "skipped" and res.status["vn"].reason
    assert res.status["detect"].status == "ok" and res.crossings                 # B alone still detects


def test_missing_mec_positions_from_fgm_or_reason(sim, tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(sim, root, copy_function=os.link)
    for p in "1234": shutil.rmtree(root / f"mms{p}" / "mec")
    res = run(root)
    assert res.status["load"].status == "ok"
    assert res.status["timing"].status in ("ok", "skipped", "failed") and (
        res.status["timing"].status == "ok" or res.status["timing"].reason)


# ---------------------------------------------------------------------------------------------- values
def _edit_fgm(sim, tmp_path, edit):
    "Probe 1's survey FGM file rewritten with `edit(records)` (mms_mp's own CDF copier of test_real_files)."
    from test_real_files import copy_cdf
    root, f = broken(sim, tmp_path)
    src = tmp_path / "orig.cdf"
    shutil.copy(f, src)
    f.unlink()
    copy_cdf(src, f, edit)
    return root


def _bvar(rec):
    return next(k for k in rec if k.endswith("_b_gse_srvy_l2"))


def _dropped_fgm_1(root, f, why: str):
    "MMS1 dropped from a full run of `root` with `why` (and the file's name) in its reason, in JSON and status."
    res = run(root)
    assert res.probes == ["2", "3", "4"] and why in res.dropped["1"] and f.name in res.dropped["1"], res.dropped
    assert res.to_json()["probes_dropped"]["1"] == res.dropped["1"] and "MMS1 not analysed: " in (
        res.status["load"].reason)


def test_fgm_file_of_another_probe_is_dropped(sim, tmp_path):
    "MMS2's FGM file under MMS1's name (its own Source_name says MMS2): MMS1 is dropped, never timed as MMS1."
    root, f = broken(sim, tmp_path)
    (f2,) = sorted((root / "mms2/fgm/srvy").rglob("*.cdf"))[:1]
    f.unlink()
    shutil.copy(f2, f)
    _dropped_fgm_1(root, f, "is not MMS1")


def test_fgm_file_without_its_field_variable_is_dropped(sim, tmp_path, monkeypatch):
    "An FGM file with no B_gse variable at all: MMS1 is dropped with a reason, the others are analysed."
    from test_real_files import copy_cdf
    root, f = broken(sim, tmp_path)
    src = tmp_path / "orig.cdf"
    shutil.copy(f, src)
    info = cdflib.CDF.cdf_info

    def without_b(self):                                   # the copier sees no B_gse variable
        i = info(self)
        i.zVariables = [v for v in i.zVariables if "_b_gse_" not in v]
        return i
    monkeypatch.setattr(cdflib.CDF, "cdf_info", without_b)
    f.unlink()
    copy_cdf(src, f)
    monkeypatch.undo()
    assert not [v for v in cdflib.CDF(str(f)).cdf_info().zVariables if "_b_gse_" in v]
    _dropped_fgm_1(root, f, "hold no B_gse field")


def test_fill_values_become_nan_and_are_counted(sim, tmp_path):
    def edit(rec): rec[_bvar(rec)][5000:5100] = -1e31
    res = run(_edit_fgm(sim, tmp_path, edit), ("1",))
    B = res.event["1"]["B_gse"].values
    assert np.isnan(B).any(axis=1).sum() >= 100 and np.isfinite(B).any()


def test_out_of_range_values_are_screened(sim, tmp_path):
    "A 10 s stretch of |B| = 1e6 nT: removed by VALIDMIN/VALIDMAX, the normal stays close to the truth's."
    def edit(rec): rec[_bvar(rec)][8000:8160] = 1e6
    res = run(_edit_fgm(sim, tmp_path, edit), ("1",))
    assert np.nanmax(np.abs(res.event["1"]["B_gse"].values)) < 1e5
    truth = json.loads((sim / "truth.json").read_text())
    n = np.array(truth["N"]["value"])
    assert np.degrees(np.arccos(abs(res.lmn["1"].N @ n))) < 10


def test_spikes_are_removed_and_counted(sim, tmp_path):
    def edit(rec):
        b = rec[_bvar(rec)]
        b[np.arange(1000, 9000, 400), 1] += 400.0
    res = run(_edit_fgm(sim, tmp_path, edit), ("1",))
    assert res.quality["1"]["B_gse"]["why: spike"] == 20


def test_offset_block_inside_a_layer_is_removed_and_the_normals_stay_true(sim, tmp_path):
    "10 s of MMS1 B shifted by +300 nT (within VALIDMAX) across its first crossing: the spike test removes the block."
    def edit(rec):
        t = cdflib.cdfepoch.to_datetime(rec["Epoch"])
        at = (t >= np.datetime64("2019-01-27T12:24:50")) & (t < np.datetime64("2019-01-27T12:25:00"))
        b = rec[_bvar(rec)]
        b[at, 0] += 300.0
        b[at, 3] = np.linalg.norm(b[at, :3], axis=1)
    res = run(_edit_fgm(sim, tmp_path, edit))
    assert res.quality["1"]["B_gse"]["why: offset block"] == 160           # 10 s of 16 S/s, every sample
    assert all("why: offset block" not in res.quality[p]["B_gse"] for p in "234")
    assert res.to_json()["provenance"]["quality"]["1"]["B_gse"]["why: offset block"] == 160   # reported in the JSON
    n = np.array(json.loads((sim / "truth.json").read_text())["N"]["value"])
    off = lambda v: np.degrees(np.arccos(min(1.0, abs(np.asarray(v) @ n))))
    assert off(res.lmn["1"].N) < 2 and all(off(res.normal_of(c).n_hat) < 2 for c in res.crossings)
    assert off(res.timing.n_hat) < 2                  # unscreened, MMS1's normal is ≈ 66° off


def test_constant_field_has_no_normal_and_says_so(sim, tmp_path):
    "B constant (no minimum-variance direction): the LMN falls back to the model, crossing normals are flagged."
    def edit(rec):
        b = rec[_bvar(rec)]
        b[:] = np.array([10.0, -3.0, 4.0, np.sqrt(125.0)], dtype=b.dtype)
    res = run(_edit_fgm(sim, tmp_path, edit), ("1",))
    assert res.status["lmn"].status == "ok" and res.lmn["1"].method != "MVA", res.lmn["1"].method
    for c in res.crossings:          # the density contrast still finds crossings; their normals fall back
        n = res.normal_of(c)
        assert n.method.startswith("fallback") and "no_stable_normal" in res.flags_of(c)


MVA_FLAT = {
    "constant": np.tile([10.0, -3.0, 4.0], (500, 1)),
    "one axis": np.column_stack([np.linspace(-20, 20, 500), np.full(500, 3.0), np.full(500, 5.0)]),
    "reversal through zero along one axis": np.column_stack([np.linspace(-20, 20, 500), np.zeros(500), np.zeros(500)]),
}


@pytest.mark.parametrize("case", list(MVA_FLAT))
def test_mva_without_a_minimum_variance_direction_refuses(case):
    "λ2 ≈ λ3 (a constant field, or one varying along one axis): a GeometryError, never an arbitrary axis."
    from mms_mp.minvar import mva
    from mms_mp.core import GeometryError
    with pytest.raises(GeometryError, match="no minimum-variance direction"):
        mva(MVA_FLAT[case])


def test_mva_of_noise_alone_reports_its_own_uncertainty():
    "Isotropic noise about a constant field: an answer, but with error angles that say it is not a normal."
    from mms_mp.minvar import mva
    r = mva(np.array([10.0, -3.0, 4.0]) + np.random.default_rng(0).normal(0, 0.1, (500, 3)))
    assert r.dphi23_deg > 10 and r.eigenvalues[1] / r.eigenvalues[2] < 1.5


@pytest.mark.parametrize("shift_ns", [300_000_000_000, 300_030_000_000])
def test_clock_jump_block_is_dropped_not_resorted(sim, tmp_path, shift_ns):
    "40 s of FGM records stamped 5 min earlier (on or between the good time tags): dropped and counted."
    def edit(rec): rec["Epoch"][6000:6640] -= shift_ns
    res = run(_edit_fgm(sim, tmp_path, edit), ("1",))
    tc = next(x["time_clean"] for x in res.event.loaded if x["instrument"] == "fgm")
    assert tc["backward"] == 1 and tc.get("dropped", 0) + tc["duplicates"] >= 640, tc
    (rep,) = [x for x in res.to_json()["provenance"]["time_order"] if x["instrument"] == "fgm"]
    assert rep["backward"] == 1 and rep.get("dropped", 0) + rep["duplicates"] >= 640   # reported in the JSON
    t = res.event["1"]["B_gse"].time.values
    assert np.all(np.diff(t) > np.timedelta64(0))
    good = run(sim, ("1",)).event["1"]["B_gse"]          # every kept sample is the clean file's
    np.testing.assert_array_equal(res.event["1"]["B_gse"].values, good.sel(time=t).values)


def test_duplicate_records_are_dropped_and_counted(sim, tmp_path):
    def edit(rec): rec["Epoch"][3001:3011] = rec["Epoch"][3000]
    res = run(_edit_fgm(sim, tmp_path, edit), ("1",))
    tc = next(x["time_clean"] for x in res.event.loaded if x["instrument"] == "fgm")
    assert tc["duplicates"] >= 10
    assert np.all(np.diff(res.event["1"]["B_gse"].time.values) > np.timedelta64(0))


def _across_first_crossing(rec):
    "Rows of MMS1's FGM records in 12:24:40–12:25:20, across its first crossing (truth 12:24:59.7)."
    t = cdflib.cdfepoch.to_datetime(rec["Epoch"])
    return (t >= np.datetime64("2019-01-27T12:24:40")) & (t < np.datetime64("2019-01-27T12:25:20"))


def _first_crossing_flagged(sim, res):
    "MMS1's first crossing is flagged as across a gap, and its σ_t covers the 40 s missing."
    truth = np.datetime64(json.loads((sim / "truth.json").read_text())["crossings"][0]["time"].rstrip("Z"), "ns")
    (c,) = [c for c in res.crossings if abs(c.time - truth) < np.timedelta64(30, "s")]
    assert "gap_across_crossing" in res.flags_of(c) and c.sigma_t_s > 5                    # 40 s / √12 ≈ 11.5 s
    assert abs((c.time - truth) / np.timedelta64(1, "s")) < 2 * c.sigma_t_s


def test_gap_over_a_crossing_is_flagged(sim, tmp_path):
    "40 s of MMS1 FGM records missing across its first crossing: flagged, with a σ_t that covers the gap."
    def edit(rec):
        keep = ~_across_first_crossing(rec)
        for k in list(rec): rec[k] = rec[k][keep]
    _first_crossing_flagged(sim, run(_edit_fgm(sim, tmp_path, edit), ("1",)))


def test_fill_over_a_crossing_is_a_gap_and_flagged(sim, tmp_path):
    "The same 40 s present but NaN (as fill or screened values become): a gap, flagged the same way."
    def edit(rec): rec[_bvar(rec)][_across_first_crossing(rec)] = np.nan
    _first_crossing_flagged(sim, run(_edit_fgm(sim, tmp_path, edit), ("1",)))


def test_all_nan_field_drops_the_probe_with_a_reason(sim, tmp_path):
    "Every B sample of MMS1 NaN: MMS1 is dropped (not kept as a probe that silently produces nothing)."
    def edit(rec): rec[_bvar(rec)][:] = np.nan
    root = _edit_fgm(sim, tmp_path, edit)
    (f,) = sorted((root / "mms1/fgm/srvy").rglob("*.cdf"))
    _dropped_fgm_1(root, f, "are fill, NaN or outside VALIDMIN/VALIDMAX")


# ---------------------------------------------------------------------------------------------- formations
@pytest.mark.parametrize("probes", [("1",), ("1", "2"), ("1", "2", "3"), ("1", "2", "3", "4")])
def test_one_to_four_probes(sim, probes):
    res = run(sim, probes)
    assert res.probes == list(probes) and res.crossings
    if len(probes) == 1:
        assert res.status["timing"].status == "skipped" and "needs at least 2 probes" in res.status["timing"].reason
    else:
        assert res.status["timing"].status == "ok" and res.timing is not None
        assert np.isfinite(res.timing.sigma_V_km_s) and res.timing.sigma_V_km_s > 0


T0 = np.datetime64("2019-01-27T12:30:00", "ns")


def _timing(positions, n_true=np.array([1.0, 0.0, 0.0]), V=20.0, **kw):
    "Exact delays of a planar boundary for these positions, then `timing_normal`."
    times = {p: T0 + np.timedelta64(int(1e9 * (r @ n_true) / V), "ns") for p, r in positions.items()}
    return timing_normal({p: np.asarray(r, float) for p, r in positions.items()}, times, frame="GSE",
                         sigma_t_s=0.05, **kw)


@pytest.mark.parametrize("axis", ["x", "xy", "xz", "xyz"])
def test_collinear_formation_is_flagged_degenerate(axis):
    "Four probes on a line (along N, and oblique to it): flagged degenerate, never a confident 3-D normal."
    d = {"x": [1, 0, 0], "xy": [1, 1, 0], "xz": [1, 0, 2], "xyz": [1, 1, 1]}[axis]
    u = np.array(d, float) / np.linalg.norm(d)
    pos = {str(k + 1): 20.0 * k * u for k in range(4)}
    r = _timing(pos, normal=np.array([1.0, 0.0, 0.0]), normal_frame="GSE")
    assert r.degenerate and r.geometry.label == "string" and r.method.startswith(("constrained", "string"))


def test_coincident_probes_are_refused_or_flagged():
    pos = {str(k + 1): np.zeros(3) + 1e-6 * k for k in range(4)}
    try:
        r = _timing(pos)
    except Exception as e:      # a clear error class, never a bare crash
        assert type(e).__module__.startswith("mms_mp"), e
    else:
        assert r.degenerate


@pytest.mark.parametrize("axis", ["y", "z", "yz"])
def test_line_across_the_normal_is_a_clear_error(axis):
    "A string perpendicular to N sees the boundary everywhere at once: zero delays, a GeometryError that says so."
    from mms_mp.core import GeometryError
    d = {"y": [0, 1, 0], "z": [0, 0, 1], "yz": [0, 1, 1]}[axis]
    u = np.array(d, float) / np.linalg.norm(d)
    with pytest.raises(GeometryError, match="crossing times are identical"):
        _timing({str(k + 1): 20.0 * k * u for k in range(4)})


def test_planar_formation_is_flagged():
    pos = {"1": np.zeros(3), "2": np.array([20.0, 0, 0]), "3": np.array([0.0, 20, 0]), "4": np.array([20.0, 20, 0])}
    r = _timing(pos, normal=np.array([1.0, 0.0, 0.0]), normal_frame="GSE")
    assert r.degenerate


def test_tetrahedron_recovers_the_boundary():
    pos = {"1": np.zeros(3), "2": np.array([20.0, 0, 0]), "3": np.array([0.0, 20, 0]), "4": np.array([0.0, 0, 20])}
    r = _timing(pos)
    assert not r.degenerate and abs(abs(r.n_hat[0]) - 1) < 1e-3 and abs(abs(r.V_km_s) - 20.0) < 0.5


# ---------------------------------------------------------------------------------------------- process
def _child(out: Path, data: Path) -> subprocess.Popen:
    # SIGINT as in a terminal: a shell without job control starts background jobs with SIGINT ignored, and a
    # child inherits that, so a test run launched with `&` would see Ctrl-C do nothing
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from mms_mp.cli import main; sys.exit(main(['analyze', '--start', %r, '--end', %r, "
            "'--rate', 'srvy', '--source', 'local', '--data-dir', %r, '--outdir', %r, '--plot', '--quiet']))"
            % (W[0], W[1], str(data), str(out)))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture
def good_set(sim, tmp_path):
    "An output folder holding one complete earlier run (with its manifest)."
    out = tmp_path / "out"
    assert cli(tmp_path, *ARGS, "--probes", "1", "2", data=sim, outdir=out)[0] == 0
    return out, json.loads((out / "manifest.json").read_text())


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_run_keeps_the_earlier_set(sim, good_set, sig):
    "A signal while the new set is being written: the earlier complete set is what the folder holds."
    out, manifest = good_set
    p = _child(out, sim)
    deadline = time.time() + 120
    while not _staging_of(out) and p.poll() is None and time.time() < deadline: time.sleep(0.02)
    assert _staging_of(out), "the run never started writing"
    p.send_signal(sig)
    p.wait(timeout=120)
    assert p.returncode != 0
    assert json.loads((out / "manifest.json").read_text()) == manifest and not check_set(out)
    assert not _staging_of(out), "the staging folder is removed"


def _staging_of(out: Path) -> list:
    "Staging folders of `out` (a run holds its lock while one exists)."
    return list(out.parent.glob(f".{out.name}.staging-*"))


def test_a_second_concurrent_run_is_refused(sim, good_set, tmp_path):
    "While one run writes the folder (its staging folder exists), a second is refused with exit 2."
    out, _ = good_set
    p = _child(out, sim)
    try:
        deadline = time.time() + 120
        while not _staging_of(out) and p.poll() is None and time.time() < deadline: time.sleep(0.02)
        assert _staging_of(out), "the first run never started writing"
        code, text = cli(tmp_path, *ARGS, data=sim, outdir=out)
        assert code == 2 and "being written by another mms_mp run" in text, (code, text)
    finally:
        p.wait(timeout=180)
    assert p.returncode == 0 and not check_set(out) and not _staging_of(out)


def test_a_rerun_replaces_the_set_without_stale_files(sim, good_set, tmp_path):
    out, first = good_set
    assert cli(tmp_path, *ARGS, "--probes", "1", data=sim, outdir=out)[0] == 0
    assert not check_set(out)
    files = {f["path"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert not any("_2." in f for f in files), "nothing of the 2-probe run is left"


