//! The buffered stage of the replay engine: rule types whose evaluator needs a recording's
//! events all at once rather than one by one.
//!
//! While a recording streams by, the engine keeps the events such a rule selects (its query
//! and filters decide, after the same dispatch as per-event rules), reduced to the fields the
//! evaluator reads, and runs the evaluator at the end of the recording. Memory grows with the
//! selected events of one recording, so they are bounded: past [`MAX_BUFFERED_EVENTS`] (or the
//! limit the caller sets) the rule stops buffering and reports
//! [`ReplayError::TooManyBuffered`] for that recording instead of alerting on part of it.
//!
//! - `threat_match`: events selected by `query` and `filters`; the evaluator matches them
//!   against the indicator recordings given to the run ([`super::threat_match`]).
//! - ES|QL: every event (`FROM` reads the whole index, and the query may read any column, so
//!   events are parsed and kept whole); the evaluator simulates Kibana's ES|QL executor over
//!   them ([`super::esql`]).

use super::esql::EsqlRule;
use super::schedule::Schedule;
use super::threat_match::{IndicatorSet, ThreatMatch};
use super::{Alert, ReplayError, prune};
use crate::event::EventFile;
use crate::query::Document;
use serde_json::Value;

/// Events a buffered rule holds per recording unless the run sets another limit.
pub const MAX_BUFFERED_EVENTS: usize = 1_000_000;

/// A rule evaluated at the end of each recording over the events it selected.
pub enum Buffered {
    ThreatMatch(Box<ThreatMatch>),
    Esql(Box<EsqlRule>),
}

impl Buffered {
    /// The rule type, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Buffered::ThreatMatch(_) => "threat_match",
            Buffered::Esql(_) => "esql",
        }
    }

    pub fn schedule(&self) -> &Schedule {
        match self {
            Buffered::ThreatMatch(t) => &t.schedule,
            Buffered::Esql(q) => &q.schedule,
        }
    }

    /// Whether the rule sees this event: `doc` is the event's field table, `value` the event
    /// reduced to the fields some rule reads (which include those of [`Self::add_fields`]).
    pub fn selects<D: Document + ?Sized>(&self, doc: &D, value: &Value) -> bool {
        match self {
            Buffered::ThreatMatch(t) => t.selects_doc(doc, value),
            Buffered::Esql(_) => true,
        }
    }

    /// Adds the fields selecting and evaluating read to the fields parsed from each event.
    pub fn add_fields(&self, fs: &mut prune::FieldSet) {
        match self {
            Buffered::ThreatMatch(t) => t.add_fields(fs),
            Buffered::Esql(_) => fs.add_everything(),
        }
    }

    /// The fields the evaluator reads from a buffered event (the rest is not kept); `None`
    /// keeps events whole.
    pub fn kept_fields(&self) -> Option<Vec<String>> {
        match self {
            Buffered::ThreatMatch(t) => Some(t.event_fields()),
            Buffered::Esql(_) => None,
        }
    }

    /// Runs the evaluator over the events the rule selected in one recording (in input order,
    /// holding at least [`Self::kept_fields`]).
    pub fn evaluate(
        &self,
        selected: &EventFile,
        indicators: &[IndicatorSet],
        baseline: Option<i64>,
    ) -> Result<Vec<Alert>, ReplayError> {
        match self {
            Buffered::ThreatMatch(t) => {
                super::threat_match::run_selected(t, selected, indicators, baseline)
            }
            Buffered::Esql(q) => super::esql::run(q, selected, baseline),
        }
    }
}
