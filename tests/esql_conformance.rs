//! Runs Elasticsearch's own ES|QL csv-spec tests (`../shared/conformance/elasticsearch-esql/`)
//! over the datasets they load, prints `esql conformance: N passed, N failed, N skipped` with
//! every failure and skip by name, and holds the pass count to a committed floor
//! (`tests/data/esql/conformance_floor.txt`).
//!
//! A test passes when the columns (names and types), the rows (in order unless
//! `ignoreOrder:true`; doubles to 1e-9 relative, dates as instants) and the expected warnings
//! all match. Skipped, never counted as passed: tests whose data is not in `data/`, tests
//! Elasticsearch itself disables (`-Ignore`), and tests the engine rejects as unsupported
//! (an `Unsupported` error: a command or function it does not run).
//!
//! `RULEFORGE_ESQL_SPECS` points the runner at another directory of csv-spec files over the same
//! datasets (`../data` and `../datasets.json` beside it).

use ruleforge::query::esql::{self, Catalog, Column, DataType, EsqlErrorKind, Table, Value};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn spec_dir() -> PathBuf {
    match std::env::var_os("RULEFORGE_ESQL_SPECS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/conformance/elasticsearch-esql/specs"),
    }
}

struct Case {
    file: String,
    name: String,
    query: String,
    ignore_order: bool,
    warnings: Vec<String>,
    warning_regexes: Vec<String>,
    header: Vec<(String, String)>,
    rows: Vec<Vec<String>>,
}

/// Reads a csv-spec file as Elasticsearch's SpecReader does (trimmed lines, `//` and `#` lines
/// and blank lines skipped).
fn read_specs(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with('#'))
        .collect();
    let mut cases = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let name = lines[i].to_string();
        i += 1;
        let mut query_lines: Vec<String> = Vec::new();
        while i < lines.len() {
            let l = lines[i];
            i += 1;
            // Header lines (`required_capability: x`, `skip_columnar: …`, `request_stored: …`).
            let header = l.split_once(':').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            });
            if query_lines.is_empty() && header {
                continue;
            }
            if let Some(q) = l.strip_suffix(';') {
                if let Some(stmt) = q.strip_suffix('\\') {
                    query_lines.push(format!("{stmt};"));
                    continue;
                }
                query_lines.push(q.to_string());
                break;
            }
            query_lines.push(l.to_string());
        }
        let mut case = Case {
            file: file.clone(),
            name,
            query: query_lines.join("\n"),
            ignore_order: false,
            warnings: Vec::new(),
            warning_regexes: Vec::new(),
            header: Vec::new(),
            rows: Vec::new(),
        };
        while i < lines.len() {
            let l = lines[i];
            i += 1;
            if l.starts_with(';') {
                break;
            }
            if let Some(w) = l.strip_prefix("warningRegex:") {
                case.warning_regexes.push(w.trim().to_string());
            } else if let Some(w) = l.strip_prefix("warning:") {
                // Older specs write `warning:` lines as regexes (`evaluation of \[…\]`).
                if w.contains("\\[") || w.contains("\\(") {
                    case.warning_regexes.push(w.trim().to_string());
                } else {
                    case.warnings.push(w.trim().replace("\\\"", "\""));
                }
            } else if let Some(v) = l.strip_prefix("ignoreOrder:") {
                case.ignore_order = v.trim() == "true";
            } else if case.header.is_empty() {
                case.header = split_row(l)
                    .into_iter()
                    .map(|c| match c.split_once(':') {
                        Some((n, t)) => (n.trim().to_string(), t.trim().to_string()),
                        None => (c.trim().to_string(), String::new()),
                    })
                    .collect();
            } else {
                case.rows.push(split_row(l));
            }
        }
        cases.push(case);
    }
    cases
}

/// Splits an expected row on `|` (`\|` is a literal bar) and trims each cell.
fn split_row(l: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = l.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'|') {
            cur.push('|');
            chars.next();
        } else if c == '|' {
            out.push(cur.trim().to_string());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    out.push(cur.trim().to_string());
    out
}

// ---- datasets ----

struct Dataset {
    index: String,
    data: Option<PathBuf>,
    mapping: Option<Json>,
    overrides: Vec<(String, String)>,
    removed: Vec<String>,
    no_data: bool,
}

struct Datasets {
    sets: Vec<Dataset>,
}

