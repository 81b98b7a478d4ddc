//! From changed paths to the work they can affect: a changed rule → its lints, its replay over
//! every fixture and its snapshot; a changed fixture (manifest or recording) → every rule
//! replayed over it; a changed snapshot → its rule; a changed template → the docs; a changed
//! `ruleforge.toml`, `_config.yaml`, version lock or anything else under `etc/` → everything.
//!
//! The checks of the whole repository that cost little (rules that fail to load, duplicate
//! stems, manifests naming unknown rules, recordings without a manifest, orphaned snapshots) run
//! on every changed-only run, so a deleted or renamed rule leaves no stale snapshot behind.

use super::{ChangeKind, Changes, normal};
use crate::config::Config;
use crate::rule::Collection;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The work a change affects, each item with the reasons it was selected.
#[derive(Debug, Default, Clone)]
pub struct Affected {
    /// Non-empty: everything must run (configuration or schema data changed).
    pub everything: Vec<String>,
    /// Rule files: lints, replay over every fixture, snapshot.
    pub rules: BTreeMap<PathBuf, Vec<String>>,
    /// Fixture manifests: every rule is replayed over them.
    pub fixtures: BTreeMap<PathBuf, Vec<String>>,
    /// Why the docs are affected (templates changed).
    pub docs: Vec<String>,
    /// Changed paths that select nothing by themselves, with what covers them.
    pub notes: Vec<String>,
}

/// What a changed-only run replays: the rules in `rules` over every fixture, every other rule
/// over the fixtures in `fixtures` only.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    pub rules: HashSet<PathBuf>,
    pub fixtures: HashSet<PathBuf>,
}

impl Affected {
    /// `None` when everything must run.
    pub fn scope(&self) -> Option<Scope> {
        if !self.everything.is_empty() {
            return None;
        }
        Some(Scope {
            rules: self.rules.keys().cloned().collect(),
            fixtures: self.fixtures.keys().cloned().collect(),
        })
    }

    /// The selection and its reasons, one line each (printed by `-v`).
    pub fn describe(&self, changes: &Changes) -> String {
        let mut out = String::new();
        let base = changes.base.get(..12).unwrap_or(&changes.base);
        let _ = writeln!(
            out,
            "changed since {} (merge base {base}): {} changed {}{}",
            changes.reference,
            changes.changes.len(),
            if changes.changes.len() == 1 {
                "file"
            } else {
                "files"
            },
            if changes.outside > 0 {
                format!(" ({} more outside the rule repository)", changes.outside)
            } else {
                String::new()
            }
        );
        let esc = |s: &str| crate::diag::escape_control(s).into_owned();
        if !self.everything.is_empty() {
            let _ = writeln!(
                out,
                "selected: everything ({})",
                esc(&self.everything.join("; "))
            );
        }
        for (path, why) in &self.rules {
            let _ = writeln!(
                out,
                "selected rule {}: {}",
                esc(&show(path)),
                esc(&why.join("; "))
            );
        }
        for (path, why) in &self.fixtures {
            let _ = writeln!(
                out,
                "selected fixture {} (every rule replayed over it): {}",
                esc(&show(path)),
                esc(&why.join("; "))
            );
        }
        if !self.docs.is_empty() {
            let _ = writeln!(
                out,
                "docs affected: {} (`check` renders them)",
                esc(&self.docs.join("; "))
            );
        }
        for n in &self.notes {
            let _ = writeln!(out, "not selecting: {}", esc(n));
        }
        if self.everything.is_empty() && self.rules.is_empty() && self.fixtures.is_empty() {
            let _ = writeln!(
                out,
                "selected: no rule or fixture (the repository-wide checks still run)"
            );
        }
        out
    }
}

fn show(p: &Path) -> String {
    crate::snapshot::display_path(Path::new(""), p)
}

/// Is `path` inside `dir` (both relative to the root)?
fn under(path: &Path, dir: &Path) -> bool {
    let dir = normal(dir);
    !dir.as_os_str().is_empty() && normal(path).starts_with(&dir)
}

/// The work `changes` can affect in the repository `config` describes.
pub fn affected(config: &Config, collection: &Collection, changes: &Changes) -> Affected {
    let mut a = Affected::default();
    let manifests = manifests(config);
    for change in &changes.changes {
        match &change.kind {
            ChangeKind::Renamed { from } => {
                classify(&mut a, config, collection, &manifests, from, true);
                classify(&mut a, config, collection, &manifests, &change.path, false);
            }
            kind => {
                let deleted = *kind == ChangeKind::Deleted;
                classify(
                    &mut a,
                    config,
                    collection,
                    &manifests,
                    &change.path,
                    deleted,
                );
            }
        }
    }
    a
}

