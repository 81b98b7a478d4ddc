//! Query languages: lexers, parsers, ASTs with spans, compilers and evaluators.
//! This module is a leaf: it knows nothing of rules, lints or the CLI.

pub mod calendar;
pub mod eql;
pub mod esql;
pub mod explain;
pub mod field;
pub mod kql;
pub mod lucene;
pub mod wildcard;

pub use field::{Document, Event, FieldPath};
