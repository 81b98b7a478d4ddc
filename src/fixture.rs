//! Fixtures: a recording of events plus a manifest saying what it is and what must alert.
//!
//! ```toml
//! description = "initramfs-tools rebuilds the initramfs after a kernel upgrade"
//! verdict = "benign"                 # benign | malicious
//! recorded = "Debian 12, kernel 6.1 upgrade, Elastic Defend 9.1 process events"
//! events = "mkinitramfs_rebuild.ndjson"
//!
//! [[expect]]                         # rules that must alert (malicious) or accepted FPs (benign)
//! rule = "discovery_kernel_unpacking"   # rule_id, file stem or rule name
//! alerts = 1                         # or at_least = N / at_most = N
//! [expect.fields]                    # every alert includes an event with these values
//! "process.name" = "gunzip"
//!
//! [[indicators]]                     # threat intelligence for threat_match rules (optional)
//! events = "feed.ndjson"             # indicator documents, beside the recording
//! index = "logs-ti_example.indicator-default"   # the index they sit in (matched by threat_index)
//! ```

use crate::diag::Diagnostic;
use crate::event::{self, EventFile};
use crate::replay::threat_match::IndicatorSet;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Benign,
    Malicious,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub description: String,
    pub verdict: Verdict,
    pub recorded: String,
    pub events: String,
    /// Events before this instant (ISO-8601) are history: the rules start running here.
    pub baseline_until: Option<toml::Spanned<String>>,
    #[serde(default)]
    pub expect: Vec<Expect>,
    /// Indicator recordings that threat_match rules search (`threat_index`, `threat_query`).
    #[serde(default)]
    pub indicators: Vec<IndicatorEntry>,
}

/// One `[[indicators]]` entry: a recording of indicator documents and the index they sit in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorEntry {
    pub events: toml::Spanned<String>,
    pub index: toml::Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub rule: toml::Spanned<String>,
    pub alerts: Option<u64>,
    pub at_least: Option<u64>,
    pub at_most: Option<u64>,
    /// Why this benign recording is an accepted false positive (required on benign fixtures).
    pub reason: Option<String>,
    #[serde(default)]
    pub fields: toml::Table,
}

/// The alert count an expectation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    Exactly(u64),
    Between { at_least: u64, at_most: Option<u64> },
}

impl Count {
    pub fn accepts(self, n: u64) -> bool {
        match self {
            Count::Exactly(k) => n == k,
            Count::Between { at_least, at_most } => n >= at_least && at_most.is_none_or(|m| n <= m),
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Count::Exactly(k) => write!(f, "exactly {k}"),
            Count::Between {
                at_least,
                at_most: None,
            } => write!(f, "at least {at_least}"),
            Count::Between {
                at_least: 0,
                at_most: Some(m),
            } => write!(f, "at most {m}"),
            Count::Between {
                at_least,
                at_most: Some(m),
            } => write!(f, "between {at_least} and {m}"),
        }
    }
}

impl Expect {
    pub fn count(&self) -> Result<Count, String> {
        match (self.alerts, self.at_least, self.at_most) {
            (Some(k), None, None) => Ok(Count::Exactly(k)),
            (None, None, None) => Ok(Count::Between {
                at_least: 1,
                at_most: None,
            }),
            (None, l, m) => {
                let at_least = l.unwrap_or(0);
                if m.is_some_and(|m| m < at_least) {
                    return Err("at_most is below at_least".into());
                }
                Ok(Count::Between {
                    at_least,
                    at_most: m,
                })
            }
            (Some(_), _, _) => Err("`alerts` cannot be combined with at_least/at_most".into()),
        }
    }

