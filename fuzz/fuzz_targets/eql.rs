//! An EQL statement (before the first NUL; NDJSON events after it): parse, compile, then run
//! it over fixed events plus the input's own, whole and one event at a time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleforge::event::parse_timestamp;
use ruleforge::query::eql::{self, Options};
use ruleforge_fuzz::{events, split_query};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, extra) = split_query(text);
    let Ok(q) = eql::parse(query) else {
        return;
    };
    let _ = q.fields();
    let Ok(compiled) = q.compile(&Options::default()) else {
        return;
    };
    let events = events(extra);
    for e in &events {
        let _ = compiled.matches(e);
    }
    let _ = compiled.execute(&events);
    // The streaming executor takes events in timestamp order (it skips those without one).
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| events[i].get("@timestamp").and_then(parse_timestamp));
    let mut ex = compiled.executor();
    for i in order {
        if ex.push(i, &events[i]).is_err() {
            return;
        }
    }
    let _ = ex.finish();
});
