//! A rule's query explained over a recording: for `eval --explain` and for the failures of
//! `ruleforge test` (the closest event to a missing alert, the event behind a false positive,
//! found-versus-expected field values).
//!
//! The clause-level explanations live beside the evaluators (`query::eql::explain`,
//! `query::kql::explain`, both rendered by `query::explain`); this module only ties them to
//! rules and recordings. Other rule types (ES|QL, machine_learning, threat_match) have no
//! clause-level explanation, and say so instead of pretending.

use crate::event::EventFile;
use crate::query::explain::EventExplanation;
use crate::query::{eql, kql};
use crate::rule::{Rule, RuleType};
use serde_json::Value;
use std::path::Path;

/// Why a rule cannot be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("no clause-level explanation for {0} yet")]
    Unsupported(String),
    #[error("{message} (at byte {start} of the query)")]
    Query { message: String, start: usize },
}

impl From<kql::KqlError> for ExplainError {
    fn from(e: kql::KqlError) -> Self {
        ExplainError::Query {
            message: e.message,
            start: e.span.start,
        }
    }
}

impl From<eql::EqlError> for ExplainError {
    fn from(e: eql::EqlError) -> Self {
        ExplainError::Query {
            message: e.message,
            start: e.span.start,
        }
    }
}

/// An EQL query ready to explain events, with the rule's (or the user's) options.
pub struct Explainer {
    pub query: eql::Query,
    pub opts: eql::Options,
}

impl Explainer {
    pub fn of_rule(rule: &Rule) -> Result<Explainer, ExplainError> {
        let (Some(RuleType::Eql), Some(q)) = (rule.rule_type, rule.query.as_ref()) else {
            let what = match (rule.rule_type, rule.language.as_deref()) {
                (Some(t), Some(l)) => format!("{} rules in {l}", t.as_str()),
                (Some(t), None) => format!("{} rules", t.as_str()),
                _ => "rules without a type".into(),
            };
            return Err(ExplainError::Unsupported(what));
        };
        Ok(Explainer {
            query: eql::parse(&q.text)?,
            opts: super::eql_options(rule),
        })
    }

    pub fn is_sequence(&self) -> bool {
        self.query.is_sequence()
    }

    pub fn event(&self, ev: &Value) -> Result<EventExplanation, ExplainError> {
        if self.query.is_sample() {
            return Err(ExplainError::Unsupported("sample queries".into()));
        }
        Ok(self.query.explain_event(&self.opts, ev)?)
    }

    pub fn closest(
        &self,
        file: &EventFile,
    ) -> Result<Option<(usize, EventExplanation)>, ExplainError> {
        closest(file, |ev| self.event(ev))
    }

    /// Explanations of the events at `indexes`: of the event query, or for a sequence of each
    /// stage the event matched (an event can carry several).
    pub fn trees(
        &self,
        file: &EventFile,
        indexes: &[usize],
    ) -> Result<Vec<(usize, EventExplanation)>, ExplainError> {
        if !self.is_sequence() {
            return indexes
                .iter()
                .map(|&i| Ok((i, self.event(&file.values[i])?)))
                .collect();
        }
        let report = self.query.explain_sequence(&self.opts, &file.values)?;
        Ok(report
            .events
            .into_iter()
            .filter(|(i, _)| indexes.contains(i))
            .flat_map(|(i, stages)| stages.into_iter().map(move |s| (i, s.explanation)))
            .collect())
    }

    /// The per-join-key diagnosis of a sequence rule over a recording, rendered.
    pub fn sequence_text(&self, file: &EventFile, limit: usize) -> Result<String, ExplainError> {
        let report = self.query.explain_sequence(&self.opts, &file.values)?;
        let pos = |i: usize| format!("line {}", file.positions.get(i).copied().unwrap_or(0));
        let mut out = String::new();
        if report.keys.is_empty() {
            out.push_str("no event matched any stage of the sequence\n");
        }
        for k in report.keys.iter().take(limit) {
            let key: Vec<String> = k.key.iter().map(|v| v.to_string()).collect();
            out.push_str(&format!(
                "join key [{}]: {}\n",
                key.join(", "),
                k.verdict.describe(&pos)
            ));
            for (s, evs) in k.stages.iter().enumerate() {
                let lines: Vec<String> = evs.iter().map(|&i| pos(i)).collect();
                out.push_str(&format!(
                    "  stage {}: {}\n",
                    s + 1,
                    if lines.is_empty() {
                        "no event".to_string()
                    } else {
                        lines.join(", ")
                    }
                ));
            }
            if !k.until.is_empty() {
                let lines: Vec<String> = k.until.iter().map(|&i| pos(i)).collect();
                out.push_str(&format!("  until: {}\n", lines.join(", ")));
            }
        }
        if report.keys.len() > limit {
            out.push_str(&format!(
                "… and {} more join keys\n",
                report.keys.len() - limit
            ));
        }
        Ok(out)
    }
}

/// The event that came closest to matching without matching: fewest failing top-level clauses,
/// then one with a single deciding clause, then the earliest.
fn closest(
    file: &EventFile,
    explain: impl Fn(&Value) -> Result<EventExplanation, ExplainError>,
) -> Result<Option<(usize, EventExplanation)>, ExplainError> {
    let mut best: Option<(usize, EventExplanation)> = None;
    for (i, ev) in file.values.iter().enumerate() {
        let x = explain(ev)?;
        if x.matched {
            continue;
        }
        let better = match &best {
            None => true,
            Some((_, b)) => (x.failing, x.deciding.is_none()) < (b.failing, b.deciding.is_none()),
        };
        if better {
            best = Some((i, x));
        }
    }
    Ok(best)
}

