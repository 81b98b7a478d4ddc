//! Recorded events: NDJSON (one JSON object per line) or a JSON array, with each event's
//! position and timestamp. Field lookup itself lives in [`crate::query::field`].

use crate::query::calendar::{civil_from_days, days_from_civil};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The events of one recording, kept as parallel vectors so that query engines get a plain
/// `&[Value]` slice.
#[derive(Debug, Clone)]
pub struct EventFile {
    pub path: PathBuf,
    pub values: Vec<Value>,
    /// 1-based line in NDJSON, or 1-based index in a JSON array, per event.
    pub positions: Vec<usize>,
    /// `@timestamp` (or the configured field) in epoch milliseconds, when present and parseable.
    pub timestamps: Vec<Option<i64>>,
}

impl EventFile {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn push(&mut self, position: usize, ts: &crate::query::FieldPath, value: Value) {
        self.timestamps
            .push(ts.first(&value).and_then(parse_timestamp));
        self.positions.push(position);
        self.values.push(value);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: the recording holds no events")]
    Empty { path: PathBuf },
}

/// Largest event file accepted in one piece (1 GiB).
pub const MAX_EVENT_FILE_BYTES: u64 = 1 << 30;

pub fn read_file(path: &Path, timestamp_field: &str) -> Result<EventFile, EventError> {
    let io = |source| EventError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_EVENT_FILE_BYTES {
        return Err(io(std::io::Error::other(format!(
            "{len} bytes is over the {MAX_EVENT_FILE_BYTES} byte limit"
        ))));
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    parse_text(path, &text, timestamp_field)
}

/// Parses NDJSON, or a JSON array when the text starts with `[` (lines starting with `//` are
/// comments there, as in Elasticsearch's test data). Every bad line is an error with its position.
pub fn parse_text(path: &Path, text: &str, timestamp_field: &str) -> Result<EventFile, EventError> {
    let ts = crate::query::FieldPath::new(timestamp_field);
    let mut events = EventFile {
        path: path.to_path_buf(),
        values: Vec::new(),
        positions: Vec::new(),
        timestamps: Vec::new(),
    };
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with("//"));
    if first.is_some_and(|l| l.starts_with('[')) {
        let cleaned: String = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("//") {
                    ""
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let values: Vec<Value> = serde_json::from_str(&cleaned).map_err(|e| EventError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: format!("invalid JSON array of events: {e}"),
        })?;
        for (i, value) in values.into_iter().enumerate() {
            if !value.is_object() {
                return Err(EventError::Parse {
                    path: path.to_path_buf(),
                    line: 0,
                    column: 0,
                    message: format!("element {} of the array is not a JSON object", i + 1),
                });
            }
            events.push(i + 1, &ts, value);
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = serde_json::from_str(line).map_err(|e| EventError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                column: e.column(),
                message: format!("invalid JSON: {e}"),
            })?;
            if !value.is_object() {
                return Err(EventError::Parse {
                    path: path.to_path_buf(),
                    line: i + 1,
                    column: 1,
                    message: "an event must be a JSON object".into(),
                });
            }
            events.push(i + 1, &ts, value);
        }
    }
    if events.is_empty() {
        return Err(EventError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(events)
}

/// Epoch milliseconds from an ISO-8601 / RFC 3339 string (`2026-03-02T10:11:12.345Z`,
/// offsets allowed) or a number of epoch milliseconds.
pub fn parse_timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => parse_iso8601(s),
        _ => None,
    }
}

pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) && !part.is_empty() {
            part.parse().ok()
        } else {
            None
        }
    };
    let year = num(0..4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = num(5..7)?;
    let day = num(8..10)?;
    let (mut hour, mut min, mut sec, mut millis) = (0, 0, 0, 0);
    let mut i = 10;
    if matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        hour = num(11..13)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        min = num(14..16)?;
        i = 16;
        if b.get(16) == Some(&b':') {
            sec = num(17..19)?;
            i = 19;
            if b.get(19) == Some(&b'.') {
                let start = 20;
                let mut end = start;
                while b.get(end).is_some_and(u8::is_ascii_digit) {
                    end += 1;
                }
                let frac = s.get(start..end)?;
                if frac.is_empty() {
                    return None;
                }
                let ms: String = frac.chars().chain("000".chars()).take(3).collect();
                millis = ms.parse().ok()?;
                i = end;
            }
        }
    }
    let offset_min = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3)?;
            let om = if b.get(i + 3) == Some(&b':') {
                num(i + 4..i + 6)?
            } else {
                num(i + 3..i + 5)?
            };
            let total = oh * 60 + om;
            if sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    Some(((days * 24 + hour) * 60 + min - offset_min) * 60_000 + sec * 1000 + millis)
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_millis(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    let rem = ms.rem_euclid(86_400_000);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps_round_trip() {
        let ms = parse_iso8601("2026-03-02T10:11:12.345Z").unwrap();
        assert_eq!(format_millis(ms), "2026-03-02T10:11:12.345Z");
        assert_eq!(parse_iso8601("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso8601("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_iso8601("2020-02-29"), Some(1_582_934_400_000));
        assert_eq!(parse_iso8601("2020-13-01T00:00:00Z"), None);
        assert_eq!(parse_iso8601("yesterday"), None);
    }

    #[test]
    fn ndjson_errors_name_the_line() {
        let err =
            parse_text(Path::new("f.ndjson"), "{\"a\":1}\n{oops}\n", "@timestamp").unwrap_err();
        assert!(matches!(err, EventError::Parse { line: 2, .. }), "{err}");
        let err = parse_text(Path::new("f.ndjson"), "\n\n", "@timestamp").unwrap_err();
        assert!(matches!(err, EventError::Empty { .. }));
        let err = parse_text(Path::new("f.ndjson"), "[1]\n", "@timestamp").unwrap_err();
        assert!(matches!(err, EventError::Parse { .. }));
    }

    #[test]
    fn json_arrays_with_comment_lines_are_accepted() {
        let text = "// data\n[\n// one\n{\"@timestamp\": 5},\n{\"x\": 1}\n]\n";
        let f = parse_text(Path::new("f.json"), text, "@timestamp").unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f.timestamps[0], Some(5));
        assert_eq!(f.positions[1], 2);
    }
}
