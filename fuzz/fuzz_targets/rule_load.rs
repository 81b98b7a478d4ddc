//! A rule file's text: loading it must give a rule or diagnostics, and linting any rule that
//! loads must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ruleforge::lint::{self, Selection};
use ruleforge::rule::{self, Collection};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("rules/linux/fuzz_rule.toml");
    let collection = match rule::load_str(path, text.to_string(), rule::placement_of(path)) {
        Ok(rule) => {
            let _ = rule.to_json();
            Collection {
                rules: vec![rule],
                failed: Vec::new(),
            }
        }
        Err(e) => Collection {
            rules: Vec::new(),
            failed: vec![e],
        },
    };
    let _ = lint::run(&collection, &Selection::default());
});
