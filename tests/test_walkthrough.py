"""A new user's walkthrough of the outputs, help texts and API: what `res` shows in a notebook, the JSON's units
glossary, what `--help` promises, which parameter an error names, what `help()` says. Each test failed before its fix.
REAL: MMS1 FGM burst files (tests/fixtures/real); SIMULATED: the demo event (mms_mp.synthetic).
"""
import json
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
    "SIMULATED, four probes: every stage runs (MVA normals, V_N, displacement, timing, thickness)."
    from mms_mp.simtruth import load_truth
    from mms_mp.synthetic import demo_event_dir
    d = demo_event_dir("default")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze(load_truth(d).trange, ["1", "2", "3", "4"], source="local", data_dir=d,
                       outdir=tmp_path_factory.mktemp("sim"))


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
