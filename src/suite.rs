//! The test suite behind `ruleforge test`: replay every rule over every fixture, assert each
//! manifest, compare each rule's alerts with its snapshot. Fails closed: anything that could
//! not be checked is a failure, never a pass.

use crate::config::{Config, Level};
use crate::diag::{Diagnostic, Severity};
use crate::fixture::{self, Fixture, Verdict};
use crate::query::FieldPath;
use crate::replay::{self, Alert, NotReplayable};
use crate::rule::{Collection, Rule};
use crate::snapshot;
use std::path::PathBuf;

/// A finding of the test run, with optional multi-line detail (a diff, the offending events).
#[derive(Debug, Clone)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub detail: Option<String>,
}

impl Finding {
    fn new(diagnostic: Diagnostic) -> Self {
        Finding {
            diagnostic,
            detail: None,
        }
    }

    fn detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
    }
}

#[derive(Debug, Default, Clone)]
pub struct Options {
    pub accept: bool,
    /// Only these rules (rule_id, file stem or name); empty = all.
    pub rules: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub rules: usize,
    pub replayed_rules: usize,
    pub fixtures: usize,
    pub events: usize,
    pub alerts: usize,
    pub findings: Vec<Finding>,
    pub snapshots_written: Vec<PathBuf>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.diagnostic.severity == Severity::Error)
    }
}

fn level(l: Level) -> Severity {
    match l {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
    }
}

fn event_lines(
    root: &std::path::Path,
    fixture: &Fixture,
    alerts: &[Alert],
    limit: usize,
) -> String {
    let mut out = String::new();
    for a in alerts.iter().take(limit) {
        for e in a.events.iter().flatten() {
            let v = &fixture.events.values[e.index];
            let get = |f: &str| snapshot::field_text(v, f).unwrap_or_default();
            out.push_str(&format!(
                "  {}:{}  {} (parent {}): {}\n",
                snapshot::display_path(root, &e.file),
                e.position,
                get("process.name"),
                get("process.parent.name"),
                get("process.command_line"),
            ));
        }
    }
    if alerts.len() > limit {
        out.push_str(&format!("  … and {} more\n", alerts.len() - limit));
    }
    out
}

