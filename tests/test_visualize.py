"""mms_mp.visualize and mms_mp.spectra: headless, lazy matplotlib, atomic output, known geometry in the figures."""
import subprocess
import sys

import numpy as np
import pytest

from mms_mp.core import FrameError, InputError

T0 = np.datetime64("2019-01-27T12:43:00", "ns")


def test_import_does_not_import_matplotlib():
    code = ("import sys, mms_mp.visualize, mms_mp.panels, mms_mp.spectra, mms_mp.idl; "
            "bad = [m for m in ('matplotlib', 'pyspedas') if m in sys.modules]; print(bad); assert not bad")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_probe_colors_are_mms_convention():
    from matplotlib.colors import to_rgb
    from mms_mp.visualize import PROBE_COLORS
    r, g, b = zip(*(to_rgb(PROBE_COLORS[p]) for p in "1234"))
    assert PROBE_COLORS["1"] == "#000000"                       # MMS1 black
    assert r[1] > 0.7 and g[1] < 0.3 and b[1] < 0.3              # MMS2 red
    assert g[2] > r[2] and g[2] > b[2]                           # MMS3 green
    assert b[3] > r[3] and b[3] > g[3]                           # MMS4 blue


def test_save_figure_atomic_png_pdf_dpi(tmp_path):
    import matplotlib.pyplot as plt
    from PIL import Image
    from mms_mp.visualize import save_figure
    fig, ax = plt.subplots(figsize=(2, 1)); ax.plot([0, 1])
    out = save_figure(fig, tmp_path / "a" / "f.png", dpi=300, pdf=True)
    assert [p.suffix for p in out] == [".png", ".pdf"]
    assert round(Image.open(out[0]).info["dpi"][0]) == 300
    assert out[1].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["f.pdf", "f.png"]
    # a failing render leaves the previous file untouched
    before = out[0].read_bytes()
    with pytest.raises(InputError, match="dpi must be"):
        save_figure(fig, out[0], dpi=0)
    assert out[0].read_bytes() == before
    plt.close(fig)


def test_overlay_alignment_known_delays():
    import matplotlib.pyplot as plt
    from mms_mp.panels import overlay_multi
    t = T0 + (np.arange(-120, 121) * 1e9).astype("timedelta64[ns]")
    s = np.arange(-120, 121, dtype=float)
    lag = {"1": 0.0, "2": 3.0, "3": -2.0, "4": 7.5}
    fig = overlay_multi({p: (t, np.tanh((s - d) / 5)) for p, d in lag.items()}, lag, ref="1")
    for line in fig.axes[0].lines:
        x = (line.get_xdata().astype("datetime64[ns]") - T0).astype("int64") / 1e9
        assert abs(np.interp(0.0, line.get_ydata(), x)) < 5e-3
    plt.close(fig)


def test_timing_residuals_known():
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_timing
    n = np.array([1.0, 0, 0]); V = -40.0
    r = {p: np.array([x, 0.0, 0.0]) for p, x in zip("1234", (0.0, 100.0, 300.0, 700.0))}
    times = {p: T0 + np.timedelta64(int(r[p][0] / V * 1e9), "ns") for p in r}  # inward-moving boundary
    fig = plot_timing(times, r, n, V, 2.0)
    assert np.allclose(list(fig.mms_mp_residuals_s.values()), 0, atol=1e-8)
    plt.close(fig)


def test_formation_string_direction_and_frames():
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_formation
    d = np.array([0.3, -0.9, 0.3]); d /= np.linalg.norm(d)
    r = {p: 1000 * np.ones(3) + k * d for p, k in zip("1234", (0, 150, 600, 970))}
    fig = plot_formation(r, frame="GSM", normal=[1, 0, 0], normal_frame="GSM")
    assert abs(abs(fig.mms_mp_string_dir @ d) - 1) < 1e-12
    assert [a.get_xlabel() for a in fig.axes] == ["ΔX (km, GSM)", "ΔX (km, GSM)", "ΔY (km, GSM)"]
    plt.close(fig)
    with pytest.raises(FrameError, match="normal is in GSE but this operation needs GSM"):
        plot_formation(r, frame="GSM", normal=[1, 0, 0], normal_frame="GSE")


