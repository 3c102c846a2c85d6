"""A new user's walkthrough of the outputs, help texts and API: what `res` shows in a notebook, the JSON's units
glossary, what `--help` promises, which parameter an error names, what `help()` says. Each test failed before its fix.
REAL: MMS1 FGM burst files (tests/fixtures/real); SIMULATED: the demo event (mms_mp.synthetic).
"""
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from mms_mp.pipeline import analyze

DATA = Path(__file__).parent / "fixtures" / "real"
KH = ("2015-09-02T16:58:44", "2015-09-02T17:07:04")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    "REAL, one probe, FGM only: the event N is the Shue model's; no V_N, no timing."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze(KH, ["1"], rate="brst", source="local", data_dir=DATA,
                       outdir=tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    """SIMULATED, four probes: every stage runs (MVA normals, V_N, displacement, timing, thickness), and the
    simulator's true normal, given as a published one with each probe's first crossing time, is compared."""
    from mms_mp.simtruth import load_truth
    from mms_mp.synthetic import demo_event_dir
    d, tmp = demo_event_dir("default"), tmp_path_factory.mktemp("sim")
    truth = json.loads((d / "truth.json").read_text())
    first = {p: next(c["time"] for c in truth["crossings"] if c["probe"] == p) for p in "1234"}
    pub = tmp / "published.json"
    pub.write_text(json.dumps({"per_probe": {p: {"n_hat": truth["N"]["value"], "V_ph_km_s": 20.0, "time": t}
                                             for p, t in first.items()}}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze(load_truth(d).trange, ["1", "2", "3", "4"], source="local", data_dir=d,
                       outdir=tmp / "out", overlay_json=pub)


# ------------------------------------------------------------------------------------------ 2. repr
@pytest.mark.parametrize("which", ["real_run", "sim_run"])
def test_repr_is_short_and_says_what_was_found(which, request):
    "`res` in a notebook printed the dataclass's every field (~57,000 characters); now a few lines that inform."
    res = request.getfixturevalue(which)
    text = repr(res)
    lines = text.splitlines()
    assert len(lines) <= 12 and len(text) < 2000, text
    assert lines[0].startswith(f"AnalysisResult {KH[0] if which == 'real_run' else '2019-01-27T12:15'}")
    assert ("REAL" if which == "real_run" else "SIMULATED") in lines[0]
    assert ", ".join(f"MMS{p}" for p in res.probes) in lines[0]
    for k, s in res.status.items():   # every stage, under its status
        assert any(ln.startswith("stages:") and f"{s.label}: " in ln and k in ln for ln in lines), (k, text)
    n = {p: sum(str(c.probe) == p for c in res.crossings) for p in res.probes}
    assert all(f"MMS{p} {k} (" in text for p, k in n.items()) and sum(n.values()) > 0
    for p, l in res.lmn.items():   # each event normal with its frame and σ (2 significant digits)
        assert f"MMS{p} event N ({l.method}) = (" in text and f") GSE ± {float(f'{l.sigma_N_deg:.2g}'):g}°" in text
    if which == "real_run":   # the model's σ comes with its caveat, as everywhere else
        assert "the model's own error is not in it" in text and "timing (" not in text   # one probe: no timing
    else:
        assert "timing (" in text and "km/s" in text and "files written (.files)" in text


# ------------------------------------------------------------------------------------- 3. units glossary
UNIT_SUFFIXES = ("_km", "_s", "_deg", "_nT", "_nPa")   # a key ending so carries its unit (km_s: km/s)
SEP = "\x1f"


def _glossary_patterns(units: dict) -> list:
    """The key paths `units` explains, as regexes over a path's keys: "a.*.b, .c" is a.*.b and a.*.c; `*` stands for
    one or more keys (probes, quantities), `<word>` for any one key's text; "vectors" lists its names in brackets."""
    names = []
    for key, text in units.items():
        if key == "vectors":
            names += re.search(r"\(([^)]*)\)", text).group(1).split(", ")
            continue
        prev = ""
        for part in key.split(", "):
            prev = prev.rsplit(".", 1)[0] + part if part.startswith(".") else part
            names.append(prev)
    def rx(name):
        keys = [f"[^{SEP}]+(?:{SEP}[^{SEP}]+)*" if k == "*" else
                "".join(f"[^{SEP}]+" if w.startswith("<") else re.escape(w) for w in re.split(r"(<[^>]+>)", k))
                for k in name.replace("[]", "").split(".")]
        return re.compile(f"(?:^|{SEP})" + SEP.join(keys) + "$")
    return [rx(n) for n in names]


def _numeric_leaves(x, path=()):
    "Key paths (list positions left out) of every number in a JSON document."
    if isinstance(x, bool) or x is None or isinstance(x, str): return
    if isinstance(x, (int, float)): yield path
    elif isinstance(x, dict):
        for k, v in x.items(): yield from _numeric_leaves(v, path + (str(k),))
    else:
        for v in x: yield from _numeric_leaves(v, path)


def _unexplained(doc: dict) -> set:
    "Numbers whose key has no unit suffix and whose path (or a node above it) the `units` glossary does not name."
    pats = _glossary_patterns(doc["units"])
    out = set()
    for path in set(_numeric_leaves(doc)):
        named = [k for k in path if not k.isdigit()]   # probe ids are map keys, not names
        if named and named[-1].endswith(UNIT_SUFFIXES): continue
        if any(p.search(SEP.join(path[:i])) for i in range(1, len(path) + 1) for p in pats): continue
        out.add(".".join("*" if k.isdigit() else k for k in path))
    return out


@pytest.mark.parametrize("which", ["real_run", "sim_run"])
def test_every_number_in_the_json_has_its_unit(which, request):
    """Every number in mp_analysis.json (REAL FGM only; SIMULATED with every stage and a published normal compared)
    carries a unit suffix in its key or is explained in the document's `units` glossary, dimensionless numbers and
    counts included: `provenance.coverage[].largest_gap` (its third value is seconds) was not."""
    res = request.getfixturevalue(which)
    doc = json.loads(res.files["mp_analysis.json"].read_text())
    assert "provenance.coverage[].largest_gap" in doc["units"]
    if which == "sim_run":   # the walk below reaches these: a gap in the data, a comparison, timing
        assert any(c["largest_gap"] for c in doc["provenance"]["coverage"])
        assert doc["comparison"]["timing"] and doc["timing"]["delays"]["xcorr_check"]
    assert _unexplained(doc) == set()


def test_the_glossary_walk_finds_an_unexplained_number(sim_run):
    "The check above can fail: a number under a new key, or a glossary entry removed, is reported by its path."
    doc = json.loads(sim_run.files["mp_analysis.json"].read_text())
    doc["timing"]["new_ratio"] = 0.5
    del doc["units"]["birge"]
    assert _unexplained(doc) == {"timing.new_ratio", "timing.birge", "timing_groups.birge"}


# ------------------------------------------------------------------------------------------ 4. --help
def _help(capsys, *argv) -> str:
    "The text `mms-mp <argv> --help` prints, on one line (argparse wraps it to the terminal)."
    from mms_mp.cli import main
    assert main([*argv, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_analyze_help_names_only_the_files_every_run_writes(real_run, capsys):
    """`analyze --help` listed the V_N tables as if every run wrote them; an FGM-only run (REAL) writes four files,
    and the help names exactly those as always written, the others under their condition (V_N needs B and plasma
    or E data: a density-only run has none either)."""
    text = _help(capsys, "analyze")
    always, _, rest = text.partition("when V_N exists")
    written = {p.name for p in real_run.files["mp_analysis.json"].parent.iterdir()}
    assert written == {"mp_analysis.json", "crossings.csv", "report.html", "manifest.json"}
    assert set(real_run.files) == written   # `.files` lists every file of the set, manifest.json too
    assert all(f in always for f in written) and "it needs FGM and FPI, HPCA or EDP data" in rest
    for f in ("layer_thickness.csv", "displacement_mms<p>.csv", "normal_velocity_mms<p>.csv"):
        assert f not in always and f in rest.split(";")[0], f


def test_demo_help_says_what_it_does_and_source_its_default(capsys):
    demo = _help(capsys, "demo")
    assert "SIMULATED" in demo and "ground truth" in demo and "no network" in demo.split("options:")[0]
    for cmd in ("analyze", "report"):
        src = _help(capsys, cmd).split("--source {auto,sdc,spdf,local}")[-1].split("--data-dir")[0]
        assert "auto (default)" in src and "local never downloads" in src


# ------------------------------------------------------------------------------- 5. whose words an error uses
def test_outdir_error_names_the_parameter_as_the_caller_gave_it(tmp_path, capsys):
    "`analyze(outdir=<a file>)` told a Python caller to 'choose another --outdir'; the CLI says --outdir."
    from mms_mp.cli import main
    from mms_mp.core import InputError
    f = tmp_path / "afile"
    f.write_text("not a folder")
    with pytest.raises(InputError, match="choose another outdir") as e:
        analyze(KH, ["1"], rate="brst", source="local", data_dir=DATA, outdir=f)
    assert "--outdir" not in str(e.value)
    assert main(["analyze", "--start", KH[0], "--end", KH[1], "--probes", "1", "--rate", "brst", "--source",
                 "local", "--data-dir", str(DATA), "--outdir", str(f), "--quiet"]) == 2
    assert "choose another --outdir" in capsys.readouterr().err


@pytest.mark.parametrize("source", ["local", "auto"])
def test_no_data_error_names_data_dir_as_the_caller_gave_it(source, tmp_path, capsys, monkeypatch):
    """No files under the data folder (and, for auto, no network): Python's message names data_dir and source='sdc';
    the CLI's ended '(data_dir=/tmp/...)' and now names --data-dir (and --source sdc)."""
    import mms_mp.data
    from mms_mp.cli import main
    from mms_mp.core import NoDataError
    monkeypatch.setattr(mms_mp.data, "reachable", lambda src, *a, **k: (False, f"{src} not reachable (offline)"))
    empty = tmp_path / "data"
    empty.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NoDataError) as e:
            analyze(KH, ["1"], rate="brst", source=source, data_dir=empty)
        assert f"data_dir={empty}" in str(e.value) and "--" not in str(e.value)
        assert main(["analyze", "--start", KH[0], "--end", KH[1], "--probes", "1", "--rate", "brst", "--source",
                     source, "--data-dir", str(empty), "--outdir", str(tmp_path / "out"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert f"(--data-dir {empty})" in err and "data_dir" not in err, err
    assert ("--source sdc to download" if source == "local" else "check the network and --data-dir") in err


# ----------------------------------------------------------------------------------------------- 6. help()
@pytest.mark.parametrize("name, words", [
    ("mms_mp.pipeline.analyze", ["trange", "(UTC)", "probes", "rate", "source", "data_dir", "outdir", "config",
                                 "GSE", "km/s", "σ", "InputError", "NoDataError", "AnalysisResult", "15_pipeline",
                                 "14b_schema", "explanations/conventions"]),
    ("mms_mp.data.load_event", ["time", "UTC", "units", "frame", "NaN", "provenance", "missing", "NoDataError",
                                "03_data", "explanations/mms_files"])])
def test_help_says_what_it_does_returns_and_where_the_docs_are(name, words):
    """`help(analyze)` showed one line (the parameters are in source comments, which help() does not show);
    load_event's pointed to CONTRIBUTING.md, which a pip-installed package does not have."""
    import importlib
    import inspect
    mod, fn = name.rsplit(".", 1)
    doc = inspect.getdoc(getattr(importlib.import_module(mod), fn))
    assert 5 <= len(doc.splitlines()) <= 14 and "CONTRIBUTING" not in doc
    assert [w for w in words if w not in doc] == []


def test_no_docstring_points_to_a_file_a_pip_user_lacks():
    "CONTRIBUTING.md is not installed with the package: no public docstring may send a user there."
    import importlib
    import inspect
    import pkgutil
    import mms_mp
    bad = []
    for m in pkgutil.iter_modules(mms_mp.__path__):
        mod = importlib.import_module(f"mms_mp.{m.name}")
        for n in getattr(mod, "__all__", []):
            if "CONTRIBUTING" in (inspect.getdoc(getattr(mod, n)) or ""): bad.append(f"{m.name}.{n}")
    assert bad == []
