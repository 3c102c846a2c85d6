"""report.html, parsed offline: this run's figures only, overview first, numbers rounded to their σ,
no warnings, the data source in the summary card; for the simulated demo and an FGM-only real run."""
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest
from mms_mp.outset import utc_now, write_manifest

from mms_mp.pipeline import analyze

REAL = Path(__file__).parent / "fixtures" / "real"
KH = ("2015-09-02T16:58:44", "2015-09-02T17:07:04")
SIM = ("2019-01-27T12:15", "2019-01-27T12:55")


class Page(HTMLParser):
    "Image sources, the card's text, and the text of every table cell."
    def __init__(self, text):
        super().__init__()
        self.imgs, self.alts, self.cells, self.card, self._cell, self._card = [], [], [], [], None, 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img": self.imgs.append(a["src"])
        if tag == "img": self.alts.append(a.get("alt"))
        if tag == "td": self._cell = []
        if tag == "div" and a.get("class") == "card": self._card = 1

    def handle_endtag(self, tag):
        if tag == "td": self.cells.append("".join(self._cell))
        if tag == "td": self._cell = None
        if tag == "div": self._card = 0

    def handle_data(self, data):
        if self._cell is not None: self._cell.append(data)
        if self._card: self.card.append(data)


def _decimals(s): return len(s.split(".")[1]) if "." in s else 0


def check_page(out: Path, res) -> Page:
    "The checks both runs share; returns the parsed page."
    text = (out / "report.html").read_text()
    page = Page(text)
    assert "Warning" not in text and "Traceback" not in text
    assert "http://" not in text and "https://" not in text  # offline: no CDN
    for src in page.imgs:
        assert (out / src).is_file(), src
        assert src in res.files, f"{src} is not a figure of this run"
    if page.imgs: assert page.imgs[0] == "figures/overview.png"
    for c in page.cells:
        for v, s in re.findall(r"(-?[\d.]+) ± ([\d.]+)", c):
            assert _decimals(v) == _decimals(s), c
            digits = s.replace(".", "").lstrip("0") if "." in s else s.rstrip("0")
            assert len(digits) <= 2, c  # σ: one or two significant digits
    return page


@pytest.fixture(scope="module")
def sim_run(tmp_path_factory):
    from mms_mp.synthetic import demo_event_dir
    out = tmp_path_factory.mktemp("sim")
    (out / "figures").mkdir()
    (out / "figures" / "stale_from_an_old_run.png").write_bytes(b"")
    write_manifest(out, utc_now())  # an earlier run's output set, which the new run replaces whole
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(SIM, ["1", "2", "3", "4"], source="local", data_dir=demo_event_dir(),
                      outdir=out, plot=True)
    return out, res


def test_simulated_report(sim_run):
    out, res = sim_run
    page = check_page(out, res)
    assert "stale_from_an_old_run.png" not in (out / "report.html").read_text()
    assert len(page.imgs) >= 6 and any("timing" in s for s in page.imgs)
    card = " ".join(page.card)
    assert "SIMULATED" in card and "timing n̂" in card and " ± " in card and "crossings" in card
    assert any(" ± " in c for c in page.cells)


def test_every_figure_has_alternative_text(sim_run):
    """report.html's figures had no alt text: a reader who cannot see them got nothing. Each now says what it shows
    (its caption, with the probe and SIMULATED where they apply), as the event report's figures do."""
    out, res = sim_run
    page = check_page(out, res)
    alt = dict(zip(page.imgs, page.alts))
    assert len(alt) >= 6 and all(alt.values()), alt
    assert alt["figures/overview.png"] == ("SIMULATED — All probes: |B|, B (GSE) and, where loaded, densities and "
                                           "ion velocity.")
    assert alt["figures/summary_mms2.png"].startswith("SIMULATED — MMS2: B in the probe's LMN frame")
    assert alt["figures/timing.png"] == "SIMULATED — Crossing times against position along the timing normal."


def test_real_fgm_only_report(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(KH, ["1"], rate="brst", source="local", data_dir=REAL, outdir=tmp_path,
                      plot=True)
    page = check_page(tmp_path, res)
    card = " ".join(page.card)
    n = len(res.event.provenance)
    assert n > 0 and f"REAL data, {n} files" in card and "SIMULATED" not in card
    text = (tmp_path / "report.html").read_text()
    assert "(REAL data)</title>" in text and "<h1>MMS magnetopause analysis (REAL data)</h1>" in text
    for k in ("vn", "displacement", "timing", "thickness"):
        assert res.status[k].status == "skipped"
        assert f"<td>{k}</td><td>skipped</td><td>" in text
    assert "<td>detect</td><td>ok</td>" not in text  # stages that ran fine are not listed


def test_timing_figure_residuals_are_the_fits_own(sim_run):
    "The timing figure's residuals are mp_analysis.json's timing.residuals_s, not a re-fit of its own."
    import matplotlib.pyplot as plt
    from mms_mp.outputs import figure_jobs
    out, res = sim_run
    fig = dict(figure_jobs(res))["timing"]()
    own = res.timing.residuals_s
    assert fig.mms_mp_residuals_s.keys() == own.keys()
    assert all(abs(fig.mms_mp_residuals_s[p] - own[p]) < 1e-12 for p in own)
    plt.close(fig)
