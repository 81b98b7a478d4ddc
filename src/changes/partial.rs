//! Partial replays: a rule that did not change, on a run where only some fixtures changed, is
//! replayed over those fixtures only. Its snapshot is then the accepted one with the blocks of
//! the replayed fixtures replaced by this run's, so the diff (and `--accept`) is the one a full
//! run would give, as long as the accepted snapshot was right for the fixtures that did not
//! change (what the base branch's own run established).

use super::Scope;
use crate::fixture::Fixture;
use crate::rule::Rule;
use std::collections::HashSet;
use std::path::Path;

/// The fixtures to replay `rule` over: `None` for all of them (no scope, a rule in the scope, or
/// no readable accepted snapshot to merge into), else the changed fixtures.
pub fn fixtures_for<'f>(
    scope: Option<&Scope>,
    rule: &Rule,
    fixtures: &'f [Fixture],
    stored: Option<&str>,
) -> Option<Vec<&'f Fixture>> {
    let scope = scope?;
    if scope.rules.contains(&rule.path) || stored.and_then(split).is_none() {
        return None;
    }
    Some(
        fixtures
            .iter()
            .filter(|f| scope.fixtures.contains(&f.manifest_path))
            .collect(),
    )
}

/// The key of a fixture's block in a snapshot (its `fixture:` line without the verdict).
pub fn key(root: &Path, fixture: &Fixture) -> String {
    let shown = crate::snapshot::display_path(root, &fixture.manifest_path.with_extension(""));
    crate::diag::escape_control(&shown).into_owned()
}

/// A fixture's block of a snapshot: its key and its lines.
type Block<'t> = (&'t str, Vec<&'t str>);

/// A snapshot split into its header lines and its fixture blocks (key, lines of the block);
/// `None` when the text is not a ruleforge snapshot.
fn split(text: &str) -> Option<(Vec<&str>, Vec<Block<'_>>)> {
    crate::snapshot::parse_header(text)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.by_ref().take(4).collect();
    let mut blocks: Vec<Block> = Vec::new();
    let mut expect_fixture = false;
    for line in lines {
        if line.is_empty() {
            expect_fixture = true;
            continue;
        }
        if expect_fixture {
            let fixture = line.strip_prefix("fixture: ")?;
            let (key, _verdict) = fixture.rsplit_once(" (")?;
            blocks.push((key, vec![line]));
            expect_fixture = false;
        } else {
            blocks.last_mut()?.1.push(line);
        }
    }
    Some((header, blocks))
}

/// The accepted snapshot `stored` with the blocks of the `replayed` fixtures replaced by those
/// of `fresh` (this run's snapshot over the replayed fixtures), in the order of `order` (every
/// loaded fixture's key); the header's alert count is recomputed. `None` when either text is
/// not a ruleforge snapshot.
pub fn merge(
    stored: &str,
    fresh: &str,
    order: &[String],
    replayed: &HashSet<String>,
) -> Option<String> {
    let (_, old_blocks) = split(stored)?;
    let (header, new_blocks) = split(fresh)?;
    let mut out = String::new();
    let mut body = String::new();
    let mut alerts = 0;
    for k in order {
        let source = if replayed.contains(k) {
            &new_blocks
        } else {
            &old_blocks
        };
        if let Some((_, lines)) = source.iter().find(|(key, _)| key == k) {
            body.push('\n');
            for l in lines {
                alerts += usize::from(l.starts_with("  alert "));
                body.push_str(l);
                body.push('\n');
            }
        }
    }
    for l in &header[..3] {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&format!("alerts: {alerts}\n"));
    out.push_str(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: &str = "# ruleforge alert snapshot: review changes like code.\nrule: R\nrule_id: 1\nalerts: 3\n\nfixture: f/a (malicious)\n  alert 1\n    f/a.ndjson:1 t\n      process=x\n\nfixture: f/c (benign)\n  alert 1\n    f/c.ndjson:2 t\n  alert 2\n    f/c.ndjson:3 t\n";

    fn set(keys: &[&str]) -> HashSet<String> {
        keys.iter().map(|k| k.to_string()).collect()
    }

    fn order() -> Vec<String> {
        ["f/a", "f/b", "f/c"].map(String::from).to_vec()
    }

    #[test]
    fn an_unchanged_fixture_merges_back_to_the_stored_snapshot() {
        let fresh = "# ruleforge alert snapshot: review changes like code.\nrule: R\nrule_id: 1\nalerts: 1\n\nfixture: f/a (malicious)\n  alert 1\n    f/a.ndjson:1 t\n      process=x\n";
        let merged = merge(STORED, fresh, &order(), &set(&["f/a"])).unwrap();
        assert_eq!(merged, STORED);
    }

    #[test]
    fn a_new_false_positive_is_inserted_in_fixture_order_and_counted() {
        let fresh = "# ruleforge alert snapshot: review changes like code.\nrule: R\nrule_id: 1\nalerts: 1\n\nfixture: f/b (benign)\n  alert 1\n    f/b.ndjson:9 t\n";
        let merged = merge(STORED, fresh, &order(), &set(&["f/b"])).unwrap();
        assert!(merged.contains("alerts: 4\n"), "{merged}");
        let a = merged.find("fixture: f/a").unwrap();
        let b = merged.find("fixture: f/b").unwrap();
        let c = merged.find("fixture: f/c").unwrap();
        assert!(a < b && b < c, "{merged}");
    }

    #[test]
    fn a_replayed_fixture_without_alerts_loses_its_block() {
        let fresh = "# ruleforge alert snapshot: review changes like code.\nrule: R\nrule_id: 1\nalerts: 0\n";
        let merged = merge(STORED, fresh, &order(), &set(&["f/c"])).unwrap();
        assert!(!merged.contains("f/c"), "{merged}");
        assert!(merged.contains("alerts: 1\n"), "{merged}");
    }

    #[test]
    fn blocks_of_fixtures_that_no_longer_load_are_dropped() {
        let fresh = "# ruleforge alert snapshot: review changes like code.\nrule: R\nrule_id: 1\nalerts: 0\n";
        let only_a = vec!["f/a".to_string()];
        let merged = merge(STORED, fresh, &only_a, &set(&[])).unwrap();
        assert!(
            !merged.contains("f/c") && merged.contains("alerts: 1\n"),
            "{merged}"
        );
    }

    #[test]
    fn text_that_is_not_a_snapshot_is_refused() {
        assert!(merge("hello", STORED, &order(), &set(&[])).is_none());
        assert!(split("# ruleforge alert snapshot: review changes like code.\nrule: R\nrule_id: 1\nalerts: 0\n\nnot a fixture line\n").is_none());
    }
}
