//! Coverage of a rule's query by the fixtures: which branches (each disjunct of an `or`) and
//! which values of positive lists (each element of `process.name in ("a", "b")`) an alert of a
//! malicious fixture exercises, and which exclusions (each `not (…)` clause, each
//! element of a negated list) a benign fixture proves necessary: with that one exclusion
//! removed from the query, the benign fixture raises more alerts than with it (mutation per
//! exclusion).
//!
//! EQL rules (event queries and sequences) and KQL rules (query, threshold, new_terms) are
//! analysed; other rules are reported as not analysed, by name, never as covered.

use crate::fixture::{Fixture, Verdict};
use crate::query::kql;
use crate::replay::explain::{Explainer, KqlExplainer};
use crate::replay::stream::RuleSet;
use crate::replay::{self, Alert, Engine, NotReplayable, Prepared};
use crate::rule::Rule;
use std::path::PathBuf;

/// Why a rule's coverage was not analysed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NotAnalysed {
    #[error("{0}")]
    Unsupported(String),
    #[error("the rule does not replay: {0}")]
    Invalid(String),
    #[error("replaying {fixture} failed: {message}")]
    Replay { fixture: PathBuf, message: String },
}

/// Where a branch was exercised or an exclusion proven.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The fixture's manifest.
    pub fixture: PathBuf,
    /// The recording and the 1-based position of the deciding event.
    pub events: PathBuf,
    pub position: usize,
}

#[derive(Debug, Clone)]
pub struct Branch {
    pub text: String,
    pub exercised_by: Option<Evidence>,
}

#[derive(Debug, Clone)]
pub struct Exclusion {
    pub text: String,
    /// The first benign fixture that alerts when this exclusion alone is removed.
    pub proven_by: Option<Evidence>,
}

#[derive(Debug, Clone)]
pub struct Analysis {
    pub branches: Vec<Branch>,
    /// Each element of a positive list, as a branch: exercised when it holds on an event of
    /// an alert of a malicious fixture.
    pub values: Vec<Branch>,
    pub exclusions: Vec<Exclusion>,
}

impl Analysis {
    pub fn exercised(&self) -> usize {
        self.branches
            .iter()
            .filter(|b| b.exercised_by.is_some())
            .count()
    }

    pub fn values_exercised(&self) -> usize {
        self.values
            .iter()
            .filter(|b| b.exercised_by.is_some())
            .count()
    }

    pub fn proven(&self) -> usize {
        self.exclusions
            .iter()
            .filter(|e| e.proven_by.is_some())
            .count()
    }
}

#[derive(Debug, Clone)]
pub struct RuleCoverage {
    pub name: String,
    pub stem: String,
    pub path: PathBuf,
    pub production: bool,
    pub analysis: Result<Analysis, NotAnalysed>,
}

/// Totals over every analysed rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub rules: usize,
    pub analysed: usize,
    pub branches: usize,
    pub exercised: usize,
    pub values: usize,
    pub values_exercised: usize,
    pub exclusions: usize,
    pub proven: usize,
}

pub fn totals(all: &[RuleCoverage]) -> Totals {
    let mut t = Totals {
        rules: all.len(),
        ..Totals::default()
    };
    for r in all {
        if let Ok(a) = &r.analysis {
            t.analysed += 1;
            t.branches += a.branches.len();
            t.exercised += a.exercised();
            t.values += a.values.len();
            t.values_exercised += a.values_exercised();
            t.exclusions += a.exclusions.len();
            t.proven += a.proven();
        }
    }
    t
}

/// Analyses every rule over the fixtures.
pub fn analyse(rules: &[&Rule], fixtures: &[Fixture]) -> Vec<RuleCoverage> {
    rules
        .iter()
        .map(|r| RuleCoverage {
            name: r.name.clone(),
            stem: r.stem().to_string(),
            path: r.path.clone(),
            production: r.maturity.as_deref() == Some("production"),
            analysis: analyse_rule(r, fixtures),
        })
        .collect()
}

/// The alerts of a rule's compiled query (its own or a mutant) over one fixture, through the
/// engine `ruleforge test` uses, without indicators and before suppression: coverage asks
/// which events the query selects, not how alerts are grouped.
fn run(set: &RuleSet, f: &Fixture) -> Result<Vec<Alert>, NotAnalysed> {
    let failed = |message: String| NotAnalysed::Replay {
        fixture: f.manifest_path.clone(),
        message,
    };
    set.run_events(&f.events, &[], f.baseline)
        .pop()
        .ok_or_else(|| failed("the rule was not replayed".into()))?
        .map_err(|e| failed(e.to_string()))
}

