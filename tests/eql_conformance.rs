//! Runs Elasticsearch's own EQL spec files (`../shared/conformance/elasticsearch/`) the way
//! Elasticsearch's QA harness does (see `shared/reference/eql.md` §20), prints
//! `N passed, N failed` with every failure, and holds the pass count to a committed floor.

use ruleforge::query::eql::{self, EqlErrorKind, Hit, Mapping, Options};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/elasticsearch")
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
    failures: Vec<String>,
    skips: Vec<String>,
}

impl Tally {
    fn pass(&mut self) {
        self.passed += 1;
    }
    fn fail(&mut self, name: &str, why: String) {
        self.failed += 1;
        self.failures.push(format!("{name}: {why}"));
    }
    fn skip(&mut self, name: &str, why: &str) {
        self.skipped += 1;
        self.skips.push(format!("{name}: {why}"));
    }
}

/// Removes JSON comments the way Elasticsearch's JSON parser accepts them (`//` and `#` to the
/// end of the line, `/* … */`), leaving string literals alone.
fn strip_json_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '#' => skip_line(&mut chars, &mut out),
            '/' if chars.peek() == Some(&'/') => skip_line(&mut chars, &mut out),
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    out
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    for n in chars.by_ref() {
        if n == '\n' {
            out.push('\n');
            break;
        }
    }
}

/// A `.data` file: a JSON array of events (comments allowed), or one JSON event after another.
fn read_events(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = strip_json_comments(&text);
    if let Ok(Value::Array(v)) = serde_json::from_str::<Value>(&text) {
        return Ok(v);
    }
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// A `.mapping` file as Elasticsearch's harness reads it: lines starting with `#` dropped, then
/// `[runtime_random_keyword_type]` replaced (the harness picks `keyword` or `wildcard` at
/// random; we run both and require the same results).
fn read_mapping(path: &Path, keyword_type: &str) -> Result<Mapping, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let kept: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = strip_json_comments(&kept).replace("[runtime_random_keyword_type]", keyword_type);
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Mapping::from_es_mapping_json(&v).map_err(|e| format!("{}: {}", path.display(), e.message))
}

/// One search target: the events of one or more indices and the request settings.
struct Target {
    events: Vec<Value>,
    /// One merged mapping per keyword-type substitution (a single one when the mappings have
    /// no placeholder).
    mappings: Vec<Mapping>,
    tiebreaker: Option<String>,
    id_field: String,
}

/// Loads indices as the harness does; endgame indices get `@timestamp` from the Windows
/// FILETIME in `timestamp`. Each index's unmapped fields are mapped dynamically from its own
/// events, then the mappings are merged as one search over several indices sees them.
fn load_target(dir: &Path, names: &[String]) -> Result<Target, String> {
    let data = dir.join("data");
    let mut per_index = Vec::new();
    let mut placeholder = false;
    for name in names {
        let mut events = read_events(&data.join(format!("{name}.data")))?;
        if name.starts_with("endgame") {
            for e in &mut events {
                if let Some(ft) = e.get("timestamp").and_then(Value::as_i64) {
                    e["@timestamp"] = Value::from(ft / 10_000 - 11_644_473_600_000);
                }
            }
        }
        let mapping_path = data.join(format!("{name}.mapping"));
        if mapping_path.is_file() {
            let text = std::fs::read_to_string(&mapping_path).map_err(|e| e.to_string())?;
            placeholder |= text.contains("[runtime_random_keyword_type]");
        }
        per_index.push((events, mapping_path));
    }
    let variants: &[&str] = if placeholder {
        &["keyword", "wildcard"]
    } else {
        &["keyword"]
    };
    let mut mappings = Vec::new();
    for kw in variants {
        let mut merged = Mapping::default();
        for (events, path) in &per_index {
            let mut m = if path.is_file() {
                read_mapping(path, kw)?
            } else {
                Mapping::default()
            };
            m.add_dynamic(events)
                .map_err(|e| format!("{}: {}", path.display(), e.message))?;
            merged.merge(&m);
        }
        mappings.push(merged);
    }
    let events: Vec<Value> = per_index.into_iter().flat_map(|(e, _)| e).collect();
    let has = |f: &str| !events.is_empty() && events.iter().all(|e| e.get(f).is_some());
    let tiebreaker = has("serial_event_id").then(|| "serial_event_id".to_string());
    let id_field = ["serial_event_id", "id", "sequence"]
        .into_iter()
        .find(|f| has(f))
        .unwrap_or("@timestamp")
        .to_string();
    Ok(Target {
        events,
        mappings,
        tiebreaker,
        id_field,
    })
}

