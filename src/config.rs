//! `ruleforge.toml`: where things are and which checks run. Every key is optional; unknown keys
//! are errors (a typo must not silently disable a check).

use crate::lint::Selection;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub rule_dirs: Option<Vec<PathBuf>>,
    pub fixture_dirs: Option<Vec<PathBuf>>,
    pub snapshot_dir: Option<PathBuf>,
    pub etc_dir: Option<PathBuf>,
    pub templates_dir: Option<PathBuf>,
    /// Kibana stack the export targets (`"9.6"`).
    pub stack_version: Option<String>,
    #[serde(default)]
    pub lint: LintSection,
    #[serde(default)]
    pub test: TestSection,
}

/// Entries keep their spans so that an unknown code is reported at its place in the file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    #[serde(default)]
    pub select: Vec<toml::Spanned<String>>,
    #[serde(default)]
    pub ignore: Vec<toml::Spanned<String>>,
    #[serde(default)]
    pub warn: Vec<toml::Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Error,
    Warning,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TestSection {
    /// A production rule without any fixture: error (default) or warning.
    #[serde(default)]
    pub missing_fixture: Level,
    /// Rules that cannot be replayed (machine_learning, unsupported languages): error or warning.
    #[serde(default)]
    pub not_replayable: Option<Level>,
}

/// The resolved configuration, all paths relative to `root`.
#[derive(Debug, Clone)]
pub struct Config {
    pub root: PathBuf,
    pub config_file: Option<PathBuf>,
    pub rule_dirs: Vec<PathBuf>,
    pub fixture_dirs: Vec<PathBuf>,
    pub snapshot_dir: PathBuf,
    pub etc_dir: PathBuf,
    pub templates_dir: PathBuf,
    pub stack_version: String,
    pub lint: Selection,
    pub missing_fixture: Level,
    pub not_replayable: Level,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl Config {
    /// Reads `root/ruleforge.toml` when present; defaults otherwise.
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        // `-C .` (the default) gives paths relative to the working directory, without "./".
        let root = if root == Path::new(".") {
            Path::new("")
        } else {
            root
        };
        let path = root.join("ruleforge.toml");
        let (file, config_file) = if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
                path: path.clone(),
                source,
            })?;
            let file: File = toml::from_str(&text).map_err(|e| {
                let (line, column) = e
                    .span()
                    .map(|s| crate::diag::LineIndex::new(&text).line_col(&text, s.start))
                    .unwrap_or((1, 1));
                ConfigError::Invalid {
                    path: path.clone(),
                    line,
                    column,
                    message: e.message().trim().to_string(),
                }
            })?;
            check_lint_codes(&file.lint, &path, &text)?;
            (file, Some(path))
        } else {
            (File::default(), None)
        };
        let join = |p: &PathBuf| root.join(p);
        let rule_dirs = match &file.rule_dirs {
            Some(d) => d.iter().map(join).collect(),
            None => ["rules", "rules_building_block"]
                .iter()
                .map(|d| root.join(d))
                .filter(|d| d.is_dir())
                .collect(),
        };
        let fixture_dirs = match &file.fixture_dirs {
            Some(d) => d.iter().map(join).collect(),
            None => vec![root.join("fixtures")],
        };
        Ok(Config {
            root: root.to_path_buf(),
            config_file,
            rule_dirs,
            fixture_dirs,
            snapshot_dir: root.join(
                file.snapshot_dir
                    .clone()
                    .unwrap_or_else(|| "snapshots".into()),
            ),
            etc_dir: root.join(file.etc_dir.clone().unwrap_or_else(|| "etc".into())),
            templates_dir: root.join(
                file.templates_dir
                    .clone()
                    .unwrap_or_else(|| "docs-templates".into()),
            ),
            stack_version: file.stack_version.clone().unwrap_or_else(|| "9.6".into()),
            lint: Selection {
                select: plain(&file.lint.select),
                ignore: plain(&file.lint.ignore),
                warn: plain(&file.lint.warn),
            },
            missing_fixture: file.test.missing_fixture,
            not_replayable: file.test.not_replayable.unwrap_or_default(),
        })
    }
}

fn plain(list: &[toml::Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.get_ref().clone()).collect()
}

/// A code in `[lint]` that matches nothing would silently select or ignore nothing: refuse it.
fn check_lint_codes(lint: &LintSection, path: &Path, text: &str) -> Result<(), ConfigError> {
    for (key, list) in [
        ("select", &lint.select),
        ("ignore", &lint.ignore),
        ("warn", &lint.warn),
    ] {
        for entry in list {
            if let Err(e) = crate::codes::check_selector(entry.get_ref()) {
                let (line, column) =
                    crate::diag::LineIndex::new(text).line_col(text, entry.span().start);
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line,
                    column,
                    message: format!("[lint] {key}: {e}"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(toml_text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ruleforge.toml"), toml_text).unwrap();
        Config::load(dir.path())
    }

    #[test]
    fn lint_codes_and_prefixes_are_accepted() {
        let c = load_with("[lint]\nselect = [\"RF1\", \"RX102\"]\nwarn = [\"RF407\"]\n").unwrap();
        assert_eq!(c.lint.select, vec!["RF1", "RX102"]);
        assert_eq!(c.lint.warn, vec!["RF407"]);
    }

    #[test]
    fn an_unknown_lint_code_is_an_error_at_its_place() {
        let Err(ConfigError::Invalid {
            line,
            column,
            message,
            ..
        }) = load_with("[lint]\nignore = [\"RF407\", \"RF4077\"]\n")
        else {
            panic!("expected an error");
        };
        assert_eq!((line, column), (2, 20));
        assert!(
            message.contains("[lint] ignore") && message.contains("`RF407`"),
            "{message}"
        );
    }
}
