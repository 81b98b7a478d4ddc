//! Every rule of the Elastic corpus lints without a crash, renders and exports.

mod common;

use ruleforge::export::{ExportContext, rule_to_api};
use ruleforge::render::{Renderer, rule_context};
use ruleforge::rule::Collection;

#[test]
#[cfg_attr(
    shared_absent,
    ignore = "needs ../shared (absent here): this proof did not run"
)]
fn every_corpus_rule_lints_renders_and_exports() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let c = Collection::load_dirs(&[corpus.join("rules"), corpus.join("rules_building_block")])
        .unwrap();
    assert_eq!(c.rules.len(), 2192);

    let diags = ruleforge::lint::run(&c, &Default::default());
    let errors = diags
        .iter()
        .filter(|d| d.severity == ruleforge::diag::Severity::Error)
        .count();
    println!(
        "lint: {} findings ({errors} errors) over {} rules",
        diags.len(),
        c.rules.len()
    );
    // Upstream's own checks pass on this snapshot; an error here is a false positive of ours.
    let listed: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == ruleforge::diag::Severity::Error)
        .map(|d| format!("{} {:?} {}", d.code, d.file, d.message))
        .collect();
    assert_eq!(errors, 0, "{listed:#?}");

    let renderer = Renderer::new(None).unwrap();
    let ctx = ExportContext::builtin()
        .with_etc_dir(&corpus.join("etc"))
        .unwrap();
    let (mut rendered, mut exported, mut failures) = (0, 0, Vec::new());
    for rule in &c.rules {
        match renderer.render("rule.md", &rule_context(rule, "x.md", "x.toml")) {
            Ok(_) => rendered += 1,
            Err(e) => failures.push(format!("render {}: {e}", rule.path.display())),
        }
        if rule.is_deprecated() {
            continue;
        }
        let fields = ruleforge::replay::query_fields(rule);
        match rule_to_api(&rule.to_json(), fields.as_deref(), &ctx) {
            Ok(obj) => {
                assert!(
                    obj["version"].as_i64().is_some_and(|v| v >= 1),
                    "{}",
                    rule.path.display()
                );
                exported += 1;
            }
            Err(e) => failures.push(format!("export {}: {e}", rule.path.display())),
        }
    }
    let deprecated = c.rules.iter().filter(|r| r.is_deprecated()).count();
    println!("rendered {rendered}, exported {exported} (+{deprecated} deprecated not exported)");
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(rendered, c.rules.len());
    assert_eq!(exported + deprecated, c.rules.len());
}