fn load_datasets(root: &Path) -> Datasets {
    let dj: Json =
        serde_json::from_str(&std::fs::read_to_string(root.join("datasets.json")).unwrap())
            .unwrap();
    let mut sets = Vec::new();
    for d in dj["datasets"].as_array().into_iter().flatten() {
        let notes = d["loader_notes"].as_str().unwrap_or("");
        let present = |k: &str| d["present_here"][k].as_bool().unwrap_or(false);
        let data = present("data")
            .then(|| d["data"].as_str().map(|f| root.join("data").join(f)))
            .flatten();
        let mapping = present("mapping")
            .then(|| d["mapping"].as_str())
            .flatten()
            .and_then(|f| std::fs::read_to_string(root.join("data").join(f)).ok())
            .and_then(|t| serde_json::from_str(&t).ok());
        let mut overrides = Vec::new();
        let mut removed = Vec::new();
        for part in notes.split(';').map(str::trim) {
            let Some(spec) = part.strip_prefix("typeMapping:") else {
                continue;
            };
            let spec = spec.trim();
            if let Some(fields) = spec.strip_prefix("remove ") {
                removed.extend(fields.split(',').map(|f| f.trim().to_string()));
            } else if let Some((fields, ty)) = spec.rsplit_once('=') {
                for f in fields.split(',') {
                    overrides.push((f.trim().to_string(), ty.trim().to_string()));
                }
            }
        }
        sets.push(Dataset {
            index: d["index"].as_str().unwrap_or("").to_string(),
            data,
            mapping,
            overrides,
            removed,
            no_data: notes.contains("noData"),
        });
    }
    Datasets { sets }
}

fn mapping_param(mapping: &Option<Json>, field: &str, key: &str) -> Option<f64> {
    let mut cur = mapping.as_ref()?.get("properties")?;
    let parts: Vec<&str> = field.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        let node = cur.get(*p)?;
        if i + 1 == parts.len() {
            return node.get(key)?.as_f64();
        }
        cur = node.get("properties").or_else(|| node.get("fields"))?;
    }
    None
}

fn half_float(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = x.abs().log2().floor().max(-14.0);
    let q = 2f64.powf(e - 10.0);
    (x / q).round_ties_even() * q
}

fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                cur.push(',');
                chars.next();
            }
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth <= 0 => {
                out.push(std::mem::take(&mut cur));
            }
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Splits a multi-value `[a,b]` on commas (not escaped ones).
fn split_multi(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&',') {
            cur.push(',');
            chars.next();
        } else if c == ',' {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn read_scalar(s: &str, es_type: &str, scale: Option<f64>) -> Option<Value> {
    let s = s.trim();
    // A CSV-quoted value keeps its spaces (`"  foo"`).
    let unquoted = s
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .filter(|_| s.len() >= 2)
        .map(|x| x.replace("\"\"", "\""));
    if let Some(u) = &unquoted {
        if DataType::from_es(es_type).is_string() {
            return Some(Value::Str(u.clone()));
        }
    }
    if s.is_empty() || s == "null" {
        return None;
    }
    let ty = DataType::from_es(es_type);
    let v = match ty {
        DataType::Integer | DataType::Long => Value::Int(s.parse().ok()?),
        DataType::UnsignedLong => Value::ULong(s.parse().ok()?),
        DataType::Double => {
            let d: f64 = s.parse().ok()?;
            Value::Double(match es_type {
                "float" => f64::from(d as f32),
                "half_float" => half_float(d),
                "scaled_float" => {
                    let f = scale.unwrap_or(100.0);
                    (d * f).round() / f
                }
                _ => d,
            })
        }
        DataType::Boolean => Value::Bool(s.eq_ignore_ascii_case("true")),
        DataType::Date => Value::Date(esql::parse_date(s).or_else(|| s.parse().ok())?),
        DataType::Ip => {
            return s.parse::<std::net::IpAddr>().ok().map(|a| match a {
                std::net::IpAddr::V4(v4) => Value::Ip(v4.to_ipv6_mapped()),
                std::net::IpAddr::V6(v6) => Value::Ip(v6),
            });
        }
        DataType::Unsupported | DataType::Null => return None,
        _ => Value::Str(s.to_string()),
    };
    Some(v)
}

/// Doc values order: keywords sorted and de-duplicated, numbers, dates, ips, booleans sorted;
/// text keeps the source order.
fn doc_values(mut items: Vec<Value>, ty: DataType) -> Value {
    match ty {
        DataType::Text => items.sort_by(cmp),
        DataType::Keyword | DataType::Version | DataType::Ip => {
            items.sort_by(cmp);
            items.dedup();
        }
        _ => items.sort_by(cmp),
    }
    Value::from_vec(items)
}

fn cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Ip(x), Value::Ip(y)) => x.octets().cmp(&y.octets()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) | (Value::Int(x), Value::Int(y)) => x.cmp(y),
        _ => a
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&b.as_f64().unwrap_or(0.0)),
    }
}