/// Which indices a query spec file runs against: the harness's fixed pairs, else the index
/// whose name the file's stem ends with (`test_missing_events.toml` → `missing_events`).
fn indices_for(stem: &str, available: &[String]) -> Option<Vec<String>> {
    let fixed: &[(&str, &[&str])] = &[
        ("test_queries", &["endgame-140"]),
        ("additional_test_queries", &["endgame-140"]),
        ("test_queries_date", &["endgame-140"]),
        ("test_sample", &["sample1", "sample2", "sample3"]),
        ("test_sample_multi", &["sample-multi"]),
    ];
    if let Some((_, names)) = fixed.iter().find(|(s, _)| *s == stem) {
        if names.iter().all(|n| available.iter().any(|a| a == n)) {
            return Some(names.iter().map(|n| n.to_string()).collect());
        }
    }
    let norm = |s: &str| s.replace('-', "_");
    let rest = stem.trim_start_matches("test_");
    let rest = rest.trim_start_matches("queries_");
    let mut hits: Vec<&String> = available
        .iter()
        .filter(|a| norm(a) == norm(rest) || norm(stem).ends_with(&norm(a)))
        .collect();
    hits.sort_by_key(|a| std::cmp::Reverse(a.len()));
    hits.first().map(|a| vec![a.to_string()])
}

fn key_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn id_of(events: &[Value], i: usize, id_field: &str) -> i64 {
    events[i][id_field].as_i64().unwrap_or(i64::MIN)
}

fn flatten(hits: &[Hit], events: &[Value], id_field: &str) -> (Vec<i64>, Vec<String>) {
    let mut ids = Vec::new();
    let mut keys = Vec::new();
    for h in hits {
        match h {
            Hit::Event { index } => ids.push(id_of(events, *index, id_field)),
            Hit::Sequence {
                events: evs,
                join_keys,
            } => {
                ids.extend(
                    evs.iter()
                        .map(|e| e.map_or(-1, |i| id_of(events, i, id_field))),
                );
                keys.extend(join_keys.iter().map(key_text));
            }
            Hit::Sample {
                events: evs,
                join_keys,
            } => {
                ids.extend(evs.iter().map(|&i| id_of(events, i, id_field)));
                keys.extend(join_keys.iter().map(key_text));
            }
        }
    }
    (ids, keys)
}

fn as_ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

/// Runs one query spec file; a case passes when it passes under every mapping variant. Cases
/// Elasticsearch excludes (named in an exclusion list) are noted, not run.
fn run_query_file(path: &Path, target: &Target, unsupported: &[String], t: &mut Tally) {
    let doc = match read_toml(path) {
        Ok(d) => d,
        Err(e) => return t.fail(&path.display().to_string(), e),
    };
    for q in doc["queries"].as_array().cloned().unwrap_or_default() {
        let name = q["name"].as_str().unwrap_or("?").to_string();
        if unsupported.contains(&name) {
            t.skip(&name, "excluded by Elasticsearch (exclusion list)");
            continue;
        }
        let query = q["query"].as_str().unwrap_or("").trim().to_string();
        let expected = q["expected_event_ids"].clone();
        let alternatives: Vec<Vec<i64>> = match expected.as_array() {
            Some(a) if a.first().is_some_and(Value::is_array) => a.iter().map(as_ids).collect(),
            _ => vec![as_ids(&expected)],
        };
        let failure = target.mappings.iter().find_map(|mapping| {
            check_case(
                &q,
                &query,
                &alternatives,
                &target.events,
                mapping,
                target.tiebreaker.as_deref(),
                &target.id_field,
            )
            .err()
        });
        match failure {
            Some(why) => t.fail(&name, why),
            None => t.pass(),
        }
    }
}

fn read_toml(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let doc: toml::Value = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::to_value(doc).map_err(|e| e.to_string())
}

