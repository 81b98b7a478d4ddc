//! The test suite behind `ruleforge test`: replay every rule over every fixture, assert each
//! manifest, compare each rule's alerts with its snapshot. Fails closed: anything that could
//! not be checked is a failure, never a pass; and `--accept` writes or removes nothing unless the
//! run saw every rule and every fixture.

use crate::changes::partial;
use crate::config::{Config, Level};
use crate::diag::{Diagnostic, Severity, escape_control};
use crate::fixture::{self, Count, Fixture, Verdict};
use crate::query::FieldPath;
use crate::replay::stream::RuleSet;
use crate::replay::{self, Alert, NotReplayable, ReplayError};
use crate::rule::{Collection, Rule};
use crate::snapshot;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A finding of the test run, with optional multi-line detail (a diff, the offending events).
#[derive(Debug, Clone)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub detail: Option<String>,
    /// A usage, configuration or I/O error (exit code 2) rather than a finding about the rules.
    pub fatal: bool,
    /// The rule file the finding is about, when it is about one rule (for per-rule reports).
    pub rule: Option<PathBuf>,
    /// The fixture manifest the finding is about, when it is about one fixture.
    pub fixture: Option<PathBuf>,
}

impl Finding {
    fn new(diagnostic: Diagnostic) -> Self {
        Finding {
            diagnostic,
            detail: None,
            fatal: false,
            rule: None,
            fixture: None,
        }
    }

    fn fatal(diagnostic: Diagnostic) -> Self {
        Finding {
            fatal: true,
            ..Finding::new(diagnostic)
        }
    }

    fn detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
    }

    fn about(mut self, rule: &Rule, fixture: Option<&Fixture>) -> Self {
        self.rule = Some(rule.path.clone());
        self.fixture = fixture.map(|f| f.manifest_path.clone());
        self
    }
}

#[derive(Debug, Default, Clone)]
pub struct Options {
    pub accept: bool,
    /// Only these rules (rule_id, file stem or name); empty = all.
    pub rules: Vec<String>,
    /// `--changed-since`: only the work the change affects (`None`: everything).
    pub scope: Option<crate::changes::Scope>,
    /// Also analyse coverage (`check -v`); RT017 (`[test] unproven_exclusion`) implies it.
    pub coverage: bool,
}

/// What one rule did on one fixture (shown by `-v`).
#[derive(Debug, Clone)]
pub struct FixtureResult {
    pub rule: String,
    pub rule_path: PathBuf,
    pub fixture: PathBuf,
    pub verdict: Verdict,
    pub alerts: usize,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The manifest expects this count: met or not.
    Expected { count: Count, met: bool },
    /// A benign fixture where the rule stays quiet.
    Quiet,
    /// A benign fixture where the rule alerts without an accepting expectation.
    FalsePositive,
    /// A malicious fixture that does not name this rule (its alerts go to the snapshot only).
    Unlisted,
    /// The replay failed.
    Failed,
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
    pub snapshots_removed: Vec<PathBuf>,
    pub results: Vec<FixtureResult>,
    /// Branch and exclusion coverage, when asked for.
    pub coverage: Option<Vec<crate::coverage::RuleCoverage>>,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.diagnostic.severity == Severity::Error)
    }

    /// Did a usage, configuration or I/O error stop part of the run (exit code 2)?
    pub fn fatal(&self) -> bool {
        self.findings.iter().any(|f| f.fatal)
    }
}

fn level(l: Level) -> Severity {
    match l {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
    }
}

/// The run in progress: findings, plus the reasons the run did not see everything (any such
/// reason refuses `--accept`).
struct Run<'a> {
    config: &'a Config,
    out: Outcome,
    incomplete: Vec<String>,
}

impl Run<'_> {
    fn push(&mut self, f: Finding) {
        self.out.findings.push(f);
    }

    fn incomplete(&mut self, f: Finding, why: impl Into<String>) {
        self.incomplete.push(why.into());
        self.push(f);
    }

    fn display(&self, p: &Path) -> String {
        snapshot::display_path(&self.config.root, p)
    }
}