/// A KQL query ready to explain events, with the field types replay compiles it with.
pub struct KqlExplainer {
    pub query: kql::Query,
    /// The query text the spans point into.
    pub text: String,
    pub types: kql::FieldTypes,
}

impl KqlExplainer {
    pub fn new(text: &str) -> Result<KqlExplainer, ExplainError> {
        Ok(KqlExplainer {
            query: kql::parse(text)?,
            text: text.to_string(),
            types: kql::FieldTypes::ecs(),
        })
    }

    pub fn event(&self, ev: &Value) -> Result<EventExplanation, ExplainError> {
        Ok(self.query.explain_event(&self.text, &self.types, ev)?)
    }
}

/// The explainer of a rule's query in its language.
pub enum RuleExplainer {
    Eql(Box<Explainer>),
    Kql(Box<KqlExplainer>),
}

impl RuleExplainer {
    /// EQL rules, and KQL rules of the types replay evaluates a KQL query for (query,
    /// threshold and new_terms: their per-event filter is explained).
    pub fn of_rule(rule: &Rule) -> Result<RuleExplainer, ExplainError> {
        let kql_type = matches!(
            rule.rule_type,
            Some(RuleType::Query | RuleType::Threshold | RuleType::NewTerms)
        );
        match (rule.query.as_ref(), rule.language.as_deref()) {
            (Some(q), Some("kuery") | None) if kql_type => {
                Ok(RuleExplainer::Kql(Box::new(KqlExplainer::new(&q.text)?)))
            }
            _ => Ok(RuleExplainer::Eql(Box::new(Explainer::of_rule(rule)?))),
        }
    }

    pub fn is_sequence(&self) -> bool {
        matches!(self, RuleExplainer::Eql(ex) if ex.is_sequence())
    }

    pub fn event(&self, ev: &Value) -> Result<EventExplanation, ExplainError> {
        match self {
            RuleExplainer::Eql(ex) => ex.event(ev),
            RuleExplainer::Kql(ex) => ex.event(ev),
        }
    }

    pub fn closest(
        &self,
        file: &EventFile,
    ) -> Result<Option<(usize, EventExplanation)>, ExplainError> {
        closest(file, |ev| self.event(ev))
    }
}

/// Indents every line of `text` by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

/// Why a rule raised fewer alerts than expected on a recording: the closest event for an
/// event query, the per-join-key diagnosis for a sequence.
pub fn missing_alert_text(rule: &Rule, file: &EventFile, shown: &Path) -> String {
    let ex = match RuleExplainer::of_rule(rule) {
        Ok(ex) => ex,
        Err(e) => return format!("(no explanation: {e})\n"),
    };
    if let RuleExplainer::Eql(ex) = &ex
        && ex.is_sequence()
    {
        return match ex.sequence_text(file, 5) {
            Ok(t) => format!("why no sequence completed:\n{}", indent(&t, 2)),
            Err(e) => format!("(no explanation: {e})\n"),
        };
    }
    match ex.closest(file) {
        Ok(Some((i, x))) => format!(
            "closest event: {}:{} ({} failing top-level {})\n{}",
            shown.display(),
            file.positions[i],
            x.failing,
            if x.failing == 1 { "clause" } else { "clauses" },
            indent(&x.render(), 2)
        ),
        Ok(None) => {
            "every event matched the query: the alerts were lost elsewhere (schedule, baseline)\n"
                .into()
        }
        Err(e) => format!("(no explanation: {e})\n"),
    }
}

/// Why an event raised an alert (for a false positive): every clause it passed.
pub fn alert_text(rule: &Rule, file: &EventFile, index: usize, shown: &Path) -> String {
    let ex = match RuleExplainer::of_rule(rule) {
        Ok(ex) if !ex.is_sequence() => ex,
        Ok(_) => return String::new(),
        Err(e) => return format!("(no explanation: {e})\n"),
    };
    match ex.event(&file.values[index]) {
        Ok(x) => format!(
            "why {}:{} alerted:\n{}",
            shown.display(),
            file.positions[index],
            indent(&x.render(), 2)
        ),
        Err(e) => format!("(no explanation: {e})\n"),
    }
}

/// Found versus expected field values over an alert's events.
pub fn fields_text(
    wanted: &[(String, Value)],
    file: &EventFile,
    events: &[usize],
    shown: &Path,
) -> String {
    let mut out = String::new();
    for (field, want) in wanted {
        out.push_str(&format!("expected {field} = {want}\n"));
        let path = crate::query::FieldPath::new(field);
        for &i in events {
            let found: Vec<String> = path
                .values(&file.values[i])
                .iter()
                .map(|v| v.to_string())
                .collect();
            let mark = if path.values(&file.values[i]).contains(&want) {
                "ok"
            } else {
                "differs"
            };
            out.push_str(&format!(
                "  found at {}:{}: {} ({mark})\n",
                shown.display(),
                file.positions[i],
                if found.is_empty() {
                    "missing".to_string()
                } else {
                    found.join(", ")
                }
            ));
        }
    }
    out
}
