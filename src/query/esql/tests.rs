//! Unit tests of the ES|QL engine's semantics (ROW queries need no data).

use super::*;
use serde_json::json;

fn no_source() -> EventCatalog<'static> {
    EventCatalog {
        events: &[],
        types: &|_| None,
        extra_fields: Vec::new(),
        only: None,
    }
}

fn row(q: &str) -> Output {
    parse(q)
        .unwrap_or_else(|e| panic!("{q}: {e:?}"))
        .run(&no_source(), 1_700_000_000_000)
        .unwrap_or_else(|e| panic!("{q}: {e:?}"))
}

fn one(q: &str) -> Value {
    let out = row(q);
    out.table.rows[0].last().cloned().unwrap_or(Value::Null)
}

fn err(q: &str) -> EsqlError {
    match parse(q) {
        Err(e) => e,
        Ok(p) => p.run(&no_source(), 0).unwrap_err(),
    }
}

#[test]
fn three_valued_logic() {
    assert_eq!(one("ROW x = null AND false"), Value::Bool(false));
    assert_eq!(one("ROW x = null AND true"), Value::Null);
    assert_eq!(one("ROW x = null OR true"), Value::Bool(true));
    assert_eq!(one("ROW x = NOT (null::boolean)"), Value::Null);
    assert_eq!(one("ROW a = 1 | EVAL b = a IN (2, null)"), Value::Null);
    assert_eq!(
        one("ROW a = 1 | EVAL b = a IN (1, null)"),
        Value::Bool(true)
    );
}

#[test]
fn multi_values_turn_single_value_functions_into_null_with_a_warning() {
    let out = row("ROW a = [1, 2] | EVAL b = a + 1");
    assert_eq!(out.table.rows[0][1], Value::Null);
    assert_eq!(
        out.warnings,
        [
            "Line 1:27: evaluation of [a + 1] failed, treating result as null. Only first 20 failures recorded.",
            "Line 1:27: java.lang.IllegalArgumentException: single-value function encountered multi-value"
        ]
    );
    assert_eq!(one("ROW a = [3, 1, 2] | EVAL b = mv_min(a)"), Value::Int(1));
    assert_eq!(
        one("ROW a = [3, 1, 2] | EVAL b = mv_count(a)"),
        Value::Int(3)
    );
}

#[test]
fn integer_overflow_is_null_with_a_warning() {
    let out = row("ROW a = 2147483647 | EVAL b = a + 1");
    assert_eq!(out.table.rows[0][1], Value::Null);
    assert!(out.warnings[1].ends_with("java.lang.ArithmeticException: integer overflow"));
    assert_eq!(
        one("ROW a = 2147483647::long + 1"),
        Value::Int(2_147_483_648)
    );
}

