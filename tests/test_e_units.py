"""An electric field in V/m (1000× too small for mV/m) is refused, never turned silently into a 1000× wrong drift."""
import dataclasses
import warnings

import numpy as np
import pytest

from mms_mp.core import InputError, NoDataError
from mms_mp.cdfwrite import write_l2_cdf
from mms_mp.data import load_event
from mms_mp.layout import get_product, sdc_path
from mms_mp.velocity import exb_velocity_sync


def test_array_in_V_per_m_is_refused():
    "E = 2 mV/m x̂, B = 20 nT ẑ: drift −100 km/s ŷ; the same E in V/m is refused with what to do."
    B = np.tile([0.0, 0.0, 20.0], (40, 1))
    E = np.tile([2.0, 0.0, 0.0], (40, 1))
    t = np.arange(40.0)
    assert np.allclose(exb_velocity_sync((t, E), (t, B)).v_km_s, [0, -100.0, 0])
    with pytest.raises(InputError, match="Multiply it by 1000"):
        exb_velocity_sync((t, E * 1e-3), (t, B))


def _edp_file(root, units):
    prod = get_product("edp", "fast", "dce")
    prod = dataclasses.replace(prod, vars=tuple(dataclasses.replace(v, units=units) for v in prod.vars))
    t = np.datetime64("2019-01-27T12:00", "ns") + np.arange(0, 600) * np.timedelta64(1, "s")
    E = np.tile([2.0, 0.0, 0.0], (len(t), 1)) * (1e-3 if units == "V/m" else 1.0)
    path = sdc_path(root, "1", "edp", "fast", "dce", t[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_l2_cdf(path, "1", prod, t, {v.cdf_name("1", "fast"): E for v in prod.vars})
    return t


@pytest.mark.parametrize("units", ["mV/m", "V/m"])
def test_cdf_units_attribute_is_checked(tmp_path, units):
    "A file whose UNITS says V/m is not read as mV/m: nothing else loaded, the error names the unit."
    t = _edp_file(tmp_path, units)
    load = lambda: load_event((t[0], t[-1]), "1", rate="fast", instruments=("edp",), source="local",
                              data_dir=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if units == "V/m":
            with pytest.raises(NoDataError, match="UNITS 'V/m'.*1000× too small"):
                load()
        else:
            assert np.allclose(load()["1"]["E_gse"].values[0], [2.0, 0, 0])
