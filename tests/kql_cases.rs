//! Runs the TOML case files under `tests/data/kql/` (KQL) and `tests/data/kql/lucene/`
//! (Lucene query strings). Each `[[test]]` has:
//!
//! - `name`, `query`, and optionally `note` (why a naive implementation gets it wrong);
//! - `events`: JSON documents as strings, and `matches`: the indexes of those that match;
//! - or `error`: the expected `KqlErrorKind` (from parsing or compiling), e.g. `"TooDeep"`;
//! - optionally `types` (field → mapping type overrides), `now` (execution time for date
//!   math, ISO 8601), `fields` (the expected `Query::fields()`), `untyped = true` (Kibana's
//!   older untyped translation).

use std::path::{Path, PathBuf};

use ruleforge::query::kql::{self, Compiled, FieldTypes, KqlError, KqlErrorKind};
use ruleforge::query::lucene;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Lang {
    Kql,
    Lucene,
}

/// Parses and compiles in the case's language; `fields()` is checked against `want`.
fn build(
    lang: Lang,
    query: &str,
    types: &FieldTypes,
    want: Option<Vec<String>>,
) -> Result<Compiled, KqlError> {
    let (fields, compiled) = match lang {
        Lang::Kql => {
            let q = kql::parse(query)?;
            (q.fields(), q.compile(types))
        }
        Lang::Lucene => {
            let q = lucene::parse(query)?;
            (q.fields(), q.compile(types))
        }
    };
    if let Some(want) = want {
        if fields != want {
            return Err(KqlError {
                kind: KqlErrorKind::Unsupported,
                message: format!("fields(): expected {want:?}, got {fields:?}"),
                span: 0..0,
            });
        }
    }
    compiled
}

#[derive(Debug)]
struct Case {
    lang: Lang,
    file: String,
    name: String,
    table: toml::Table,
}

fn load(dir: &Path, lang: Lang) -> Vec<Case> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/data/kql exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read case file");
        let doc: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let file = f.file_name().unwrap().to_string_lossy().to_string();
        for t in doc
            .get("test")
            .and_then(|t| t.as_array())
            .expect("[[test]] entries")
        {
            let table = t.as_table().expect("[[test]] is a table").clone();
            let name = table
                .get("name")
                .and_then(|n| n.as_str())
                .expect("name")
                .to_string();
            out.push(Case {
                lang,
                file: file.clone(),
                name,
                table,
            });
        }
    }
    out
}

fn kind_name(k: KqlErrorKind) -> String {
    format!("{k:?}")
}

fn epoch_ms(iso: &str) -> i64 {
    // Only the shapes used by the case files: YYYY-MM-DDTHH:MM:SSZ.
    let (date, time) = iso.trim_end_matches('Z').split_once('T').expect("ISO time");
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let t: Vec<i64> = time.split(':').map(|x| x.parse().unwrap()).collect();
    let (y, m, dd) = (d[0], d[1], d[2]);
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + dd - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    ((days * 24 + t[0]) * 60 + t[1]) * 60_000 + t[2] * 1000
}

fn run(case: &Case) -> Result<(), String> {
    let t = &case.table;
    let query = t
        .get("query")
        .and_then(|q| q.as_str())
        .ok_or("missing query")?;
    let mut types = FieldTypes::ecs();
    if t.get("untyped").and_then(|v| v.as_bool()) == Some(true) {
        types = types.kibana_untyped();
    }
    if let Some(over) = t.get("types").and_then(|v| v.as_table()) {
        for (f, ty) in over {
            types = types.with_override(f, ty.as_str().ok_or("type must be a string")?);
        }
    }
    let want_fields = t.get("fields").and_then(|v| v.as_array()).map(|a| {
        a.iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect::<Vec<_>>()
    });
    let compiled = build(case.lang, query, &types, want_fields);
    if let Some(want) = t.get("error").and_then(|v| v.as_str()) {
        return match compiled {
            Err(e) if kind_name(e.kind) == want => {
                if e.span.end > query.len() || e.span.start > e.span.end {
                    return Err(format!("error span {:?} outside the query", e.span));
                }
                Ok(())
            }
            Err(e) => Err(format!(
                "expected error {want}, got {:?}: {}",
                e.kind, e.message
            )),
            Ok(_) => Err(format!("expected error {want}, but the query compiled")),
        };
    }
    let mut compiled =
        compiled.map_err(|e| format!("{:?} at {:?}: {}", e.kind, e.span, e.message))?;
    if let Some(now) = t.get("now").and_then(|v| v.as_str()) {
        compiled = compiled.with_now(epoch_ms(now));
    }
    let events = t
        .get("events")
        .and_then(|v| v.as_array())
        .ok_or("missing events")?;
    let mut got = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let text = e.as_str().ok_or("events are JSON strings")?;
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|err| format!("event {i}: {err}"))?;
        if compiled.matches(&v) {
            got.push(i as i64);
        }
    }
    let want: Vec<i64> = t
        .get("matches")
        .and_then(|v| v.as_array())
        .ok_or("missing matches")?
        .iter()
        .map(|v| v.as_integer().unwrap_or(-1))
        .collect();
    if got != want {
        return Err(format!("expected matches {want:?}, got {got:?}"));
    }
    Ok(())
}

#[test]
fn toml_cases() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/kql");
    let mut failed = 0;
    let mut total = 0;
    for (lang, dir, min) in [
        (Lang::Kql, dir.clone(), 100),
        (Lang::Lucene, dir.join("lucene"), 20),
    ] {
        let cases = load(&dir, lang);
        let mut lang_failed = 0;
        for c in &cases {
            if let Err(msg) = run(c) {
                lang_failed += 1;
                println!("FAIL {:?} {}::{}: {msg}", c.lang, c.file, c.name);
            }
        }
        println!(
            "{lang:?} cases: {} passed, {} failed",
            cases.len() - lang_failed,
            lang_failed
        );
        assert!(
            cases.len() >= min,
            "expected the whole {lang:?} case corpus"
        );
        failed += lang_failed;
        total += cases.len();
    }
    println!("{} passed, {} failed", total - failed, failed);
    assert_eq!(failed, 0);
}
