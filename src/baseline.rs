//! Baselines: the findings a repository had when it adopted ruleforge, recorded so that CI fails
//! only on new ones (`ruleforge check --write-baseline FILE`, then `--baseline FILE`).
//!
//! A finding is identified by its code, file and message, not by its line (an edit above it
//! must not make it new). The file is JSON, sorted, one entry per finding (a finding that occurs
//! twice is recorded twice, and a third occurrence is new).

use crate::diag::{Diagnostic, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The format's identifier, checked when reading.
const FORMAT: &str = "ruleforge-baseline/1";

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("{path}: cannot read the baseline: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not a ruleforge baseline: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: cannot write the baseline: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub code: String,
    /// The file as printed (relative to the repository root), empty when none.
    pub file: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    format: String,
    findings: Vec<Entry>,
}

/// Recorded findings, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    counts: BTreeMap<Entry, usize>,
}

/// Findings split by a baseline.
#[derive(Debug, Default)]
pub struct Split<T> {
    /// Not in the baseline: these are reported and fail the run.
    pub new: Vec<T>,
    /// Recorded in the baseline: counted in the summary only.
    pub known: usize,
    /// Baseline entries that no longer occur (fixed since): the baseline can be rewritten.
    pub fixed: usize,
}

fn entry(root: &Path, d: &Diagnostic) -> Entry {
    Entry {
        code: d.code.to_string(),
        file: d
            .file
            .as_deref()
            .map(|f| crate::snapshot::display_path(root, f))
            .unwrap_or_default(),
        message: d.message.clone(),
    }
}

impl Baseline {
    /// The errors and warnings of a run (paths shown relative to `root`).
    pub fn record<'d>(root: &Path, diags: impl IntoIterator<Item = &'d Diagnostic>) -> Self {
        let mut counts = BTreeMap::new();
        for d in diags {
            *counts.entry(entry(root, d)).or_insert(0) += 1;
        }
        Baseline { counts }
    }

    pub fn len(&self) -> usize {
        self.counts.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |line, column, message: String| BaselineError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        };
        let file: FileFormat = serde_json::from_str(&text)
            .map_err(|e| invalid(e.line(), e.column(), e.to_string()))?;
        if file.format != FORMAT {
            return Err(invalid(
                1,
                1,
                format!("format {:?}, expected {FORMAT:?}", file.format),
            ));
        }
        let mut counts = BTreeMap::new();
        for e in file.findings {
            *counts.entry(e).or_insert(0) += 1;
        }
        Ok(Baseline { counts })
    }

    pub fn to_json(&self) -> String {
        let findings: Vec<Entry> = self
            .counts
            .iter()
            .flat_map(|(e, n)| std::iter::repeat_n(e.clone(), *n))
            .collect();
        let file = FileFormat {
            format: FORMAT.to_string(),
            findings,
        };
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }

    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        crate::output::write_atomic(path, self.to_json().as_bytes()).map_err(|source| {
            BaselineError::Write {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Splits `items` (each with its diagnostic) into new and known findings. Warnings are
    /// matched like errors.
    pub fn split<T>(
        &self,
        root: &Path,
        items: Vec<T>,
        diagnostic: impl Fn(&T) -> &Diagnostic,
    ) -> Split<T> {
        let mut left = self.counts.clone();
        let mut out = Split {
            new: Vec::new(),
            known: 0,
            fixed: 0,
        };
        for item in items {
            let key = entry(root, diagnostic(&item));
            match left.get_mut(&key) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    out.known += 1;
                }
                _ => out.new.push(item),
            }
        }
        out.fixed = left.values().sum();
        out
    }
}

/// Whether any of `diags` is an error.
pub fn has_errors<'d>(diags: impl IntoIterator<Item = &'d Diagnostic>) -> bool {
    diags.into_iter().any(|d| d.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(code: &'static str, file: &str, message: &str) -> Diagnostic {
        Diagnostic::error(code, message).at(Path::new(file), Some(0..1))
    }

    #[test]
    fn recorded_findings_are_known_and_others_are_new() {
        let root = Path::new("");
        let old = vec![
            diag("RT008", "rules/a.toml", "no fixture"),
            diag("RF407", "rules/b.toml", "guide"),
        ];
        let baseline = Baseline::record(root, &old);
        let now = vec![
            // The same finding on another line is still known.
            Diagnostic::error("RT008", "no fixture").at(Path::new("rules/a.toml"), Some(40..41)),
            diag("RT003", "fixtures/x.toml", "false positive"),
        ];
        let split = baseline.split(root, now, |d| d);
        assert_eq!(split.known, 1);
        assert_eq!(split.fixed, 1, "RF407 on b.toml no longer occurs");
        assert_eq!(split.new.len(), 1);
        assert_eq!(split.new[0].code, "RT003");
    }

    #[test]
    fn a_repeated_finding_beyond_the_recorded_count_is_new() {
        let root = Path::new("");
        let baseline = Baseline::record(root, &[diag("RF1", "r.toml", "m")]);
        let split = baseline.split(
            root,
            vec![diag("RF1", "r.toml", "m"), diag("RF1", "r.toml", "m")],
            |d| d,
        );
        assert_eq!((split.known, split.new.len()), (1, 1));
    }

    #[test]
    fn the_file_round_trips_and_a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.json");
        let baseline = Baseline::record(
            Path::new(""),
            &[diag("RF1", "r.toml", "m"), diag("RF1", "r.toml", "m")],
        );
        baseline.save(&path).unwrap();
        assert_eq!(Baseline::load(&path).unwrap(), baseline);
        assert_eq!(baseline.len(), 2);
        std::fs::write(&path, "{\"format\": \"other\", \"findings\": []}").unwrap();
        assert!(matches!(
            Baseline::load(&path),
            Err(BaselineError::Invalid { .. })
        ));
        std::fs::write(&path, "{\n  \"format\": 1,").unwrap();
        let Err(BaselineError::Invalid { line, .. }) = Baseline::load(&path) else {
            panic!("expected an error");
        };
        assert_eq!(line, 2);
        assert!(matches!(
            Baseline::load(&dir.path().join("absent.json")),
            Err(BaselineError::Read { .. })
        ));
    }
}
