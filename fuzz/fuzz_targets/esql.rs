//! An ES|QL query (before the first NUL; NDJSON events after it): parse, then run it over fixed
//! events plus the input's own (every FROM reads them), and over no events (compile only).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleforge::query::esql::{self, EventCatalog};
use ruleforge_fuzz::{events, split_query};

// A fixed "now" keeps NOW() deterministic, so a finding reproduces.
const NOW_MS: i64 = 1_764_137_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, extra) = split_query(text);
    let Ok(q) = esql::parse(query) else {
        return;
    };
    let fields = q.referenced_fields();
    let hints = q.field_type_hints();
    let types = |f: &str| hints.get(f).copied();
    let empty = EventCatalog {
        events: &[],
        types: &types,
        extra_fields: fields.clone(),
        only: None,
    };
    let _ = q.run(&empty, NOW_MS);
    let events = events(extra);
    let catalog = EventCatalog {
        events: &events,
        types: &types,
        extra_fields: fields,
        only: None,
    };
    let _ = q.run(&catalog, NOW_MS);
});
