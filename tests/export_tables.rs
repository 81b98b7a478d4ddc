//! The committed tables in `data/` are what `tools/gen_export_tables.rs` produces from
//! `../shared` (regenerate with `RULEFORGE_REGEN=1 cargo test --test export_tables`).

#[path = "../tools/gen_export_tables.rs"]
mod gen_export_tables;

use std::path::{Path, PathBuf};

fn shared_dir() -> PathBuf {
    std::env::var_os("RULEFORGE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_tables_match_generator() {
    let shared = shared_dir();
    if !shared.join("corpus/elastic-detection-rules/etc").is_dir() {
        println!(
            "SKIPPED (not a proof): {} is absent, cannot regenerate the export tables",
            shared.display()
        );
        return;
    }
    let generated = match gen_export_tables::generate(&shared) {
        Ok(g) => g,
        Err(e) => panic!("generator failed: {e}"),
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let files = [
        ("ecs_fields.tsv", &generated.ecs),
        ("integration_manifests.tsv", &generated.manifests),
        ("integration_fields.tsv", &generated.fields),
    ];
    if std::env::var("RULEFORGE_REGEN").as_deref() == Ok("1") {
        for (name, text) in files {
            std::fs::write(data.join(name), text).expect("write table");
            println!("regenerated data/{name} ({} bytes)", text.len());
        }
        return;
    }
    for (name, text) in files {
        let committed = std::fs::read_to_string(data.join(name)).unwrap_or_default();
        assert!(
            committed == *text,
            "data/{name} differs from the generator output; run RULEFORGE_REGEN=1 cargo test --test export_tables"
        );
        assert!(text.len() < 2_000_000, "data/{name} is over 2 MB");
    }
}

#[test]
fn builtin_tables_parse() {
    // Independent of ../shared: the embedded tables parse into usable facts.
    let t = ruleforge::export::Tables::builtin();
    assert_eq!(t.ecs_version, "9.5.0");
    assert_eq!(
        t.ecs.get("process.parent.command_line").map(String::as_str),
        Some("wildcard")
    );
    assert_eq!(
        t.ecs.get("event.action").map(String::as_str),
        Some("keyword")
    );
    assert!(t.manifests.contains_key("endpoint"));
    assert_eq!(t.fields_stack, "9.6.0");
    let endpoint = t.fields.get("endpoint").expect("endpoint fields");
    assert!(endpoint.streams.contains_key("process"));
}