fn load_table(ds: &Dataset) -> Result<Table, String> {
    let mut columns: Vec<(String, String)> = Vec::new();
    let mut rows = Vec::new();
    if let Some(path) = &ds.data {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines.next().ok_or("empty data file")?;
        for h in split_csv(header) {
            let (n, t) = match h.split_once(':') {
                Some((n, t)) => (n.trim().to_string(), t.trim().to_string()),
                None => (h.trim().to_string(), "keyword".to_string()),
            };
            let t = ds
                .overrides
                .iter()
                .find(|o| o.0 == n)
                .map_or(t, |o| o.1.clone());
            columns.push((n, t));
        }
        for l in lines {
            let cells = split_csv(l);
            let mut row = Vec::new();
            for (ci, (n, t)) in columns.iter().enumerate() {
                let cell = cells.get(ci).map_or("", |c| c.trim());
                let scale = mapping_param(&ds.mapping, n, "scaling_factor");
                let ty = DataType::from_es(t);
                let v =
                    if let Some(inner) = cell.strip_prefix('[').and_then(|c| c.strip_suffix(']')) {
                        let items: Vec<Value> = split_multi(inner)
                            .iter()
                            .filter_map(|x| read_scalar(x, t, scale))
                            .collect();
                        doc_values(items, ty)
                    } else {
                        read_scalar(cell, t, scale).unwrap_or(Value::Null)
                    };
                row.push(v);
            }
            rows.push(row);
        }
    } else if ds.no_data {
        if let Some(props) = ds.mapping.as_ref().and_then(|m| m.get("properties")) {
            for (k, v) in props.as_object().into_iter().flatten() {
                columns.push((
                    k.clone(),
                    v["type"].as_str().unwrap_or("object").to_string(),
                ));
            }
        }
    } else {
        return Err("data missing".into());
    }
    let keep: Vec<usize> = (0..columns.len())
        .filter(|&i| !ds.removed.iter().any(|r| *r == columns[i].0))
        .collect();
    Ok(Table {
        columns: keep
            .iter()
            .map(|&i| Column {
                name: columns[i].0.clone(),
                ty: DataType::from_es(&columns[i].1),
            })
            .collect(),
        rows: rows
            .into_iter()
            .map(|r: Vec<Value>| keep.iter().map(|&i| r[i].clone()).collect())
            .collect(),
    })
}

impl Datasets {
    fn resolve(&self, patterns: &[String]) -> Result<Vec<&Dataset>, String> {
        let mut out: Vec<&Dataset> = Vec::new();
        for p in patterns {
            for p in p.split(',').map(str::trim) {
                if let Some(ex) = p.strip_prefix('-') {
                    let m = ruleforge::query::wildcard::Matcher::from_glob(ex);
                    out.retain(|d| !m.is_match(&d.index));
                    continue;
                }
                let m = ruleforge::query::wildcard::Matcher::from_glob(p);
                let hits: Vec<&Dataset> =
                    self.sets.iter().filter(|d| m.is_match(&d.index)).collect();
                if hits.is_empty() {
                    return Err(format!("Unknown index [{p}]"));
                }
                for h in hits {
                    if !out.iter().any(|d| d.index == h.index) {
                        out.push(h);
                    }
                }
            }
        }
        Ok(out)
    }
}

struct SpecCatalog<'a> {
    sets: &'a Datasets,
}

impl Catalog for SpecCatalog<'_> {
    fn source(&self, patterns: &[String], metadata: &[String]) -> Result<Table, String> {
        let sets = self.sets.resolve(patterns)?;
        let mut columns: Vec<Column> = Vec::new();
        let mut parts = Vec::new();
        for ds in &sets {
            let t = load_table(ds)?;
            for c in &t.columns {
                match columns.iter_mut().find(|x| x.name == c.name) {
                    Some(x) if x.ty != c.ty => x.ty = DataType::Unsupported,
                    Some(_) => {}
                    None => columns.push(c.clone()),
                }
            }
            parts.push((ds.index.clone(), t));
        }
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        let mut rows = Vec::new();
        for (index, t) in &parts {
            for (ri, r) in t.rows.iter().enumerate() {
                let mut row: Vec<Value> = columns
                    .iter()
                    .map(|c| {
                        if c.ty == DataType::Unsupported {
                            return Value::Null;
                        }
                        t.columns
                            .iter()
                            .position(|x| x.name == c.name)
                            .map_or(Value::Null, |i| r[i].clone())
                    })
                    .collect();
                for m in metadata {
                    row.push(match m.as_str() {
                        "_index" => Value::Str(index.clone()),
                        "_id" => Value::Str(ri.to_string()),
                        "_version" => Value::Int(1),
                        _ => Value::Null,
                    });
                }
                rows.push(row);
            }
        }
        for m in metadata {
            let ty = match m.as_str() {
                "_index" | "_id" => DataType::Keyword,
                "_version" => DataType::Long,
                "_score" => DataType::Double,
                _ => return Err(format!("unsupported metadata field [{m}]")),
            };
            columns.push(Column {
                name: m.clone(),
                ty,
            });
        }
        Ok(Table { columns, rows })
    }
}

