//! The committed field-type tables must be what the generators make from the shared reference
//! data: `data/ecs_field_types.tsv` from `../shared/data/ecs/ecs_flat.json`, and
//! `data/integration_field_types.tsv` from detection-rules'
//! `etc/integration-schemas.json.gz`. Regenerate with
//! `RULEFORGE_REGEN=1 cargo test --test kql_ecs_table`.

use std::io::Read;
use std::path::PathBuf;

use ruleforge::query::kql::{generate_ecs_table, generate_integration_table};

fn regen() -> bool {
    std::env::var_os("RULEFORGE_REGEN").is_some_and(|v| v == "1")
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_ecs_table_matches_generator() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let source = root.join("../shared/data/ecs/ecs_flat.json");
    let table = root.join("data/ecs_field_types.tsv");
    let Ok(text) = std::fs::read_to_string(&source) else {
        println!(
            "skipped: {} not found (the shared reference data is not on this machine)",
            source.display()
        );
        return;
    };
    let ecs: serde_json::Value = serde_json::from_str(&text).expect("ecs_flat.json is JSON");
    let generated = generate_ecs_table(&ecs);
    if regen() {
        std::fs::write(&table, &generated).expect("write table");
        println!("wrote {}", table.display());
        return;
    }
    let committed = std::fs::read_to_string(&table).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run RULEFORGE_REGEN=1 cargo test --test kql_ecs_table",
        table.display()
    );
    println!("{} lines match", generated.lines().count());
}

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn committed_integration_table_matches_generator() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let source =
        root.join("../shared/corpus/elastic-detection-rules/etc/integration-schemas.json.gz");
    let table = root.join("data/integration_field_types.tsv");
    let Ok(file) = std::fs::File::open(&source) else {
        println!(
            "skipped: {} not found (the shared corpus is not on this machine)",
            source.display()
        );
        return;
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .expect("gunzip integration schemas");
    let schemas: serde_json::Value = serde_json::from_str(&text).expect("schemas are JSON");
    let ecs = std::fs::read_to_string(root.join("data/ecs_field_types.tsv")).expect("ECS table");
    let generated = generate_integration_table(&schemas, &ecs);
    if regen() {
        std::fs::write(&table, &generated).expect("write table");
        println!("wrote {}", table.display());
        return;
    }
    let committed = std::fs::read_to_string(&table).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run RULEFORGE_REGEN=1 cargo test --test kql_ecs_table",
        table.display()
    );
    println!("{} lines match", generated.lines().count());
}
