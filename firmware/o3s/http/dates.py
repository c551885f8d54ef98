"""Calendar arithmetic and the date formats S3 speaks, without `time`/`datetime`.

Owns: civil date <-> day number (proleptic Gregorian, H. Hinnant's algorithms), HTTP dates
(RFC 1123 out; RFC 1123, RFC 850 and asctime in), ISO 8601 for XML, and the SigV4 basic
format (YYYYMMDDTHHMMSSZ). All times are integer seconds since the Unix epoch, UTC.
"""

WEEKDAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')
MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')
_DIGITS = '0123456789'
_LONG_DAYS = ('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a civil date."""
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    """(year, month, day) of a day number since 1970-01-01."""
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


def _days_in_month(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _p2(n):
    return '0' + str(n) if n < 10 else str(n)


def _p4(n):
    s = str(n)
    return '0' * (4 - len(s)) + s if len(s) < 4 else s


def _split(epoch):
    days = epoch // 86400
    secs = epoch - days * 86400
    y, m, d = civil_from_days(days)
    return days, y, m, d, secs // 3600, (secs // 60) % 60, secs % 60


def http_date(epoch):
    """RFC 1123 / IMF-fixdate: 'Sun, 06 Nov 1994 08:49:37 GMT'."""
    days, y, m, d, hh, mm, ss = _split(int(epoch))
    wd = WEEKDAYS[(days + 3) % 7]  # 1970-01-01 was a Thursday
    return (wd + ', ' + _p2(d) + ' ' + MONTHS[m - 1] + ' ' + _p4(y) + ' '
            + _p2(hh) + ':' + _p2(mm) + ':' + _p2(ss) + ' GMT')


def iso8601(epoch, millis=0):
    """XML timestamp: '2013-05-24T00:00:00.000Z'."""
    days, y, m, d, hh, mm, ss = _split(int(epoch))
    ms = str(millis)
    ms = '0' * (3 - len(ms)) + ms
    return (_p4(y) + '-' + _p2(m) + '-' + _p2(d) + 'T' + _p2(hh) + ':' + _p2(mm) + ':'
            + _p2(ss) + '.' + ms + 'Z')


def amz_date(epoch):
    """SigV4 basic format: '20130524T000000Z'."""
    days, y, m, d, hh, mm, ss = _split(int(epoch))
    return _p4(y) + _p2(m) + _p2(d) + 'T' + _p2(hh) + _p2(mm) + _p2(ss) + 'Z'


def _num(s, lo, hi):
    if not s or s.strip(_DIGITS):
        return None
    v = int(s)
    if v < lo or v > hi:
        return None
    return v


def _to_epoch(y, m, d, hh, mm, ss):
    if None in (y, m, d, hh, mm, ss):
        return None
    if d > _days_in_month(y, m):
        return None
    return days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss


def _hms(s):
    p = s.split(':')
    if len(p) != 3 or len(p[0]) != 2 or len(p[1]) != 2 or len(p[2]) != 2:
        return None, None, None
    # 60 allows a leap second, treated as :59 + 1
    return _num(p[0], 0, 23), _num(p[1], 0, 59), _num(p[2], 0, 60)


def _month(s):
    try:
        return MONTHS.index(s) + 1
    except ValueError:
        return None


def _zone(z):
    """Seconds east of UTC for 'GMT', 'UT', 'UTC' or '+hhmm' / '-hhmm'; None for anything else."""
    if z in ('GMT', 'UT', 'UTC'):
        return 0
    if len(z) != 5 or z[0] not in '+-':
        return None
    h = _num(z[1:3], 0, 23)
    m = _num(z[3:5], 0, 59)
    if h is None or m is None:
        return None
    off = h * 3600 + m * 60
    return -off if z[0] == '-' else off


def parse_http_date(s):
    """Epoch seconds from an RFC 1123, RFC 850 or asctime date, or None if it is none of them."""
    if not s:
        return None
    s = s.strip()
    p = s.split()
    if len(p) == 6 and p[0][:-1] in WEEKDAYS and p[0][-1] == ',':
        # RFC 1123: Sun, 06 Nov 1994 08:49:37 GMT (or RFC 822's +hhmm / UT / UTC zone, which
        # S3's signature version 2 examples use: Tue, 27 Mar 2007 19:36:42 +0000)
        off = _zone(p[5])
        if off is None or len(p[1]) != 2 or len(p[3]) != 4:
            return None
        hh, mm, ss = _hms(p[4])
        t = _to_epoch(_num(p[3], 0, 9999), _month(p[2]), _num(p[1], 1, 31), hh, mm, ss)
        return None if t is None else t - off
    if len(p) == 4 and p[0][-1:] == ',' and p[0][:-1] in _LONG_DAYS and p[3] == 'GMT':
        # RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit year: 50 years sliding window)
        dmy = p[1].split('-')
        if len(dmy) != 3 or len(dmy[0]) != 2 or len(dmy[2]) != 2:
            return None
        yy = _num(dmy[2], 0, 99)
        if yy is None:
            return None
        y = 1900 + yy if yy >= 70 else 2000 + yy
        hh, mm, ss = _hms(p[2])
        return _to_epoch(y, _month(dmy[1]), _num(dmy[0], 1, 31), hh, mm, ss)
    if len(p) == 5 and p[0] in WEEKDAYS:
        # asctime: Sun Nov  6 08:49:37 1994
        if len(p[4]) != 4 or len(p[2]) > 2:
            return None
        hh, mm, ss = _hms(p[3])
        return _to_epoch(_num(p[4], 0, 9999), _month(p[1]), _num(p[2], 1, 31), hh, mm, ss)
    return None


def parse_amz_date(s):
    """Epoch seconds from '20130524T000000Z', or None."""
    if not s or len(s) != 16 or s[8] != 'T' or s[15] != 'Z':
        return None
    y = _num(s[0:4], 0, 9999)
    m = _num(s[4:6], 1, 12)
    d = _num(s[6:8], 1, 31)
    return _to_epoch(y, m, d, _num(s[9:11], 0, 23), _num(s[11:13], 0, 59), _num(s[13:15], 0, 60))


def parse_iso8601(s):
    """Epoch seconds from '2013-05-24T00:00:00Z' or '...00.000Z' (fraction dropped), or None."""
    if not s or len(s) < 20 or s[-1] != 'Z' or s[4] != '-' or s[7] != '-' or s[10] != 'T':
        return None
    hh, mm, ss = _hms(s[11:19])
    if len(s) > 20 and (s[19] != '.' or len(s) == 21 or s[20:-1].strip(_DIGITS)):
        return None
    return _to_epoch(_num(s[0:4], 0, 9999), _num(s[5:7], 1, 12), _num(s[8:10], 1, 31), hh, mm, ss)
