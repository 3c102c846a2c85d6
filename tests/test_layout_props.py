"""Property tests of mms_mp.layout: names round-trip, directories match the SDC layout, and the local finder
(which lists only the directories that can hold an answer) agrees with a brute-force search of the whole tree."""
import itertools
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings, strategies as st, HealthCheck

from mms_mp.layout import (PRODUCTS, file_time, find_local_files, get_product, parse_filename, sdc_dir,
                           sdc_filename, sdc_path)

KEYS = list(PRODUCTS)
# seconds from 2017-01-01 to 2030-01-01
times = st.integers(0, 13 * 365 * 86400).map(
    lambda s: np.datetime64("2017-01-01T00:00:00", "s") + np.timedelta64(s, "s"))
versions = st.tuples(st.integers(0, 9), st.integers(0, 300), st.integers(0, 20)).map(lambda v: ".".join(map(str, v)))


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(KEYS), t=times, v=versions, probe=st.sampled_from("1234"))
def test_name_round_trip_and_directory(key, t, v, probe):
    prod = PRODUCTS[key]
    fi = parse_filename(sdc_path("/r", probe, *key, t, v))
    assert (fi.probe, fi.instrument, fi.rate, fi.datatype, fi.version_str) == (probe, *key, v)
    ft = file_time(prod, t)
    assert fi.time == ft and ft <= t
    span = {"daily": 86400, "2h": 7200, "segment": 1}[prod.granularity]
    assert t - ft < np.timedelta64(span, "s")
    y, m, d = str(ft)[:4], str(ft)[5:7], str(ft)[8:10]
    parts = sdc_dir("/r", probe, prod, t).parts
    tail = (y, m, d) if prod.rate == "brst" else (y, m)
    assert parts[-len(tail):] == tail
    assert parts[2:7] == (f"mms{probe}", key[0], key[1], "l2") + ((key[2],) if key[2] else (y,))


@settings(max_examples=200, deadline=None)
@given(name=st.text(st.sampled_from("mms1234_fgmbrstsvyl2-0123456789.vcdfpart"), max_size=60))
def test_parser_rejects_everything_that_is_not_an_exact_name(name):
    fi = parse_filename(name)
    if fi is not None:  # then it must be rebuildable exactly
        assert name.endswith(".cdf") and name.startswith(f"mms{fi.probe}_{fi.instrument}_{fi.rate}_l2")
        assert f"_v{fi.version_str}.cdf" in name


def brute_force(root, probe, key, t0, t1):
    "Oracle: walk the whole tree, latest version per file time, files in [t0, t1) plus the last one before t0."
    prod = PRODUCTS[key]; best = {}
    for f in Path(root).rglob("*"):
        fi = parse_filename(f.name)
        if fi and f.is_file() and (fi.probe, fi.instrument, fi.rate, fi.datatype) == (probe, *key):
            if fi.time not in best or fi.version > best[fi.time].version: best[fi.time] = fi
    ts = sorted(best)
    span = np.timedelta64(int(prod.max_span_s), "s")
    inside = [t for t in ts if t0 <= t < t1]
    before = [t for t in ts if t0 - span < t < t0]
    if before and t0 not in ts: inside = [before[-1]] + inside
    return [best[t].name for t in inside]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from([("fgm", "brst", ""), ("fpi", "fast", "dis-moms"), ("mec", "srvy", "epht89q")]),
       offsets=st.lists(st.integers(-2 * 86400, 2 * 86400), min_size=0, max_size=12),
       vers=st.lists(st.sampled_from(["5.1.0", "5.10.0", "5.9.3"]), min_size=1, max_size=3),
       junk=st.booleans(), w0=st.integers(-86400, 86400), wlen=st.integers(1, 6 * 3600))
def test_finder_matches_brute_force(key, offsets, vers, junk, w0, wlen):
    root = Path(tempfile.mkdtemp(prefix="layout_props_"))
    try:
        base = np.datetime64("2019-02-01T00:00:00", "s")  # month boundary inside the range
        for off, v in itertools.product(offsets, vers):
            p = sdc_path(root, 1, *key, base + np.timedelta64(off, "s"), v)
            p.parent.mkdir(parents=True, exist_ok=True); p.touch()
            if junk: Path(str(p) + ".part").touch(); (p.parent / ("x" + p.name)).touch()
        other = sdc_path(root, 2, *key, base, "9.9.9"); other.parent.mkdir(parents=True, exist_ok=True); other.touch()
        t0 = base + np.timedelta64(w0, "s"); t1 = t0 + np.timedelta64(wlen, "s")
        got = [f.name for f in find_local_files(root, 1, *key, (t0, t1))]
        assert got == brute_force(root, "1", key, t0.astype("datetime64[ns]"), t1.astype("datetime64[ns]"))
    finally:
        shutil.rmtree(root)