// ---- comparison ----

fn type_matches(want: &str, got: DataType) -> bool {
    let w = DataType::from_es(want);
    w == got || (want == "text" && got == DataType::Text)
}

fn same_cell(want: &str, got: &Value, ty: DataType) -> bool {
    let want = want.trim();
    if want == "null" {
        return got.is_null();
    }
    if let Some(inner) = want.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
        if !matches!(got, Value::Multi(_)) {
            return false;
        }
        let wants: Vec<&str> = split_top(inner);
        let items = got.items();
        return wants.len() == items.len()
            && wants
                .iter()
                .zip(items)
                .all(|(w, g)| same_scalar(w.trim(), g, ty));
    }
    if let Value::Multi(_) = got {
        return false;
    }
    same_scalar(want, got, ty)
}

/// Splits `a, b, c` of an expected multi-value.
fn split_top(s: &str) -> Vec<&str> {
    s.split(", ")
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|p| {
            if p.contains(',') && !p.contains(' ') {
                p.split(',').collect::<Vec<_>>()
            } else {
                vec![p]
            }
        })
        .collect()
}

/// Expected cells may be CSV-quoted (`"a ""b"""`).
fn unquote(want: &str) -> String {
    match want.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(inner) if want.len() >= 2 => inner.replace("\"\"", "\""),
        _ => want.to_string(),
    }
}

fn same_scalar(want: &str, got: &Value, ty: DataType) -> bool {
    let unquoted = unquote(want);
    let want = unquoted.as_str();
    match (ty, got) {
        (_, Value::Null) => want == "null",
        (DataType::Double, Value::Double(d)) => match want.parse::<f64>() {
            Ok(w) => {
                w == *d
                    || (w - d).abs() <= 1e-9 * w.abs().max(d.abs())
                    || (w.is_nan() && d.is_nan())
            }
            Err(_) => want == esql::java_double(*d),
        },
        (DataType::Date, Value::Date(ms)) => esql::parse_date(want) == Some(*ms),
        (DataType::Ip, Value::Ip(ip)) => want
            .parse::<std::net::IpAddr>()
            .map(|a| match a {
                std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped() == *ip,
                std::net::IpAddr::V6(v6) => v6 == *ip,
            })
            .unwrap_or(false),
        (_, Value::Str(s)) => {
            let w = if want == "\"\"" { "" } else { want };
            w == s || w.replace("\\,", ",") == *s || w == s.trim()
        }
        _ => want == esql::to_text(got),
    }
}

fn render(row: &[Value]) -> String {
    row.iter()
        .map(esql::to_text)
        .collect::<Vec<_>>()
        .join(" | ")
}

