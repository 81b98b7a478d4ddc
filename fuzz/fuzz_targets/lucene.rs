//! A Lucene query string (before the first NUL; NDJSON events after it): parse, compile
//! against the ECS field types, match fixed events plus the input's own.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleforge::query::lucene::{self, FieldTypes};
use ruleforge_fuzz::{events, split_query};

const NOW_MS: i64 = 1_764_137_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, extra) = split_query(text);
    let Ok(q) = lucene::parse(query) else {
        return;
    };
    let _ = q.fields();
    let Ok(compiled) = q.compile(&FieldTypes::ecs()) else {
        return;
    };
    let compiled = compiled.with_now(NOW_MS);
    for e in &events(extra) {
        let _ = compiled.matches(e);
    }
});