pub fn run(config: &Config, collection: &Collection, opts: &Options) -> Outcome {
    let mut run = Run {
        config,
        out: Outcome::default(),
        incomplete: Vec::new(),
    };
    let selected = select_rules(&mut run, collection, opts);
    report_load_failures(&mut run, collection);
    let colliding = check_stems(&mut run, collection);
    let fixtures = load_fixtures(&mut run);
    run.out.rules = selected.len();
    run.out.fixtures = fixtures.len();
    run.out.events = fixtures.iter().map(|f| f.events.len()).sum();
    check_manifests(&mut run, collection, &fixtures);

    let mut stored_snapshots = Vec::new();
    let mut partials = Vec::new();
    for rule in &selected {
        let path = snapshot::path_for(&config.snapshot_dir, rule);
        let stored = std::fs::read_to_string(&path).ok();
        partials.push(partial::fixtures_for(
            opts.scope.as_ref(),
            rule,
            &fixtures,
            stored.as_deref(),
        ));
        stored_snapshots.push(stored);
    }
    let replays = replay_fixtures(&selected, &partials, &fixtures);
    let mut snapshots = Vec::new();
    for (((rule, stored), partial), outcome) in selected
        .iter()
        .zip(stored_snapshots)
        .zip(partials)
        .zip(replays)
    {
        if let Some(per_fixture) = replay_rule(&mut run, rule, outcome) {
            assert_manifests(&mut run, rule, &per_fixture, &fixtures);
            if !colliding.contains(rule.stem())
                && !without_fixture(config, rule, &per_fixture, &fixtures)
            {
                let mut text = snapshot::render(&config.root, rule, &per_fixture);
                if let (Some(part), Some(stored)) = (&partial, &stored) {
                    let order: Vec<String> = fixtures
                        .iter()
                        .map(|f| partial::key(&config.root, f))
                        .collect();
                    let keys = part.iter().map(|f| partial::key(&config.root, f)).collect();
                    text = partial::merge(stored, &text, &order, &keys).unwrap_or(text);
                }
                snapshots.push((*rule, text));
            }
        }
    }
    if opts.coverage || config.unproven_exclusion.is_some() {
        let cov = crate::coverage::analyse(&selected, &fixtures);
        if let Some(l) = config.unproven_exclusion {
            for mut d in crate::coverage::unproven(&cov) {
                d.severity = level(l);
                run.push(Finding::new(d));
            }
        }
        run.out.coverage = Some(cov);
    }
    let orphans = if opts.rules.is_empty() {
        find_orphans(&mut run, collection)
    } else {
        Vec::new()
    };
    settle_snapshots(&mut run, opts.accept, &snapshots, &orphans);
    if run.out.events == 0 && !fixtures.is_empty() {
        run.push(Finding::new(Diagnostic::error(
            "RT009",
            "fixtures hold zero events",
        )));
    }
    run.out
}

/// A rule that no manifest names and that raised no alert has no fixture evidence: its missing
/// coverage is reported once (RT008), and a snapshot saying `alerts: 0` would only add a file
/// per rule. An accepted snapshot that exists is still compared.
fn without_fixture(
    config: &Config,
    rule: &Rule,
    per_fixture: &[(&Fixture, Vec<Alert>)],
    all: &[Fixture],
) -> bool {
    // Every fixture, not only the replayed ones: a changed-only run replays a subset.
    let named = all.iter().any(|f| {
        f.manifest
            .expect
            .iter()
            .any(|e| rule.is_named(e.rule.get_ref()))
    });
    let alerted = per_fixture.iter().any(|(_, a)| !a.is_empty());
    !named && !alerted && !snapshot::path_for(&config.snapshot_dir, rule).exists()
}

