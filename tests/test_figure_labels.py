"""What a reader of a paper figure or report needs to see on it: the timing figure states n̂ (frame) and
whether timing fitted it or was given it, and its residuals are the fit's own (mp_analysis.json);
the displacement figure's layer shading cannot be mistaken for its σ band; the report's per-probe
tables are named, and an empty one says why."""
import numpy as np

T0 = np.datetime64("2019-01-27T12:43:00", "ns")
R = {"1": np.zeros(3), "2": np.array([100.0, 0, 0]), "3": np.array([0, 100.0, 0]),
     "4": np.array([0, 0, 100.0])}


def _times(n, V, r=R):
    return {p: T0 + np.timedelta64(int(round(1e9 * (n @ x) / V)), "ns") for p, x in r.items()}


def _box(fig) -> str:
    return "\n".join(t.get_text() for t in fig.axes[0].texts)


def test_timing_figure_states_a_fitted_normal_and_its_frame():
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_timing
    from mms_mp.multispacecraft import timing_normal
    n = np.array([0.9, 0.4, 0.17]); n /= np.linalg.norm(n)
    res = timing_normal(R, _times(n, 27.0), frame="GSM")
    fig = plot_timing(_times(n, 27.0), R, res, frame="GSM")
    from mms_mp.core import sig2
    assert res.sigma_n_deg > 0   # the figure states the fitted n̂'s σ beside it
    assert f"n̂ = (+0.900, +0.400, +0.170) GSM ± {sig2(res.sigma_n_deg)}°\nfitted by timing" in _box(fig), _box(fig)
    plt.close(fig)


def test_timing_figure_says_when_the_normal_was_given_not_fitted():
    "A string formation: timing alone cannot find n̂, so it is constrained; the figure says from what."
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_timing
    from mms_mp.multispacecraft import timing_normal
    n = np.array([1.0, 0, 0])
    r = {p: np.array([x, 0.0, 0.0]) for p, x in zip("1234", (0.0, 100.0, 300.0, 700.0))}
    res = timing_normal(r, _times(n, -40.0, r), normal=n, normal_frame="GSE",
                        normal_source="MVA normals")
    assert res.constraint
    fig = plot_timing(_times(n, -40.0, r), r, res)
    box = _box(fig)
    assert "n̂ = (+1.000, +0.000, +0.000) GSE\nfrom MVA normals\n(not fitted)" in box, box
    plt.close(fig)
    fig = plot_timing(_times(n, -40.0, r), r, n, -40.0)           # a plain vector: given
    assert "GSE\ngiven (not fitted)" in _box(fig), _box(fig)
    plt.close(fig)


def test_displacement_layer_shading_is_not_the_sigma_band():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba
    from mms_mp.panels import plot_displacement
    t = T0 + (np.arange(60) * 1e9).astype("timedelta64[ns]")
    xs = [{"probe": "1", "layer_start": t[10], "layer_end": t[20], "time": t[15]}]
    fig = plot_displacement((t, np.arange(60.0)), np.ones(60), np.ones(60), probe=1, crossings=xs)
    leg = fig.axes[0].get_legend()
    h = dict(zip([x.get_text() for x in leg.get_texts()], leg.legend_handles))
    def look(p):   # (colour as seen on white paper, hatch)
        c = np.array(to_rgba(np.asarray(p.get_facecolor()).reshape(-1, 4)[0]))
        return c[:3] * c[3] + (1 - c[3]), p.get_hatch()
    lay = look(h["layer"])
    for band in ("±1σ total", "±1σ random"):
        b = look(h[band])
        assert lay[1] != b[1] or np.abs(lay[0] - b[0]).max() > 0.1, (band, lay, b)
    plt.close(fig)


def test_report_probe_tables_are_named_and_an_empty_one_says_why():
    from mms_mp.outputs import section_html
    why = "needs stage(s) vn, which did not succeed (vn skipped)"
    doc = {"probes": ["1"], "crossings": [], "thickness": [], "displacement": {},
           "status": {"thickness": {"status": "skipped", "reason": why},
                      "displacement": {"status": "skipped", "reason": why}}}
    html = section_html(doc, "probes")
    for head in ("Crossings", "Layer thickness", "Boundary displacement"):
        assert f"<h4>{head}</h4>" in html, html
    assert html.count(f"none: {why}") == 2, html


def test_vn_panel_fits_the_blend_not_the_noisiest_source():
    "A ±500 km/s He⁺ source set the V_N panel's range; the ±40 km/s blend and its σ band were a flat line."
    import matplotlib.pyplot as plt
    from mms_mp.visualize import _plot_vn
    t = T0 + np.arange(400) * np.timedelta64(1, "s")
    blend = 40 * np.sin(np.arange(400) / 30)
    noisy = np.random.default_rng(0).normal(0, 250, 400)
    fig, ax = plt.subplots()
    _plot_vn(ax, {"He+": (t, noisy), "E×B": (t, blend + 3)}, (t, blend, np.full(400, 5.0)))
    lo, hi = ax.get_ylim()
    assert -80 < lo < -40 and 40 < hi < 80, (lo, hi)
    assert any("blend ± 3σ" in x.get_text() for x in ax.texts)
    fig2, ax2 = plt.subplots()                                   # every source fits: untouched, no note
    _plot_vn(ax2, {"E×B": (t, blend + 3)}, (t, blend, np.full(400, 5.0)))
    assert not ax2.texts
    plt.close(fig)
    plt.close(fig2)


def test_summary_title_names_only_the_panels_drawn():
    "REAL MMS1 FGM alone (2015-09-02): summary_event drew B only, under the title 'B in LMN (model N), densities,"
    " V_N, P_dyn, N_e/N_i'."
    import warnings
    from pathlib import Path
    import matplotlib.pyplot as plt
    from mms_mp.coords import lmn_for_probe
    from mms_mp.data import load_event
    from mms_mp.figures import summary_event
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = load_event(("2015-09-02T16:59", "2015-09-02T17:01"), "1", rate="brst", source="local",
                        data_dir=Path(__file__).parent / "fixtures" / "real", instruments=("fgm",))
    lmn = lmn_for_probe(ev, "1")
    fig = summary_event(ev, "1", lmn)
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == f"MMS1: B in LMN ({lmn.method} N)"
    plt.close(fig)