fn check_case(
    q: &Value,
    query: &str,
    alternatives: &[Vec<i64>],
    events: &[Value],
    mapping: &Mapping,
    tiebreaker: Option<&str>,
    id_field: &str,
) -> Result<(), String> {
    let opts = Options {
        timestamp_field: "@timestamp".into(),
        tiebreaker_field: tiebreaker.map(str::to_string),
        event_category_field: "event.category".into(),
        size: Some(q["size"].as_u64().map_or(50, |s| s as usize)),
        mapping: Some(mapping.clone()),
        max_samples_per_key: q["max_samples_per_key"].as_u64().map_or(1, |s| s as usize),
    };
    let hits = eql::parse(query)
        .and_then(|p| p.compile(&opts))
        .and_then(|c| c.execute(events))
        .map_err(|e| format!("error {:?} at {:?}: {}", e.kind, e.span, e.message))?;
    let (ids, keys) = flatten(&hits, events, id_field);
    if !alternatives.contains(&ids) {
        return Err(format!("expected {alternatives:?}, got {ids:?}"));
    }
    if let Some(jk) = q["join_keys"].as_array() {
        if !jk.is_empty() {
            let want: Vec<String> = jk.iter().map(key_text).collect();
            if want != keys {
                return Err(format!("join keys: expected {want:?}, got {keys:?}"));
            }
        }
    }
    Ok(())
}

/// The ten `between` cases Elasticsearch excludes (its test_unsupported.toml), with what
/// Elasticsearch actually does for them (eql.md §9): a null bound raises an error, a bound
/// not found gives `""`, an empty bound returns the input unchanged. We check that instead.
fn es_between_behaviour(expr: &str) -> Option<Result<Value, ()>> {
    const S: &str = "welcome to the planet";
    let table: [(&str, Result<Value, ()>); 10] = [
        (
            r#"between("welcome to the planet", null, "planet")"#,
            Err(()),
        ),
        (
            r#"between("welcome to the planet", "welcome", null)"#,
            Err(()),
        ),
        (r#"between(null, "welcome", "planet")"#, Ok(Value::Null)),
        (
            r#"between("welcome to the planet", "welcome", "village")"#,
            Ok("".into()),
        ),
        (
            r#"between("welcome to the planet", "goodbye", "planet")"#,
            Ok("".into()),
        ),
        (
            r#"between("welcome to the planet", "welcome", "x", false)"#,
            Ok("".into()),
        ),
        (
            r#"between("welcome to the planet", "welcome", "x", true)"#,
            Ok("".into()),
        ),
        (
            r#"between("welcome to the planet", "", "x", true)"#,
            Ok(S.into()),
        ),
        (
            r#"between("welcome to the planet", "", "planet", false)"#,
            Ok(S.into()),
        ),
        (
            r#"between("welcome to the planet", "", "", false)"#,
            Ok(S.into()),
        ),
    ];
    table.into_iter().find(|(e, _)| *e == expr).map(|(_, r)| r)
}

fn same_value(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) => {
            if b.is_f64() {
                a.is_f64() && a.as_f64() == b.as_f64()
            } else {
                a.as_i64().is_some() && !a.is_f64() && a.as_i64() == b.as_i64()
            }
        }
        _ => got == want,
    }
}

