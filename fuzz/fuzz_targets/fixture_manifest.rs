//! A fixture manifest's text through every check `fixture::load` applies before the recording.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((manifest, _)) = ruleforge::fixture::parse_manifest(Path::new("m.toml"), text) {
        for exp in &manifest.expect {
            if let Ok(count) = exp.count() {
                let _ = (count.to_string(), count.accepts(1));
            }
            let _ = exp.fields_json();
        }
    }
});