fn select_rules<'c>(
    run: &mut Run<'_>,
    collection: &'c Collection,
    opts: &Options,
) -> Vec<&'c Rule> {
    let selected: Vec<&Rule> = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .filter(|r| opts.rules.is_empty() || opts.rules.iter().any(|n| r.is_named(n)))
        .filter(|r| {
            (opts.scope.as_ref())
                .is_none_or(|s| !s.fixtures.is_empty() || s.rules.contains(&r.path))
        })
        .collect();
    for name in &opts.rules {
        if !collection.rules.iter().any(|r| r.is_named(name)) {
            run.push(Finding::fatal(Diagnostic::error(
                "RT004",
                format!("--rule {name:?} names no loaded rule"),
            )));
        }
    }
    // A changed-only run may rightly select no rule (only a README changed).
    if selected.is_empty() && opts.rules.is_empty() && opts.scope.is_none() {
        run.push(Finding::new(Diagnostic::error(
            "RT009",
            "no rules selected: nothing was tested",
        )));
    }
    selected
}

/// A rule file that does not load is not tested: its own diagnostics (syntax with position,
/// unreadable, symlink) are test errors, and the run is incomplete.
fn report_load_failures(run: &mut Run<'_>, collection: &Collection) {
    for failed in &collection.failed {
        let why = format!("{} did not load", run.display(failed.path()));
        let io = matches!(failed, crate::rule::LoadError::Io { .. });
        for d in failed.diagnostics() {
            let f = if io {
                Finding::fatal(d)
            } else {
                Finding::new(d)
            };
            run.incomplete(f, why.clone());
        }
    }
}

/// Snapshots are named by file stem: two rules with one stem would overwrite each other's.
/// Returns the colliding stems (their snapshots are neither compared nor written).
fn check_stems(run: &mut Run<'_>, collection: &Collection) -> HashSet<String> {
    let mut by_stem: BTreeMap<String, Vec<&Rule>> = BTreeMap::new();
    for r in &collection.rules {
        // Case-insensitive: on macOS and Windows the two snapshot files are the same file.
        by_stem.entry(r.stem().to_lowercase()).or_default().push(r);
    }
    let mut colliding = HashSet::new();
    for rules in by_stem.values().filter(|v| v.len() > 1) {
        let paths: Vec<String> = rules.iter().map(|r| run.display(&r.path)).collect();
        for r in rules {
            colliding.insert(r.stem().to_string());
            let d = Diagnostic::error(
                "RT013",
                format!(
                    "{} rules share the file stem `{}` ({}): their snapshots would overwrite each other",
                    rules.len(),
                    r.stem(),
                    paths.join(", ")
                ),
            )
            .at(&r.path, None)
            .with_help("rename one of the rule files");
            run.incomplete(
                Finding::new(d),
                format!("file stem `{}` is not unique", r.stem()),
            );
        }
    }
    colliding
}

/// The configured fixtures, and the findings raised loading them (for `ruleforge coverage`).
pub fn fixtures(config: &Config) -> (Vec<Fixture>, Vec<Finding>) {
    let mut run = Run {
        config,
        out: Outcome::default(),
        incomplete: Vec::new(),
    };
    let fixtures = load_fixtures(&mut run);
    (fixtures, run.out.findings)
}