fn check(case: &Case, sets: &Datasets) -> Outcome {
    let query = match esql::parse(&case.query) {
        Ok(q) => q,
        Err(e) if e.kind == EsqlErrorKind::Unsupported => return Outcome::Skip(e.message),
        Err(e) => return Outcome::Fail(format!("parse error: {} at {:?}", e.message, e.span)),
    };
    if let Some(esql::CommandKind::From { sources, .. }) =
        query.ast.commands.first().map(|c| &c.kind)
    {
        match sets.resolve(sources) {
            Ok(list) => {
                if let Some(d) = list.iter().find(|d| d.data.is_none() && !d.no_data) {
                    return Outcome::Skip(format!("data missing ({})", d.index));
                }
            }
            Err(e) => return Outcome::Skip(format!("data missing: {e}")),
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let out = match query.run(&SpecCatalog { sets }, now) {
        Ok(o) => o,
        Err(e) if e.kind == EsqlErrorKind::Unsupported => return Outcome::Skip(e.message),
        Err(e) => return Outcome::Fail(format!("error {:?}: {}", e.kind, e.message)),
    };
    let t = &out.table;
    let got_header: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("{}:{}", c.name, c.ty.name()))
        .collect();
    let header_ok = t.columns.len() == case.header.len()
        && t.columns
            .iter()
            .zip(&case.header)
            .all(|(c, (n, ty))| c.name == *n && type_matches(ty, c.ty));
    if !header_ok {
        let want: Vec<String> = case
            .header
            .iter()
            .map(|(n, t)| format!("{n}:{t}"))
            .collect();
        return Outcome::Fail(format!("columns: expected {want:?}, got {got_header:?}"));
    }
    if t.rows.len() != case.rows.len() {
        return Outcome::Fail(format!(
            "expected {} rows, got {}; first got: {}",
            case.rows.len(),
            t.rows.len(),
            t.rows.first().map(|r| render(r)).unwrap_or_default()
        ));
    }
    let row_eq = |want: &Vec<String>, got: &Vec<Value>| {
        want.len() == got.len()
            && want
                .iter()
                .zip(got)
                .zip(&t.columns)
                .all(|((w, g), c)| same_cell(w, g, c.ty))
    };
    if case.ignore_order {
        let mut used = vec![false; t.rows.len()];
        for w in &case.rows {
            match (0..t.rows.len()).find(|&i| !used[i] && row_eq(w, &t.rows[i])) {
                Some(i) => used[i] = true,
                None => return Outcome::Fail(format!("expected row not found: {}", w.join(" | "))),
            }
        }
    } else {
        for (i, (w, g)) in case.rows.iter().zip(&t.rows).enumerate() {
            if !row_eq(w, g) {
                return Outcome::Fail(format!(
                    "row {i}: expected {}, got {}",
                    w.join(" | "),
                    render(g)
                ));
            }
        }
    }
    let mut want_w = case.warnings.clone();
    let mut got_w = out.warnings.clone();
    if !case.warning_regexes.is_empty() {
        let res: Vec<regex::Regex> = case
            .warning_regexes
            .iter()
            .filter_map(|r| regex::Regex::new(r).ok())
            .collect();
        // Regexes are written against the HTTP header's escaped text (`\"`).
        got_w.retain(|g| {
            let escaped = g.replace('\\', "\\\\").replace('"', "\\\"");
            !res.iter().any(|r| r.is_match(&escaped))
        });
        if res.len() != case.warning_regexes.len() {
            return Outcome::Fail("unreadable warningRegex".into());
        }
    }
    // Older specs give warnings without the `Line L:C: ` prefix.
    if want_w.iter().any(|w| !w.starts_with("Line ")) {
        let prefix = regex::Regex::new(r"^Line \d+:\d+: ").unwrap();
        got_w = got_w
            .iter()
            .map(|g| prefix.replace(g, "").into_owned())
            .collect();
    }
    want_w.sort();
    got_w.sort();
    if want_w != got_w {
        return Outcome::Fail(format!("warnings: expected {want_w:?}, got {got_w:?}"));
    }
    Outcome::Pass
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn elasticsearch_esql_conformance() {
    let dir = spec_dir();
    if !dir.is_dir() {
        println!(
            "esql conformance: specs not found at {}; DID NOT RUN (CI provides ../shared)",
            dir.display()
        );
        return;
    }
    let sets = load_datasets(dir.parent().unwrap_or(&dir));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv-spec"))
        .collect();
    files.sort();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut skips: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &files {
        for case in read_specs(f) {
            let id = format!("{}:{}", case.file, case.name);
            if case.name.ends_with("-Ignore") {
                skipped += 1;
                skips
                    .entry("disabled by Elasticsearch (-Ignore)".into())
                    .or_default()
                    .push(id);
                continue;
            }
            let outcome = std::panic::catch_unwind(|| check(&case, &sets))
                .unwrap_or_else(|_| Outcome::Fail("PANIC".into()));
            match outcome {
                Outcome::Pass => passed += 1,
                Outcome::Fail(why) => {
                    failed += 1;
                    failures.push(format!("{id}: {why}"));
                }
                Outcome::Skip(why) => {
                    skipped += 1;
                    let key = if why.starts_with("data missing") {
                        "data missing".to_string()
                    } else {
                        format!("unsupported: {why}")
                    };
                    skips.entry(key).or_default().push(id);
                }
            }
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    for (why, ids) in &skips {
        println!("SKIP ({} tests) {why}: {}", ids.len(), ids.join(", "));
    }
    println!("esql conformance: {passed} passed, {failed} failed, {skipped} skipped");
    let floor: usize = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/esql/conformance_floor.txt"),
    )
    .ok()
    .and_then(|s| s.trim().parse().ok())
    .unwrap_or(0);
    if std::env::var_os("RULEFORGE_ESQL_SPECS").is_none() {
        assert!(
            passed >= floor,
            "esql conformance regressed: {passed} passed, floor is {floor}"
        );
    }
}
