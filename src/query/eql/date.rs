//! Date parsing to epoch milliseconds: ISO-8601 (`strict_date_optional_time`), epoch millis,
//! and the Java `DateTimeFormatter` letters that index mappings use (`dd-MM-yyyy`), zone ids
//! resolved with the tzdb that `jiff` bundles.

use crate::query::calendar::{DAYS, MONTHS, days_from_civil, days_in_month};

struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            self.i += 1;
        }
        if self.i - start < min {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn civil_ms(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64, ms: i64) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    if !(-300_000..=300_000).contains(&y) {
        return None;
    }
    Some(((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
}

/// java.time's `ZoneOffset` range, which Elasticsearch enforces: -18:00 to +18:00, minutes
/// below 60.
pub(crate) fn valid_offset(hours: i64, minutes: i64) -> bool {
    hours <= 18 && minutes <= 59 && hours * 60 + minutes <= 18 * 60
}

/// ISO-8601 as Elasticsearch's `strict_date_optional_time`: `yyyy[-MM[-dd[Thh[:mm[:ss[.f]]]]]]`
/// with an optional `Z` or `±hh[:mm]` offset (UTC when absent).
pub fn parse_iso(s: &str) -> Option<i64> {
    let mut c = Cur {
        b: s.as_bytes(),
        i: 0,
    };
    let neg = c.eat(b'-');
    let y = c.digits(4, 9)?;
    let y = if neg { -y } else { y };
    let (mut mo, mut d, mut h, mut mi, mut sec, mut ms) = (1, 1, 0, 0, 0, 0);
    if c.eat(b'-') {
        mo = c.digits(2, 2)? as u32;
        if c.eat(b'-') {
            d = c.digits(2, 2)? as u32;
            if c.eat(b'T') || c.eat(b't') || c.eat(b' ') {
                h = c.digits(2, 2)?;
                if c.eat(b':') {
                    mi = c.digits(2, 2)?;
                    if c.eat(b':') {
                        sec = c.digits(2, 2)?;
                        if c.eat(b'.') || c.eat(b',') {
                            let start = c.i;
                            let frac = c.digits(1, 9)?;
                            let n = c.i - start;
                            ms = if n >= 3 {
                                frac / 10i64.pow(n as u32 - 3)
                            } else {
                                frac * 10i64.pow(3 - n as u32)
                            };
                        }
                    }
                }
            }
        }
    }
    let mut offset_min = 0;
    if c.eat(b'Z') || c.eat(b'z') {
    } else if c.b.get(c.i).is_some_and(|&b| b == b'+' || b == b'-') {
        let sign = if c.b[c.i] == b'-' { -1 } else { 1 };
        c.i += 1;
        let oh = c.digits(2, 2)?;
        c.eat(b':');
        let om = c.digits(0, 2).unwrap_or(0);
        if !valid_offset(oh, om) {
            return None;
        }
        offset_min = sign * (oh * 60 + om);
    }
    if !c.done() {
        return None;
    }
    civil_ms(y, mo, d, h, mi, sec, ms)?.checked_sub(offset_min * 60_000)
}

/// Date-time fields read so far by [`parse_with_pattern`].
#[derive(Clone)]
struct Parts {
    y: i64,
    mo: u32,
    d: u32,
    h: i64,
    mi: i64,
    sec: i64,
    ms: i64,
    /// Offset east of UTC in seconds.
    offset_sec: i64,
    /// A zone read by `VV` or `z`; it wins over an offset, as Elasticsearch resolves the
    /// parsed date in `TemporalQueries.zone()`, which prefers the zone id.
    zone: Option<Zone>,
    /// `W`: week of the month (root locale: Monday first, week 1 holds the 1st).
    week_of_month: Option<u32>,
    /// `a`: `Some(true)` for PM; the hour then comes from `h`/`K` (clock-hour of AM/PM).
    pm: Option<bool>,
    /// `D`: day of the year.
    day_of_year: Option<u32>,
    /// `Y`: week-based year; `w`: week of it; `e`/`c`/`E`: day of the week, 1 = Monday.
    week_year: Option<i64>,
    week: Option<u32>,
    day_of_week: Option<u32>,
    /// Minimal days of the first week: 4 under the ISO rules of the built-in week formats, 1
    /// for custom patterns (java.time's root locale: Monday first, one day is a week).
    min_days: u32,
}

/// Matches one of `names` (full when `n >= 4`, else the three-letter form) at the cursor;
/// returns its 0-based index. Case-sensitive, as java.time parses by default.
fn name_at(c: &mut Cur<'_>, names: &[&str], n: usize) -> Option<usize> {
    let rest = &c.b[c.i..];
    let (i, len) = names.iter().enumerate().find_map(|(i, full)| {
        let want = if n >= 4 { *full } else { &full[..3] };
        rest.starts_with(want.as_bytes()).then_some((i, want.len()))
    })?;
    c.i += len;
    Some(i)
}

/// A zone offset as java.time's `appendOffset` parses it strictly, in seconds. `Z`..`ZZZ`,
/// `xx`: `+HHMM`; `X`, `x`: `+HH[mm]`; `XX`: `+HHMM`; `XXX`, `xxx`: `+HH:MM`; `XXXX`, `xxxx`:
/// `+HHMM[ss]`; `XXXXX`, `xxxxx`, `ZZZZZ`: `+HH:MM[:ss]`; `ZZZZ` is the localized `GMT+08:00`.
/// The zero text (`Z` for `X` and `ZZZZZ`, `+00`/`+0000`/`+00:00` otherwise) is tried first.
fn offset_at(c: &mut Cur<'_>, letter: char, n: usize) -> Option<i64> {
    if letter == 'Z' && n == 4 {
        return localized_offset_at(c, true);
    }
    let colon = n == 5 || (n == 3 && letter != 'Z');
    let zero_text = match (letter, n) {
        ('X', _) | ('Z', 5) => "Z",
        ('Z', _) | ('x', 2 | 4) => "+0000",
        ('x', 1) => "+00",
        _ => "+00:00",
    };
    if c.b[c.i..].starts_with(zero_text.as_bytes()) {
        c.i += zero_text.len();
        return Some(0);
    }
    let minutes_optional = letter != 'Z' && n == 1;
    let seconds = n >= 4 && !(letter == 'Z' && n == 4);
    signed_offset(c, colon, minutes_optional, seconds)
}

/// `±HH`, then minutes (`[:]MM`, optional when `minutes_optional`) and, when `seconds`, an
/// optional `[:]ss`. Fields past 23/59/59 or a total beyond ±18:00 are no offset.
fn signed_offset(
    c: &mut Cur<'_>,
    colon: bool,
    minutes_optional: bool,
    seconds: bool,
) -> Option<i64> {
    let sign = match c.b.get(c.i)? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.i += 1;
    let oh = c.digits(2, 2)?;
    let part = |c: &mut Cur<'_>, optional: bool| -> Option<i64> {
        let at = c.i;
        let v = (!colon || c.eat(b':')).then(|| c.digits(2, 2)).flatten();
        match v {
            Some(v) => Some(v),
            None if optional => {
                c.i = at;
                Some(0)
            }
            None => None,
        }
    };
    let om = part(c, minutes_optional)?;
    let os = if seconds { part(c, true)? } else { 0 };
    let total = oh * 3600 + om * 60 + os;
    if oh > 23 || om > 59 || os > 59 || total > 18 * 3600 {
        return None;
    }
    Some(sign * total)
}

/// java.time's localized offset (`O`, `OOOO`, `ZZZZ`): `GMT` alone is zero; `full` reads
/// `GMT±HH:MM[:ss]`, the short form `GMT±H[H][:MM[:ss]]`.
fn localized_offset_at(c: &mut Cur<'_>, full: bool) -> Option<i64> {
    if !c.b[c.i..].starts_with(b"GMT") {
        return None;
    }
    c.i += 3;
    let sign = match c.b.get(c.i) {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Some(0),
    };
    c.i += 1;
    let (h, m, s) = if full {
        let h = c.digits(2, 2)?;
        if !c.eat(b':') {
            return None;
        }
        let m = c.digits(2, 2)?;
        (h, m, colon_pair(c).unwrap_or(0))
    } else {
        let h = c.digits(1, 2)?;
        let m = colon_pair(c);
        let s = m.and_then(|_| colon_pair(c));
        (h, m.unwrap_or(0), s.unwrap_or(0))
    };
    let total = h * 3600 + m * 60 + s;
    if h > 23 || m > 59 || s > 59 || total > 18 * 3600 {
        return None;
    }
    Some(sign * total)
}

/// `:dd` if both digits follow the colon; the cursor stays put otherwise.
fn colon_pair(c: &mut Cur<'_>) -> Option<i64> {
    let at = c.i;
    let v = c.eat(b':').then(|| c.digits(2, 2)).flatten();
    if v.is_none() {
        c.i = at;
    }
    v
}

/// A parsed zone: a fixed offset (`+01:00`, `UTC+01:00`, `Z`, `GMT`) or a tzdb region.
#[derive(Clone)]
enum Zone {
    Fixed(i64),
    Region(jiff::tz::TimeZone),
}

/// The tzdb region ids, sorted longest first so the first prefix found is the longest, as
/// java.time's prefix tree matches.
fn region_ids() -> &'static [String] {
    static IDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        let mut ids: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .collect();
        ids.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        ids
    })
}