fn load_fixtures(run: &mut Run<'_>) -> Vec<Fixture> {
    let config = run.config;
    let mut manifests = Vec::new();
    let mut others = Vec::new();
    for dir in &config.fixture_dirs {
        if !dir.is_dir() {
            run.incomplete(
                Finding::fatal(
                    Diagnostic::error(
                        "FX001",
                        if dir.exists() {
                            format!("fixture directory {} is not a directory", run.display(dir))
                        } else {
                            format!("fixture directory {} does not exist", run.display(dir))
                        },
                    )
                    .with_help("create it, or set fixture_dirs in ruleforge.toml"),
                ),
                "a fixture directory is missing",
            );
            continue;
        }
        match crate::rule::list_dir(dir) {
            Ok(listing) => {
                for s in listing.symlinks {
                    run.incomplete(
                        Finding::new(crate::rule::symlink_diagnostic(&s)),
                        format!("{} is a symlink", run.display(&s)),
                    );
                }
                manifests.extend(listing.toml);
                others.extend(listing.other);
            }
            Err(e) => run.incomplete(
                Finding::fatal(Diagnostic::error(
                    "FX001",
                    format!("cannot list fixtures under {}: {e}", run.display(dir)),
                )),
                "a fixture directory could not be listed",
            ),
        }
    }
    manifests.sort();
    let mut fixtures = Vec::new();
    for m in &manifests {
        match fixture::load(m, "@timestamp", &config.root_canonical) {
            Ok(f) => fixtures.push(f),
            Err(diags) => {
                for d in diags {
                    let f = if fixture::is_fatal(d.code) {
                        Finding::fatal(d)
                    } else {
                        Finding::new(d)
                    };
                    run.incomplete(f, format!("fixture {} did not load", run.display(m)));
                }
            }
        }
    }
    report_unreferenced(run, &manifests, &others);
    if manifests.is_empty() && config.fixture_dirs.iter().all(|d| d.is_dir()) {
        let dirs: Vec<String> = config.fixture_dirs.iter().map(|d| run.display(d)).collect();
        run.push(Finding::new(Diagnostic::error(
            "RT009",
            format!(
                "no fixtures found under {}: nothing was replayed",
                dirs.join(", ")
            ),
        )));
    }
    fixtures
}

/// A recording no manifest names is never replayed: say so (RT014) instead of passing.
fn report_unreferenced(run: &mut Run<'_>, manifests: &[PathBuf], others: &[PathBuf]) {
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let named: HashSet<PathBuf> = manifests
        .iter()
        .flat_map(|m| fixture::recordings_of(m))
        .map(|p| canon(&p))
        .collect();
    for o in others.iter().filter(|o| fixture::is_recording(o)) {
        if !named.contains(&canon(o)) {
            let mut d = Diagnostic::error(
                "RT014",
                "recording without a manifest: no fixture names it, so it is never replayed",
            )
            .at(o, None)
            .with_help(
                "add a manifest beside it (description, verdict, recorded, events), or delete it",
            );
            d.severity = level(run.config.unreferenced_recording);
            run.push(Finding::new(d));
        }
    }
}

