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
    /// A recording under the fixture directories that no manifest names (RT014).
    #[serde(default)]
    pub unreferenced_recording: Level,
    /// A malicious fixture whose manifest expects no rule to alert (RT015).
    #[serde(default)]
    pub malicious_without_expect: Level,
    /// A production rule with an exclusion no benign fixture proves necessary (RT017); off
    /// unless set to "error" or "warning".
    #[serde(default)]
    pub unproven_exclusion: Option<Level>,
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
    pub unreferenced_recording: Level,
    pub malicious_without_expect: Level,
    /// RT017, off (`None`) by default.
    pub unproven_exclusion: Option<Level>,
    /// `root`, canonicalised: every configured and manifest path must resolve inside it.
    pub root_canonical: PathBuf,
    /// The tooling data files (version lock, packages, stack schema map) and how the layout
    /// was found (`crate::layout`).
    pub data: crate::layout::Layout,
    /// Each effective setting, its value and where it came from (`ruleforge config`).
    pub provenance: Vec<crate::layout::Setting>,
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
    #[error(transparent)]
    Layout(#[from] crate::layout::LayoutError),
    #[error(
        "{config}: `{key}` = {value:?} resolves to {resolved}, outside the repository root {root}; ruleforge reads and writes only inside the repository"
    )]
    Outside {
        config: PathBuf,
        key: &'static str,
        value: PathBuf,
        resolved: PathBuf,
        root: PathBuf,
    },
}

