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


@given(t=st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 12, 31, 23, 59, 59, 999999)))
def test_basic_ordinal_form_is_the_same_instant_as_the_extended_one(t):
    """ISO 8601's basic day of year, 'YYYYDDDThhmmss.ffffff' (and 'YYYYDDD' alone), was refused ('2019027' read as a
    number) while '2019-027T12:15' was read: now both are one instant for any time."""
    basic, ext = t.strftime("%Y%jT%H%M%S.%f"), t.strftime("%Y-%jT%H:%M:%S.%f")
    assert as_datetime64(basic) == as_datetime64(ext) == np.datetime64(t, "ns")
    assert as_datetime64(t.strftime("%Y%j")) == np.datetime64(t.date(), "ns")


def test_basic_ordinal_as_typed_on_the_command_line():
    "The forms a user types: minutes only, a 'Z', an offset; the CLI's time range."
    assert as_datetime64("2019027T1215") == np.datetime64("2019-01-27T12:15", "ns")
    assert as_datetime64("2019027T121500Z") == np.datetime64("2019-01-27T12:15", "ns")
    assert as_datetime64("2019027T141500+0200") == np.datetime64("2019-01-27T12:15", "ns")
    t0, t1 = parse_trange(("2019027T121500", "2019027T125500.25"))
    assert (t0, t1) == (np.datetime64("2019-01-27T12:15", "ns"), np.datetime64("2019-01-27T12:55:00.25", "ns"))


@pytest.mark.parametrize("text, words", [
    ("2015000T1200", "2015 has no day of year 000; give 001–365"),
    ("2015366", "2015 has no day of year 366; give 001–365 (2015 is not a leap year)"),
    ("2016367", "2016 has no day of year 367; give 001–366"),
    ("2000366T000000", None),   # 2000: a leap year (divisible by 400), day 366 is 31 December
    ("1900366", "give 001–365 (1900 is not a leap year)"),      # 1900: not (divisible by 100)
    ("2016366T120000.1234567891", "gives the second to 10 decimals; times in mms_mp are held to the nanosecond"),
])
def test_basic_ordinal_follows_the_extended_forms_rules(text, words):
    "Leap years (calendar.isleap) and the nanosecond limit as for '2016-366T…'."
    if words is None:
        assert as_datetime64(text) == np.datetime64("2000-12-31", "ns")
        return
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        as_datetime64(text)


def test_basic_ordinal_date_with_an_extended_time_is_refused_with_the_forms():
    "ISO 8601 writes a time in the form of its date: '2019027T12:15' mixes them, as '20190127T12:15' does."
    for text in ("2019027T12:15", "20190127T12:15"):
        with pytest.raises(InputError, match="give ISO 8601 UTC, e.g. .*'2019027T121500'"):
            as_datetime64(text)
