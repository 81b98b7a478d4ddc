//! The committed ECS field-type table (`data/ecs_field_types.tsv`) must be what the generator
//! makes from `../shared/data/ecs/ecs_flat.json`. Regenerate with
//! `RULEFORGE_REGEN=1 cargo test --test kql_ecs_table`.

use std::path::PathBuf;

use ruleforge::query::kql::generate_ecs_table;

#[test]
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
    if std::env::var_os("RULEFORGE_REGEN").is_some_and(|v| v == "1") {
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
