//! Where a rule repository keeps its rules and tooling data, found without configuration.
//!
//! Three layouts are recognised, in this order:
//! 1. a custom rules directory: `_config.yaml` at the root (detection-rules' custom rules
//!    support; `CUSTOM_RULES_DIR` names such a directory and must then be the root);
//! 2. a detection-rules checkout: `detection_rules/etc/` (with its `_config.yaml`, whose paths
//!    are relative to that folder);
//! 3. a plain repository: `rules/`, `rules_building_block/` and `etc/` at the root.
//!
//! `_config.yaml` is read with a YAML parser; keys detection-rules does not define are errors
//! (a misspelt key must not silently fall back to a default).

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Which kind of repository the root is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `_config.yaml` at the root.
    CustomRules,
    /// `detection_rules/etc/` below the root.
    Checkout,
    /// Neither: `etc/` at the root when present.
    Plain,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::CustomRules => "custom rules directory (_config.yaml)",
            Kind::Checkout => "detection-rules checkout (detection_rules/etc/)",
            Kind::Plain => "plain repository (rules/, etc/)",
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<T> {
    pub value: T,
    pub origin: String,
}

impl<T> Found<T> {
    fn new(value: T, origin: impl Into<String>) -> Self {
        Found {
            value,
            origin: origin.into(),
        }
    }
}

/// What the layout says, every path joined to the root.
#[derive(Debug, Clone)]
pub struct Layout {
    pub kind: Kind,
    /// The `_config.yaml` read, if any.
    pub config_yaml: Option<PathBuf>,
    /// Rule folders (rules, then building-block rules); `None` when the layout names none.
    pub rule_dirs: Option<Found<Vec<PathBuf>>>,
    /// The folder holding the tooling data (`etc/`).
    pub etc_dir: Found<PathBuf>,
    pub version_lock: Found<PathBuf>,
    pub packages: Found<PathBuf>,
    pub stack_schema_map: Found<PathBuf>,
    pub deprecated_rules: Found<PathBuf>,
    /// `bypass_version_lock: true`: versions come from the rule files.
    pub bypass_version_lock: Found<bool>,
    /// `threat_mapping_version` pinned in `_config.yaml` (e.g. `"18"` keeps v18 output).
    pub threat_mapping_version: Option<Found<String>>,
    /// `testing.config`.
    pub testing_config: Option<Found<PathBuf>>,
}

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
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
    #[error("{config}: `{key}` names {path}, which does not exist")]
    Missing {
        config: PathBuf,
        key: String,
        path: PathBuf,
    },
    #[error(
        "CUSTOM_RULES_DIR={dir} is not the repository root {root}; run ruleforge in that directory (or -C {dir})"
    )]
    CustomRulesDirElsewhere { dir: PathBuf, root: PathBuf },
    #[error("CUSTOM_RULES_DIR={dir}: {dir}/_config.yaml does not exist")]
    CustomRulesDirWithoutConfig { dir: PathBuf },
}