    /// The expected field values as JSON, for comparison with events.
    pub fn fields_json(&self) -> Vec<(String, serde_json::Value)> {
        self.fields
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Fixture {
    /// `baseline_until` in epoch milliseconds.
    pub baseline: Option<i64>,
    pub manifest_path: PathBuf,
    pub manifest_text: String,
    pub manifest: Manifest,
    pub events: EventFile,
    /// The `[[indicators]]` recordings, loaded, in manifest order.
    pub indicators: Vec<IndicatorSet>,
}

/// Codes of fixture problems that are I/O or configuration errors (exit 2) rather than findings.
pub fn is_fatal(code: &str) -> bool {
    matches!(code, "FX001" | "FX004" | "FX007" | "FX009")
}

/// Loads one manifest and its recording. Errors are diagnostics against the manifest or the
/// recording, with positions. The recording must resolve inside `root_canonical` (the
/// repository) and be a regular file: a manifest must not make CI read other files.
pub fn load(
    manifest_path: &Path,
    timestamp_field: &str,
    root_canonical: &Path,
) -> Result<Fixture, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(manifest_path).map_err(|e| {
        vec![
            Diagnostic::error("FX001", format!("cannot read fixture manifest: {e}"))
                .at(manifest_path, None),
        ]
    })?;
    let (manifest, baseline, mut diags) = check_manifest(manifest_path, &text)?;
    let indicators = load_indicators(manifest_path, &manifest, root_canonical, &mut diags);
    let events = match recording_path(manifest_path, &manifest, &text, root_canonical) {
        Ok(events_path) => match event::read_file(&events_path, timestamp_field) {
            Ok(f) => Some(f),
            Err(e) => {
                diags.push(event_error_diagnostic(&e, manifest_path));
                None
            }
        },
        Err(d) => {
            diags.push(*d);
            None
        }
    };
    match events {
        Some(events) if diags.is_empty() => Ok(Fixture {
            baseline,
            manifest_path: manifest_path.to_path_buf(),
            manifest_text: text,
            manifest,
            events,
            indicators,
        }),
        _ => Err(diags),
    }
}

/// Loads every `[[indicators]]` recording (always `@timestamp`: indicator documents are not
/// subject to a rule's timestamp override). Problems are diagnostics on the manifest entry.
fn load_indicators(
    manifest_path: &Path,
    manifest: &Manifest,
    root_canonical: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Vec<IndicatorSet> {
    let mut out = Vec::new();
    for entry in &manifest.indicators {
        let span = Some(entry.events.span());
        match resolve_recording(
            manifest_path,
            entry.events.get_ref(),
            span,
            root_canonical,
            "indicators.events",
        ) {
            Ok(path) => match event::read_file(&path, "@timestamp") {
                Ok(docs) => out.push(IndicatorSet {
                    index: entry.index.get_ref().clone(),
                    docs,
                }),
                Err(e) => diags.push(event_error_diagnostic(&e, manifest_path)),
            },
            Err(d) => diags.push(*d),
        }
    }
    out
}

/// An `[[indicators]]` index must be one concrete Elasticsearch index name: lower case, no
/// wildcard, comma or space (a rule's `threat_index` patterns are matched against it).
pub fn index_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.chars().any(|c| "*?,\\/\"<>| #:".contains(c)) {
        return Some("holds a character index names cannot hold (`*?,\\/\"<>| #:`)");
    }
    if name.chars().any(|c| c.is_uppercase()) {
        return Some("must be lower case");
    }
    if name.starts_with(['-', '_', '+']) || name == "." || name == ".." {
        return Some("cannot start with `-`, `_` or `+`, nor be `.` or `..`");
    }
    None
}

fn baseline_of(manifest: &Manifest, path: &Path, diags: &mut Vec<Diagnostic>) -> Option<i64> {
    let b = manifest.baseline_until.as_ref()?;
    let ms = event::parse_iso8601(b.get_ref());
    if ms.is_none() {
        diags.push(
            Diagnostic::error(
                "FX002",
                format!(
                    "baseline_until {:?} is not an ISO-8601 timestamp",
                    b.get_ref()
                ),
            )
            .at(path, Some(b.span())),
        );
    }
    ms
}

/// The manifest's `events` file, checked: inside the repository (after resolving symlinks and
/// `..`), and a regular file (not a FIFO or device that would hang or never end).
fn recording_path(
    manifest_path: &Path,
    manifest: &Manifest,
    text: &str,
    root_canonical: &Path,
) -> Result<PathBuf, Box<Diagnostic>> {
    resolve_recording(
        manifest_path,
        &manifest.events,
        events_span(text),
        root_canonical,
        "events",
    )
}

/// A recording named by a manifest key (`events`, `indicators.events`), checked as
/// [`recording_path`] describes; errors point at `span` in the manifest.
fn resolve_recording(
    manifest_path: &Path,
    relative: &str,
    span: Option<std::ops::Range<usize>>,
    root_canonical: &Path,
    key: &str,
) -> Result<PathBuf, Box<Diagnostic>> {
    let at = |d: Diagnostic| Box::new(d.at(manifest_path, span.clone()));
    let events_path = manifest_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(relative);
    let resolved = match crate::config::resolve_within(root_canonical, &events_path) {
        Ok(p) => p,
        Err(crate::config::OutsideRoot::Io { source, .. }) => {
            return Err(at(Diagnostic::error(
                "FX004",
                format!("cannot read recording {}: {source}", events_path.display()),
            )));
        }
        Err(e) => {
            return Err(at(Diagnostic::error(
                "FX007",
                format!("`{key}` must name a file inside the repository: {e}"),
            )
            .with_help(
                "keep recordings beside their manifest, under the fixture folder",
            )));
        }
    };
    match std::fs::metadata(&resolved) {
        Ok(m) if m.is_file() => Ok(events_path),
        Ok(_) => Err(at(Diagnostic::error(
            "FX009",
            format!(
                "recording {} is not a regular file (a folder, FIFO or device)",
                events_path.display()
            ),
        ))),
        Err(source) => Err(at(Diagnostic::error(
            "FX004",
            format!("cannot read recording {}: {source}", events_path.display()),
        ))),
    }
}

/// A manifest's `events = …` value with its span, read on its own (the rest of the manifest
/// may be broken).
fn events_entry(text: &str) -> Option<toml::Spanned<String>> {
    #[derive(Deserialize)]
    struct EventsOnly {
        events: toml::Spanned<String>,
    }
    toml::from_str::<EventsOnly>(text).ok().map(|e| e.events)
}

/// Span of the `events = …` value in a manifest.
fn events_span(text: &str) -> Option<std::ops::Range<usize>> {
    events_entry(text).map(|e| e.span())
}

fn event_error_diagnostic(e: &event::EventError, manifest: &Path) -> Diagnostic {
    match e {
        event::EventError::Io { path, source } => Diagnostic::error(
            "FX004",
            format!("cannot read recording {}: {source}", path.display()),
        )
        .at(manifest, None),
        event::EventError::Empty { path } => Diagnostic::error(
            "FX005",
            format!("recording {} holds no events", path.display()),
        )
        .at(path, None),
        event::EventError::Parse {
            path,
            line,
            column,
            message,
        } => {
            // The location goes in the span (shown as file:line:column with the line itself),
            // not again in the message.
            let span = span_of_line_col(path, *line, *column);
            Diagnostic::error("FX006", strip_position(message)).at(path, span)
        }
    }
}

/// serde_json's messages end in " at line N column M"; the diagnostic shows the position already.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i + 9..].split(" column ").count() == 2 => message[..i].to_string(),
        _ => message.to_string(),
    }
}