pub fn run(config: &Config, collection: &Collection, opts: &Options) -> Outcome {
    let root = &config.root;
    let mut out = Outcome::default();
    let mut push = |f: Finding| out.findings.push(f);

    let selected: Vec<&Rule> = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .filter(|r| opts.rules.is_empty() || opts.rules.iter().any(|n| r.is_named(n)))
        .collect();
    for name in &opts.rules {
        if !collection.rules.iter().any(|r| r.is_named(name)) {
            push(Finding::new(Diagnostic::error(
                "RT004",
                format!("--rule {name:?} names no loaded rule"),
            )));
        }
    }
    if selected.is_empty() {
        push(Finding::new(Diagnostic::error(
            "RT009",
            "no rules selected: nothing was tested",
        )));
    }

    // Fixtures.
    let manifests = match fixture::discover(&config.fixture_dirs) {
        Ok(m) => m,
        Err(e) => {
            push(Finding::new(Diagnostic::error(
                "FX001",
                format!("cannot list fixtures: {e}"),
            )));
            Vec::new()
        }
    };
    let mut fixtures: Vec<Fixture> = Vec::new();
    for m in &manifests {
        match fixture::load(m, "@timestamp") {
            Ok(f) => fixtures.push(f),
            Err(diags) => diags.into_iter().for_each(|d| push(Finding::new(d))),
        }
    }
    if manifests.is_empty() {
        push(Finding::new(Diagnostic::error(
            "RT009",
            format!(
                "no fixtures found under {}: nothing was replayed",
                config
                    .fixture_dirs
                    .iter()
                    .map(|d| snapshot::display_path(root, d))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )));
    }
    out.rules = selected.len();
    out.fixtures = fixtures.len();
    out.events = fixtures.iter().map(|f| f.events.len()).sum();

    // Expectations naming unknown rules.
    for f in &fixtures {
        for e in &f.manifest.expect {
            if collection.find(e.rule.get_ref()).is_none() {
                push(Finding::new(
                    Diagnostic::error(
                        "RT004",
                        format!(
                            "manifest expects rule {:?}, which does not exist",
                            e.rule.get_ref()
                        ),
                    )
                    .at(&f.manifest_path, Some(e.rule.span())),
                ));
            }
        }
    }

    // Replay.
    for rule in &selected {
        let prepared = match replay::prepare(rule) {
            Ok(p) => p,
            Err(NotReplayable::Invalid(diags)) => {
                for d in diags {
                    push(Finding::new(d));
                }
                push(Finding::new(
                    Diagnostic::error(
                        "RT005",
                        format!(
                            "rule {:?} cannot be replayed: its query or schedule is invalid",
                            rule.name
                        ),
                    )
                    .at(&rule.path, None),
                ));
                continue;
            }
            Err(NotReplayable::Unsupported(reason)) => {
                let mut d = Diagnostic::error(
                    "RT005",
                    format!("rule {:?} is not replayable: {reason}", rule.name),
                )
                .at(&rule.path, Some(rule.span_of("rule.type")));
                d.severity = level(config.not_replayable);
                push(Finding::new(d));
                continue;
            }
        };
        out.replayed_rules += 1;
        let mut per_fixture: Vec<(&Fixture, Vec<Alert>)> = Vec::new();
        for f in &fixtures {
            match replay::run(&prepared, &f.events, f.baseline) {
                Ok(alerts) => per_fixture.push((f, alerts)),
                Err(e) => {
                    push(Finding::new(
                        Diagnostic::error(
                            "RT011",
                            format!("replaying {:?} failed: {e}", rule.name),
                        )
                        .at(&f.manifest_path, None),
                    ));
                    per_fixture.push((f, Vec::new()));
                }
            }
        }
        let total: usize = per_fixture.iter().map(|(_, a)| a.len()).sum();
        out.alerts += total;

        // Manifest assertions for this rule.
        let mut covered = false;
        for (f, alerts) in &per_fixture {
            let expectations: Vec<_> = f
                .manifest
                .expect
                .iter()
                .filter(|e| rule.is_named(e.rule.get_ref()))
                .collect();
            if expectations.is_empty() {
                if f.manifest.verdict == Verdict::Benign && !alerts.is_empty() {
                    push(
                        Finding::new(
                            Diagnostic::error(
                                "RT003",
                                format!(
                                    "false positive: {:?} raised {} alert(s) on benign fixture {}",
                                    rule.name,
                                    alerts.len(),
                                    snapshot::display_path(root, &f.manifest_path)
                                ),
                            )
                            .at(&f.manifest_path, None)
                            .with_help("fix the rule, or accept it with an [[expect]] entry and a reason in the manifest"),
                        )
                        .detail(event_lines(root, f, alerts, 5)),
                    );
                }
                continue;
            }
            if f.manifest.verdict == Verdict::Malicious {
                covered = true;
            }
            for e in expectations {
                let Ok(count) = e.count() else { continue };
                if !count.accepts(alerts.len() as u64) {
                    let mut finding = Finding::new(
                        Diagnostic::error(
                            "RT001",
                            format!(
                                "{:?} raised {} alert(s) on {}, expected {count}",
                                rule.name,
                                alerts.len(),
                                snapshot::display_path(root, &f.manifest_path)
                            ),
                        )
                        .at(&f.manifest_path, Some(e.rule.span())),
                    );
                    if !alerts.is_empty() {
                        finding = finding.detail(event_lines(root, f, alerts, 5));
                    }
                    push(finding);
                }
                let wanted = e.fields_json();
                if wanted.is_empty() {
                    continue;
                }
                for (n, a) in alerts.iter().enumerate() {
                    let ok = a.events.iter().flatten().any(|ev| {
                        let v = &f.events.values[ev.index];
                        wanted
                            .iter()
                            .all(|(field, want)| FieldPath::new(field).values(v).contains(&want))
                    });
                    if !ok {
                        push(Finding::new(
                            Diagnostic::error(
                                "RT010",
                                format!(
                                    "alert {} of {:?} on {} has no event with the expected field values",
                                    n + 1,
                                    rule.name,
                                    snapshot::display_path(root, &f.manifest_path)
                                ),
                            )
                            .at(&f.manifest_path, Some(e.rule.span())),
                        ));
                    }
                }
            }
        }
        if !covered && rule.maturity.as_deref() == Some("production") {
            let mut d = Diagnostic::error(
                "RT008",
                format!("rule {:?} has no malicious fixture that expects it to alert", rule.name),
            )
            .at(&rule.path, None)
            .with_help("record the behaviour and add a fixture manifest with an [[expect]] entry for this rule");
            d.severity = level(config.missing_fixture);
            push(Finding::new(d));
        }

        // Snapshot.
        let text = snapshot::render(root, rule, &per_fixture);
        let path = snapshot::path_for(&config.snapshot_dir, rule);
        let stored = std::fs::read_to_string(&path).ok();
        if let Some(d) = snapshot::diff(
            &snapshot::display_path(root, &path),
            stored.as_deref(),
            &text,
        ) {
            if opts.accept {
                let written = std::fs::create_dir_all(&config.snapshot_dir)
                    .and_then(|_| crate::output::write_atomic(&path, text.as_bytes()));
                match written {
                    Ok(()) => out.snapshots_written.push(path),
                    Err(e) => push(Finding::new(
                        Diagnostic::error("RT006", format!("cannot write snapshot: {e}"))
                            .at(&path, None),
                    )),
                }
            } else {
                let what = if stored.is_some() {
                    "changed"
                } else {
                    "is new (no accepted snapshot)"
                };
                push(
                    Finding::new(
                        Diagnostic::error("RT006", format!("alerts of {:?} {what}", rule.name))
                            .at(&path, None)
                            .with_help(
                                "review the diff; run `ruleforge test --accept` to accept it",
                            ),
                    )
                    .detail(d),
                );
            }
        }
    }

    // Orphan snapshots (only meaningful on a full run).
    if opts.rules.is_empty() {
        match snapshot::orphans(&config.snapshot_dir, &collection.rules) {
            Ok(list) => {
                for p in list {
                    if opts.accept && std::fs::remove_file(&p).is_ok() {
                        out.snapshots_written.push(p);
                    } else {
                        push(Finding::new(
                            Diagnostic::error(
                                "RT007",
                                "orphaned snapshot: no rule has this file stem",
                            )
                            .at(&p, None)
                            .with_help("delete it, or run `ruleforge test --accept`"),
                        ));
                    }
                }
            }
            Err(e) => push(Finding::new(Diagnostic::error(
                "RT007",
                format!("cannot list snapshots: {e}"),
            ))),
        }
    }
    if out.events == 0 && !fixtures.is_empty() {
        push(Finding::new(Diagnostic::error(
            "RT009",
            "fixtures hold zero events",
        )));
    }
    out
}