/// Expectations naming unknown rules (RT004), and malicious fixtures that expect nothing (RT015).
fn check_manifests(run: &mut Run<'_>, collection: &Collection, fixtures: &[Fixture]) {
    // A reference to a rule whose file failed to load is that load failure (reported already).
    let failed_stems = collection.failed_stems();
    for f in fixtures {
        for e in &f.manifest.expect {
            if collection.find(e.rule.get_ref()).is_none()
                && !failed_stems.contains(e.rule.get_ref())
            {
                run.push(Finding::new(
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
        if f.manifest.verdict == Verdict::Malicious && f.manifest.expect.is_empty() {
            let mut d = Diagnostic::error(
                "RT015",
                "malicious fixture without [[expect]]: it asserts nothing, so it can never fail",
            )
            .at(&f.manifest_path, None)
            .with_help("name the rule(s) that must alert: [[expect]] rule = \"…\" alerts = N");
            d.severity = level(run.config.malicious_without_expect);
            run.push(Finding::new(d));
        }
    }
}

/// One rule's replay over the fixtures it is replayed on (in fixture order), or why it cannot
/// be replayed.
type RuleReplay<'f> = Result<Vec<(&'f Fixture, Replayed)>, NotReplayable>;

/// One rule's alerts on one fixture, or why replaying it failed.
type Replayed = Result<Vec<Alert>, ReplayError>;

/// Replays the rules over the fixtures through the replay engine (the one `ruleforge replay`
/// runs): the rule set is compiled once and each fixture is one pass of every rule, fixtures in
/// parallel. On a partial run (`--changed-since`), a rule with `partials[i]` is replayed on those
/// fixtures only: the other fixtures are replayed by the rules replayed everywhere.
fn replay_fixtures<'f>(
    rules: &[&Rule],
    partials: &[Option<Vec<&'f Fixture>>],
    fixtures: &'f [Fixture],
) -> Vec<RuleReplay<'f>> {
    use rayon::prelude::*;
    let everywhere: Vec<&Rule> = rules
        .iter()
        .zip(partials)
        .filter(|(_, p)| p.is_none())
        .map(|(r, _)| *r)
        .collect();
    let changed: HashSet<&Path> = partials
        .iter()
        .flatten()
        .flatten()
        .map(|f| f.manifest_path.as_path())
        .collect();
    let all = RuleSet::new(rules);
    let some = (everywhere.len() < rules.len()).then(|| RuleSet::new(&everywhere));
    // Per fixture: whether only the rules replayed everywhere ran, and their outcomes.
    let outcomes: Vec<(bool, Vec<Option<Replayed>>)> = fixtures
        .par_iter()
        .map(|f| {
            let (only_everywhere, set) = match &some {
                Some(set) if !changed.contains(f.manifest_path.as_path()) => (true, set),
                _ => (false, &all),
            };
            let res = set.run_events(&f.events, &f.indicators, f.baseline);
            (only_everywhere, res.into_iter().map(Some).collect())
        })
        .collect();
    let position = |set: &RuleSet<'_>| -> HashMap<*const Rule, usize> {
        set.rules()
            .iter()
            .enumerate()
            .map(|(k, r)| (*r as *const Rule, k))
            .collect()
    };
    let in_all = position(&all);
    let in_some = some.as_ref().map(position).unwrap_or_default();
    let mut outcomes = outcomes;
    let fixture_at: HashMap<*const Fixture, usize> = fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| (f as *const Fixture, i))
        .collect();
    rules
        .iter()
        .zip(partials)
        .map(|(rule, partial)| {
            let key = *rule as *const Rule;
            let Some(&k_all) = in_all.get(&key) else {
                let reason = all
                    .skipped()
                    .iter()
                    .find(|s| std::ptr::eq(s.rule, *rule))
                    .map(|s| s.reason.clone())
                    .unwrap_or_else(|| NotReplayable::Unsupported("not compiled".into()));
                return Err(reason);
            };
            let replayed: Vec<&Fixture> = match partial {
                Some(p) => p.clone(),
                None => fixtures.iter().collect(),
            };
            Ok(replayed
                .into_iter()
                .map(|f| {
                    let fi = fixture_at.get(&(f as *const Fixture)).copied().unwrap_or(0);
                    let (only_everywhere, res) = &mut outcomes[fi];
                    let k = if *only_everywhere {
                        in_some.get(&key).copied()
                    } else {
                        Some(k_all)
                    };
                    let result = k.and_then(|k| res[k].take()).unwrap_or_else(|| {
                        Err(ReplayError::Eql(
                            "the rule was not replayed on this fixture".into(),
                        ))
                    });
                    (f, result)
                })
                .collect())
        })
        .collect()
}

/// Reports one rule's replay over its fixtures; `None` when it cannot be replayed (reported).
fn replay_rule<'f>(
    run: &mut Run<'_>,
    rule: &Rule,
    outcome: RuleReplay<'f>,
) -> Option<Vec<(&'f Fixture, Vec<Alert>)>> {
    let results = match outcome {
        Ok(r) => r,
        Err(NotReplayable::Invalid(diags)) => {
            // The query or schema error itself is the finding (lint reports the same one;
            // `check` keeps one of the two).
            for d in diags {
                run.incomplete(
                    Finding::new(d),
                    format!("{:?} cannot be replayed", rule.name),
                );
            }
            return None;
        }
        Err(NotReplayable::Unsupported(reason)) => {
            let mut d = Diagnostic::error(
                "RT005",
                format!("rule {:?} is not replayable: {reason}", rule.name),
            )
            .at(&rule.path, Some(rule.span_of("rule.type")));
            d.severity = level(run.config.not_replayable);
            run.push(Finding::new(d).about(rule, None));
            return None;
        }
    };
    run.out.replayed_rules += 1;
    let mut per_fixture = Vec::new();
    for (f, result) in results {
        match result {
            Ok(alerts) => per_fixture.push((f, alerts)),
            Err(e) => {
                run.incomplete(
                    Finding::new(
                        Diagnostic::error(
                            "RT011",
                            format!("replaying {:?} failed: {e}", rule.name),
                        )
                        .at(&f.manifest_path, None),
                    )
                    .about(rule, Some(f)),
                    format!("{:?} failed on a fixture", rule.name),
                );
                run.out.results.push(FixtureResult {
                    rule: rule.name.clone(),
                    rule_path: rule.path.clone(),
                    fixture: f.manifest_path.clone(),
                    verdict: f.manifest.verdict,
                    alerts: 0,
                    status: Status::Failed,
                });
                per_fixture.push((f, Vec::new()));
            }
        }
    }
    run.out.alerts += per_fixture.iter().map(|(_, a)| a.len()).sum::<usize>();
    Some(per_fixture)
}

