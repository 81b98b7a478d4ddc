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
//! ```

use crate::diag::Diagnostic;
use crate::event::{self, EventFile};
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
}

/// Loads one manifest and its recording. Errors are diagnostics against the manifest or the
/// recording, with positions.
pub fn load(manifest_path: &Path, timestamp_field: &str) -> Result<Fixture, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(manifest_path).map_err(|e| {
        vec![
            Diagnostic::error("FX001", format!("cannot read fixture manifest: {e}"))
                .at(manifest_path, None),
        ]
    })?;
    let (manifest, baseline, mut diags) = check_manifest(manifest_path, &text)?;
    let events_path = manifest_path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&manifest.events);
    let events = match event::read_file(&events_path, timestamp_field) {
        Ok(f) => Some(f),
        Err(e) => {
            diags.push(event_error_diagnostic(&e, manifest_path));
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
        }),
        _ => Err(diags),
    }
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
        } => Diagnostic::error("FX006", format!("{message} (line {line}, column {column})"))
            .at(path, None),
    }
}

/// Every fixture manifest (`*.toml`) under the given directories, sorted.
pub fn discover(dirs: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in dirs {
        out.extend(crate::rule::collect_toml_files(d)?);
    }
    out.sort();
    Ok(out)
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
    let baseline = match &manifest.baseline_until {
        None => None,
        Some(b) => match event::parse_iso8601(b.get_ref()) {
            Some(ms) => Some(ms),
            None => {
                diags.push(
                    Diagnostic::error(
                        "FX002",
                        format!(
                            "baseline_until {:?} is not an ISO-8601 timestamp",
                            b.get_ref()
                        ),
                    )
                    .at(manifest_path, Some(b.span())),
                );
                None
            }
        },
    };
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
}
