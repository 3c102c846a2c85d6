"""report.html, parsed offline: this run's figures only, overview first, numbers rounded to their σ,
no warnings, the data source in the summary card; for the simulated demo and REAL runs: FGM only, FPI ion moments
only (density-only), and FGM with no crossing."""
import html
import json
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


def test_card_states_the_timing_normals_sigma_and_frame(sim_run):
    """The card gave the timing n̂ rounded to its σ but never the σ itself, while each event normal says
    '(σ … deg)': a reader could not tell 0.91 ± 0.01 from 0.91 ± 0.1. It now says the frame and σ (deg)."""
    from mms_mp.core import sig2
    from mms_mp.outputs import vec_to_sigma
    out, res = sim_run
    t = json.loads((out / "mp_analysis.json").read_text())["timing"]
    card = " ".join(Page((out / "report.html").read_text()).card)
    said = f"timing n̂ {vec_to_sigma(t['n_hat'], t['sigma_n_deg'])} ({t['frame']}, σ {sig2(t['sigma_n_deg'], 'deg')})"
    assert said in card, card


def test_every_figure_has_alternative_text(sim_run):
    """report.html's figures had no alt text: a reader who cannot see them got nothing. Each now says what it shows
    (its caption, with the probe and SIMULATED where they apply), as the event report's figures do."""
    out, res = sim_run
    page = check_page(out, res)
    alt = dict(zip(page.imgs, page.alts))
    assert len(alt) >= 6 and all(alt.values()), alt
    assert alt["figures/overview.png"] == ("SIMULATED — All probes: |B|, B (GSE), ion density, electron density, "
                                           "He⁺ density and ion velocity (GSE).")
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
    # no V_N (FGM only): each crossing's V_N cell says n/a, as the thickness table does, and the note says why
    vn = crossing_cells(text, "V_N (own normal)")
    assert len(vn) == len(res.crossings) > 0 and set(vn) == {"n/a"}, vn
    why = res.status["crossing_vn"].reason
    assert f"<p><i>V_N (own normal) n/a: {html.escape(why)}</i></p>" in text


def crossing_cells(text: str, col: str) -> list:
    "The cells of one column of every per-probe crossings table of a report page."
    out = []
    for table in re.findall(r"<h4>Crossings</h4><table>(.*?)</table>", text):
        rows = [Page(f"<table>{r}</table>") for r in re.findall(r"<tr>(.*?)</tr>", table)]
        head = re.findall(r"<th>(.*?)</th>", table)
        out += [r.cells[head.index(html.escape(col))] for r in rows if r.cells]
    return out


def test_real_density_only_report(tmp_path):
    """REAL MMS1 FPI ion moments alone (2015-10-16, one file): the card said 'REAL data, 1 files' and the overview's
    caption named |B| and B (GSE), which this figure does not draw. One file is '1 file', the caption names only
    the panels drawn, and the crossing's V_N cell says n/a and why."""
    import matplotlib.pyplot as plt
    from mms_mp.outputs import data_source_md, figure_jobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(("2015-10-16T13:05:24", "2015-10-16T13:07:43"), ["1"], rate="brst", source="local",
                      data_dir=REAL, outdir=tmp_path, plot=True)
    page, text = check_page(tmp_path, res), (tmp_path / "report.html").read_text()
    doc = json.loads((tmp_path / "mp_analysis.json").read_text())
    assert doc["density_only"] and len(res.event.provenance) == 1
    card = " ".join(page.card)
    assert "REAL data, 1 file" in card
    assert "1 files" not in text and "1 crossing, 0 with a local normal" in card
    assert "MMS measurements: 1 file (`" in data_source_md(doc)
    fig = dict(figure_jobs(res))["overview"]()
    labels = [a.get_ylabel().split("\n")[0] for a in fig.axes]
    plt.close(fig)
    assert labels == ["N (cm⁻³)", "Vi GSE (km/s)"], labels   # the panels drawn: no B
    alt = dict(zip(page.imgs, page.alts))["figures/overview.png"]
    assert alt == "All probes: ion density and ion velocity (GSE).", alt
    assert f"<figcaption>{html.escape(alt)}</figcaption>" in text
    assert crossing_cells(text, "V_N (own normal)") == ["n/a"]
    assert "<p><i>V_N (own normal) n/a: " in text


def test_real_no_crossing_lmn_table_counts(tmp_path):
    """REAL MMS1 FGM (2019-11-30) with no crossing: the LMN table left n_local and n_fallback empty. With no
    crossing there are no crossing normals: 0 of each."""
    from mms_mp.outputs import section_html
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = analyze(("2019-11-30T09:11:53", "2019-11-30T09:16:53"), ["1"], rate="brst", source="local",
                      data_dir=REAL, outdir=tmp_path, plot=False)
    assert len(res.crossings) == 0
    doc = json.loads((tmp_path / "mp_analysis.json").read_text())
    lmn = section_html(doc, "lmn")
    head = re.findall(r"<th>(.*?)</th>", lmn)
    (row,) = [Page(f"<table>{r}</table>").cells for r in re.findall(r"<tr>(.*?)</tr>", lmn)[1:]]
    got = dict(zip(head, row))
    assert (got["n_local"], got["n_fallback"]) == ("0", "0"), got
    assert (got["spread median (deg)"], got["spread max (deg)"]) == ("n/a", "n/a")


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
