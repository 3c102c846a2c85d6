"""Geometry the multispacecraft tests share: a dayside magnetopause position and random unit vectors."""
import numpy as np
from hypothesis import strategies as st

RC = np.array([60000.0, 2000.0, 5000.0])  # a dayside magnetopause position, km GSE


def unit(v):
    "v / |v|, as floats."
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


# unit vectors in any direction, drawn from boxes whose vectors are not too short to normalise (|v| > 0.2)
vec3 = (st.lists(st.floats(-1, 1, allow_nan=False), min_size=3, max_size=3)
        .map(np.array).filter(lambda v: np.linalg.norm(v) > 0.2).map(unit))