/// Byte span of 1-based (line, column) in a file (read again: only on the error path).
fn span_of_line_col(path: &Path, line: usize, column: usize) -> Option<std::ops::Range<usize>> {
    if line == 0 {
        return None;
    }
    let text = std::fs::read(path).ok()?;
    let mut start = 0;
    for _ in 1..line {
        start += memchr::memchr(b'\n', text.get(start..)?)? + 1;
    }
    let end = memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
    let at = (start + column.saturating_sub(1)).min(end);
    Some(at..(at + 1).min(end).max(at))
}

/// The recordings a manifest names (`events` and every `[[indicators]]` `events`), joined to
/// the manifest's folder, without loading any; empty when the manifest cannot be read. Read
/// leniently, on their own, so that a manifest broken elsewhere still claims its recordings.
pub fn recordings_of(manifest_path: &Path) -> Vec<PathBuf> {
    #[derive(Deserialize)]
    struct IndicatorsOnly {
        #[serde(default)]
        indicators: Vec<toml::Table>,
    }
    let Ok(text) = std::fs::read_to_string(manifest_path) else {
        return Vec::new();
    };
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let mut out: Vec<PathBuf> = events_entry(&text)
        .map(|e| dir.join(e.into_inner()))
        .into_iter()
        .collect();
    if let Ok(only) = toml::from_str::<IndicatorsOnly>(&text) {
        out.extend(
            only.indicators
                .iter()
                .filter_map(|t| t.get("events")?.as_str().map(|e| dir.join(e))),
        );
    }
    out
}

