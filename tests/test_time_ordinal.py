"""Day-of-year times (ISO 8601 ordinal dates, as SPEDAS and the MMS formation tables write epochs): `--start
2015-245T16:58:44` was refused with "give ISO 8601 UTC"."""
import datetime as dt

import numpy as np
import pytest
from hypothesis import given, strategies as st

from mms_mp.core import InputError, as_datetime64, parse_trange


@given(t=st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 12, 31, 23, 59, 59, 999999)),
       sep=st.sampled_from(["T", "/", " "]))
def test_ordinal_form_is_the_same_instant_as_the_calendar_form(t, sep):
    "For any instant, 'YYYY-DDD<sep>hh:mm:ss.ffffff' and 'YYYY-MM-DDThh:mm:ss.ffffff' parse to the same time."
    cal, ordinal = t.strftime("%Y-%m-%dT%H:%M:%S.%f"), t.strftime(f"%Y-%j{sep}%H:%M:%S.%f")
    assert as_datetime64(ordinal) == as_datetime64(cal) == np.datetime64(t, "ns")
    assert as_datetime64(t.strftime("%Y-%j")) == np.datetime64(t.date(), "ns")   # a bare day of year


def test_cli_ordinal_range_and_spedas_epoch():
    t0, t1 = parse_trange(("2015-245T16:58:44", "2019-027/12:43:23.203"))
    assert (t0, t1) == (np.datetime64("2015-09-02T16:58:44", "ns"), np.datetime64("2019-01-27T12:43:23.203", "ns"))


@pytest.mark.parametrize("text, words", [
    ("2015-000T12:00", "2015 has no day of year 000; give 001–365"),
    ("2015-366", "2015 has no day of year 366; give 001–365 (2015 is not a leap year)"),
    ("2016-367/01:00", "2016 has no day of year 367; give 001–366"),
    ("2000-367", "2000 has no day of year 367; give 001–366"),   # 2000: a leap year (divisible by 400)
    ("1900-366", "give 001–365 (1900 is not a leap year)"),      # 1900: not (divisible by 100)
])
def test_a_day_the_year_lacks_is_refused_clearly(text, words):
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        as_datetime64(text)


@pytest.mark.parametrize("text", ["2016-12-31T23:59:59.9999999999",
                                  "2016-366T12:00:00.111111111111",
                                  "20161231T120000.1234567890123Z",
                                  "2016-366/12:00:00.1234567891+01:00"])
def test_a_fraction_finer_than_a_nanosecond_is_refused_clearly(text):
    "Ten or more decimals made numpy pick picoseconds: an OverflowError traceback, no InputError."
    with pytest.raises(InputError, match="decimals; times in mms_mp are held to the nanosecond"):
        as_datetime64(text)
    whole, frac = text.split(".")
    ns = frac[:9]   # nine decimals: kept to the nanosecond
    assert as_datetime64(f"{whole}.{ns}") == as_datetime64(whole) + np.timedelta64(int(ns), "ns")