/// `_config.yaml` as detection-rules defines it. Keys ruleforge has no use for are accepted
/// (they configure detection-rules' own validation) but must be spelt right and well typed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Read for validation only: ruleforge has no use for some keys.
struct ConfigYaml {
    rule_dirs: Option<Vec<PathBuf>>,
    bbr_rules_dirs: Option<Vec<PathBuf>>,
    #[serde(default)]
    files: FilesYaml,
    normalize_kql_keywords: Option<bool>,
    bypass_version_lock: Option<bool>,
    directories: Option<DirectoriesYaml>,
    testing: Option<TestingYaml>,
    auto_gen_schema_file: Option<PathBuf>,
    bypass_optional_elastic_validation: Option<bool>,
    bypass_note_validation_and_parse: Option<bool>,
    bypass_bbr_lookback_validation: Option<bool>,
    bypass_tags_validation: Option<bool>,
    bypass_timeline_template_validation: Option<bool>,
    bypass_esql_keep_validation: Option<bool>,
    bypass_esql_metadata_validation: Option<bool>,
    no_tactic_filename: Option<bool>,
    threat_mapping_framework: Option<String>,
    threat_mapping_version: Option<YamlScalar>,
    attack_version_maps_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilesYaml {
    deprecated_rules: Option<PathBuf>,
    packages: Option<PathBuf>,
    stack_schema_map: Option<PathBuf>,
    version_lock: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Read for validation only.
struct DirectoriesYaml {
    action_dir: Option<PathBuf>,
    exception_dir: Option<PathBuf>,
    action_connector_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestingYaml {
    config: Option<PathBuf>,
}

/// `threat_mapping_version: 18` or `"18"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum YamlScalar {
    Int(i64),
    Text(String),
}

impl YamlScalar {
    fn text(&self) -> String {
        match self {
            YamlScalar::Int(n) => n.to_string(),
            YamlScalar::Text(s) => s.clone(),
        }
    }
}

const CHECKOUT_ETC: &str = "detection_rules/etc";

/// Finds the layout of the repository at `root`. `custom_rules_dir` is the value of the
/// `CUSTOM_RULES_DIR` environment variable, if set.
pub fn detect(root: &Path, custom_rules_dir: Option<&Path>) -> Result<Layout, LayoutError> {
    if let Some(dir) = custom_rules_dir {
        check_custom_rules_dir(root, dir)?;
    }
    let at_root = root.join("_config.yaml");
    if at_root.is_file() {
        return from_config_yaml(root, Kind::CustomRules, &at_root, root);
    }
    let checkout_etc = root.join(CHECKOUT_ETC);
    if checkout_etc.is_dir() {
        let config = checkout_etc.join("_config.yaml");
        if config.is_file() {
            return from_config_yaml(root, Kind::Checkout, &config, &checkout_etc);
        }
        return Ok(defaults(
            Kind::Checkout,
            checkout_etc,
            "detected: detection_rules/etc/ exists",
        ));
    }
    Ok(defaults(Kind::Plain, root.join("etc"), "default"))
}

fn check_custom_rules_dir(root: &Path, dir: &Path) -> Result<(), LayoutError> {
    let canonical = |p: &Path| {
        let p = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        p.canonicalize().map_err(|source| LayoutError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let dir_c = canonical(dir)?;
    let root_c = canonical(root)?;
    if dir_c != root_c {
        return Err(LayoutError::CustomRulesDirElsewhere {
            dir: dir.to_path_buf(),
            root: root_c,
        });
    }
    if !dir.join("_config.yaml").is_file() {
        return Err(LayoutError::CustomRulesDirWithoutConfig {
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// The layout without a `_config.yaml`: the data files in `etc_dir` under their usual names.
fn defaults(kind: Kind, etc_dir: PathBuf, origin: &str) -> Layout {
    let file = |name: &str| Found::new(etc_dir.join(name), origin);
    Layout {
        kind,
        config_yaml: None,
        rule_dirs: None,
        version_lock: file("version.lock.json"),
        packages: file("packages.yaml"),
        stack_schema_map: file("stack-schema-map.yaml"),
        deprecated_rules: file("deprecated_rules.json"),
        etc_dir: Found::new(etc_dir, origin),
        bypass_version_lock: Found::new(false, "default"),
        threat_mapping_version: None,
        testing_config: None,
    }
}

/// Reads `config` (whose relative paths are relative to `base`).
fn from_config_yaml(
    root: &Path,
    kind: Kind,
    config: &Path,
    base: &Path,
) -> Result<Layout, LayoutError> {
    let text = std::fs::read_to_string(config).map_err(|source| LayoutError::Io {
        path: config.to_path_buf(),
        source,
    })?;
    let parsed = parse_config_yaml(config, &text)?;
    let origin = config.display().to_string();
    let etc_dir = match kind {
        Kind::CustomRules => root.join("etc"),
        _ => base.to_path_buf(),
    };
    let mut layout = defaults(kind, etc_dir, "default");
    layout.etc_dir.origin = origin.clone();
    layout.config_yaml = Some(config.to_path_buf());
    let join = |p: &PathBuf| normalise(&base.join(p));
    let mut dirs: Vec<PathBuf> = Vec::new();
    dirs.extend(parsed.rule_dirs.iter().flatten().map(join));
    dirs.extend(parsed.bbr_rules_dirs.iter().flatten().map(join));
    if parsed.rule_dirs.is_some() || parsed.bbr_rules_dirs.is_some() {
        layout.rule_dirs = Some(Found::new(dirs, format!("{origin}: rule_dirs")));
    }
    let files = &parsed.files;
    for (key, value, slot) in [
        (
            "files.version_lock",
            &files.version_lock,
            &mut layout.version_lock,
        ),
        ("files.packages", &files.packages, &mut layout.packages),
        (
            "files.stack_schema_map",
            &files.stack_schema_map,
            &mut layout.stack_schema_map,
        ),
        (
            "files.deprecated_rules",
            &files.deprecated_rules,
            &mut layout.deprecated_rules,
        ),
    ] {
        if let Some(p) = value {
            let path = join(p);
            if !path.is_file() {
                return Err(LayoutError::Missing {
                    config: config.to_path_buf(),
                    key: key.to_string(),
                    path,
                });
            }
            *slot = Found::new(path, format!("{origin}: {key}"));
        }
    }
    if let Some(b) = parsed.bypass_version_lock {
        layout.bypass_version_lock = Found::new(b, format!("{origin}: bypass_version_lock"));
    }
    layout.threat_mapping_version = parsed
        .threat_mapping_version
        .as_ref()
        .map(|v| Found::new(v.text(), format!("{origin}: threat_mapping_version")));
    layout.testing_config = parsed
        .testing
        .as_ref()
        .and_then(|t| t.config.as_ref())
        .map(|p| Found::new(join(p), format!("{origin}: testing.config")));
    Ok(layout)
}

fn parse_config_yaml(path: &Path, text: &str) -> Result<ConfigYaml, LayoutError> {
    // An empty (or all-comment) file is an empty mapping.
    if text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    }) {
        return Ok(ConfigYaml::default());
    }
    yaml_serde::from_str::<ConfigYaml>(text).map_err(|e| {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let message = e.to_string();
        // The location is given separately; drop the parser's own " at line …" suffix.
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        LayoutError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    })
}

/// `a/b/../../c` → `c` (textually: the folders named in `_config.yaml` are relative to the
/// config's folder and climb out of it with `..`).
fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// One effective setting for `ruleforge config`: key, value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub origin: String,
}

/// The settings `ruleforge.toml` can override, after resolution.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub rule_dirs: Vec<PathBuf>,
    pub fixture_dirs: Vec<PathBuf>,
    pub snapshot_dir: PathBuf,
    pub templates_dir: PathBuf,
    pub stack_version: String,
    pub layout: Layout,
    pub provenance: Vec<Setting>,
}

/// Combines `ruleforge.toml` (which wins) with the detected layout and the defaults.
pub fn resolve(
    root: &Path,
    file: &crate::config::File,
    config_file: Option<&Path>,
    mut layout: Layout,
) -> Resolved {
    let toml = |key: &str| match config_file {
        Some(p) => format!("{}: {key}", p.display()),
        None => format!("ruleforge.toml: {key}"),
    };
    if let Some(etc) = &file.etc_dir {
        let etc = root.join(etc);
        let origin = toml("etc_dir");
        let at = |name: &str| Found::new(etc.join(name), origin.clone());
        layout.version_lock = at("version.lock.json");
        layout.packages = at("packages.yaml");
        layout.stack_schema_map = at("stack-schema-map.yaml");
        layout.deprecated_rules = at("deprecated_rules.json");
        layout.etc_dir = Found::new(etc, origin.clone());
    }
    let rule_dirs = match (&file.rule_dirs, &layout.rule_dirs) {
        (Some(d), _) => Found::new(d.iter().map(|p| root.join(p)).collect(), toml("rule_dirs")),
        (None, Some(found)) => found.clone(),
        (None, None) => Found::new(
            ["rules", "rules_building_block"]
                .iter()
                .map(|d| root.join(d))
                .filter(|d| d.is_dir())
                .collect(),
            "default: rules/ and rules_building_block/ where present",
        ),
    };
    let or_default = |v: &Option<PathBuf>, key: &str, default: &str| match v {
        Some(p) => Found::new(root.join(p), toml(key)),
        None => Found::new(root.join(default), "default"),
    };
    let fixture_dirs = match &file.fixture_dirs {
        Some(d) => Found::new(
            d.iter().map(|p| root.join(p)).collect(),
            toml("fixture_dirs"),
        ),
        None => Found::new(vec![root.join("fixtures")], "default"),
    };
    let snapshot_dir = or_default(&file.snapshot_dir, "snapshot_dir", "snapshots");
    let templates_dir = or_default(&file.templates_dir, "templates_dir", "docs-templates");
    let stack_version = match &file.stack_version {
        Some(v) => Found::new(v.clone(), toml("stack_version")),
        None => match package_stack(&layout.packages.value) {
            Some(v) => Found::new(
                v,
                format!("{}: package.name", layout.packages.value.display()),
            ),
            None => Found::new("9.6".to_string(), "default"),
        },
    };
    let list = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let path = |p: &Path| p.display().to_string();
    let exists = |p: &Path| {
        if p.exists() {
            p.display().to_string()
        } else {
            format!("{} (absent)", p.display())
        }
    };
    let mut provenance = vec![
        setting("layout", layout.kind.describe().to_string(), "detected"),
        setting("rule_dirs", list(&rule_dirs.value), &rule_dirs.origin),
        setting(
            "fixture_dirs",
            list(&fixture_dirs.value),
            &fixture_dirs.origin,
        ),
        setting(
            "snapshot_dir",
            path(&snapshot_dir.value),
            &snapshot_dir.origin,
        ),
        setting(
            "templates_dir",
            path(&templates_dir.value),
            &templates_dir.origin,
        ),
        setting(
            "etc_dir",
            path(&layout.etc_dir.value),
            &layout.etc_dir.origin,
        ),
        setting(
            "version_lock",
            exists(&layout.version_lock.value),
            &layout.version_lock.origin,
        ),
        setting(
            "packages",
            exists(&layout.packages.value),
            &layout.packages.origin,
        ),
        setting(
            "stack_schema_map",
            exists(&layout.stack_schema_map.value),
            &layout.stack_schema_map.origin,
        ),
        setting(
            "deprecated_rules",
            exists(&layout.deprecated_rules.value),
            &layout.deprecated_rules.origin,
        ),
        setting(
            "stack_version",
            stack_version.value.clone(),
            &stack_version.origin,
        ),
        setting(
            "bypass_version_lock",
            layout.bypass_version_lock.value.to_string(),
            &layout.bypass_version_lock.origin,
        ),
    ];
    if let Some(v) = &layout.threat_mapping_version {
        provenance.push(setting(
            "threat_mapping_version",
            v.value.clone(),
            &v.origin,
        ));
    }
    if let Some(v) = &layout.testing_config {
        provenance.push(setting("testing.config", path(&v.value), &v.origin));
    }
    Resolved {
        rule_dirs: rule_dirs.value,
        fixture_dirs: fixture_dirs.value,
        snapshot_dir: snapshot_dir.value,
        templates_dir: templates_dir.value,
        stack_version: stack_version.value,
        layout,
        provenance,
    }
}

fn setting(key: &str, value: String, origin: &str) -> Setting {
    Setting {
        key: key.to_string(),
        value,
        origin: origin.to_string(),
    }
}

/// `package.name` of `packages.yaml` (the package stack, e.g. `9.6`); `None` when the file is
/// absent or has no such key.
pub fn package_stack(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: yaml_serde::Value = yaml_serde::from_str(&text).ok()?;
    match value.get("package")?.get("name")? {
        yaml_serde::Value::String(s) => Some(s.clone()),
        yaml_serde::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_checkout_reads_detection_rules_etc_config() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let etc = root.join("detection_rules/etc");
        write(
            &etc.join("_config.yaml"),
            "rule_dirs:\n  - ../../rules\nbbr_rules_dirs:\n  - ../../rules_building_block\nfiles:\n  version_lock: version.lock.json\n",
        );
        write(&etc.join("version.lock.json"), "{}");
        let layout = detect(root, None).unwrap();
        assert_eq!(layout.kind, Kind::Checkout);
        assert_eq!(
            layout.rule_dirs.unwrap().value,
            vec![root.join("rules"), root.join("rules_building_block")]
        );
        assert_eq!(layout.version_lock.value, etc.join("version.lock.json"));
        assert!(layout.version_lock.origin.ends_with("files.version_lock"));
        assert_eq!(layout.packages.value, etc.join("packages.yaml"));
    }

    #[test]
    fn a_custom_rules_directory_reads_its_config_relative_to_itself() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("_config.yaml"),
            "rule_dirs:\n  - rules\nfiles:\n  version_lock: etc/version.lock.json\n  packages: etc/packages.yaml\nbypass_version_lock: true\nthreat_mapping_version: \"18\"\n",
        );
        write(&root.join("etc/version.lock.json"), "{}");
        write(&root.join("etc/packages.yaml"), "package:\n  name: '9.6'\n");
        let layout = detect(root, Some(root)).unwrap();
        assert_eq!(layout.kind, Kind::CustomRules);
        assert_eq!(layout.rule_dirs.unwrap().value, vec![root.join("rules")]);
        assert_eq!(layout.packages.value, root.join("etc/packages.yaml"));
        assert!(layout.bypass_version_lock.value);
        assert_eq!(layout.threat_mapping_version.unwrap().value, "18");
    }

    #[test]
    fn a_misspelt_key_is_an_error_at_its_place() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("_config.yaml"),
            "rule_dirs:\n  - rules\nfiles:\n  version_lok: etc/v.json\n",
        );
        let Err(LayoutError::Invalid {
            line,
            column,
            message,
            ..
        }) = detect(dir.path(), None)
        else {
            panic!("expected an error");
        };
        assert_eq!(line, 4);
        assert_eq!(column, 3);
        assert!(message.contains("version_lok"), "{message}");
    }