/// The manifest assertions of one rule over its replayed fixtures (coverage over `all`).
fn assert_manifests(
    run: &mut Run<'_>,
    rule: &Rule,
    per_fixture: &[(&Fixture, Vec<Alert>)],
    all: &[Fixture],
) {
    let covered = all.iter().any(|f| {
        f.manifest.verdict == Verdict::Malicious
            && f.manifest
                .expect
                .iter()
                .any(|e| rule.is_named(e.rule.get_ref()))
    });
    for (f, alerts) in per_fixture {
        let expectations: Vec<_> = f
            .manifest
            .expect
            .iter()
            .filter(|e| rule.is_named(e.rule.get_ref()))
            .collect();
        let result = |status| FixtureResult {
            rule: rule.name.clone(),
            rule_path: rule.path.clone(),
            fixture: f.manifest_path.clone(),
            verdict: f.manifest.verdict,
            alerts: alerts.len(),
            status,
        };
        if expectations.is_empty() {
            let benign = f.manifest.verdict == Verdict::Benign;
            let status = match (benign, alerts.is_empty()) {
                (true, true) => Status::Quiet,
                (true, false) => Status::FalsePositive,
                (false, _) => Status::Unlisted,
            };
            if status == Status::FalsePositive {
                let d = Diagnostic::error(
                    "RT003",
                    format!(
                        "false positive: {:?} raised {} on benign fixture {}",
                        rule.name,
                        plural(alerts.len(), "alert"),
                        run.display(&f.manifest_path)
                    ),
                )
                .at(&f.manifest_path, None)
                .with_help(
                    "fix the rule, or accept it with an [[expect]] entry and a reason in the manifest",
                );
                let mut detail = event_lines(&run.config.root, f, alerts, 5);
                if let Some(e) = alerts
                    .first()
                    .and_then(|a| a.events.iter().flatten().next())
                {
                    let shown = snapshot::display_path(&run.config.root, &e.file);
                    let why =
                        replay::explain::alert_text(rule, &f.events, e.index, Path::new(&shown));
                    detail.push_str(&replay::explain::indent(&why, 2));
                }
                run.push(Finding::new(d).detail(detail).about(rule, Some(f)));
            }
            run.out.results.push(result(status));
            continue;
        }
        for e in expectations {
            let Ok(count) = e.count() else { continue };
            let met = count.accepts(alerts.len() as u64);
            run.out
                .results
                .push(result(Status::Expected { count, met }));
            if !met {
                let d = Diagnostic::error(
                    "RT001",
                    format!(
                        "{:?} raised {} on {}, expected {count}",
                        rule.name,
                        plural(alerts.len(), "alert"),
                        run.display(&f.manifest_path)
                    ),
                )
                .at(&f.manifest_path, Some(e.rule.span()));
                let mut detail = event_lines(&run.config.root, f, alerts, 5);
                let too_few = match count {
                    Count::Exactly(k) => (alerts.len() as u64) < k,
                    Count::Between { at_least, .. } => (alerts.len() as u64) < at_least,
                };
                if too_few {
                    let shown = snapshot::display_path(&run.config.root, &f.events.path);
                    let why =
                        replay::explain::missing_alert_text(rule, &f.events, Path::new(&shown));
                    detail.push_str(&replay::explain::indent(&why, 2));
                }
                let mut finding = Finding::new(d).about(rule, Some(f));
                if !detail.is_empty() {
                    finding = finding.detail(detail);
                }
                run.push(finding);
            }
            check_fields(run, rule, f, alerts, e);
        }
    }
    if !covered && rule.maturity.as_deref() == Some("production") {
        let mut d = Diagnostic::error(
            "RT008",
            format!("rule {:?} has no malicious fixture that expects it to alert", rule.name),
        )
        .at(&rule.path, None)
        .with_help("record the behaviour and add a fixture manifest with an [[expect]] entry for this rule");
        d.severity = level(run.config.missing_fixture);
        run.push(Finding::new(d).about(rule, None));
    }
}