/// A zone id as java.time's `appendZoneId` (`VV`) parses it, case-sensitively: `±HH:MM[:ss]`;
/// `UTC`, `GMT`, `UT` alone or followed by such an offset (`GMT0` is `GMT`); a tzdb region id
/// (`Europe/Paris`, longest match); else `Z`. With `names` (`z`), `UTC` is left to the region
/// ids, as java.time's zone-text parser does; zone names (`PST`, `Pacific Standard Time`) are
/// locale data ruleforge does not carry and do not parse.
fn zone_at(c: &mut Cur<'_>, names: bool) -> Option<Zone> {
    let rest = &c.b[c.i..];
    match rest.first()? {
        b'+' | b'-' => return signed_offset(c, true, false, true).map(Zone::Fixed),
        _ => {}
    }
    let prefix = if rest.starts_with(b"GMT0") {
        c.i += 4;
        return Some(Zone::Fixed(0));
    } else if rest.starts_with(b"GMT") {
        3
    } else if rest.starts_with(b"UTC") {
        if names { 0 } else { 3 }
    } else if rest.starts_with(b"UT") && !rest.starts_with(b"UTC") {
        2
    } else {
        0
    };
    if prefix > 0 {
        c.i += prefix;
        // An offset after the prefix is part of the id when it parses; `0`/`Z` never are.
        if matches!(c.b.get(c.i), Some(b'+' | b'-')) {
            let at = c.i;
            if let Some(off) = signed_offset(c, true, false, true) {
                return Some(Zone::Fixed(off));
            }
            c.i = at;
        }
        return Some(Zone::Fixed(0));
    }
    let rest = std::str::from_utf8(&c.b[c.i..]).ok();
    if let Some(id) = rest.and_then(|r| region_ids().iter().find(|id| r.starts_with(id.as_str()))) {
        let tz = jiff::tz::db().get(id).ok()?;
        c.i += id.len();
        return Some(Zone::Region(tz));
    }
    if c.eat(b'Z') {
        return Some(Zone::Fixed(0));
    }
    None
}