def test_simulated_marking_and_hostile_inputs():
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_hodogram
    from mms_mp.panels import plot_displacement
    from mms_mp.visualize import summary_single
    t = T0 + (np.arange(10) * 1e9).astype("timedelta64[ns]")
    fig = plot_displacement((t, np.arange(10.0)), np.ones(10), simulated=True)
    assert any(x.get_gid() == "mms_mp_simulated" for x in fig.texts)
    assert fig.axes[0].get_title().startswith("SIMULATED")
    plt.close(fig)
    fig = plot_displacement((t, np.arange(10.0)), simulated=False)
    assert not any(x.get_gid() == "mms_mp_simulated" for x in fig.texts)
    plt.close(fig)
    with pytest.raises(InputError, match="10 time tags but 9 values"):
        plot_displacement((t, np.arange(9.0)))
    with pytest.raises(FrameError, match="needs LMN"):
        plot_hodogram(np.ones((5, 3)), frame="GSM")
    with pytest.raises(InputError, match="unknown probe"):
        summary_single((t, np.ones((10, 3))), probe=7)
    with pytest.raises(InputError, match="a crossing needs layer_start"):
        summary_single((t, np.ones((10, 3))), crossings=[{"time": T0}])
    plt.close("all")


def test_spectrogram_gap_stays_blank_after_rebinning():
    """Averaging burst records for display must never bridge a data gap."""
    import matplotlib.pyplot as plt
    from mms_mp.spectra import fpi_electron_spectrogram
    sec = np.r_[np.arange(3000) * 0.03, 3000 * 0.03 + 5.0 + np.arange(3000) * 0.03]   # 5 s hole in DES burst
    t = T0 + (sec * 1e9).astype("int64").astype("timedelta64[ns]")
    E = np.geomspace(6, 28000, 32)
    spec = np.ones((len(t), 32)) * 1e5
    fig = fpi_electron_spectrogram((t, E, spec), probe=4, max_records=200)
    qm = fig.axes[0].collections[0]
    X = qm.get_coordinates()[:, 0, 0]                       # corner times, days
    mask = np.ma.getmaskarray(qm.get_array()).reshape(len(X) - 1, -1).all(1)
    widths = np.diff(X) * 86400
    blank = widths[mask & (widths > 0)]
    assert len(blank) == 1 and abs(blank[0] - 5.0) < 0.05     # exactly one blank, the hole (5 s + 0.03 − cadence)
    assert len(X) // 2 <= 2 * 200 + 2                        # rebinned to about max_records columns
    plt.close(fig)


def test_spectrogram_mesh_rejects_bad_input():
    from mms_mp.spectra import spectrogram_mesh
    t = T0 + (np.arange(5) * 1e9).astype("timedelta64[ns]")
    with pytest.raises(InputError, match="one row per time tag"):
        spectrogram_mesh(t, np.ones(3), np.ones((4, 3)))
    m = spectrogram_mesh(t, np.array([1.0, np.nan, 3.0]), np.ones((5, 3)))   # the NaN channel left out, and counted
    assert (m.n_dropped_channels, m.C.shape[1]) == (1, 2)
    with pytest.raises(InputError, match="fewer than 2 records with 2 usable energy channels"):
        spectrogram_mesh(t, np.array([1.0, np.nan]), np.ones((5, 2)))