/// Every fixture manifest with the recordings it names (events and indicators).
fn manifests(config: &Config) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut out = Vec::new();
    for dir in &config.fixture_dirs {
        if let Ok(listing) = crate::rule::list_dir(dir) {
            for m in listing.toml {
                let events = (crate::fixture::recordings_of(&m).iter())
                    .map(|e| normal(e))
                    .collect();
                out.push((m, events));
            }
        }
    }
    out
}

fn classify(
    a: &mut Affected,
    config: &Config,
    collection: &Collection,
    manifests: &[(PathBuf, Vec<PathBuf>)],
    path: &Path,
    deleted: bool,
) {
    let shown = show(path);
    let verb = if deleted { "deleted" } else { "changed" };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if normal(path) == Path::new("ruleforge.toml")
        || config
            .config_file
            .as_deref()
            .is_some_and(|c| normal(c) == normal(path))
    {
        a.everything
            .push(format!("{shown} {verb}: the configuration"));
    } else if name == "_config.yaml" || under(path, &config.etc_dir) {
        a.everything.push(format!(
            "{shown} {verb}: configuration, version lock or schema data"
        ));
    } else if under(path, &config.snapshot_dir) {
        snapshot_changed(a, collection, path, &shown, verb);
    } else if under(path, &config.templates_dir) {
        a.docs.push(format!("{shown} {verb}"));
    } else if config.fixture_dirs.iter().any(|d| under(path, d)) {
        fixture_changed(a, manifests, path, &shown, deleted);
    } else if config.rule_dirs.iter().any(|d| under(path, d)) {
        if path.extension().is_none_or(|e| e != "toml") {
            a.notes
                .push(format!("{shown} {verb}: not a rule file (*.toml)"));
        } else if deleted {
            a.notes.push(format!(
                "{shown} deleted: manifests naming it and its snapshot are checked (RT004, RT007)"
            ));
        } else {
            let why = format!("{shown} changed");
            a.rules.entry(path.to_path_buf()).or_default().push(why);
        }
    } else {
        a.notes.push(format!(
            "{shown} {verb}: no rule, fixture or snapshot reads it"
        ));
    }
}

fn snapshot_changed(
    a: &mut Affected,
    collection: &Collection,
    path: &Path,
    shown: &str,
    verb: &str,
) {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let rule = (collection.rules.iter()).find(|r| Some(r.stem()) == stem.as_deref());
    match rule {
        Some(rule) => a
            .rules
            .entry(rule.path.clone())
            .or_default()
            .push(format!("its snapshot {shown} {verb}")),
        None => a.notes.push(format!(
            "{shown} {verb}: no rule has its stem (orphaned snapshots are always checked)"
        )),
    }
}

fn fixture_changed(
    a: &mut Affected,
    manifests: &[(PathBuf, Vec<PathBuf>)],
    path: &Path,
    shown: &str,
    deleted: bool,
) {
    let is_manifest = path.extension().is_some_and(|e| e == "toml");
    if is_manifest && deleted {
        // Every rule that alerted on it loses those alerts from its snapshot.
        a.everything.push(format!(
            "fixture {shown} deleted: every snapshot may change"
        ));
    } else if is_manifest {
        (a.fixtures.entry(path.to_path_buf()).or_default()).push(format!("{shown} changed"));
    } else if crate::fixture::is_recording(path) {
        let named: Vec<&PathBuf> = (manifests.iter())
            .filter(|(_, recordings)| recordings.contains(&normal(path)))
            .map(|(m, _)| m)
            .collect();
        if named.is_empty() && deleted {
            a.everything.push(format!(
                "recording {shown} deleted and no manifest names it now: every snapshot may change"
            ));
        } else if named.is_empty() {
            a.notes.push(format!(
                "{shown} changed: no manifest names it (recordings without a manifest are always checked)"
            ));
        }
        for m in named {
            let why = format!(
                "its recording {shown} {}",
                if deleted { "deleted" } else { "changed" }
            );
            a.fixtures.entry(m.clone()).or_default().push(why);
        }
    } else {
        a.notes.push(format!(
            "{shown} changed: neither a manifest nor a recording"
        ));
    }
}
