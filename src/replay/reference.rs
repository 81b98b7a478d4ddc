//! The reference evaluator: each rule run on its own over a recording held in memory, the way
//! `ruleforge test` replayed fixtures before the engine ([`super::stream::RuleSet`]) served
//! both `test` and `replay`. It is kept short and direct so that tests can prove the engine
//! raises exactly its alerts (`tests/replay_equivalence.rs`); the commands do not use it.

use super::{
    Alert, AlertEvent, Detail, Engine, NotReplayable, Prepared, ReplayError, buffered, schedule,
    suppression, threat_match,
};
use crate::event::EventFile;
use crate::query::eql;
use crate::rule::Rule;

fn alert_event(events: &EventFile, index: usize) -> AlertEvent {
    AlertEvent {
        file: events.path.clone(),
        position: events.positions[index],
        index,
    }
}

/// Runs one prepared rule over one recording, without indicators. With a `baseline` (epoch
/// ms), the rule starts running at that instant: earlier events are history, visible only to
/// the first run's lookback window and to new_terms history.
pub fn run(
    prepared: &Prepared,
    events: &EventFile,
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    run_with(prepared, events, &[], baseline)
}

/// [`run`] with the indicator recordings threat_match rules search.
pub fn run_with(
    prepared: &Prepared,
    events: &EventFile,
    indicators: &[threat_match::IndicatorSet],
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let mut alerts = run_all(prepared, events, indicators, baseline)?;
    super::retain_after_baseline(prepared, events, &mut alerts, baseline);
    Ok(alerts)
}

fn run_all(
    prepared: &Prepared,
    events: &EventFile,
    indicators: &[threat_match::IndicatorSet],
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let single = |i: usize| Alert {
        events: vec![Some(alert_event(events, i))],
        detail: Detail::Event,
    };
    match &prepared.engine {
        Engine::EqlEvent(c) => Ok((0..events.len())
            .filter(|&i| c.matches(&events.values[i]))
            .map(single)
            .collect()),
        Engine::Kql(c) => Ok((0..events.len())
            .filter(|&i| c.matches(&events.values[i]))
            .map(single)
            .collect()),
        Engine::EqlSequence(c) => {
            // Sequences order events in time; one without a usable timestamp would silently
            // drop out (and with it an alert), so it is an error, as for threshold/new_terms.
            if let Some(i) = (0..events.len()).find(|&i| c.event_time(&events.values[i]).is_none())
            {
                return Err(ReplayError::NoTimestamp {
                    file: events.path.clone(),
                    position: events.positions[i],
                    what: "an EQL sequence",
                });
            }
            let hits = c
                .execute(&events.values)
                .map_err(|e| ReplayError::Eql(e.message.clone()))?;
            Ok(hits
                .into_iter()
                .filter_map(|h| match h {
                    eql::Hit::Sequence {
                        events: idx,
                        join_keys,
                    } => Some(Alert {
                        events: idx
                            .into_iter()
                            .map(|i| i.map(|i| alert_event(events, i)))
                            .collect(),
                        detail: Detail::Sequence { join_keys },
                    }),
                    eql::Hit::Event { index } => Some(single(index)),
                    eql::Hit::Sample { .. } => None,
                })
                .collect())
        }
        Engine::Threshold {
            filter,
            threshold,
            schedule,
        } => schedule::threshold(filter, threshold, schedule, events, baseline),
        Engine::NewTerms {
            filter,
            fields,
            history_ms,
            schedule,
        } => schedule::new_terms(filter, fields, *history_ms, schedule, events, baseline),
        Engine::Buffered(buffered::Buffered::ThreatMatch(t)) => {
            threat_match::run(t, events, indicators, baseline)
        }
        Engine::Buffered(buffered::Buffered::Esql(q)) => super::esql::run(q, events, baseline),
    }
}

/// A rule compiled for the reference replay of fixtures: [`super::prepare`] plus its
/// `alert_suppression`.
pub struct FixturePrepared {
    pub prepared: Prepared,
    pub suppression: Option<suppression::Suppression>,
}

pub fn prepare_fixture(rule: &Rule) -> Result<FixturePrepared, NotReplayable> {
    Ok(FixturePrepared {
        prepared: super::prepare(rule)?,
        suppression: suppression::of_rule(rule)?,
    })
}

/// Runs a rule over one fixture's recording (and its indicators), then applies suppression.
pub fn run_fixture(
    p: &FixturePrepared,
    events: &EventFile,
    indicators: &[threat_match::IndicatorSet],
    baseline: Option<i64>,
) -> Result<Vec<Alert>, ReplayError> {
    let alerts = run_with(&p.prepared, events, indicators, baseline)?;
    let Some(sup) = &p.suppression else {
        return Ok(alerts);
    };
    let Some(first) = grid_anchor(&p.prepared, events, &alerts) else {
        return Ok(alerts);
    };
    let schedule = &p.prepared.schedule;
    let grid = suppression::Grid {
        start: baseline.map_or(first, |b| b.max(first)),
        interval_ms: schedule.interval_ms,
    };
    Ok(suppression::apply(sup, alerts, events, schedule, grid))
}

/// Where the simulated executions start: the first event the rule's filter (or, for
/// threat_match, its query and filters) selects, as their simulation does; else the earliest
/// alert event.
fn grid_anchor(prepared: &Prepared, events: &EventFile, alerts: &[Alert]) -> Option<i64> {
    match &prepared.engine {
        Engine::Threshold {
            filter, schedule, ..
        }
        | Engine::NewTerms {
            filter, schedule, ..
        } => (0..events.len())
            .filter(|&i| filter.matches(&events.values[i]))
            .filter_map(|i| schedule.event_time(events, i))
            .min(),
        Engine::Buffered(buffered::Buffered::ThreatMatch(t)) => t.first_hit(events),
        Engine::Buffered(buffered::Buffered::Esql(q)) => q.first_event(events),
        _ => alerts
            .iter()
            .flat_map(|a| a.events.iter().flatten())
            .filter_map(|e| prepared.schedule.event_time(events, e.index))
            .min(),
    }
}