def test_plot_timing_takes_a_timing_result_planar_boundary():
    """A planar boundary swept at V past a tetrahedron: timing_normal recovers n̂ and V, the plot's residuals are 0."""
    import matplotlib.pyplot as plt
    from mms_mp.multispacecraft import timing_normal
    from mms_mp.figures import plot_timing
    n = np.array([0.9, 0.4, 0.17]); n /= np.linalg.norm(n); V = 27.0
    r = {"1": np.zeros(3), "2": np.array([100.0, 0, 0]), "3": np.array([0, 100.0, 0]), "4": np.array([0, 0, 100.0])}
    times = {p: T0 + np.timedelta64(int(round(1e9 * (n @ x) / V)), "ns") for p, x in r.items()}
    res = timing_normal(r, times, frame="GSE")
    assert abs(res.V_km_s - V) < 1e-3 and abs(res.n_hat @ n - 1) < 1e-9
    fig = plot_timing(times, r, res, frame="GSE")
    assert np.allclose(list(fig.mms_mp_residuals_s.values()), 0, atol=1e-6)
    assert "V = 27.0" in "".join(t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    with pytest.raises(FrameError, match="timing normal is in GSE but this operation needs GSM"):
        plot_timing(times, r, res, frame="GSM")


def test_summary_event_refuses_mixed_frames():
    """B in GSE with an LMN triad built in GSM must raise, not silently rotate the wrong vectors."""
    import xarray as xr
    from mms_mp.data import Event
    from mms_mp.figures import summary_event

    class Lmn:  # the mms_mp.coords.LMN interface used here
        R = np.eye(3); frame = "GSM"; method = "user"; N = np.array([0, 0, 1.0])
        def to_lmn(self, vec, *, frame):
            from mms_mp.core import check_frame
            check_frame(frame, self.frame, "vector passed to to_lmn"); return np.asarray(vec) @ self.R.T

    t = T0 + (np.arange(20) * 1e9).astype("timedelta64[ns]")
    B = xr.DataArray(np.ones((20, 3)), dims=("time", "comp"), coords={"time": t, "comp": ["x", "y", "z"]},
                     attrs={"units": "nT", "frame": "GSE", "simulated": True})
    ev = Event((t[0], t[-1] + np.timedelta64(1, "s")), data={"1": {"B_gse": B}}, simulated=True)
    with pytest.raises(FrameError, match="vector passed to to_lmn is in GSE but this operation needs GSM"):
        summary_event(ev, 1, Lmn())
    with pytest.raises(InputError, match="no B_gse"):
        summary_event(Event(ev.trange, data={"1": {}}), 1, Lmn())


def _fgm_event(gap_s=0.0, probes="12"):
    """An Event holding only FGM (B_gse, Bmag) at 1 s, with an optional hole after the first minute."""
    import xarray as xr
    from mms_mp.data import Event
    sec = np.r_[np.arange(60.0), 60.0 + gap_s + np.arange(60.0)]
    t = T0 + (sec * 1e9).astype("int64").astype("timedelta64[ns]")
    b = np.column_stack([np.tanh((sec - 60) / 10) * 30, 5 + 0 * sec, 2 + 0 * sec])
    mk = lambda y, dims, **c: xr.DataArray(y, dims=dims, coords={"time": t, **c},
                                           attrs={"units": "nT", "frame": "GSE", "simulated": True})
    data = {p: {"B_gse": mk(b, ("time", "comp"), comp=["x", "y", "z"]),
                "Bmag": mk(np.linalg.norm(b, axis=1), ("time",))}
            for p in probes}
    return Event((t[0], t[-1] + np.timedelta64(1, "s")), data=data, simulated=True)


def test_gaps_are_drawn_as_gaps_in_every_time_series_panel():
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_overview
    from mms_mp.panels import overlay_multi, plot_displacement
    from mms_mp.visualize import break_gaps, summary_single
    ev = _fgm_event(gap_s=120.0)
    B = ev.get("1", "B_gse")
    t, b = B["time"].values, B.values
    tb, yb = break_gaps(t, b)
    assert len(tb) == len(t) + 1 and np.isnan(yb[60]).all()                  # one NaN row inside the hole
    figs = [summary_single((t, b), Ni=(t, 1 + 0 * b[:, 0]), Ne=(t, 1 + 0 * b[:, 0]),
                           vn_blend=(t, b[:, 0], 1 + 0 * t.astype(float))),
            overlay_multi({"1": (t, b[:, 0]), "2": (t, b[:, 0])}, {"1": 0.0, "2": 1.0}),
            plot_displacement((t, b[:, 0]), np.ones(len(t))),
            plot_overview(ev, ["1", "2"])]
    for fig in figs:
        for ax in fig.axes:
            for line in ax.lines:
                x = np.asarray(line.get_xdata())
                if x.dtype.kind != "M" or len(x) < 10: continue                # axhline/axvline, not a series
                y = np.asarray(line.get_ydata(), float)
                assert np.isnan(y).any(), (ax.get_ylabel(), line.get_label())   # the line breaks in the hole
        plt.close(fig)



def _blank_bands_in(fig, dpi: int = 100) -> list:
    "Heights (inches) of the white horizontal bands between inked rows of a rendered figure, top to bottom."
    fig.set_dpi(dpi)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    inked = np.flatnonzero((img < 200).any(axis=(1, 2)))   # rows with anything darker than pale grey
    gaps = np.diff(inked) - 1
    return list(gaps[gaps > 0] / dpi)


@pytest.mark.parametrize("n_probes", [1, 2])
def test_overview_has_no_blank_band_under_its_title(n_probes):
    "The title, the probe legend and the first panel follow each other: no empty band (it was ≈ 0.5 in)."
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_overview
    import xarray as xr
    probes = "12"[:n_probes]
    ev = _fgm_event(probes=probes)   # and plasma moments: five panels, a tall figure (the band grew with height)
    for p in probes:
        B = ev.data[p]["B_gse"]
        sca = lambda y: xr.DataArray(y, dims=("time",), coords={"time": B["time"]}, attrs={"units": "cm^-3"})
        n = 10 + B.values[:, 0] / 3
        ev.data[p] |= {"Ni": sca(n), "Ne": sca(1.02 * n), "N_Heplus": sca(1e-3 + 0 * n),
                       "Vi_gse": B.copy(data=np.c_[-5 * n, 0 * n, 0 * n]).assign_attrs(units="km/s")}
    fig = plot_overview(ev, list(probes), title="2019-01-27")
    assert len(fig.axes) == 5 and fig.get_size_inches()[1] > 8
    top = _blank_bands_in(fig)[:2]   # title → legend, legend → first panel
    plt.close(fig)
    assert max(top) < 0.2, f"blank bands under the title: {top} in"


def test_panels_only_for_instruments_with_data():
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_overview
    from mms_mp.visualize import summary_single
    ev = _fgm_event()
    fig = plot_overview(ev, ["1", "2"], simulated=True)
    assert [a.get_ylabel().split("\n")[0] for a in fig.axes] == ["|B| (nT)", "B GSE (nT)"]
    plt.close(fig)
    t = ev.get("1", "B_gse")["time"].values
    b = ev.get("1", "B_gse").values
    fig = summary_single((t, b), probe=2)                                           # FGM only
    assert [a.get_ylabel() for a in fig.axes] == ["B (nT, LMN)"]
    plt.close(fig)
    fig = summary_single((t, b), Ni=(t, np.ones(len(t))), probe=2)                 # + ion density: 2 panels
    assert [a.get_ylabel() for a in fig.axes] == ["B (nT, LMN)", "N (cm$^{-3}$)"]
    plt.close(fig)
    from mms_mp.data import Event
    with pytest.raises(InputError, match="nothing to draw"):
        plot_overview(Event(ev.trange, data={"1": {}}), ["1"])


def test_summary_event_draws_the_callers_vn():
    """The V_N panel shows exactly the NormalVelocity given; one computed along another normal is refused."""
    import matplotlib.pyplot as plt
    from types import SimpleNamespace
    from mms_mp.figures import summary_event
    ev = _fgm_event()

    class Lmn:
        R = np.eye(3); frame = "GSE"; method = "user"; N = np.array([0, 0, 1.0])
        def to_lmn(self, vec, *, frame): return np.asarray(vec) @ self.R.T

    t = ev.get("1", "B_gse")["time"].values[::5]
    vn = SimpleNamespace(t=t, V_N=np.linspace(-30, 30, len(t)), sigma_V_N=np.ones(len(t)), frame="GSE",
                         n_hat=np.array([0, 0, 1.0]), per_source={"FPI ions": np.zeros(len(t))}, smoothing=None)
    fig = summary_event(ev, 1, Lmn(), vn=vn)
    blend = [l for l in fig.axes[1].lines if l.get_label() == "blend"][0]
    assert np.array_equal(np.asarray(blend.get_ydata(), float), vn.V_N)
    plt.close(fig)
    fig = summary_event(ev, 1, Lmn())                                               # no V_N: no V_N panel
    assert [a.get_ylabel() for a in fig.axes] == ["B (nT, LMN)"]
    plt.close(fig)
    vn.n_hat = np.array([0, 0, -1.0])                                               # the opposite normal flips V_N
    with pytest.raises(InputError, match="pass the V_N of this LMN"):
        summary_event(ev, 1, Lmn(), vn=vn)


def test_a_probe_label_appears_once_in_a_stage_message():
    """An FGM-only probe has no V_N source: the stage message names the probe once, not 'MMS1: MMS1:'."""
    from mms_mp.core import MMSMPError
    from mms_mp.pipeline import AnalysisResult, stage_vn
    ev = _fgm_event(probes="1")
    res = AnalysisResult.__new__(AnalysisResult)
    res.event, res.trange, res.status = ev, ev.trange, {}
    res.lmn = {"1": type("L", (), {"frame": "GSE", "N": np.array([1.0, 0, 0])})()}
    with pytest.raises(MMSMPError) as e:
        stage_vn(res, {})
    assert "MMS1: MMS1:" not in str(e.value) and str(e.value).count("MMS1") + str(e.value).count("mms1") == 1


def test_published_normal_in_formation_and_timing():
    "A published normal is drawn beside ours with its angle; without our normal the angle is NaN; a GSM one is refused."
    from mms_mp.overlay import PublishedNormal
    from mms_mp.figures import plot_formation, plot_timing
    n = np.array([1.0, 0, 0])
    r = {p: np.array([60000.0, 0, 0]) + np.array([100.0 * i, 60 * (i % 2), 30 * (i // 2)])
         for i, p in enumerate("1234")}
    times = {p: T0 + np.timedelta64(int(1e9 * (n @ (r[p] - r["1"])) / 20.0), "ns") for p in r}
    pub = {p: PublishedNormal(p, np.array([0.0, 1, 0]), "GSE", source="Roe (2019)") for p in "12"}
    f = plot_formation(r, normal=n, published=pub)
    assert abs(f.mms_mp_published_angle_deg - 90) < 1e-9
    assert np.isnan(plot_formation(r, published=pub).mms_mp_published_angle_deg)
    g = plot_timing(times, r, n, 20.0, published=pub, ref="2")
    want = {"1": -3.0, "2": 0.0, "3": -3.0, "4": 0.0}  # n_pub·(r − r_2)/V with our V (none published)
    assert all(abs(g.mms_mp_published_delays_s[p] - v) < 1e-9 for p, v in want.items())
    with pytest.raises(FrameError, match="is in GSM"):
        plot_formation(r, normal=n, published=PublishedNormal("1", n, "GSM"))
    import matplotlib.pyplot as plt
    plt.close("all")


def test_displacement_figure_marks_where_a_segment_restarts():
    "A DispResult with a gap: Δs restarts at 0 in its second segment, and the figure says where."
    from types import SimpleNamespace
    from mms_mp.panels import plot_displacement
    t = np.datetime64("2019-01-27T12:30", "ns") + np.arange(10) * np.timedelta64(1, "s")
    seg = np.array([0, 0, 0, 0, -1, 1, 1, 1, 1, 1])
    d = SimpleNamespace(t=t, disp_km=np.where(seg >= 0, np.r_[0, 1, 2, 3, np.nan, 0, 1, 2, 3, 4], np.nan),
                        sigma_random_km=np.ones(10), sigma_systematic_km=np.zeros(10), segment=seg)
    fig = plot_displacement(d)
    marks = [l for l in fig.axes[0].lines if l.get_label() == "Δs restarts at 0 after a gap"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == t[5]
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_crossing_marks_are_named_once_and_overview_ticks_are_concise():
    ("The summary's shading is explained in its first panel's legend only; the overview's ticks are HH:MM "
     "+ the date once.")
    import matplotlib.pyplot as plt
    from mms_mp.figures import plot_overview
    from mms_mp.visualize import summary_single
    ev = _fgm_event()
    t = ev.get("1", "B_gse")["time"].values
    b = ev.get("1", "B_gse").values
    xs = [{"probe": "1", "layer_start": t[10], "layer_end": t[20], "time": t[15]},
          {"probe": "1", "layer_start": t[40], "layer_end": t[50], "time": t[45]}]
    fig = summary_single((t, b), Ni=(t, np.ones(len(t))), probe=1, crossings=xs)
    labels = [[x.get_text() for x in a.get_legend().get_texts()] if a.get_legend() else [] for a in fig.axes]
    assert labels[0].count("layer") == 1 and labels[0].count("crossing") == 1      # two crossings, named once
    assert not any("layer" in x or "crossing" in x for x in sum(labels[1:], []))
    plt.close(fig)
    fig = plot_overview(ev, ["1"])
    fig.canvas.draw()
    ticks = [x.get_text() for x in fig.axes[-1].get_xticklabels() if x.get_text()]
    assert ticks and not any(" " in x for x in ticks), ticks           # 12:44 (or :30), never "27 12:44"
    plt.close(fig)


def test_dynamic_pressure_of_a_negative_density_is_nan():
    "A negative density (a bad sample) gives NaN, not a negative pressure; 1 cm⁻³ at 400 km/s is 0.2676 nPa."
    from mms_mp.visualize import dynamic_pressure
    p = dynamic_pressure([-1.0, 1.0], [[400.0, 0, 0], [400.0, 0, 0]])
    assert np.isnan(p[0]) and abs(p[1] - 0.26762) < 1e-4
