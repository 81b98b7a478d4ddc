//! Recorded events: NDJSON (one JSON object per line) or a JSON array, with each event's
//! position and timestamp. Field lookup itself lives in [`crate::query::field`].

use crate::query::calendar::civil_from_days;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The events of one recording, kept as parallel vectors so that query engines get a plain
/// `&[Value]` slice.
#[derive(Debug, Clone)]
pub struct EventFile {
    pub path: PathBuf,
    pub values: Vec<Value>,
    /// 1-based line in NDJSON, or 1-based index in a JSON array, per event.
    pub positions: Vec<usize>,
    /// `@timestamp` (or the configured field) in epoch milliseconds, when present (a present
    /// value that is not a date is a parse error).
    pub timestamps: Vec<Option<i64>>,
    /// This recording's share of the memory budget, returned when it is dropped.
    charge: Charge,
}

impl EventFile {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Adds an event; `Err` says why its timestamp field holds something that is not a date.
    fn push(
        &mut self,
        position: usize,
        ts: &crate::query::FieldPath,
        value: Value,
    ) -> Result<(), String> {
        let stamp = checked_timestamp(ts, &value)?;
        self.timestamps.push(stamp);
        self.positions.push(position);
        self.values.push(value);
        Ok(())
    }
}

/// The event's time. Elasticsearch rejects a document whose date field holds a value that is
/// not a date (a boolean, `2026-02-31`), so a present but invalid value is an error,
/// never an event silently without time.
fn checked_timestamp(ts: &crate::query::FieldPath, event: &Value) -> Result<Option<i64>, String> {
    let mut bad = None;
    ts.visit(event, &mut |v| {
        if parse_timestamp(v).is_none() {
            bad = Some(v.clone());
        }
        bad.is_some()
    });
    match bad {
        Some(v) => Err(format!(
            "`{ts}` is {v}, not a date (strict_date_optional_time or epoch_millis)"
        )),
        None => Ok(ts.first(event).and_then(parse_timestamp)),
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

/// Largest event file accepted in one piece (1 GiB), whatever the memory.
pub const MAX_EVENT_FILE_BYTES: u64 = 1 << 30;

/// Memory a recording takes once parsed, per byte of file. Measured with `/usr/bin/time -v`
/// (maximum RSS of `ruleforge eval` over one file): 8.3x for 54 MB of Elastic Defend process
/// events (3.5 KB each), 16.3x for 50 MB of compact 400-byte events; more small fields cost
/// more. 20 keeps a margin over both.
pub const MEMORY_FACTOR: u64 = 20;

/// The environment variable that sets the limit, in bytes of event files loaded at once.
pub const MAX_BYTES_ENV: &str = "RULEFORGE_MAX_EVENT_BYTES";

/// Budget when the available memory is unknown (no `/proc/meminfo`).
const DEFAULT_MEMORY_BUDGET: u64 = 2 << 30;

/// Bytes of event files currently loaded (all live [`EventFile`]s of the process).
static LOADED_BYTES: AtomicU64 = AtomicU64::new(0);

/// A recording's bytes counted in [`LOADED_BYTES`] for as long as its events live.
#[derive(Debug)]
struct Charge(u64);

impl Charge {
    fn new(bytes: u64) -> Charge {
        LOADED_BYTES.fetch_add(bytes, Ordering::SeqCst);
        Charge(bytes)
    }

    /// Counts `bytes` if they fit under `limit` with what is loaded; `Err` is what is loaded.
    /// One atomic step, so that concurrent loads cannot both squeeze in.
    fn reserve(bytes: u64, limit: u64) -> Result<Charge, u64> {
        LOADED_BYTES
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |loaded| {
                (loaded.saturating_add(bytes) <= limit).then(|| loaded + bytes)
            })
            .map(|_| Charge(bytes))
    }
}

impl Clone for Charge {
    fn clone(&self) -> Charge {
        Charge::new(self.0)
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        LOADED_BYTES.fetch_sub(self.0, Ordering::SeqCst);
    }
}

/// The limit on event-file bytes loaded at once, and where it comes from (for the message).
fn byte_limit() -> Result<(u64, String), String> {
    if let Some(raw) = std::env::var_os(MAX_BYTES_ENV) {
        return match raw.to_str().and_then(|s| s.trim().parse::<u64>().ok()) {
            Some(n) => Ok((n, format!("set by {MAX_BYTES_ENV}"))),
            None => Err(format!("{MAX_BYTES_ENV}={raw:?} is not a number of bytes")),
        };
    }
    // Read once: later loads would otherwise see the memory taken by earlier ones twice.
    static BUDGET: OnceLock<(u64, String)> = OnceLock::new();
    let (budget, why) = BUDGET.get_or_init(|| match mem_available() {
        Some(avail) => (avail / 2, format!("half of the {} available", human(avail))),
        None => (
            DEFAULT_MEMORY_BUDGET,
            "the default when available memory is unknown".into(),
        ),
    });
    let limit = (budget / MEMORY_FACTOR).min(MAX_EVENT_FILE_BYTES);
    Ok((
        limit,
        format!("{} of memory, {why}", human(limit * MEMORY_FACTOR)),
    ))
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn mem_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line
        .trim_start_matches("MemAvailable:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kb.checked_mul(1024)
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Why a file of `len` bytes does not fit on top of `loaded` bytes under `limit`.
fn budget_message(len: u64, loaded: u64, limit: u64, why: &str) -> String {
    let estimate = human(len.saturating_mul(MEMORY_FACTOR));
    let already = if loaded > 0 {
        format!(
            " on top of {} of recordings already loaded in this run",
            human(loaded)
        )
    } else {
        String::new()
    };
    format!(
        "{} would take about {estimate} in memory once parsed ({MEMORY_FACTOR}x){already}, over \
         the limit of {} of event files loaded at once ({why}); split the recording into \
         smaller files (replay loads each recording whole), or set {MAX_BYTES_ENV} to a \
         number of bytes",
        human(len),
        human(limit),
    )
}

/// Reads and parses one recording. Only regular files are read (a device or a FIFO would
/// never end or never start), and only when they fit the memory budget.
pub fn read_file(path: &Path, timestamp_field: &str) -> Result<EventFile, EventError> {
    let io = |source| EventError::Io {
        path: path.to_path_buf(),
        source,
    };
    let refuse = |msg: String| io(std::io::Error::other(msg));
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(refuse(format!(
            "not a regular file ({}); a recording must be a file of events",
            kind_of(&meta.file_type())
        )));
    }
    let (limit, why) = byte_limit().map_err(refuse)?;
    let charge = Charge::reserve(meta.len(), limit)
        .map_err(|loaded| refuse(budget_message(meta.len(), loaded, limit, &why)))?;
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    // Read no more than was reserved (plus one byte, to notice a file that grew meanwhile).
    file.take(meta.len().saturating_add(1))
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > meta.len() {
        return Err(refuse(
            "the file grew while being read; record to a new file instead".into(),
        ));
    }
    let mut events = parse_text(path, &text, timestamp_field)?;
    events.charge = charge;
    Ok(events)
}

fn kind_of(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "not a file"
    }
}

/// Parses NDJSON, or a JSON array when the text starts with `[` (lines starting with `//` are
/// comments there, as in Elasticsearch's test data). Every bad line is an error with its position:
/// invalid JSON, a duplicate key, a timestamp that is not a date.
pub fn parse_text(path: &Path, text: &str, timestamp_field: &str) -> Result<EventFile, EventError> {
    let ts = crate::query::FieldPath::new(timestamp_field);
    let mut events = EventFile {
        path: path.to_path_buf(),
        values: Vec::new(),
        positions: Vec::new(),
        timestamps: Vec::new(),
        charge: Charge(0),
    };
    let parse_err = |line, column, message| EventError::Parse {
        path: path.to_path_buf(),
        line,
        column,
        message,
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
        let values: Vec<Checked> = serde_json::from_str(&cleaned).map_err(|e| {
            parse_err(
                e.line(),
                e.column(),
                format!("invalid JSON array of events: {e}"),
            )
        })?;
        for (i, Checked(value)) in values.into_iter().enumerate() {
            let element =
                |what: String| parse_err(0, 0, format!("element {} of the array {what}", i + 1));
            if !value.is_object() {
                return Err(element("is not a JSON object".into()));
            }
            events.push(i + 1, &ts, value).map_err(element)?;
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let Checked(value) = serde_json::from_str(line).map_err(|e| {
                parse_err(i + 1, e.column(), format!("invalid JSON: {}", unplaced(&e)))
            })?;
            if !value.is_object() {
                return Err(parse_err(i + 1, 1, "an event must be a JSON object".into()));
            }
            events
                .push(i + 1, &ts, value)
                .map_err(|msg| parse_err(i + 1, column_of_field(line, timestamp_field), msg))?;
        }
    }
    if events.is_empty() {
        return Err(EventError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(events)
}

/// serde_json's message without its "at line 1 column N": each NDJSON line is parsed alone, so
/// that line number is wrong; the caller reports the real one.
fn unplaced(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// The 1-based column of the (last segment of the) field's key in a line, for pointing at a
/// bad timestamp; 1 when it cannot be found verbatim.
fn column_of_field(line: &str, field: &str) -> usize {
    let key = field.rsplit('.').next().unwrap_or(field);
    let quoted = format!("\"{key}\"");
    line.find(&quoted)
        .map_or(1, |b| line[..b].chars().count() + 1)
}

/// A JSON value that refuses duplicate object keys at any depth. Elasticsearch rejects such a
/// document; `serde_json::Value` keeps the last one silently.
struct Checked(Value);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Checked, D::Error> {
        d.deserialize_any(CheckedVisitor).map(Checked)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Checked::deserialize(d).map(|c| c.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Checked(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match out.entry(key) {
                // Raised before the value is read, so the position is the key's.
                serde_json::map::Entry::Occupied(o) => {
                    return Err(de::Error::custom(format_args!(
                        "duplicate key {:?} in one object (Elasticsearch rejects the document)",
                        o.key()
                    )));
                }
                serde_json::map::Entry::Vacant(slot) => {
                    let Checked(v) = map.next_value()?;
                    slot.insert(v);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Epoch milliseconds from a date as Elasticsearch's default date format reads it
/// (`strict_date_optional_time||epoch_millis`): an ISO-8601 string, or epoch milliseconds as a
/// number or a string of digits. `None` for anything else, impossible dates included.
pub fn parse_timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => parse_iso8601(s).or_else(|| parse_epoch_millis(s)),
        _ => None,
    }
}

fn parse_epoch_millis(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Epoch milliseconds from an ISO-8601 / RFC 3339 string as `strict_date_optional_time` reads
/// it (`2026-03-02T10:11:12.345Z`, `2026-03-02`, offsets up to ±18:00). Impossible dates
/// (`2026-02-31`, second 60, offset `+99:99`) are `None`: one parser for events and queries.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    crate::query::eql::date::parse_iso(s)
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
    fn impossible_dates_are_not_timestamps() {
        for s in [
            "2026-02-31T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00+99:99",
            "2026-01-01T00:00:00+19:00",
            "2026-01-01T00:00:00-10:75",
        ] {
            assert_eq!(parse_iso8601(s), None, "{s}");
        }
        assert_eq!(parse_iso8601("2000-02-29"), Some(951_782_400_000));
        assert_eq!(parse_iso8601("1970-01-01T18:00:00+18:00"), Some(0));
        // Digits are a year first (as in Elasticsearch's `strict_date_optional_time||epoch_millis`),
        // epoch milliseconds when too long for one.
        assert_eq!(parse_timestamp(&Value::from("1970")), Some(0));
        assert_eq!(
            parse_timestamp(&Value::from("1700000000000")),
            Some(1_700_000_000_000)
        );
    }

    #[test]
    fn an_event_whose_timestamp_is_not_a_date_is_a_located_error() {
        let text = "{\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n{\"x\":1,\"@timestamp\":\"2026-02-31T00:00:00Z\"}\n";
        let err = parse_text(Path::new("f.ndjson"), text, "@timestamp").unwrap_err();
        match &err {
            EventError::Parse {
                line: 2,
                column: 8,
                message,
                ..
            } => assert!(message.contains("2026-02-31"), "{message}"),
            other => panic!("{other}"),
        }
        for bad in ["true", "[\"2026-01-01\",\"soon\"]", "\"\""] {
            let text = format!("{{\"event\":{{\"created\":{bad}}}}}\n");
            let err = parse_text(Path::new("f.ndjson"), &text, "event.created");
            assert!(
                matches!(err, Err(EventError::Parse { line: 1, .. })),
                "{bad}"
            );
        }
        // Absent or null is an event without time, as in Elasticsearch.
        let ok = parse_text(
            Path::new("f.ndjson"),
            "{\"@timestamp\":null}\n{}\n",
            "@timestamp",
        );
        assert_eq!(ok.unwrap().timestamps, vec![None, None]);
        let arr = "[{\"@timestamp\":\"2026-01-01\"},{\"@timestamp\":\"2026-13-01\"}]";
        let err = parse_text(Path::new("f.json"), arr, "@timestamp").unwrap_err();
        assert!(err.to_string().contains("element 2"), "{err}");
    }

    #[test]
    fn duplicate_keys_are_rejected_at_any_depth_with_their_position() {
        let text = "{\"a\":1}\n{\"p\":{\"name\":\"x\",\"name\":\"y\"}}\n";
        let err = parse_text(Path::new("f.ndjson"), text, "@timestamp").unwrap_err();
        match &err {
            EventError::Parse {
                line: 2,
                column,
                message,
                ..
            } => {
                assert!(message.contains("duplicate key \"name\""), "{message}");
                // The position is within the second `"name"` (columns 18 to 23).
                assert!((18..=23).contains(column), "column {column}");
            }
            other => panic!("{other}"),
        }
        let top = parse_text(Path::new("f.ndjson"), "{\"a\":1,\"a\":1}\n", "@timestamp");
        assert!(matches!(top, Err(EventError::Parse { line: 1, .. })));
        let deep = "[\n{\"a\":[{\"b\":{\"c\":1,\"c\":2}}]}\n]";
        let err = parse_text(Path::new("f.json"), deep, "@timestamp").unwrap_err();
        assert!(
            matches!(err, EventError::Parse { line: 2, .. }) && err.to_string().contains("\"c\""),
            "{err}"
        );
        // Same names in different objects are fine, and values keep every JSON type.
        let ok = "{\"a\":{\"n\":1},\"b\":{\"n\":[1.5,-2,18446744073709551615,null,true,\"s\"]}}\n";
        let f = parse_text(Path::new("f.ndjson"), ok, "@timestamp").unwrap();
        assert_eq!(f.values[0], serde_json::from_str::<Value>(ok).unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let err = read_file(Path::new("/dev/zero"), "@timestamp").unwrap_err();
        assert!(
            err.to_string().contains("not a regular file (a device)"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("events.ndjson");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        // Opening a FIFO without a writer would block forever: the type check comes first.
        let err = read_file(&fifo, "@timestamp").unwrap_err();
        assert!(
            err.to_string().contains("not a regular file (a FIFO)"),
            "{err}"
        );
        let err = read_file(dir.path(), "@timestamp").unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[test]
    fn the_budget_message_says_size_estimate_limit_and_what_to_do() {
        let msg = budget_message(3_000_000, 0, 1_000_000, "set by X");
        for part in [
            "3.0 MB would take about 60.0 MB in memory",
            "limit of 1.0 MB",
            "set by X",
            "split the recording",
            MAX_BYTES_ENV,
        ] {
            assert!(msg.contains(part), "{part:?} in {msg}");
        }
        assert!(!msg.contains("already loaded"));
        let msg = budget_message(600, 500, 1000, "x");
        assert!(
            msg.contains("on top of 500 bytes of recordings already loaded"),
            "{msg}"
        );
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
