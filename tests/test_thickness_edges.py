"""Layer edges timed again on another series (`crossings.retime_edges`) and the thickness σ part it gives
(`thickness.with_edge_definition`), on analytic tanh layers. On a SIMULATED non-planar event: test_nonplanar_seed3."""
import numpy as np
import pytest

from mms_mp.core import seconds_since
from mms_mp.crossings import Crossing, retime_edges
from mms_mp.thickness import Thickness, with_edge_definition

S = np.arange(-120, 120, 1 / 16)
T = np.datetime64("2019-01-27T12:00", "ns") + (S * 1e9).astype("timedelta64[ns]")
EDGE = 3 * np.arctanh(0.76)   # 76 % edges of 20 tanh(s/3), s


def _crossing(start_s=-20.0, end_s=3.0):
    t0 = T[1920]
    sec = lambda x: np.timedelta64(int(x * 1e9), "ns")
    return Crossing("1", t0, "out", 1.0, 0.1, t0 + sec(start_s), t0 + sec(end_s), t0, "B_L half-level", ("B_L",))


def _edges(e, c): return [float(seconds_since(x, c.time)) for x in e]


@pytest.mark.parametrize("drift_nT", [0.0, 6.0])
def test_edges_of_a_tanh_layer_are_found_again(drift_nT):
    y = 20 * np.tanh(S / 3) + np.random.default_rng(2).normal(0, 0.2, S.size)
    y += drift_nT * np.clip((S + 29) / 25, 0, 1) * (S < -4)   # a slow drift before the layer
    c = _crossing()
    np.testing.assert_allclose(_edges(retime_edges(T, y, c), c), [-EDGE, EDGE], atol=0.3)


def test_vectors_along_a_direction_give_the_same_edges():
    y = 20 * np.tanh(S / 3)
    L = np.array([0.6, 0.8, 0.0])
    B = np.column_stack([y * 0.6, y * 0.8, np.full(S.size, 5.0)])   # B·L = y
    c = _crossing()
    assert _edges(retime_edges(T, B, c, along=L), c) == pytest.approx(_edges(retime_edges(T, y, c), c), abs=1e-6)


def test_a_series_without_a_layer_gives_none():
    flat = np.random.default_rng(3).normal(0, 0.2, S.size)
    assert retime_edges(T, flat, _crossing()) is None


def test_edge_definition_joins_sigma_and_flags_beyond_two_sigma():
    a = Thickness("1", np.datetime64("2019-01-27T12:30"), 800.0, 100.0, "integrated V_N")
    far = with_edge_definition(a, Thickness("1", a.time, 1100.0, 90.0, "integrated V_N"))
    near = with_edge_definition(a, Thickness("1", a.time, 850.0, 90.0, "integrated V_N"))
    assert (far.thickness_km, far.sigma_edge_def_km) == (800.0, 300.0)
    assert far.sigma_km == pytest.approx(np.hypot(100, 300)) and "edges_depend_on_series" in far.flags
    assert near.sigma_km == pytest.approx(np.hypot(100, 50)) and not near.flags


def test_hostile_series_give_none_or_edges_never_an_exception():
    c = _crossing()
    assert retime_edges(T, np.full(S.size, np.nan), c) is None               # no finite sample
    assert retime_edges(T[:0], np.zeros(0), c) is None                        # no sample at all
    y = 20 * np.tanh(S / 3)
    holed = np.where((S > -1) & (S < 1), np.nan, y)                           # a gap across the centre
    e = retime_edges(T, holed, c)
    assert e is None or np.all(np.diff(np.array(e, "datetime64[ns]")) > np.timedelta64(0, "ns"))
    early = T[1920 - 200:]                                                     # data start 12.5 s before the centre
    e = retime_edges(early, y[1920 - 200:], c)
    assert e is None or np.datetime64(e[0], "ns") >= early[0]


def test_wrong_shapes_get_an_input_error():
    from mms_mp.core import InputError
    c = _crossing()
    y3 = np.zeros((S.size, 3))
    for y, along in ((y3, None), (np.zeros(S.size), np.ones(3)), (y3, np.ones(2)), (np.zeros(5), None)):
        with pytest.raises(InputError, match="retime_edges needs y of shape"):
            retime_edges(T, y, c, along=along)