/// Why a path was refused by [`resolve_within`].
#[derive(Debug, thiserror::Error)]
pub enum OutsideRoot {
    #[error("{path} resolves to {resolved}, outside the repository root {root}")]
    Outside {
        path: PathBuf,
        resolved: PathBuf,
        root: PathBuf,
    },
    #[error("{path}: `..` after a folder that does not exist cannot be resolved safely")]
    Unresolvable { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Resolves `path` (symlinks included) and checks it lies inside `root_canonical`. A path that
/// does not exist yet (a snapshot folder before the first `--accept`) is checked through its
/// nearest existing ancestor. Returns the resolved path.
pub fn resolve_within(root_canonical: &Path, path: &Path) -> Result<PathBuf, OutsideRoot> {
    let mut existing = path.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let resolved = loop {
        match existing.canonicalize() {
            Ok(c) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A path ending in `..` or `.` below a missing folder cannot be resolved.
                let Some(name) = existing.file_name() else {
                    let _ = e;
                    return Err(OutsideRoot::Unresolvable {
                        path: path.to_path_buf(),
                    });
                };
                rest.push(name.to_os_string());
                if !existing.pop() || existing.as_os_str().is_empty() {
                    existing = PathBuf::from(".");
                }
            }
            Err(source) => {
                return Err(OutsideRoot::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    };
    let mut resolved = resolved;
    for part in rest.iter().rev() {
        if part == ".." {
            return Err(OutsideRoot::Unresolvable {
                path: path.to_path_buf(),
            });
        }
        if part != "." {
            resolved.push(part);
        }
    }
    if resolved.starts_with(root_canonical) {
        Ok(resolved)
    } else {
        Err(OutsideRoot::Outside {
            path: path.to_path_buf(),
            resolved,
            root: root_canonical.to_path_buf(),
        })
    }
}

impl Config {
    /// Reads `root/ruleforge.toml` when present; defaults otherwise. The layout is found as
    /// [`crate::layout::detect`] says, with `CUSTOM_RULES_DIR` from the environment.
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        let custom = std::env::var_os("CUSTOM_RULES_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        Config::load_with(root, custom.as_deref())
    }

    /// [`Config::load`] with `CUSTOM_RULES_DIR` given (`None`: unset).
    pub fn load_with(root: &Path, custom_rules_dir: Option<&Path>) -> Result<Config, ConfigError> {
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
        let root_canonical = (if root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            root
        })
        .canonicalize()
        .map_err(|source| ConfigError::Io {
            path: root.to_path_buf(),
            source,
        })?;
        let layout = crate::layout::detect(root, custom_rules_dir)?;
        let resolved = crate::layout::resolve(root, &file, config_file.as_deref(), layout);
        let config = Config {
            root: root.to_path_buf(),
            config_file,
            rule_dirs: resolved.rule_dirs,
            fixture_dirs: resolved.fixture_dirs,
            snapshot_dir: resolved.snapshot_dir,
            etc_dir: resolved.layout.etc_dir.value.clone(),
            templates_dir: resolved.templates_dir,
            stack_version: resolved.stack_version,
            lint: Selection {
                select: plain(&file.lint.select),
                ignore: plain(&file.lint.ignore),
                warn: plain(&file.lint.warn),
            },
            missing_fixture: file.test.missing_fixture,
            not_replayable: file.test.not_replayable.unwrap_or_default(),
            unreferenced_recording: file.test.unreferenced_recording,
            malicious_without_expect: file.test.malicious_without_expect,
            unproven_exclusion: file.test.unproven_exclusion,
            root_canonical,
            data: resolved.layout,
            provenance: resolved.provenance,
        };
        config.confine(&file)?;
        Ok(config)
    }

    /// Every configured path must resolve inside the repository: a pull request that edits
    /// ruleforge.toml must not make CI read or write files elsewhere on the runner.
    fn confine(&self, file: &File) -> Result<(), ConfigError> {
        let mut checks: Vec<(&'static str, &PathBuf)> = Vec::new();
        checks.extend(self.rule_dirs.iter().map(|d| ("rule_dirs", d)));
        checks.extend(self.fixture_dirs.iter().map(|d| ("fixture_dirs", d)));
        checks.push(("snapshot_dir", &self.snapshot_dir));
        checks.push(("etc_dir", &self.etc_dir));
        checks.push(("templates_dir", &self.templates_dir));
        checks.push(("version_lock", &self.data.version_lock.value));
        checks.push(("packages", &self.data.packages.value));
        checks.push(("stack_schema_map", &self.data.stack_schema_map.value));
        let config = self
            .config_file
            .clone()
            .unwrap_or_else(|| self.root.join("ruleforge.toml"));
        for (key, path) in checks {
            match resolve_within(&self.root_canonical, path) {
                Ok(_) => {}
                Err(OutsideRoot::Outside { resolved, .. }) => {
                    return Err(ConfigError::Outside {
                        config,
                        key,
                        value: configured_value(file, key, path),
                        resolved,
                        root: self.root_canonical.clone(),
                    });
                }
                Err(OutsideRoot::Unresolvable { .. }) => {
                    return Err(ConfigError::Outside {
                        config,
                        key,
                        value: configured_value(file, key, path),
                        resolved: path.clone(),
                        root: self.root_canonical.clone(),
                    });
                }
                Err(OutsideRoot::Io { path, source }) => {
                    return Err(ConfigError::Io { path, source });
                }
            }
        }
        Ok(())
    }
}

/// The value as the user wrote it in ruleforge.toml, for the message.
fn configured_value(file: &File, key: &str, resolved: &Path) -> PathBuf {
    let one = |p: &Option<PathBuf>| p.clone();
    let many = |v: &Option<Vec<PathBuf>>| {
        v.as_ref()
            .and_then(|v| v.iter().find(|p| resolved.ends_with(p)).cloned())
    };
    match key {
        "rule_dirs" => many(&file.rule_dirs),
        "fixture_dirs" => many(&file.fixture_dirs),
        "snapshot_dir" => one(&file.snapshot_dir),
        "etc_dir" => one(&file.etc_dir),
        "templates_dir" => one(&file.templates_dir),
        _ => None,
    }
    .unwrap_or_else(|| resolved.to_path_buf())
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

    #[test]
    fn paths_outside_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(root.join("rules")).unwrap();
        let canon = root.canonicalize().unwrap();
        assert!(resolve_within(&canon, &root.join("rules")).is_ok());
        assert!(resolve_within(&canon, &root.join("not/yet/there")).is_ok());
        assert!(matches!(
            resolve_within(&canon, &root.join("../elsewhere")),
            Err(OutsideRoot::Outside { .. })
        ));
        assert!(matches!(
            resolve_within(&canon, Path::new("/etc/passwd")),
            Err(OutsideRoot::Outside { .. })
        ));
        assert!(matches!(
            resolve_within(&canon, &root.join("missing/../../x")),
            Err(OutsideRoot::Unresolvable { .. })
        ));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();
            assert!(matches!(
                resolve_within(&canon, &root.join("link/passwd")),
                Err(OutsideRoot::Outside { .. })
            ));
        }
    }

    #[test]
    fn a_configured_directory_outside_the_root_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("ruleforge.toml"), "rule_dirs = [\"../\"]\n").unwrap();
        let err = Config::load(&root).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Outside {
                    key: "rule_dirs",
                    ..
                }
            ),
            "{err}"
        );
        std::fs::write(root.join("ruleforge.toml"), "snapshot_dir = \"/tmp\"\n").unwrap();
        assert!(matches!(
            Config::load(&root).unwrap_err(),
            ConfigError::Outside {
                key: "snapshot_dir",
                ..
            }
        ));
    }

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