/// RT010: every alert must include an event with the expected field values.
fn check_fields(
    run: &mut Run<'_>,
    rule: &Rule,
    f: &Fixture,
    alerts: &[Alert],
    e: &fixture::Expect,
) {
    let wanted = e.fields_json();
    if wanted.is_empty() {
        return;
    }
    for (n, a) in alerts.iter().enumerate() {
        let ok = a.events.iter().flatten().any(|ev| {
            let v = &f.events.values[ev.index];
            wanted
                .iter()
                .all(|(field, want)| FieldPath::new(field).values(v).contains(&want))
        }) || esql_row_has(a, &wanted);
        if !ok {
            let events: Vec<usize> = a.events.iter().flatten().map(|e| e.index).collect();
            let shown = snapshot::display_path(&run.config.root, &f.events.path);
            let found =
                replay::explain::fields_text(&wanted, &f.events, &events, Path::new(&shown));
            run.push(
                Finding::new(
                    Diagnostic::error(
                        "RT010",
                        format!(
                            "alert {} of {:?} on {} has no event with the expected field values",
                            n + 1,
                            rule.name,
                            run.display(&f.manifest_path)
                        ),
                    )
                    .at(&f.manifest_path, Some(e.rule.span())),
                )
                .about(rule, Some(f))
                .detail(found),
            );
        }
    }
}

/// An ES|QL alert's row holds every expected value (a multi-valued column: among its values).
fn esql_row_has(alert: &Alert, wanted: &[(String, serde_json::Value)]) -> bool {
    let replay::Detail::Esql(row) = &alert.detail else {
        return false;
    };
    wanted.iter().all(|(field, want)| {
        row.values.iter().any(|(c, v)| {
            c == field && (v == want || v.as_array().is_some_and(|items| items.contains(want)))
        })
    })
}

/// Snapshots of ours (by header) whose rule is gone. A file whose rule failed to load is not an
/// orphan: its rule still exists, it just does not load.
fn find_orphans(run: &mut Run<'_>, collection: &Collection) -> Vec<PathBuf> {
    let failed_stems = collection.failed_stems();
    match snapshot::orphans(&run.config.snapshot_dir, &collection.rules) {
        Ok(list) => list
            .into_iter()
            .filter(|p| {
                p.file_stem()
                    .is_none_or(|s| !failed_stems.contains(&*s.to_string_lossy()))
            })
            .collect(),
        Err(e) => {
            let dir = run.display(&run.config.snapshot_dir);
            run.incomplete(
                Finding::fatal(Diagnostic::error(
                    "RT007",
                    format!("cannot list snapshots in {dir}: {e}"),
                )),
                "the snapshot folder could not be listed",
            );
            Vec::new()
        }
    }
}