/// The query of a rule, in the language it is written in.
enum Subject {
    Eql(Box<Explainer>),
    Kql(Box<KqlExplainer>),
}

/// A branch or an exclusion: its text and its span in the query.
struct Piece {
    text: String,
    span: std::ops::Range<usize>,
}

impl From<crate::query::eql::explain::mutate::Part> for Piece {
    fn from(p: crate::query::eql::explain::mutate::Part) -> Piece {
        Piece {
            text: p.text,
            span: p.span,
        }
    }
}

impl From<kql::mutate::Part> for Piece {
    fn from(p: kql::mutate::Part) -> Piece {
        Piece {
            text: p.text,
            span: p.span,
        }
    }
}

impl Subject {
    fn of(rule: &Rule, prepared: &Prepared) -> Result<Subject, NotAnalysed> {
        let unsupported = |m: String| NotAnalysed::Unsupported(m);
        match prepared.engine {
            Engine::EqlEvent(_) | Engine::EqlSequence(_) => Ok(Subject::Eql(Box::new(
                Explainer::of_rule(rule).map_err(|e| unsupported(e.to_string()))?,
            ))),
            Engine::Kql(_) | Engine::Threshold { .. } | Engine::NewTerms { .. } => {
                let text = rule
                    .query
                    .as_ref()
                    .map(|q| q.text.clone())
                    .unwrap_or_default();
                let ex = KqlExplainer::new(&text)
                    .map_err(|e| NotAnalysed::Invalid(format!("KQL: {e}")))?;
                Ok(Subject::Kql(Box::new(ex)))
            }
            Engine::Buffered(_) => Err(unsupported(
                "threat_match rules are replayed against a fixture's indicator recordings, by `ruleforge test`".into(),
            )),
        }
    }

    fn branches(&self) -> Vec<Piece> {
        match self {
            Subject::Eql(ex) => (ex.query.branches().into_iter()).map(Piece::from).collect(),
            Subject::Kql(ex) => (ex.query.branches(&ex.text).into_iter())
                .map(Piece::from)
                .collect(),
        }
    }

    fn list_values(&self) -> Vec<Piece> {
        match self {
            Subject::Eql(ex) => (ex.query.list_values().into_iter())
                .map(Piece::from)
                .collect(),
            Subject::Kql(ex) => (ex.query.list_values(&ex.text).into_iter())
                .map(Piece::from)
                .collect(),
        }
    }

    fn exclusions(&self) -> Vec<Piece> {
        match self {
            Subject::Eql(ex) => (ex.query.exclusions().into_iter())
                .map(Piece::from)
                .collect(),
            Subject::Kql(ex) => (ex.query.exclusions(&ex.text).into_iter())
                .map(Piece::from)
                .collect(),
        }
    }

    /// For each event at `indexes`, which branches hold on it.
    fn branch_values(
        &self,
        f: &Fixture,
        indexes: &[usize],
        branches: &[Piece],
    ) -> Result<Vec<(usize, Vec<bool>)>, NotAnalysed> {
        let fail = |m: String| NotAnalysed::Replay {
            fixture: f.manifest_path.clone(),
            message: m,
        };
        match self {
            Subject::Eql(ex) => Ok(ex
                .trees(&f.events, indexes)
                .map_err(|e| fail(e.to_string()))?
                .into_iter()
                .map(|(i, t)| {
                    let holds = branches.iter().map(|b| t.holds_at(&b.span) == Some(true));
                    (i, holds.collect())
                })
                .collect()),
            Subject::Kql(ex) => indexes
                .iter()
                .map(|&i| {
                    let t = ex
                        .event(&f.events.values[i])
                        .map_err(|e| fail(e.to_string()))?;
                    let holds = branches.iter().map(|b| t.holds_at(&b.span) == Some(true));
                    Ok((i, holds.collect()))
                })
                .collect(),
        }
    }

