"""Percent-coding (o3s.http.url) and date arithmetic/formats (o3s.http.dates) against CPython's own."""

import calendar
import datetime
import email.utils
import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'firmware'))

import pytest  # noqa: E402

from o3s.http import url, dates  # noqa: E402


def test_quote_matches_aws_rule():
    rnd = random.Random(1)
    alphabet = 'aZ09-._~ /+%?=&!*\'()$;:@,\u00e9\u043a\u2713\U0001F600\x00\x7f'
    for _ in range(500):
        s = ''.join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        assert url.quote(s) == urllib.parse.quote(s, safe='-_.~')
        assert url.quote(s, False) == urllib.parse.quote(s, safe='-_.~/')
        assert url.unquote(url.quote(s)) == s
    assert url.quote(b'\xff') == '%FF'


def test_unquote_strict():
    assert url.unquote('a%2Fb%2fc') == 'a/b/c'
    assert url.unquote('a+b') == 'a+b' and url.unquote('a+b', True) == 'a b'
    assert url.unquote('%E2%9C%93') == '\u2713'
    for bad in ('%', '%2', '%zz', '%+1', '% 1', '%C3%28', '%FF'):
        with pytest.raises(ValueError):
            url.unquote(bad)


def test_civil_round_trip_against_calendar():
    for days in list(range(-800000, 800000, 9973)) + [0, -1, 59, 60, 11016, 10957]:
        y, m, d = dates.civil_from_days(days)
        assert dates.days_from_civil(y, m, d) == days
        if 1 <= y <= 9999:
            assert datetime.date(1970, 1, 1) + datetime.timedelta(days=days) == datetime.date(y, m, d)


def test_formats_against_cpython():
    rnd = random.Random(2)
    for t in [0, 784111777, 951782400, 4107542399, 1369353600] + [rnd.randint(0, 4102444800) for _ in range(300)]:
        assert dates.http_date(t) == email.utils.formatdate(t, usegmt=True)
        dt = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
        assert dates.iso8601(t) == dt.strftime('%Y-%m-%dT%H:%M:%S.000Z')
        assert dates.amz_date(t) == dt.strftime('%Y%m%dT%H%M%SZ')
        assert dates.parse_http_date(dates.http_date(t)) == t
        assert dates.parse_amz_date(dates.amz_date(t)) == t
        assert dates.parse_iso8601(dates.iso8601(t)) == t
        # RFC 850 and asctime forms of the same instant
        rfc850 = dt.strftime('%A, %d-%b-%y %H:%M:%S GMT')
        asc = dt.strftime('%a %b ') + str(dt.day).rjust(2) + dt.strftime(' %H:%M:%S %Y')
        if 1970 <= dt.year < 2070:
            assert dates.parse_http_date(rfc850) == t
        assert dates.parse_http_date(asc) == t
    assert dates.iso8601(0, 7) == '1970-01-01T00:00:00.007Z'


def test_rfc822_zones_as_signature_v2_clients_send_them():
    t = 1175024202
    assert dates.parse_http_date(email.utils.formatdate(t)) == t            # '-0000'
    assert dates.parse_http_date('Tue, 27 Mar 2007 19:36:42 +0000') == t
    assert dates.parse_http_date('Tue, 27 Mar 2007 21:36:42 +0200') == t
    assert dates.parse_http_date('Tue, 27 Mar 2007 14:06:42 -0530') == t
    assert dates.parse_http_date('Tue, 27 Mar 2007 19:36:42 UTC') == t


@pytest.mark.parametrize('s', [
    None, '', 'yesterday', 'Sun, 06 Nov 1994 08:49:37 EST', 'Sun, 06 Nov 1994 08:49:37 +25:00',
    'Sun, 06 Nov 1994 08:49:37 +0960', 'Sun, 06 Nov 1994 08:49:37 0100', 'Sun, 31 Feb 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT', 'Sun, 06 Foo 1994 08:49:37 GMT', 'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sunday, 06-Nov-1994 08:49:37 GMT', 'Sun Nov  6 08:49 1994', 'Sun, 06 Nov 1994 08:4a:37 GMT',
])
def test_bad_http_dates(s):
    assert dates.parse_http_date(s) is None


@pytest.mark.parametrize('s', ['', '20130524', '20130524T000000', '20131324T000000Z', '2013052aT000000Z',
                               '20130229T000000Z', '20130524T250000Z'])
def test_bad_amz_dates(s):
    assert dates.parse_amz_date(s) is None


def test_leap_day_and_epoch_consistency():
    assert dates.parse_amz_date('20240229T120000Z') == calendar.timegm((2024, 2, 29, 12, 0, 0))
    assert dates.parse_iso8601('2024-02-29T12:00:00Z') == calendar.timegm((2024, 2, 29, 12, 0, 0))
    assert dates.parse_iso8601('2024-02-29T12:00:00.') is None