/// Reads one pattern letter run (`ch` repeated `n` times) into `p`; `adjacent`: another letter
/// follows at once (`yyyyMMdd`), so a year takes exactly its width, as java.time's adjacent
/// value parsing does.
fn letter(c: &mut Cur<'_>, ch: char, n: usize, adjacent: bool, p: &mut Parts) -> Option<()> {
    match ch {
        'y' | 'u' => {
            p.y = match (n, adjacent) {
                (2, _) => c.digits(2, 2)?,
                (_, true) => c.digits(n.max(4), n.max(4))?,
                _ => c.digits(1, 9)?,
            };
            if n == 2 {
                // java.time's two-digit year: 2000–2099.
                p.y += 2000;
            }
        }
        'M' | 'L' if n >= 3 => p.mo = name_at(c, &MONTHS, n)? as u32 + 1,
        'M' | 'L' => p.mo = c.digits(n.min(2), 2)? as u32,
        'd' => p.d = c.digits(n.min(2), 2)? as u32,
        'D' => p.day_of_year = Some(c.digits(n.min(3), 3)? as u32),
        'H' => p.h = c.digits(n.min(2), 2)?,
        'k' => p.h = c.digits(n.min(2), 2)? % 24,
        'h' => p.h = c.digits(n.min(2), 2)?.checked_sub(1).filter(|h| *h < 12)? + 1,
        'K' => p.h = Some(c.digits(n.min(2), 2)?).filter(|h| *h < 12)?,
        'm' => p.mi = c.digits(n.min(2), 2)?,
        's' => p.sec = c.digits(n.min(2), 2)?,
        'S' => {
            let start = c.i;
            let frac = c.digits(1, 9)?;
            let got = c.i - start;
            p.ms = if got >= 3 {
                frac / 10i64.pow(got as u32 - 3)
            } else {
                frac * 10i64.pow(3 - got as u32)
            };
        }
        'a' => {
            p.pm = Some(match c.b.get(c.i..c.i + 2)? {
                b"AM" => false,
                b"PM" => true,
                _ => return None,
            });
            c.i += 2;
        }
        'E' => p.day_of_week = Some(name_at(c, &DAYS, n)? as u32 + 1),
        'e' | 'c' if n >= 3 => p.day_of_week = Some(name_at(c, &DAYS, n)? as u32 + 1),
        'e' | 'c' => {
            let d = c.digits(1, 1)?;
            p.day_of_week = Some((1..=7).contains(&d).then_some(d as u32)?);
        }
        'Y' => {
            let y = match (n, adjacent) {
                (2, _) => c.digits(2, 2)? + 2000,
                (_, true) => c.digits(n.max(4), n.max(4))?,
                _ => c.digits(1, 9)?,
            };
            p.week_year = Some(y);
        }
        'w' => p.week = Some(c.digits(n.min(2), 2)? as u32),
        'Z' | 'X' | 'x' => p.offset_sec = offset_at(c, ch, n)?,
        'O' => p.offset_sec = localized_offset_at(c, n == 4)?,
        'V' => p.zone = Some(zone_at(c, false)?),
        'z' => p.zone = Some(zone_at(c, true)?),
        'W' => p.week_of_month = Some(c.digits(1, 1)? as u32),
        _ => return None,
    }
    Some(())
}

/// Parses with one Java `DateTimeFormatter` pattern: optional sections `[…]`, `y`/`u` (`yy` =
/// 2000–2099), `Y`/`w`/`e`/`c` (week-based year, week and day of week, root-locale rules), `W`
/// (week of month, with a day of week), `M`/`L` (`MMM` `Jan`, `MMMM` `January`), `d`, `D` (day
/// of year), `H`, `k`, `h`/`K` with `a` (`AM`/`PM`), `m`, `s`, `S…` (a fraction of 1–9
/// digits), `E` (day name, read and not checked), `Z`/`X`/`x`/`O` offsets, `VV`/`z` zones
/// (tzdb), quoted literals; other characters are literal. Unknown letters make the pattern
/// unusable (no match) rather than guessed.
pub fn parse_with_pattern(s: &str, pattern: &str) -> Option<i64> {
    parse_pattern(s, pattern, 1)
}