    /// The rule's replay with the exclusion at `span` removed.
    fn mutate(
        &self,
        prepared: &Prepared,
        span: &std::ops::Range<usize>,
    ) -> Result<Prepared, NotAnalysed> {
        let broken = |m: String| NotAnalysed::Invalid(format!("mutating the query: {m}"));
        let missing = || broken(format!("no exclusion at bytes {span:?}"));
        let engine = match self {
            Subject::Eql(ex) => {
                let q = ex.query.without_exclusion(span).ok_or_else(missing)?;
                let compiled = q.compile(&ex.opts).map_err(|e| broken(e.message))?;
                if q.is_sequence() {
                    Engine::EqlSequence(compiled)
                } else {
                    Engine::EqlEvent(compiled)
                }
            }
            Subject::Kql(ex) => {
                let q = ex.query.without_exclusion(span).ok_or_else(missing)?;
                let filter = q.compile(&ex.types).map_err(|e| broken(e.message))?;
                match &prepared.engine {
                    Engine::Threshold {
                        threshold,
                        schedule,
                        ..
                    } => Engine::Threshold {
                        filter,
                        threshold: threshold.clone(),
                        schedule: schedule.clone(),
                    },
                    Engine::NewTerms {
                        fields,
                        history_ms,
                        schedule,
                        ..
                    } => Engine::NewTerms {
                        filter,
                        fields: fields.clone(),
                        history_ms: *history_ms,
                        schedule: schedule.clone(),
                    },
                    _ => Engine::Kql(filter),
                }
            }
        };
        Ok(Prepared {
            engine,
            schedule: prepared.schedule.clone(),
        })
    }
}

fn analyse_rule(rule: &Rule, fixtures: &[Fixture]) -> Result<Analysis, NotAnalysed> {
    let prepare = || {
        replay::prepare(rule).map_err(|e| match e {
            NotReplayable::Invalid(d) => NotAnalysed::Invalid(
                d.first()
                    .map(|d| d.message.clone())
                    .unwrap_or_else(|| "invalid rule".into()),
            ),
            NotReplayable::Unsupported(m) => NotAnalysed::Unsupported(m),
        })
    };
    let prepared = prepare()?;
    let subject = Subject::of(rule, &prepared)?;
    // The engine owns what it runs; the rule's own query is compiled once more for it.
    let own = RuleSet::with_engine(rule, prepare()?);
    let branch_parts = subject.branches();
    let n = branch_parts.len();
    let mut parts = branch_parts;
    parts.extend(subject.list_values());
    let mut exercised = exercised(&subject, &own, fixtures, &parts)?;
    let values = exercised.split_off(n);
    Ok(Analysis {
        branches: exercised,
        values,
        exclusions: exclusions(rule, &subject, &prepared, &own, fixtures)?,
    })
}

fn evidence(f: &Fixture, index: usize) -> Evidence {
    Evidence {
        fixture: f.manifest_path.clone(),
        events: f.events.path.clone(),
        position: f.events.positions.get(index).copied().unwrap_or(0),
    }
}

/// A branch (or list value) is exercised when it holds on an event of an alert of a
/// malicious fixture.
fn exercised(
    subject: &Subject,
    own: &RuleSet,
    fixtures: &[Fixture],
    parts: &[Piece],
) -> Result<Vec<Branch>, NotAnalysed> {
    let mut out: Vec<Branch> = parts
        .iter()
        .map(|p| Branch {
            text: p.text.clone(),
            exercised_by: None,
        })
        .collect();
    if parts.is_empty() {
        return Ok(out);
    }
    for f in fixtures
        .iter()
        .filter(|f| f.manifest.verdict == Verdict::Malicious)
    {
        let alerts = run(own, f)?;
        let mut indexes: Vec<usize> = alerts
            .iter()
            .flat_map(|a| a.events.iter().flatten().map(|e| e.index))
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        if indexes.is_empty() {
            continue;
        }
        for (index, holds) in subject.branch_values(f, &indexes, parts)? {
            for (b, h) in out.iter_mut().zip(holds) {
                if b.exercised_by.is_none() && h {
                    b.exercised_by = Some(evidence(f, index));
                }
            }
        }
    }
    Ok(out)
}

