//! ruleforge: detection-as-code for Elastic Security rules.
//!
//! Layering (dependencies point downward only):
//! `cli` → `report` → {`lint`, `render`, `export`, `suite` → `snapshot`} → `replay` →
//! {`fixture`, `rule`} → `event` → `query` (a leaf that knows nothing of rules) and `diag`;
//! `output` (atomic file writes) is used by every layer that writes files.

pub mod baseline;
pub mod changes;
pub mod codes;
pub mod config;
pub mod coverage;
pub mod diag;
pub mod event;
pub mod export;
pub mod fixture;
pub mod import;
pub mod layout;
pub mod lint;
pub mod output;
pub mod parallel;
pub mod query;
pub mod record;
pub mod render;
pub mod replay;
pub mod report;
pub mod rule;
pub mod snapshot;
pub mod suite;
