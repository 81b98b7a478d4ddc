//! Date parsing to epoch milliseconds: ISO-8601 (`strict_date_optional_time`), epoch millis,
//! and the Java `DateTimeFormatter` letters that index mappings use (`dd-MM-yyyy`).

use crate::query::calendar::days_from_civil;
use crate::query::calendar::days_in_month;

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

/// Parses with one Java-style pattern (`yyyy`, `MM`, `dd`, `HH`, `mm`, `ss`, `SSS`, quoted
/// literals, other characters literal). Unknown letters make the pattern unusable.
pub fn parse_with_pattern(s: &str, pattern: &str) -> Option<i64> {
    let mut c = Cur {
        b: s.as_bytes(),
        i: 0,
    };
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec, mut ms) = (1970, 1, 1, 0, 0, 0, 0);
    let p: Vec<char> = pattern.chars().collect();
    let mut k = 0;
    while k < p.len() {
        let ch = p[k];
        if ch == '\'' {
            k += 1;
            while k < p.len() && p[k] != '\'' {
                let mut buf = [0u8; 4];
                for &b in p[k].encode_utf8(&mut buf).as_bytes() {
                    if !c.eat(b) {
                        return None;
                    }
                }
                k += 1;
            }
            k += 1;
            continue;
        }
        if ch.is_ascii_alphabetic() {
            let mut n = 1;
            while k + n < p.len() && p[k + n] == ch {
                n += 1;
            }
            k += n;
            match ch {
                'y' | 'u' => {
                    y = c.digits(if n == 2 { 2 } else { 1 }, if n == 2 { 2 } else { 9 })?
                }
                'M' => mo = c.digits(1, 2)? as u32,
                'd' => d = c.digits(1, 2)? as u32,
                'H' => h = c.digits(1, 2)?,
                'm' => mi = c.digits(1, 2)?,
                's' => sec = c.digits(1, 2)?,
                'S' => {
                    let start = c.i;
                    let frac = c.digits(1, 9)?;
                    let n = c.i - start;
                    ms = if n >= 3 {
                        frac / 10i64.pow(n as u32 - 3)
                    } else {
                        frac * 10i64.pow(3 - n as u32)
                    };
                }
                _ => return None,
            }
            continue;
        }
        let mut buf = [0u8; 4];
        for &b in ch.encode_utf8(&mut buf).as_bytes() {
            if !c.eat(b) {
                return None;
            }
        }
        k += 1;
    }
    if !c.done() {
        return None;
    }
    civil_ms(y, mo, d, h, mi, sec, ms)
}

/// Parses a date string with an Elasticsearch `format` (`a||b`, named or pattern formats).
pub fn parse_with_format(s: &str, format: &str) -> Option<i64> {
    for f in format.split("||") {
        let f = f.trim();
        let r = match f {
            "epoch_millis" => s.trim().parse::<i64>().ok(),
            "epoch_second" => s.trim().parse::<i64>().ok().map(|v| v * 1000),
            "strict_date_optional_time"
            | "date_optional_time"
            | "strict_date_optional_time_nanos"
            | "strict_date_time"
            | "date_time"
            | "iso8601"
            | "strict_date"
            | "date" => parse_iso(s),
            _ => parse_with_pattern(s, f),
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
}