/// An exclusion is proven when removing it alone makes a benign fixture raise more alerts.
fn exclusions(
    rule: &Rule,
    subject: &Subject,
    prepared: &Prepared,
    own: &RuleSet,
    fixtures: &[Fixture],
) -> Result<Vec<Exclusion>, NotAnalysed> {
    let benign: Vec<&Fixture> = fixtures
        .iter()
        .filter(|f| f.manifest.verdict == Verdict::Benign)
        .collect();
    let mut baseline = Vec::new();
    for f in &benign {
        baseline.push(alert_events(&run(own, f)?));
    }
    let mut out = Vec::new();
    for part in subject.exclusions() {
        let mutated = RuleSet::with_engine(rule, subject.mutate(prepared, &part.span)?);
        let mut proven_by = None;
        for (f, before) in benign.iter().zip(&baseline) {
            let after = alert_events(&run(&mutated, f)?);
            if let Some(&i) = after.iter().find(|i| !before.contains(i)) {
                proven_by = Some(evidence(f, i));
                break;
            }
        }
        out.push(Exclusion {
            text: part.text,
            proven_by,
        });
    }
    Ok(out)
}

/// The event indexes of the alerts (the last event of each, which completes a sequence).
fn alert_events(alerts: &[Alert]) -> Vec<usize> {
    alerts
        .iter()
        .filter_map(|a| a.events.iter().flatten().last().map(|e| e.index))
        .collect()
}

/// RT017 for every production rule with an exclusion no benign fixture proves (error
/// severity; the caller lowers it to the configured level).
pub fn unproven(all: &[RuleCoverage]) -> Vec<crate::diag::Diagnostic> {
    let mut out = Vec::new();
    for r in all.iter().filter(|r| r.production) {
        let Ok(a) = &r.analysis else { continue };
        let missing: Vec<&str> = a
            .exclusions
            .iter()
            .filter(|e| e.proven_by.is_none())
            .map(|e| e.text.as_str())
            .collect();
        if missing.is_empty() {
            continue;
        }
        out.push(
            crate::diag::Diagnostic::error(
                "RT017",
                format!(
                    "{:?} has {} no benign fixture proves necessary: {}",
                    r.name,
                    if missing.len() == 1 {
                        "an exclusion".to_string()
                    } else {
                        format!("{} exclusions", missing.len())
                    },
                    missing.join("; ")
                ),
            )
            .at(&r.path, None)
            .with_help(
                "add a benign fixture that alerts without the exclusion, or remove the exclusion",
            ),
        );
    }
    out
}

/// The coverage report in words: per rule, then totals. Paths are shown relative to `root`.
pub fn render(all: &[RuleCoverage], root: &std::path::Path) -> String {
    let shown = |p: &std::path::Path| crate::snapshot::display_path(root, p);
    let at = |e: &Evidence| format!("{}:{}", shown(&e.events), e.position);
    let mut out = String::new();
    for r in all {
        out.push_str(&format!("{} ({})\n", r.name, r.stem));
        let a = match &r.analysis {
            Ok(a) => a,
            Err(e) => {
                out.push_str(&format!("  not analysed: {e}\n"));
                continue;
            }
        };
        out.push_str(&format!(
            "  branches exercised by a malicious fixture: {}/{}\n",
            a.exercised(),
            a.branches.len()
        ));
        for b in &a.branches {
            match &b.exercised_by {
                Some(e) => out.push_str(&format!("    exercised  {}  ({})\n", b.text, at(e))),
                None => out.push_str(&format!("    NOT exercised  {}\n", b.text)),
            }
        }
        if !a.values.is_empty() {
            out.push_str(&format!(
                "  list values proven by a malicious fixture: {}/{}\n",
                a.values_exercised(),
                a.values.len()
            ));
            for v in &a.values {
                match &v.exercised_by {
                    Some(e) => out.push_str(&format!("    proven    {}  ({})\n", v.text, at(e))),
                    None => out.push_str(&format!("    unproven  {}\n", v.text)),
                }
            }
        }
        out.push_str(&format!(
            "  exclusions proven by a benign fixture: {}/{}\n",
            a.proven(),
            a.exclusions.len()
        ));
        for x in &a.exclusions {
            match &x.proven_by {
                Some(e) => out.push_str(&format!(
                    "    proven    {}  ({} alerts without it)\n",
                    x.text,
                    at(e)
                )),
                None => out.push_str(&format!("    unproven  {}\n", x.text)),
            }
        }
    }
    let t = totals(all);
    out.push_str(&format!(
        "coverage: {} of {} rules analysed; branches {}/{} exercised; list values {}/{} proven; exclusions {}/{} proven\n",
        t.analysed,
        t.rules,
        t.exercised,
        t.branches,
        t.values_exercised,
        t.values,
        t.proven,
        t.exclusions
    ));
    out
}