/// Compares every snapshot, or with `--accept` writes the changed ones and removes orphans, but
/// only when the run was complete: otherwise nothing is written or removed.
fn settle_snapshots(
    run: &mut Run<'_>,
    accept: bool,
    snapshots: &[(&Rule, String)],
    orphans: &[PathBuf],
) {
    let config = run.config;
    let accept = accept
        && {
            if !run.incomplete.is_empty() {
                let mut reasons = run.incomplete.clone();
                reasons.dedup();
                let shown: Vec<String> = reasons.iter().take(5).cloned().collect();
                let more = reasons.len().saturating_sub(5);
                let mut msg = format!(
                    "--accept refused: this run did not see every rule and fixture ({}{}), so no snapshot was written or removed",
                    shown.join("; "),
                    if more > 0 {
                        format!("; and {more} more")
                    } else {
                        String::new()
                    }
                );
                msg = escape_control(&msg).into_owned();
                run.push(Finding::new(Diagnostic::error("RT012", msg).with_help(
                    "fix the errors above, then run `ruleforge test --accept` again",
                )));
            }
            run.incomplete.is_empty()
        };
    let mut pending: Vec<(PathBuf, &str)> = Vec::new();
    for (rule, text) in snapshots {
        let path = snapshot::path_for(&config.snapshot_dir, rule);
        let stored = std::fs::read_to_string(&path).ok();
        let Some(d) = snapshot::diff(&run.display(&path), stored.as_deref(), text) else {
            continue;
        };
        if accept {
            pending.push((path, text));
        } else {
            let what = if stored.is_some() {
                "changed"
            } else {
                "is new (no accepted snapshot)"
            };
            run.push(
                Finding::new(
                    Diagnostic::error("RT006", format!("alerts of {:?} {what}", rule.name))
                        .at(&path, None)
                        .with_help("review the diff; run `ruleforge test --accept` to accept it"),
                )
                .detail(d)
                .about(rule, None),
            );
        }
    }
    if accept {
        write_snapshots(run, &pending, orphans);
    } else {
        for p in orphans {
            run.push(Finding::new(
                Diagnostic::error("RT007", "orphaned snapshot: no rule has this file stem")
                    .at(p, None)
                    .with_help("delete it, or run `ruleforge test --accept`"),
            ));
        }
    }
}

fn write_snapshots(run: &mut Run<'_>, pending: &[(PathBuf, &str)], orphans: &[PathBuf]) {
    let dir = &run.config.snapshot_dir;
    remove_stale_temporaries(dir);
    if !pending.is_empty() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            let d = Diagnostic::error("RT006", format!("cannot create the snapshot folder: {e}"))
                .at(dir, None);
            run.push(Finding::fatal(d));
            return;
        }
    }
    for (path, text) in pending {
        match crate::output::write_atomic(path, text.as_bytes()) {
            Ok(()) => run.out.snapshots_written.push(path.clone()),
            Err(e) => {
                let d = Diagnostic::error("RT006", format!("cannot write snapshot: {e}"))
                    .at(path, None);
                run.push(Finding::fatal(d));
            }
        }
    }
    for p in orphans {
        match std::fs::remove_file(p) {
            Ok(()) => run.out.snapshots_removed.push(p.clone()),
            Err(e) => {
                let d = Diagnostic::error("RT007", format!("cannot remove orphaned snapshot: {e}"))
                    .at(p, None);
                run.push(Finding::fatal(d));
            }
        }
    }
}

/// A run killed mid-write leaves its temporary file (never a half-written snapshot); the next
/// accepting run removes such leftovers.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let is_file = e.file_type().is_ok_and(|t| t.is_file());
        if is_file && name.starts_with(".ruleforge-") && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The offending events of a finding, one line each, with control characters escaped.
fn event_lines(root: &Path, fixture: &Fixture, alerts: &[Alert], limit: usize) -> String {
    let mut out = String::new();
    for a in alerts.iter().take(limit) {
        for e in a.events.iter().flatten() {
            let v = &fixture.events.values[e.index];
            let get = |f: &str| snapshot::field_text(v, f).unwrap_or_default();
            out.push_str(&format!(
                "  {}:{}  {} (parent {}): {}\n",
                escape_control(&snapshot::display_path(root, &e.file)),
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

/// "1 alert", "2 alerts".
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