    #[test]
    fn a_named_file_that_is_missing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("_config.yaml"),
            "rule_dirs: [rules]\nfiles:\n  version_lock: etc/version.lock.json\n",
        );
        let err = detect(dir.path(), None).unwrap_err();
        assert!(
            matches!(&err, LayoutError::Missing { key, .. } if key == "files.version_lock"),
            "{err}"
        );
    }

    #[test]
    fn custom_rules_dir_must_be_the_root_and_hold_a_config() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        let other = dir.path().join("other");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        assert!(matches!(
            detect(&root, Some(&other)),
            Err(LayoutError::CustomRulesDirElsewhere { .. })
        ));
        assert!(matches!(
            detect(&root, Some(&root)),
            Err(LayoutError::CustomRulesDirWithoutConfig { .. })
        ));
    }

    #[test]
    fn without_markers_the_layout_is_plain_with_etc_at_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let layout = detect(dir.path(), None).unwrap();
        assert_eq!(layout.kind, Kind::Plain);
        assert_eq!(
            layout.version_lock.value,
            dir.path().join("etc/version.lock.json")
        );
        assert!(layout.rule_dirs.is_none());
    }

    #[test]
    fn ruleforge_toml_overrides_the_layout_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let etc = root.join("detection_rules/etc");
        write(&etc.join("_config.yaml"), "rule_dirs:\n  - ../../rules\n");
        write(
            &root.join("data/packages.yaml"),
            "package:\n  name: '9.4'\n",
        );
        let layout = detect(root, None).unwrap();
        let file = crate::config::File {
            etc_dir: Some("data".into()),
            rule_dirs: Some(vec!["custom".into()]),
            ..Default::default()
        };
        let toml = root.join("ruleforge.toml");
        let r = resolve(root, &file, Some(&toml), layout);
        assert_eq!(r.rule_dirs, vec![root.join("custom")]);
        assert_eq!(
            r.layout.version_lock.value,
            root.join("data/version.lock.json")
        );
        assert_eq!(
            r.stack_version, "9.4",
            "package stack read from the overriding etc_dir"
        );
        let origin = |key: &str| {
            r.provenance
                .iter()
                .find(|s| s.key == key)
                .map(|s| s.origin.clone())
                .unwrap()
        };
        assert!(origin("rule_dirs").ends_with("ruleforge.toml: rule_dirs"));
        assert!(origin("version_lock").ends_with("ruleforge.toml: etc_dir"));
        assert!(origin("stack_version").ends_with("packages.yaml: package.name"));
        assert_eq!(origin("snapshot_dir"), "default");
    }
}
