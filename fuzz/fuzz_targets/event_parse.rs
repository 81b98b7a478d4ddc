//! A recording's text (NDJSON or a JSON array) through the event reader.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(file) = ruleforge::event::parse_text(Path::new("e.ndjson"), text, "@timestamp") {
        for ts in file.timestamps.iter().flatten() {
            let _ = ruleforge::event::format_millis(*ts);
        }
    }
});
