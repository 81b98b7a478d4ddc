//! ruleforge: detection-as-code for Elastic Security rules.
//!
//! Layering (dependencies point downward only):
//! `cli` → `report` → {`lint`, `render`, `export`, `snapshot`} → `replay` → {`fixture`, `rule`}
//! → `event` → `query` (a leaf that knows nothing of rules).

pub mod export;
pub mod query;