#[test]
fn like_and_rlike_match_whole_values_case_sensitively() {
    assert_eq!(
        one(r#"ROW a = "Hello" | EVAL b = a LIKE "H*o""#),
        Value::Bool(true)
    );
    assert_eq!(
        one(r#"ROW a = "Hello" | EVAL b = a LIKE "h*""#),
        Value::Bool(false)
    );
    assert_eq!(
        one(r#"ROW a = "Hello" | EVAL b = a RLIKE "H.l+o""#),
        Value::Bool(true)
    );
    assert_eq!(
        one(r#"ROW a = "Hello" | EVAL b = a NOT LIKE ("x*", "*ll*")"#),
        Value::Bool(false)
    );
}

#[test]
fn date_math_and_truncation() {
    assert_eq!(
        one(r#"ROW d = "2024-01-31T10:00:00Z"::datetime + 1 month"#),
        Value::Date(parse_date("2024-02-29T10:00:00Z").unwrap())
    );
    assert_eq!(
        one(r#"ROW d = date_trunc(1 year, "2024-05-06T07:08:09Z"::datetime)"#),
        Value::Date(parse_date("2024-01-01").unwrap())
    );
    assert_eq!(
        one(r#"ROW d = date_diff("day", "2024-01-01"::datetime, "2024-03-01"::datetime)"#),
        Value::Int(60)
    );
}

#[test]
fn eval_shadows_columns_and_unknown_columns_are_rejected() {
    let out = row("ROW a = 1, b = 2 | EVAL a = b + 10");
    let names: Vec<&str> = out.table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(out.table.rows[0], [Value::Int(2), Value::Int(12)]);
    let e = err("ROW a = 1 | EVAL c = nope + 1");
    assert_eq!(e.kind, EsqlErrorKind::Verification);
    assert!(e.message.contains("Unknown column [nope]"));
    assert_eq!(e.span, 21..25);
}

#[test]
fn unsupported_commands_are_rejected_by_name_with_a_location() {
    let e = err(r#"FROM logs | COMPLETION r = p WITH { "inference_id": "x" } | KEEP r"#);
    assert_eq!(e.kind, EsqlErrorKind::Unsupported);
    assert!(
        e.message.contains("COMPLETION is not supported"),
        "{}",
        e.message
    );
    assert_eq!(e.span.start, 12);
    let e = err("FROM logs | ENRICH policy ON x");
    assert!(e.message.contains("ENRICH is not supported"));
    let e = err("ROW a = 1 | EVAL b = no_such_function(a)");
    assert_eq!(e.kind, EsqlErrorKind::Unsupported);
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let deep = format!("ROW a = {}1{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(err(&deep).kind, EsqlErrorKind::NestingLimit);
    let negs = format!("ROW a = {}1", "- ".repeat(5000));
    assert!(parse(&negs).is_err());
    for q in [
        "",
        "|",
        "FROM",
        "ROW a = \"",
        "ROW a = 1 | SORT",
        "FROM x | STATS BY",
        "ROW a = `x",
    ] {
        let _ = parse(q).map(|p| p.run(&no_source(), 0));
    }
}

#[test]
fn stats_group_by_and_aggregate_over_events() {
    let events = vec![
        json!({"host": {"name": "a"}, "bytes": 10}),
        json!({"host": {"name": "a"}, "bytes": 5}),
        json!({"host": {"name": "b"}, "bytes": 1}),
    ];
    let cat = EventCatalog {
        events: &events,
        types: &|_| None,
        extra_fields: Vec::new(),
        only: None,
    };
    let q =
        parse("FROM logs-* | STATS n = COUNT(*), total = SUM(bytes) BY host.name | SORT host.name")
            .unwrap();
    let out = q.run(&cat, 0).unwrap();
    assert_eq!(
        out.table.rows,
        [
            vec![Value::Int(2), Value::Int(15), Value::Str("a".into())],
            vec![Value::Int(1), Value::Int(1), Value::Str("b".into())],
        ]
    );
}

#[test]
fn an_aggregating_query_reads_only_its_columns_and_a_projection_changes_nothing() {
    let events = vec![
        json!({"host": {"name": "a", "ip": "10.0.0.1"}, "process": {"name": "sh", "args": ["-c", "id"]}, "bytes": 10, "tags": [{"k": 1}]}),
        json!({"host": {"name": "a"}, "process": {"name": "ls"}, "bytes": 5, "geo": {"lat": 1.0, "lon": 2.0}}),
        json!({"host": {"name": "b"}, "process": {"name": null}, "bytes": "7"}),
    ];
    let queries = [
        "FROM logs-* | WHERE process.name IS NOT NULL | STATS n = COUNT(*), total = SUM(bytes) BY host.name | SORT host.name",
        "FROM logs-* | KEEP host.*, bytes | STATS c = COUNT_DISTINCT(host.name) BY bytes | SORT bytes",
        "FROM logs-* | EVAL p = TO_LOWER(process.name) | RENAME host.name AS h | STATS n = COUNT(p) BY h | SORT h",
        "FROM logs-* | MV_EXPAND process.args | STATS n = COUNT(*) BY process.args | SORT process.args",
    ];
    for text in queries {
        let q = parse(text).unwrap();
        let only = q
            .column_projection()
            .expect("an aggregating query projects");
        let run = |only: Option<&[String]>| {
            let cat = EventCatalog {
                events: &events,
                types: &|_| None,
                extra_fields: Vec::new(),
                only,
            };
            q.run(&cat, 0).unwrap().table
        };
        let (all, projected) = (run(None), run(Some(&only)));
        assert_eq!(all.columns, projected.columns, "{text}");
        assert_eq!(all.rows, projected.rows, "{text}");
    }
    // Rows are results, not aggregates, or the query searches fields it does not name: every
    // column matters.
    for text in [
        "FROM logs-* | WHERE bytes > 1",
        "FROM logs-* | INLINE STATS n = COUNT(*) BY host.name",
        "FROM logs-* | WHERE KQL(\"process.name: sh\") | STATS n = COUNT(*)",
        "FROM logs-* | WHERE QSTR(\"sh\") | STATS n = COUNT(*)",
        "FROM logs-* | WHERE process.name : \"sh\" | STATS n = COUNT(*)",
    ] {
        assert_eq!(parse(text).unwrap().column_projection(), None, "{text}");
    }
}

#[test]
fn first_and_last_take_the_value_at_the_least_and_greatest_sort_key() {
    let q = parse(
        "ROW t = [3, 1, 2], v = [\"c\", \"a\", \"b\"] | MV_EXPAND t | EVAL v = CASE(t == 1, \"a\", t == 2, \"b\", \"c\") \
         | STATS f = FIRST(v, t), l = LAST(v, t)",
    )
    .unwrap();
    let out = q.run(&no_source(), 0).unwrap();
    assert_eq!(
        out.table.rows,
        vec![vec![Value::Str("a".into()), Value::Str("c".into())]]
    );
    let err = parse("ROW t = 1 | STATS f = FIRST(t)")
        .unwrap()
        .run(&no_source(), 0)
        .unwrap_err();
    assert!(
        err.message.contains("takes a value and a sort field"),
        "{}",
        err.message
    );
}

#[test]
fn geo_points_from_documents_give_coordinates_and_distances() {
    let events = vec![serde_json::json!({"loc": {"lat": 48.8566, "lon": 2.3522}})];
    let types = |f: &str| (f == "loc").then_some(DataType::GeoPoint);
    let catalog = EventCatalog {
        events: &events,
        types: &types,
        extra_fields: vec![],
        only: None,
    };
    let q = parse(
        "FROM x | EVAL lat = ST_Y(loc), lon = ST_X(loc), \
         d = ROUND(ST_DISTANCE(loc, TO_GEOPOINT(\"POINT (-74.006 40.7128)\")) / 1000) | KEEP loc, lat, lon, d",
    )
    .unwrap();
    let out = q.run(&catalog, 0).unwrap();
    assert_eq!(
        out.table.rows,
        vec![vec![
            Value::Str("POINT (2.3522 48.8566)".into()),
            Value::Double(48.8566),
            Value::Double(2.3522),
            Value::Double(5837.0),
        ]]
    );
    let bad = parse("ROW p = TO_GEOPOINT(\"POINT (1)\")")
        .unwrap()
        .run(&catalog, 0)
        .unwrap();
    assert_eq!(bad.table.rows, vec![vec![Value::Null]]);
    assert!(
        !bad.warnings.is_empty(),
        "an unparsable point is null with a warning"
    );
}
