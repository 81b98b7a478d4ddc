use super::*;
use serde_json::json;

fn opts() -> Options {
    Options {
        maturity: "development".into(),
        today: "2026/12/03".into(),
        keep_version: false,
    }
}

#[test]
fn lines_are_classified_by_shape() {
    let text = concat!(
        "{\"rule_id\": \"a\", \"name\": \"A\", \"type\": \"query\"}\n",
        "\n",
        "{\"list_id\": \"l\", \"type\": \"detection\"}\n",
        "{\"item_id\": \"i\", \"list_id\": \"l\", \"entries\": []}\n",
        "{\"id\": \"c\", \"type\": \"action\", \"attributes\": {}}\n",
        "{\"exported_count\": 1, \"missing_rules\": []}\n",
    );
    let p = parse_ndjson(text).unwrap();
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].0, 1);
    assert_eq!(
        (p.exception_objects, p.action_connectors, p.summary_lines),
        (2, 1, 1)
    );
}

#[test]
fn a_broken_line_is_an_error_at_its_line() {
    let err = parse_ndjson("{\"rule_id\": \"a\"}\n{\"x\": \n").unwrap_err();
    assert!(matches!(err, ImportError::NotJson { line: 2, .. }), "{err}");
    let err = parse_ndjson("[1]\n").unwrap_err();
    assert!(matches!(err, ImportError::NotObject { line: 1 }), "{err}");
    let obj = json!({"rule_id": "a", "name": "A", "type": "sigma"});
    let err = rule_file(7, obj.as_object().unwrap(), &opts()).unwrap_err();
    assert!(
        err.to_string().contains("line 7") && err.to_string().contains("sigma"),
        "{err}"
    );
}

#[test]
fn server_fields_go_and_metadata_is_built() {
    let obj = json!({
        "rule_id": "r", "name": "N", "type": "new_terms", "version": 3, "revision": 2,
        "id": "x", "immutable": false, "created_at": "2025-08-14T12:42:04.522Z",
        "updated_at": "2026-01-02T00:00:00.000Z", "timeline_id": null,
        "related_integrations": [{"package": "aws", "version": "^1.0.0", "integration": "cloudtrail"},
                                 {"package": "aws", "version": "^1.0.0"}],
        "required_fields": [{"name": "a", "type": "keyword", "ecs": true}],
        "meta": {"kibana_siem_app_url": "http://k"},
        "new_terms_fields": ["user.name"], "history_window_start": "now-7d"
    });
    let r = rule_file(1, obj.as_object().unwrap(), &opts()).unwrap();
    let rule = &r.file["rule"];
    for gone in [
        "version",
        "revision",
        "id",
        "immutable",
        "related_integrations",
        "required_fields",
        "meta",
        "timeline_id",
        "new_terms_fields",
    ] {
        assert!(rule.get(gone).is_none(), "{gone} kept");
    }
    assert_eq!(rule["new_terms"]["value"], json!(["user.name"]));
    assert_eq!(
        rule["new_terms"]["history_window_start"][0]["value"],
        "now-7d"
    );
    let md = &r.file["metadata"];
    assert_eq!(md["creation_date"], "2025/08/14");
    assert_eq!(md["updated_date"], "2026/01/02");
    assert_eq!(md["integration"], json!(["aws"]));
    assert_eq!(md["maturity"], "development");
    let kept = rule_file(
        1,
        obj.as_object().unwrap(),
        &Options {
            keep_version: true,
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(kept.file["rule"]["version"], 3);
}

#[test]
fn note_plugins_become_a_transform_that_exports_back() {
    let note = "Check $HOME first.\n!{osquery{\"label\":\"Ps\",\"query\":\"SELECT 1\"}}\nthen !{investigate{\"label\":\"x\",\"providers\":[]}} and !{broken{";
    let (text, transform) = note::extract_transform(note).unwrap();
    assert!(
        text.contains("$osquery_0") && text.contains("$investigate_0"),
        "{text}"
    );
    assert!(text.contains("$$HOME"), "{text}");
    assert_eq!(transform["osquery"][0]["query"], "SELECT 1");
    // The exporter's rendering of the transform gives the original note back.
    let rendered =
        crate::export::safe_substitute(&text, &crate::export::rendered_placeholders(&transform));
    assert_eq!(rendered, note);
}