fn run_fold_file(path: &Path, unsupported: &[String], t: &mut Tally) {
    let doc = match read_toml(path) {
        Ok(Value::Object(d)) => d,
        Ok(_) => return t.fail(&path.display().to_string(), "not a TOML table".into()),
        Err(e) => return t.fail(&path.display().to_string(), e),
    };
    for (table, body) in &doc {
        let mut cases: Vec<Value> = body["fold"]["tests"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        cases.extend(body["tests"].as_array().cloned().unwrap_or_default());
        for (i, case) in cases.iter().enumerate() {
            let expr = case["expression"].as_str().unwrap_or("");
            let name = format!("{table}[{i}] {expr}");
            let want = case.get("expected").cloned().unwrap_or(Value::Null);
            if unsupported.iter().any(|u| u == expr) {
                t.skip(&name, "excluded by Elasticsearch (exclusion list)");
                continue;
            }
            if let Some(es) = es_between_behaviour(expr) {
                // Excluded by Elasticsearch's harness; checked against its real behaviour.
                let got = eql::eval_constant(expr).map_err(|_| ());
                match (&got, &es) {
                    (Ok(g), Ok(w)) if same_value(g, w) => t.pass(),
                    (Err(()), Err(())) => t.pass(),
                    _ => t.fail(
                        &name,
                        format!("inverted ES case: expected {es:?}, got {got:?}"),
                    ),
                }
                t.skip(&name, "file expectation excluded by Elasticsearch (test_unsupported.toml); checked against ES behaviour instead");
                continue;
            }
            match eql::eval_constant(expr) {
                Ok(got) if same_value(&got, &want) => t.pass(),
                Ok(got) => t.fail(&name, format!("expected {want}, got {got}")),
                Err(e) => t.fail(&name, format!("error: {}", e.message)),
            }
        }
        for (i, case) in body["verifier"]["failures"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let expr = case["expression"].as_str().unwrap_or("");
            let name = format!("{table}.verifier[{i}] {expr}");
            match eql::parse(&format!("process where {expr}")) {
                Err(e) if e.kind == EqlErrorKind::Verification => t.pass(),
                Err(e) => t.fail(
                    &name,
                    format!("rejected, but as {:?}: {}", e.kind, e.message),
                ),
                Ok(_) => t.fail(&name, "accepted; Elasticsearch rejects it".into()),
            }
        }
    }
}

/// `sequences.series-spec`: stage lines of `[key|]Label<ordinal>`, then expected matches.
fn run_series_file(path: &Path, t: &mut Tally) {
    let text = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => return t.fail(&path.display().to_string(), e.to_string()),
    };
    let mut lines = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .map(str::trim)
        .filter(|l| !l.is_empty());
    while let Some(name) = lines.next() {
        let mut stages: Vec<Vec<(Option<String>, i64)>> = Vec::new();
        let parse_ev = |tok: &str| -> (Option<String>, i64) {
            let (key, rest) = match tok.split_once('|') {
                Some((k, r)) => (Some(k.to_string()), r),
                None => (None, tok),
            };
            let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
            (key, digits.parse().unwrap_or(-1))
        };
        for line in lines.by_ref() {
            let done = line.ends_with(';');
            let body = line.trim_end_matches(';').trim();
            if !body.is_empty() {
                stages.push(body.split_whitespace().map(parse_ev).collect());
            }
            if done {
                break;
            }
        }
        let mut expected: Vec<Vec<i64>> = Vec::new();
        for line in lines.by_ref() {
            let done = line.ends_with(';');
            let body = line.trim_end_matches(';').trim();
            if !body.is_empty() {
                expected.push(body.split_whitespace().map(|t| parse_ev(t).1).collect());
            }
            if done {
                break;
            }
        }
        let keyed = stages.iter().flatten().any(|e| e.0.is_some());
        let mut events = Vec::new();
        for (si, evs) in stages.iter().enumerate() {
            for (key, n) in evs {
                let mut e = serde_json::json!({"@timestamp": n, "event": {"category": format!("s{si}")}, "id": n});
                if let Some(k) = key {
                    e["k"] = Value::from(k.clone());
                }
                events.push(e);
            }
        }
        let mut q = String::from("sequence");
        if keyed {
            q.push_str(" by k");
        }
        for si in 0..stages.len() {
            let _ = write!(q, " [s{si} where true]");
        }
        let result = eql::parse(&q)
            .and_then(|p| p.compile(&Options::default()))
            .and_then(|c| c.execute(&events));
        match result {
            Ok(hits) => {
                let got: Vec<Vec<i64>> = hits
                    .iter()
                    .map(|h| match h {
                        Hit::Sequence { events: evs, .. } => evs
                            .iter()
                            .map(|e| e.map_or(-1, |i| events[i]["id"].as_i64().unwrap_or(-1)))
                            .collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                if got == expected {
                    t.pass();
                } else {
                    t.fail(name, format!("expected {expected:?}, got {got:?}"));
                }
            }
            Err(e) => t.fail(name, format!("error: {}", e.message)),
        }
    }
}

/// An exclusion list (`test_unsupported.toml`, `*_unsupported.toml`): not run itself.
fn is_exclusion_list(stem: &str) -> bool {
    stem.ends_with("unsupported")
}

/// Names and fold expressions Elasticsearch's harness excludes, from its exclusion lists.
fn read_unsupported(files: &[PathBuf]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for path in files {
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        if path.extension().is_none_or(|e| e != "toml") || !is_exclusion_list(&stem) {
            continue;
        }
        let doc = read_toml(path)?;
        out.extend(
            doc["queries"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|q| q["name"].as_str().map(str::to_string)),
        );
        for body in doc.as_object().into_iter().flat_map(|o| o.values()) {
            for case in body["fold"]["tests"].as_array().into_iter().flatten() {
                if let Some(e) = case["expression"].as_str() {
                    out.push(e.to_string());
                }
            }
        }
    }
    Ok(out)
}

/// Runs every spec in `dir`, laid out as Elasticsearch's QA resources are: `*.toml` query or
/// fold specs, `*.series-spec`, and `data/<index>.data` + `data/<index>.mapping`. Returns the
/// total and a report listing every failure and every skipped case by name.
fn run_dir(dir: &Path) -> (Tally, String) {
    let mut total = Tally::default();
    let mut report = String::new();
    let mut available: Vec<String> = std::fs::read_dir(dir.join("data"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            if p.extension()? != "data" {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    available.sort();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let unsupported = read_unsupported(&files).unwrap_or_else(|e| {
        total.fail("exclusion list", e);
        Vec::new()
    });
    let mut targets: Vec<(Vec<String>, Result<Target, String>)> = Vec::new();
    for path in files {
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut t = Tally::default();
        match path.extension().and_then(|e| e.to_str()) {
            Some("series-spec") => run_series_file(&path, &mut t),
            Some("toml") if is_exclusion_list(&stem) => continue,
            Some("toml") => match read_toml(&path) {
                Err(e) => t.fail(&file, e),
                Ok(doc) if doc.get("queries").is_some() => match indices_for(&stem, &available) {
                    None => t.fail(
                        &file,
                        format!("no index in data/ for this spec file (have {available:?})"),
                    ),
                    Some(names) => {
                        if !targets.iter().any(|(n, _)| *n == names) {
                            let loaded = load_target(dir, &names);
                            targets.push((names.clone(), loaded));
                        }
                        match targets.iter().find(|(n, _)| *n == names).map(|(_, r)| r) {
                            Some(Ok(target)) => run_query_file(&path, target, &unsupported, &mut t),
                            Some(Err(e)) => t.fail(&file, e.clone()),
                            None => t.fail(&file, "index not loaded".into()),
                        }
                    }
                },
                Ok(doc)
                    if doc.as_object().is_some_and(|o| {
                        o.values()
                            .any(|b| b.get("fold").is_some() || b.get("tests").is_some())
                    }) =>
                {
                    run_fold_file(&path, &unsupported, &mut t)
                }
                Ok(_) => t.fail(&file, "neither [[queries]] nor fold tests".into()),
            },
            _ => continue,
        }
        let _ = writeln!(
            report,
            "{file}: {} passed, {} failed ({} inverted or skipped noted below)",
            t.passed, t.failed, t.skipped
        );
        for f in &t.failures {
            let _ = writeln!(report, "  FAIL {f}");
        }
        for s in &t.skips {
            let _ = writeln!(report, "  NOTE {s}");
        }
        total.passed += t.passed;
        total.failed += t.failed;
        total.skipped += t.skipped;
    }
    for f in &total.failures {
        let _ = writeln!(report, "  FAIL {f}");
    }
    (total, report)
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn elasticsearch_conformance() {
    if !spec_dir().is_dir() {
        println!(
            "conformance specs not found at {}; skipping (CI provides ../shared)",
            spec_dir().display()
        );
        return;
    }
    let (total, report) = run_dir(&spec_dir());
    println!("{report}");
    println!(
        "conformance: {} passed, {} failed",
        total.passed, total.failed
    );
    let floor: usize = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/eql/conformance_floor.txt"),
    )
    .ok()
    .and_then(|s| s.trim().parse().ok())
    .unwrap_or(0);
    assert!(
        total.passed >= floor,
        "conformance regressed: {} passed, floor is {floor}",
        total.passed
    );
}

/// `RULEFORGE_EQL_SPECS=<dir>`: runs another directory of Elasticsearch QA specs through the
/// same harness and prints `N passed, N failed` with every failure by name. Unset: nothing to
/// run (the test says so). Set to something unreadable or without specs: the test fails.
#[test]
fn extra_spec_directory() {
    let Some(dir) = std::env::var_os("RULEFORGE_EQL_SPECS") else {
        println!("RULEFORGE_EQL_SPECS not set: no extra spec directory run");
        return;
    };
    let dir = PathBuf::from(dir);
    assert!(
        dir.is_dir(),
        "RULEFORGE_EQL_SPECS={} is not a directory",
        dir.display()
    );
    let (total, report) = run_dir(&dir);
    println!("{report}");
    println!(
        "extra specs ({}): {} passed, {} failed, {} skipped",
        dir.display(),
        total.passed,
        total.failed,
        total.skipped
    );
    assert!(
        total.passed + total.failed > 0,
        "no spec cases found in {}",
        dir.display()
    );
}

/// The harness itself, on a spec directory of our own in Elasticsearch's QA layout: comments
/// in data files, `#` lines and the keyword-type placeholder (as a type and as a sub-field
/// name) in mappings, fields left to dynamic mapping, an index chosen by the spec file's name,
/// `join_keys` with a null key, missing-event slots as `-1`, alternatives, an excluded case,
/// a fold file, a series file, and one wrong expectation that must be reported by name.
#[test]
fn harness_runs_a_spec_directory_in_the_elasticsearch_layout() {
    let dir = tempfile::tempdir().unwrap();
    write_demo_spec_dir(dir.path());
    let (t, report) = run_dir(dir.path());
    println!("{report}");
    assert_eq!(
        (t.passed, t.failed, t.skipped),
        (6, 1, 1),
        "passed, failed, skipped:\n{report}"
    );
    assert!(report.contains("FAIL deliberatelyWrong: expected [[2]], got [1]"));
    assert!(report.contains("NOTE excludedCase"));
}

/// The spec directory of [`harness_runs_a_spec_directory_in_the_elasticsearch_layout`].
fn write_demo_spec_dir(root: &Path) {
    std::fs::create_dir(root.join("data")).unwrap();
    let write = |rel: &str, text: &str| std::fs::write(root.join(rel), text).unwrap();
    write(
        "data/logins.data",
        r#"// events of the logins index
[
  /* first */ {"@timestamp": 1, "event_type": "logon", "user": "a", "host": "h1", "id": 1},
  {"@timestamp": 2, "event_type": "logoff", "user": "a", "id": 2}, # a hash comment
  {"@timestamp": 3, "event_type": "logon", "user": "b", "id": 3, "note": "http://x // not a comment"},
  {"@timestamp": 20, "event_type": "logon", "id": 4}
]
"#,
    );
    write(
        "data/logins.mapping",
        r#"# the logins index; note and the rest of unlisted fields are mapped dynamically
{
  "properties": {
    "@timestamp": {"type": "date"},
    "event_type": {"type": "[runtime_random_keyword_type]"},
    "event": {"properties": {"category": {"type": "alias", "path": "event_type"}}},
    "user": {"type": "[runtime_random_keyword_type]"},
    "host": {"type": "text", "fields": {"[runtime_random_keyword_type]": {"type": "[runtime_random_keyword_type]", "ignore_above": 256}}},
    "id": {"type": "long"}
  }
}
"#,
    );
    write(
        "test_logins.toml",
        r#"
[[queries]]
name = "logonWithoutLogoff"
query = '''
sequence by ?user with maxspan=5ms
  [logon where true]
  ![logoff where true]
'''
expected_event_ids = [3, -1, 4, -1]
join_keys = ["b", "null"]

[[queries]]
name = "dynamicallyMappedField"
query = 'any where note : "*not a comment"'
expected_event_ids = [3]

[[queries]]
name = "placeholderSubField"
query = 'any where host == "h1"'
expected_event_ids = [1]

[[queries]]
name = "eitherAlternative"
query = 'any where id == 1'
expected_event_ids = [[9], [1]]

[[queries]]
name = "excludedCase"
query = 'any where nothing_like_this == 1'
expected_event_ids = [1]

[[queries]]
name = "deliberatelyWrong"
query = 'any where id == 1'
expected_event_ids = [2]
"#,
    );
    write(
        "test_queries_unsupported.toml",
        "[[queries]]\nname = \"excludedCase\"\nquery = 'x'\nexpected_event_ids = []\n",
    );
    write(
        "test_fold.toml",
        "[concat]\n[[concat.fold.tests]]\nexpression = 'concat(\"a\", \"b\")'\nexpected = \"ab\"\n",
    );
    write(
        "mini.series-spec",
        "// two stages\nsimple\nA1 A3\nB2 B4;\nA1 B2\nA3 B4;\n",
    );
}
