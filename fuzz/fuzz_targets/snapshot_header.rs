//! A stored alert snapshot's text (before the first NUL) through the header reader, which
//! decides whether a `*.snap` is ruleforge's to compare, replace or remove; then the diff a
//! reviewer sees between it and this run's snapshot (after the NUL).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleforge::snapshot;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (stored, actual) = text.split_once('\0').unwrap_or((text, ""));
    if let Some(h) = snapshot::parse_header(stored) {
        // A header is only ever read from ruleforge's own first line, one field per line.
        assert!(stored.starts_with(snapshot::HEADER));
        assert!(!h.rule.contains('\n') && !h.rule_id.contains('\n'));
    }
    let d = snapshot::diff("s.snap", Some(stored), actual);
    assert_eq!(d.is_none(), stored == actual);
});