fn parse_pattern(s: &str, pattern: &str, min_days: u32) -> Option<i64> {
    let mut c = Cur {
        b: s.as_bytes(),
        i: 0,
    };
    let mut p = Parts {
        y: 1970,
        mo: 1,
        d: 1,
        h: 0,
        mi: 0,
        sec: 0,
        ms: 0,
        offset_sec: 0,
        zone: None,
        week_of_month: None,
        pm: None,
        day_of_year: None,
        week_year: None,
        week: None,
        day_of_week: None,
        min_days,
    };
    let pat: Vec<char> = pattern.chars().collect();
    sequence(&pat, &mut c, &mut p)?;
    if !c.done() {
        return None;
    }
    resolve(&p)
}

/// The index after the `]` that closes the optional section opening at `open` (quotes and
/// nested sections skipped).
fn section_end(pat: &[char], open: usize) -> Option<usize> {
    let (mut depth, mut quoted) = (0usize, false);
    for (k, &ch) in pat.iter().enumerate().skip(open) {
        match ch {
            '\'' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses `pat` at the cursor. An optional section `[…]` (nestable) is parsed if it can be, as
/// java.time does: when it fails, the cursor and every field it read are restored and the
/// section is skipped; there is no backtracking into a section that succeeded.
fn sequence(pat: &[char], c: &mut Cur<'_>, p: &mut Parts) -> Option<()> {
    let mut k = 0;
    while k < pat.len() {
        let ch = pat[k];
        if ch == '[' {
            let end = section_end(pat, k)?;
            let (at, saved) = (c.i, p.clone());
            if sequence(&pat[k + 1..end - 1], c, p).is_none() {
                c.i = at;
                *p = saved;
            }
            k = end;
            continue;
        }
        if ch == ']' {
            // An unopened `]` makes the pattern invalid, as in java.time.
            return None;
        }
        if ch == '\'' {
            k += 1;
            if pat.get(k) == Some(&'\'') {
                // '' is a literal quote.
                if !c.eat(b'\'') {
                    return None;
                }
                k += 1;
                continue;
            }
            loop {
                match (pat.get(k), pat.get(k + 1)) {
                    (None, _) => break,
                    // '' inside quotes is a literal quote.
                    (Some('\''), Some('\'')) => {
                        literal(c, '\'')?;
                        k += 2;
                    }
                    (Some('\''), _) => break,
                    (Some(&ch), _) => {
                        literal(c, ch)?;
                        k += 1;
                    }
                }
            }
            k += 1;
            continue;
        }
        if ch.is_ascii_alphabetic() {
            let mut n = 1;
            while k + n < pat.len() && pat[k + n] == ch {
                n += 1;
            }
            k += n;
            let adjacent = pat.get(k).is_some_and(char::is_ascii_alphabetic);
            letter(c, ch, n, adjacent, p)?;
            continue;
        }
        literal(c, ch)?;
        k += 1;
    }
    Some(())
}

fn literal(c: &mut Cur<'_>, ch: char) -> Option<()> {
    let mut buf = [0u8; 4];
    for &b in ch.encode_utf8(&mut buf).as_bytes() {
        if !c.eat(b) {
            return None;
        }
    }
    Some(())
}

/// Epoch millis from the parsed parts (AM/PM, day of year, offset and zone applied).
fn resolve(p: &Parts) -> Option<i64> {
    let mut h = p.h;
    if let Some(pm) = p.pm {
        h = h % 12 + if pm { 12 } else { 0 };
    }
    let local = if p.week_year.is_some() || p.week.is_some() {
        week_date_ms(p, h)?
    } else if p.week_of_month.is_some() {
        week_of_month_ms(p, h)?
    } else {
        civil_local_ms(p, h)?
    };
    match &p.zone {
        None => local.checked_sub(p.offset_sec * 1000),
        Some(Zone::Fixed(off)) => local.checked_sub(off * 1000),
        Some(Zone::Region(tz)) => in_zone(local, tz),
    }
}

/// The instant of local time `local_ms` (epoch millis read as UTC wall time) in `tz`, as
/// `ZonedDateTime.of` resolves it: in a gap, later by the gap's length; in an overlap, the
/// earlier offset.
fn in_zone(local_ms: i64, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let wall =
        jiff::tz::TimeZone::UTC.to_datetime(jiff::Timestamp::from_millisecond(local_ms).ok()?);
    let ts = tz.to_ambiguous_timestamp(wall).compatible().ok()?;
    Some(ts.as_millisecond())
}

/// Year, month, `W` and day of week (root locale: Monday first, week 1 holds the 1st), strictly:
/// the day must fall in that month, as java.time's strict resolver demands.
fn week_of_month_ms(p: &Parts, h: i64) -> Option<i64> {
    let w = i64::from(p.week_of_month?);
    let dow = i64::from(p.day_of_week?);
    if !(1..=12).contains(&p.mo) || !(-300_000..=300_000).contains(&p.y) {
        return None;
    }
    let first = days_from_civil(p.y, p.mo, 1);
    // 1970-01-01 was a Thursday: Monday-based weekday 3.
    let monday_of_week_one = first - (first + 3).rem_euclid(7);
    let day = monday_of_week_one + (w - 1) * 7 + dow - 1;
    let dom = day - first + 1;
    if dom < 1 || dom > i64::from(days_in_month(p.y, p.mo)) {
        return None;
    }
    civil_ms(p.y, p.mo, dom as u32, h, p.mi, p.sec, p.ms)
}

/// Epoch millis of the local date-time fields (month/day or day of year), offset not applied.
fn civil_local_ms(p: &Parts, h: i64) -> Option<i64> {
    let (mo, d) = match p.day_of_year {
        None => (p.mo, p.d),
        Some(doy) => {
            let mut left = doy;
            let mut mo = 1;
            while mo <= 12 && left > days_in_month(p.y, mo) {
                left -= days_in_month(p.y, mo);
                mo += 1;
            }
            if doy == 0 || mo > 12 {
                return None;
            }
            (mo, left)
        }
    };
    civil_ms(p.y, mo, d, h, p.mi, p.sec, p.ms)
}

/// Epoch day of the Monday that starts week 1 of week-based year `y`: the week holding
/// January `min_days`.
fn week_one(y: i64, min_days: u32) -> i64 {
    let jan = days_from_civil(y, 1, min_days);
    // 1970-01-01 was a Thursday: Monday-based weekday 3.
    jan - (jan + 3).rem_euclid(7)
}

/// A week-based date (`Y`, `w`, day of week; week 1 and Monday when absent), strictly: a week
/// past the year's last is no date.
fn week_date_ms(p: &Parts, h: i64) -> Option<i64> {
    let y = p.week_year?;
    if !(-300_000..=300_000).contains(&y) || h > 23 || p.mi > 59 || p.sec > 59 {
        return None;
    }
    let start = week_one(y, p.min_days);
    let weeks = (week_one(y + 1, p.min_days) - start) / 7;
    let w = i64::from(p.week.unwrap_or(1));
    if w < 1 || w > weeks {
        return None;
    }
    let day = start + (w - 1) * 7 + i64::from(p.day_of_week.unwrap_or(1)) - 1;
    Some(((day * 24 + h) * 60 + p.mi) * 60_000 + p.sec * 1000 + p.ms)
}

/// Elasticsearch's built-in week formats: ISO week rules (Monday first, week 1 holds January 4).
fn named_week_pattern(name: &str) -> Option<&'static str> {
    Some(match name.strip_prefix("strict_").unwrap_or(name) {
        "weekyear" => "YYYY",
        "weekyear_week" => "YYYY-'W'ww",
        "weekyear_week_day" | "week_date" => "YYYY-'W'ww-e",
        "basic_week_date" => "YYYY'W'wwe",
        _ => return None,
    })
}

/// Elasticsearch's built-in named formats as java.time patterns (`strict_` variants alike).
fn named_pattern(name: &str) -> Option<&'static str> {
    Some(match name.strip_prefix("strict_").unwrap_or(name) {
        "basic_date" => "yyyyMMdd",
        "basic_date_time" => "yyyyMMdd'T'HHmmss.SSSX",
        "basic_date_time_no_millis" => "yyyyMMdd'T'HHmmssX",
        "basic_ordinal_date" => "yyyyDDD",
        "ordinal_date" => "yyyy-DDD",
        "year_month_day" => "yyyy-MM-dd",
        "year_month" => "yyyy-MM",
        "year" => "yyyy",
        "date_hour" => "yyyy-MM-dd'T'HH",
        "date_hour_minute" => "yyyy-MM-dd'T'HH:mm",
        "date_hour_minute_second" => "yyyy-MM-dd'T'HH:mm:ss",
        "date_hour_minute_second_millis" | "date_hour_minute_second_fraction" => {
            "yyyy-MM-dd'T'HH:mm:ss.SSS"
        }
        "date_time_no_millis" => "yyyy-MM-dd'T'HH:mm:ssXXX",
        "hour" => "HH",
        "hour_minute" => "HH:mm",
        "hour_minute_second" => "HH:mm:ss",
        "hour_minute_second_millis" | "hour_minute_second_fraction" => "HH:mm:ss.SSS",
        _ => return None,
    })
}

const ISO_NAMES: [&str; 8] = [
    "strict_date_optional_time",
    "date_optional_time",
    "strict_date_optional_time_nanos",
    "strict_date_time",
    "date_time",
    "iso8601",
    "strict_date",
    "date",
];

/// Pattern letters [`parse_with_pattern`] understands.
const PATTERN_LETTERS: &str = "yuMLdDHkhKmsSaEZXxOVzYwWec";

/// Checks every part of a mapping's `format` is one this module can parse, so that a field
/// with an unsupported format is reported instead of never matching.
pub fn check_format(format: &str) -> Result<(), String> {
    for f in format.split("||").map(str::trim) {
        if f == "epoch_millis" || f == "epoch_second" || ISO_NAMES.contains(&f) {
            continue;
        }
        if named_pattern(f).is_some() || named_week_pattern(f).is_some() {
            continue;
        }
        let (mut quoted, mut depth) = (false, 0i32);
        let (chars, mut k) = (f.chars().collect::<Vec<_>>(), 0);
        let has_day_of_week = chars.iter().any(|c| matches!(c, 'e' | 'c' | 'E'));
        while k < chars.len() {
            let ch = chars[k];
            let mut n = 1;
            if ch == '\'' {
                quoted = !quoted;
            } else if quoted {
            } else if ch == '[' || ch == ']' {
                depth += if ch == '[' { 1 } else { -1 };
                if depth < 0 {
                    return Err(format!("invalid date format [{f}]: `]` closes no `[`"));
                }
            } else if ch.is_ascii_alphabetic() {
                while chars.get(k + n) == Some(&ch) {
                    n += 1;
                }
                if !PATTERN_LETTERS.contains(ch) {
                    return Err(format!(
                        "unsupported date format [{f}] (pattern letter `{ch}`)"
                    ));
                }
                // java.time refuses these counts when the pattern is built.
                let bad_count = match ch {
                    'V' => n != 2,
                    'z' => n > 4,
                    'O' => n != 1 && n != 4,
                    'X' | 'x' | 'Z' => n > 5,
                    _ => false,
                };
                if bad_count {
                    return Err(format!(
                        "invalid date format [{f}]: {n} × `{ch}` is not a valid count"
                    ));
                }
                // Without a day of week, a week of month resolves to no date in java.time's
                // strict resolver.
                if ch == 'W' && !has_day_of_week {
                    return Err(format!(
                        "unsupported date format [{f}]: `W` (week of month) needs a day of week (`e`, `c` or `E`)"
                    ));
                }
            }
            k += n;
        }
        if depth != 0 {
            return Err(format!("invalid date format [{f}]: `[` without `]`"));
        }
    }
    Ok(())
}

/// Parses a date string with an Elasticsearch `format` (`a||b`, named or pattern formats).
pub fn parse_with_format(s: &str, format: &str) -> Option<i64> {
    for f in format.split("||") {
        let f = f.trim();
        let r = match f {
            "epoch_millis" => s.trim().parse::<i64>().ok(),
            "epoch_second" => s.trim().parse::<i64>().ok().map(|v| v * 1000),
            _ if ISO_NAMES.contains(&f) => parse_iso(s),
            _ => match named_week_pattern(f) {
                Some(w) => parse_pattern(s, w, 4),
                None => parse_with_pattern(s, named_pattern(f).unwrap_or(f)),
            },
        };
        if r.is_some() {
            return r;
        }
    }
    None
}

/// The default date format of a `date` field.
pub const DEFAULT_FORMAT: &str = "strict_date_optional_time||epoch_millis";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_and_patterns() {
        assert_eq!(parse_iso("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso("2017-08-30T20:47:33Z"), Some(1_504_126_053_000));
        assert_eq!(
            parse_iso("2017-08-30T20:47:33.5+01:00"),
            Some(1_504_122_453_500)
        );
        assert_eq!(parse_iso("2022-12-17"), Some(1_671_235_200_000));
        assert_eq!(parse_iso("2022-13-17"), None);
        assert_eq!(parse_iso("2024-02-29"), Some(1_709_164_800_000));
        for impossible in [
            "2023-02-29",
            "2100-02-29",
            "2026-02-31",
            "2026-04-31",
            "2026-01-32",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00+99:99",
            "2026-01-01T00:00:00+19:00",
            "2026-01-01T00:00:00+18:01",
            "2026-01-01T00:00:00-01:60",
        ] {
            assert_eq!(parse_iso(impossible), None, "{impossible}");
        }
        assert!(parse_iso("2026-01-01T00:00:00+18:00").is_some());
        assert!(parse_iso("2026-01-01T00:00:00-18:00").is_some());
        assert_eq!(parse_iso("999999999-01-01"), None);
        assert_eq!(parse_with_pattern("999999999", "yyyy"), None);
        assert_eq!(
            parse_with_pattern("17-12-2022", "dd-MM-yyyy"),
            Some(1_671_235_200_000)
        );
        assert_eq!(
            parse_with_format("1671235200000", DEFAULT_FORMAT),
            Some(1_671_235_200_000)
        );
    }

    #[test]
    fn java_pattern_letters() {
        let day = 1_671_235_200_000; // 2022-12-17T00:00:00Z
        let hour = 3_600_000;
        for (s, pattern, want) in [
            (
                "2022/12/17 01:00:00 +0100",
                "yyyy/MM/dd HH:mm:ss Z",
                Some(day),
            ),
            ("2022/12/17 -0130", "yyyy/MM/dd Z", Some(day + 90 * 60_000)),
            (
                "2022-12-17T00:00:00Z",
                "yyyy-MM-dd'T'HH:mm:ssXXX",
                Some(day),
            ),
            (
                "2022-12-17T02:00:00+02:00",
                "yyyy-MM-dd'T'HH:mm:ssXXX",
                Some(day),
            ),
            (
                "2022-12-17T02:00:00+02",
                "yyyy-MM-dd'T'HH:mm:ssX",
                Some(day),
            ),
            ("17 Dec 2022", "dd MMM yyyy", Some(day)),
            ("17 December 2022", "dd MMMM yyyy", Some(day)),
            ("Sat, 17 Dec 2022", "EEE, dd MMM yyyy", Some(day)),
            (
                "12/17/22 03:00 PM",
                "MM/dd/yy hh:mm a",
                Some(day + 15 * hour),
            ),
            ("12/17/22 12:00 AM", "MM/dd/yy hh:mm a", Some(day)),
            ("2022-351", "yyyy-DDD", Some(day)),
            ("it's 2022-12-17", "'it''s' yyyy-MM-dd", Some(day)),
            ("17 dec 2022", "dd MMM yyyy", None),
            ("2022/12/17 +2500", "yyyy/MM/dd Z", None),
            ("2022/12/17 Z", "yyyy/MM/dd Z", None),
            ("12/17/22 13:00 PM", "MM/dd/yy hh:mm a", None),
            ("2022-12-17 AD", "yyyy-MM-dd G", None),
            ("20221217", "yyyyMMdd", Some(day)),
            ("2022351", "yyyyDDD", Some(day)),
        ] {
            assert_eq!(parse_with_pattern(s, pattern), want, "{s} as {pattern}");
        }
    }

    #[test]
    fn named_formats_and_format_checks() {
        let day = Some(1_671_235_200_000);
        assert_eq!(parse_with_format("20221217", "basic_date"), day);
        assert_eq!(
            parse_with_format("20221217T010000Z", "basic_date_time_no_millis"),
            Some(1_671_238_800_000)
        );
        assert_eq!(
            parse_with_format("2022-12-17", "strict_year_month_day"),
            day
        );
        assert_eq!(parse_with_format("2022-351", "ordinal_date"), day);
        assert_eq!(
            parse_with_format("2022-12-17T00:00", "date_hour_minute"),
            day
        );
        assert_eq!(
            parse_with_format("x||2022-12-17", "basic_date||year_month_day"),
            None
        );
        assert!(check_format("dd-MM-yyyy||epoch_millis||basic_date").is_ok());
        assert!(check_format("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").is_ok());
        assert!(check_format("week_date").is_ok());
        assert!(check_format("yyyy-MM-dd[ HH:mm]").is_ok());
        assert!(check_format("yyyy-MM-dd[ HH:mm").is_err());
        assert!(check_format("yyyy-MM-dd'T'HH:mmVV").is_ok());
        assert!(check_format("yyyy-MM-dd HH:mm z").is_ok());
        // Generic zone names need locale data; V must come in pairs; O once or four times.
        assert!(check_format("yyyy-MM-dd HH:mm v").is_err());
        assert!(check_format("yyyy-MM-dd HH:mm V").is_err());
        assert!(check_format("yyyy-MM-dd HH:mm OO").is_err());
        assert!(check_format("yyyy-MM-dd HH:mm XXXXXX").is_err());
        assert!(check_format("yyyy-MM W").is_err());
        assert!(check_format("yyyy-MM W e").is_ok());
    }

    #[test]
    fn optional_sections_parse_when_they_can_and_are_skipped_when_not() {
        let day = parse_iso("2024-03-05").unwrap();
        let f = "yyyy-MM-dd[ HH:mm[:ss]][XXX]";
        assert_eq!(parse_with_pattern("2024-03-05", f), Some(day));
        assert_eq!(
            parse_with_pattern("2024-03-05 10:20", f),
            parse_iso("2024-03-05T10:20:00Z")
        );
        assert_eq!(
            parse_with_pattern("2024-03-05 10:20:30+02:00", f),
            parse_iso("2024-03-05T10:20:30+02:00")
        );
        // A section that fails leaves what it read behind: `10` alone is not ` HH:mm`.
        assert_eq!(parse_with_pattern("2024-03-05 10", f), None);
        // `]` inside quotes is a literal.
        assert_eq!(
            parse_with_pattern("2024-03-05]", "yyyy-MM-dd[']']"),
            Some(day)
        );
    }

    #[test]
    fn week_based_fields() {
        // Custom patterns: java.time's root locale, Monday first and week 1 holds January 1.
        // 2021-01-01 was a Friday, so week 1 of 2021 starts on Monday 2020-12-28.
        assert_eq!(
            parse_with_pattern("2021-01-1", "YYYY-ww-e"),
            parse_iso("2020-12-28")
        );
        assert_eq!(
            parse_with_pattern("2021 02 Wednesday", "YYYY ww EEEE"),
            parse_iso("2021-01-06")
        );
        // The built-in week formats use ISO rules: week 1 holds January 4, so ISO week 1 of
        // 2021 starts on Monday 2021-01-04, and 2020 has 53 weeks.
        assert_eq!(
            parse_with_format("2021-W01-1", "week_date"),
            parse_iso("2021-01-04")
        );
        assert_eq!(
            parse_with_format("2020-W53-7", "strict_week_date"),
            parse_iso("2021-01-03")
        );
        assert_eq!(parse_with_format("2021-W53-1", "week_date"), None);
        assert_eq!(
            parse_with_format("2021W017", "basic_week_date"),
            parse_iso("2021-01-10")
        );
        assert_eq!(
            parse_with_format("2021-W02", "weekyear_week"),
            parse_iso("2021-01-11")
        );
        assert_eq!(parse_with_pattern("2021-01-8", "YYYY-ww-e"), None);
    }

    #[test]
    fn zone_ids_and_names() {
        let at = |s: &str| parse_iso(s);
        let p = parse_with_pattern;
        // VV: a tzdb region, its rules deciding the offset (CET in winter, CEST in summer).
        let f = "yyyy-MM-dd HH:mm VV";
        assert_eq!(
            p("2024-01-15 12:00 Europe/Paris", f),
            at("2024-01-15T11:00:00Z")
        );
        assert_eq!(
            p("2024-07-15 12:00 Europe/Paris", f),
            at("2024-07-15T10:00:00Z")
        );
        assert_eq!(
            p("2024-07-15 12:00 America/New_York", f),
            at("2024-07-15T16:00:00Z")
        );
        // Longest id wins: `America/Indiana/Indianapolis` over a shorter prefix.
        assert_eq!(
            p("2024-01-15 12:00 America/Indiana/Indianapolis", f),
            at("2024-01-15T17:00:00Z")
        );
        // Offsets and the UTC/GMT/UT prefixes are ids too; `Z` is UTC.
        assert_eq!(p("2024-01-15 12:00 +05:30", f), at("2024-01-15T06:30:00Z"));
        assert_eq!(
            p("2024-01-15 12:00 UTC+01:00", f),
            at("2024-01-15T11:00:00Z")
        );
        assert_eq!(
            p("2024-01-15 12:00 GMT-02:00", f),
            at("2024-01-15T14:00:00Z")
        );
        assert_eq!(p("2024-01-15 12:00 UT", f), at("2024-01-15T12:00:00Z"));
        assert_eq!(p("2024-01-15 12:00 Z", f), at("2024-01-15T12:00:00Z"));
        // Ids are case-sensitive, unknown ids and offsets past ±18:00 are no zone.
        assert_eq!(p("2024-01-15 12:00 europe/paris", f), None);
        assert_eq!(p("2024-01-15 12:00 Mars/Olympus", f), None);
        assert_eq!(p("2024-01-15 12:00 +19:00", f), None);
        // A gap moves later by its length; an overlap takes the earlier offset.
        assert_eq!(
            p("2024-03-31 02:30 Europe/Paris", f),
            at("2024-03-31T01:30:00Z")
        );
        assert_eq!(
            p("2024-10-27 02:30 Europe/Paris", f),
            at("2024-10-27T00:30:00Z")
        );
        // The zone wins over an offset also read, as Elasticsearch resolves the zone first.
        assert_eq!(
            p(
                "2024-01-15T12:00+09:00[Europe/Paris]",
                "yyyy-MM-dd'T'HH:mmXXX'['VV']'"
            ),
            at("2024-01-15T11:00:00Z")
        );
        // A date alone starts its day in the zone.
        assert_eq!(
            p("2024-01-15 Asia/Tokyo", "yyyy-MM-dd VV"),
            at("2024-01-14T15:00:00Z")
        );
        // z: region ids and GMT forms parse; zone names do not (no locale data).
        let z = "yyyy-MM-dd HH:mm z";
        assert_eq!(
            p("2024-07-15 12:00 Europe/Paris", z),
            at("2024-07-15T10:00:00Z")
        );
        assert_eq!(
            p("2024-07-15 12:00 GMT+02:00", z),
            at("2024-07-15T10:00:00Z")
        );
        assert_eq!(p("2024-07-15 12:00 UTC", z), at("2024-07-15T12:00:00Z"));
        assert_eq!(p("2024-07-15 12:00 PDT", z), None);
    }

    #[test]
    fn offsets_by_letter_count() {
        let at = |s: &str| parse_iso(s);
        let p = |s: &str, f: &str| {
            parse_with_pattern(
                &format!("2024-01-15 12:00 {s}"),
                &format!("yyyy-MM-dd HH:mm {f}"),
            )
        };
        let noon = at("2024-01-15T12:00:00Z");
        let plus = |h: i64, m: i64, s: i64| noon.map(|t| t - (h * 3600 + m * 60 + s) * 1000);
        // O: GMT with a short offset; OOOO and ZZZZ: GMT with a full one; GMT alone is zero.
        assert_eq!(p("GMT+8", "O"), plus(8, 0, 0));
        assert_eq!(p("GMT-5:30", "O"), plus(-5, -30, 0));
        assert_eq!(p("GMT", "O"), noon);
        assert_eq!(p("GMT+08:00", "OOOO"), plus(8, 0, 0));
        assert_eq!(p("GMT+8", "OOOO"), None);
        assert_eq!(p("GMT-03:00", "ZZZZ"), plus(-3, 0, 0));
        // XXXX/xxxx: +HHMM with optional seconds; XXXXX/xxxxx/ZZZZZ: the same with colons.
        assert_eq!(p("+013015", "XXXX"), plus(1, 30, 15));
        assert_eq!(p("+0130", "xxxx"), plus(1, 30, 0));
        assert_eq!(p("+01:30:15", "XXXXX"), plus(1, 30, 15));
        assert_eq!(p("-01:30", "ZZZZZ"), plus(-1, -30, 0));
        assert_eq!(p("Z", "ZZZZZ"), noon);
        assert_eq!(p("Z", "xxx"), None);
        assert_eq!(p("+01:30", "XXXX"), None);
        // x's zero text `+00` is tried first, so `+0000` leaves `00` unread.
        assert_eq!(p("+00", "x"), noon);
        assert_eq!(p("+0000", "x"), None);
    }

    #[test]
    fn week_of_month() {
        // Root locale: Monday first and week 1 holds the 1st. 2024-05-01 was a Wednesday, so
        // week 1 of May 2024 runs Monday 04-29 to Sunday 05-05.
        let p = parse_with_pattern;
        assert_eq!(p("2024-05 1 3", "yyyy-MM W e"), parse_iso("2024-05-01"));
        assert_eq!(p("2024-05 2 1", "yyyy-MM W e"), parse_iso("2024-05-06"));
        assert_eq!(p("2024-05 5 5", "yyyy-MM W e"), parse_iso("2024-05-31"));
        // Days of week 1 before the 1st belong to April: strict resolution refuses them.
        assert_eq!(p("2024-05 1 1", "yyyy-MM W e"), None);
        assert_eq!(p("2024-05 6 1", "yyyy-MM W e"), None);
    }
}