/// Is this file a recording (something a manifest's `events` could name)?
pub fn is_recording(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    [".ndjson", ".json", ".jsonl", ".ndjson.gz", ".json.gz"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Parses a manifest from its text and applies the checks that need no recording: the TOML
/// shape, `baseline_until`, and each expectation's count and reason. Returns the manifest and
/// `baseline_until` in epoch milliseconds, or every finding.
pub fn parse_manifest(
    manifest_path: &Path,
    text: &str,
) -> Result<(Manifest, Option<i64>), Vec<Diagnostic>> {
    match check_manifest(manifest_path, text)? {
        (manifest, baseline, diags) if diags.is_empty() => Ok((manifest, baseline)),
        (_, _, diags) => Err(diags),
    }
}

// `load` keeps going past these findings to also report a bad recording, hence the triple.
fn check_manifest(
    manifest_path: &Path,
    text: &str,
) -> Result<(Manifest, Option<i64>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let manifest: Manifest = toml::from_str(text).map_err(|e| {
        vec![
            Diagnostic::error(
                "FX002",
                format!("invalid fixture manifest: {}", e.message().trim()),
            )
            .at(manifest_path, e.span()),
        ]
    })?;
    let mut diags = Vec::new();
    let baseline = baseline_of(&manifest, manifest_path, &mut diags);
    for ind in &manifest.indicators {
        if let Some(problem) = index_name_problem(ind.index.get_ref()) {
            diags.push(
                Diagnostic::error(
                    "FX002",
                    format!("indicator index {:?} {problem}", ind.index.get_ref()),
                )
                .at(manifest_path, Some(ind.index.span()))
                .with_help("name the one index the indicators were read from, e.g. `logs-ti_example.indicator-default`"),
            );
        }
    }
    for exp in &manifest.expect {
        if let Err(msg) = exp.count() {
            diags.push(Diagnostic::error("FX002", msg).at(manifest_path, Some(exp.rule.span())));
        }
        if manifest.verdict == Verdict::Benign
            && exp.reason.as_deref().is_none_or(|r| r.trim().is_empty())
        {
            diags.push(
                Diagnostic::error(
                    "FX003",
                    "an accepted false positive on a benign fixture needs a `reason`",
                )
                .at(manifest_path, Some(exp.rule.span())),
            );
        }
    }
    Ok((manifest, baseline, diags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert!(Count::Exactly(1).accepts(1));
        assert!(!Count::Exactly(1).accepts(2));
        let c = Count::Between {
            at_least: 2,
            at_most: Some(3),
        };
        assert!(c.accepts(2) && c.accepts(3) && !c.accepts(4) && !c.accepts(1));
    }

    #[test]
    fn manifest_rejects_unknown_keys_with_a_span() {
        let err = toml::from_str::<Manifest>(
            "description='d'\nverdict='benign'\nrecorded='r'\nevents='e'\nverdit='x'\n",
        )
        .unwrap_err();
        assert!(err.message().contains("verdit"));
        assert!(err.span().is_some());
    }

    #[test]
    fn parse_manifest_applies_the_checks_load_applies() {
        let path = Path::new("m.toml");
        let base = "description='d'\nverdict='benign'\nrecorded='r'\nevents='e.ndjson'\n";
        let (m, baseline) = parse_manifest(
            path,
            &format!("{base}baseline_until='1970-01-01T00:00:01Z'\n"),
        )
        .unwrap();
        assert_eq!((m.events.as_str(), baseline), ("e.ndjson", Some(1000)));
        let codes = |text: &str| -> Vec<&'static str> {
            parse_manifest(path, text)
                .unwrap_err()
                .iter()
                .map(|d| d.code)
                .collect()
        };
        assert_eq!(codes(&format!("{base}baseline_until='soon'\n")), ["FX002"]);
        assert_eq!(
            codes(&format!(
                "{base}[[expect]]\nrule='r'\nalerts=1\nat_most=2\n"
            )),
            ["FX002", "FX003"]
        );
        assert_eq!(codes("verdict = 3"), ["FX002"]);
    }

    const BASE: &str = "description='d'\nverdict='benign'\nrecorded='r'\nevents='e.ndjson'\n";

    #[test]
    fn indicator_entries_fail_closed_on_unknown_keys_and_bad_index_names() {
        let path = Path::new("m.toml");
        let text =
            format!("{BASE}[[indicators]]\nevents='f.ndjson'\nindex='logs-ti_x'\nfeed='y'\n");
        let err = parse_manifest(path, &text).unwrap_err();
        assert_eq!(err[0].code, "FX002");
        assert!(err[0].message.contains("feed"), "{}", err[0].message);
        let at = err[0].span.clone().expect("located");
        assert_eq!(&text[at], "feed", "the span is the unknown key");
        let missing = format!("{BASE}[[indicators]]\nevents='f.ndjson'\n");
        let err = parse_manifest(path, &missing).unwrap_err();
        assert!(err[0].message.contains("index"), "{}", err[0].message);
        for bad in ["logs-ti_*", "Logs-ti", "", "a,b"] {
            let text = format!("{BASE}[[indicators]]\nevents='f.ndjson'\nindex='{bad}'\n");
            let err = parse_manifest(path, &text).unwrap_err();
            assert_eq!(err.len(), 1, "{bad:?}");
            assert_eq!(err[0].code, "FX002");
            let at = err[0].span.clone().expect("located");
            assert_eq!(&text[at], format!("'{bad}'"));
        }
        let ok =
            format!("{BASE}[[indicators]]\nevents='f.ndjson'\nindex='logs-ti_x.ioc-default'\n");
        let (m, _) = parse_manifest(path, &ok).unwrap();
        assert_eq!(m.indicators[0].index.get_ref(), "logs-ti_x.ioc-default");
    }

    #[test]
    fn a_missing_or_malformed_indicator_recording_is_an_error_at_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(
            root.join("e.ndjson"),
            "{\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n",
        )
        .unwrap();
        let manifest = root.join("m.toml");
        let text = format!("{BASE}[[indicators]]\nevents='gone.ndjson'\nindex='logs-ti_x'\n");
        std::fs::write(&manifest, &text).unwrap();
        let err = load(&manifest, "@timestamp", &root).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].code, "FX004");
        let at = err[0].span.clone().expect("located");
        assert_eq!(&text[at], "'gone.ndjson'");
        std::fs::write(root.join("gone.ndjson"), "{\"a\":1}\nnot json\n").unwrap();
        let err = load(&manifest, "@timestamp", &root).unwrap_err();
        assert_eq!(err[0].code, "FX006");
        assert!(
            err[0]
                .file
                .as_deref()
                .is_some_and(|p| p.ends_with("gone.ndjson"))
        );
        let outside = format!("{BASE}[[indicators]]\nevents='../x.ndjson'\nindex='logs-ti_x'\n");
        std::fs::write(&manifest, &outside).unwrap();
        assert_eq!(
            load(&manifest, "@timestamp", &root).unwrap_err()[0].code,
            "FX007"
        );
        std::fs::write(root.join("gone.ndjson"), "{\"a\":1}\n").unwrap();
        std::fs::write(&manifest, &text).unwrap();
        let f = load(&manifest, "@timestamp", &root).unwrap();
        assert_eq!(f.indicators.len(), 1);
        assert_eq!(f.indicators[0].docs.len(), 1);
        assert_eq!(
            recordings_of(&manifest),
            vec![root.join("e.ndjson"), root.join("gone.ndjson")]
        );
    }
}
