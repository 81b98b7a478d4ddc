//! The HTML site: a page per rule (with the replay's fixture evidence), an index with
//! client-side search, the ATT&CK coverage matrix and its Navigator layer, and the CSS/JS assets.
//! Static files only: it works from `file://` and any web server.

use super::markdown::{safe_url, to_safe_html};
use super::{RenderError, Renderer, io_error, page_name, rule_context};
use crate::fixture::{Manifest, Verdict};
use crate::rule::Rule;
use crate::suite::{FixtureResult, Outcome, Status};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Built-in assets, written into `assets/` unless the templates directory has its own.
const ASSETS: &[(&str, &str)] = &[
    (
        "site.css",
        include_str!("../../docs-templates/assets/site.css"),
    ),
    (
        "site.js",
        include_str!("../../docs-templates/assets/site.js"),
    ),
];

/// Pages the site itself owns; a rule page may not take their names.
const OWN_PAGES: &[&str] = &["index.html", "matrix.html"];

/// What the replay proved about each rule: its result on every fixture, and the fixtures'
/// manifests (descriptions, reasons of accepted false positives).
#[derive(Debug, Default)]
pub struct Evidence {
    root: PathBuf,
    by_rule: HashMap<String, Vec<FixtureResult>>,
    manifests: HashMap<PathBuf, Option<Manifest>>,
    /// Exclusion coverage by rule name, when the run analysed it.
    coverage: HashMap<String, crate::coverage::RuleCoverage>,
}

impl Evidence {
    /// The evidence in a test run's outcome (a run without `--accept`: it writes nothing).
    pub fn from_outcome(root: &Path, outcome: &Outcome) -> Evidence {
        let mut ev = Evidence {
            root: root.to_path_buf(),
            ..Evidence::default()
        };
        for r in &outcome.results {
            ev.manifests.entry(r.fixture.clone()).or_insert_with(|| {
                let text = std::fs::read_to_string(&r.fixture).ok()?;
                toml::from_str::<Manifest>(&text).ok()
            });
            ev.by_rule
                .entry(r.rule.clone())
                .or_default()
                .push(r.clone());
        }
        for c in outcome.coverage.iter().flatten() {
            ev.coverage.insert(c.name.clone(), c.clone());
        }
        ev
    }

    /// Which exclusions of the rule's query a benign fixture proves necessary:
    /// `(analysed, entries, why not analysed)`.
    fn exclusions(&self, rule: &Rule) -> (bool, Vec<Value>, Option<String>) {
        let Some(c) = self.coverage.get(&rule.name) else {
            return (false, Vec::new(), None);
        };
        match &c.analysis {
            Err(e) => (false, Vec::new(), Some(e.to_string())),
            Ok(a) => {
                let shown = |p: &Path| crate::snapshot::display_path(&self.root, p);
                let entries = a
                    .exclusions
                    .iter()
                    .map(|x| match &x.proven_by {
                        Some(e) => json!({"clause": x.text, "proven": true,
                            "fixture": shown(&e.fixture),
                            "event": format!("{}:{}", shown(&e.events), e.position)}),
                        None => json!({"clause": x.text, "proven": false}),
                    })
                    .collect();
                (true, entries, None)
            }
        }
    }

    /// One entry per fixture the rule was replayed on (results are keyed by rule name).
    fn of(&self, rule: &Rule) -> Vec<Value> {
        let results = self.by_rule.get(&rule.name).map_or(&[][..], Vec::as_slice);
        let mut out: Vec<Value> = results.iter().map(|r| self.entry(rule, r)).collect();
        // What proves the rule first, what it is accepted or wrong on next, the quiet rest last.
        let rank = |e: &Value| match e["status"].as_str() {
            Some("expected") => 0,
            Some("failed" | "false-positive") => 1,
            Some("accepted") => 2,
            Some("quiet") => 3,
            _ => 4,
        };
        out.sort_by_key(rank);
        out
    }

    fn entry(&self, rule: &Rule, r: &FixtureResult) -> Value {
        let manifest = self.manifests.get(&r.fixture).and_then(Option::as_ref);
        let reason = manifest.and_then(|m| {
            m.expect
                .iter()
                .find(|e| rule.is_named(e.rule.get_ref()))
                .and_then(|e| e.reason.clone())
        });
        let (status, expected, met) = match &r.status {
            Status::Expected { count, met } if r.verdict == Verdict::Benign => {
                ("accepted", Some(count.to_string()), *met)
            }
            Status::Expected { count, met } => ("expected", Some(count.to_string()), *met),
            Status::Quiet => ("quiet", None, true),
            Status::FalsePositive => ("false-positive", None, false),
            Status::Unlisted => ("unlisted", None, true),
            Status::Failed => ("failed", None, false),
        };
        json!({
            "fixture": crate::snapshot::display_path(&self.root, &r.fixture),
            "verdict": match r.verdict { Verdict::Benign => "benign", Verdict::Malicious => "malicious" },
            "description": manifest.map(|m| m.description.as_str()),
            "recorded": manifest.map(|m| m.recorded.as_str()),
            "alerts": r.alerts,
            "status": status,
            "expected": expected,
            "met": met,
            "reason": reason,
        })
    }
}

/// Everything besides the rules that goes into the site.
#[derive(Default)]
pub struct SiteInput<'a> {
    pub evidence: Evidence,
    /// Where the accepted snapshots are (their alert counts are shown).
    pub snapshot_dir: Option<&'a Path>,
    /// `version.lock.json` (detection-rules format), for each rule's version history.
    pub version_lock: Option<Value>,
    /// The project's templates directory, whose `assets/` may replace the built-in CSS and JS.
    pub templates_dir: Option<&'a Path>,
    pub title: String,
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// A rule's version history from the lock: the current version, then one per older stack.
fn versions(lock: Option<&Value>, rule_id: &str) -> Vec<Value> {
    let Some(entry) = lock.and_then(|l| l.get(rule_id)) else {
        return Vec::new();
    };
    let mut out = vec![json!({
        "stack": entry["min_stack_version"].as_str().map_or("current".to_string(), |s| format!("{s} and later")),
        "version": entry["version"], "sha256": entry["sha256"],
    })];
    if let Some(prev) = entry["previous"].as_object() {
        let mut older: Vec<_> = prev.iter().collect();
        older.sort_by(|a, b| b.0.cmp(a.0));
        for (stack, p) in older {
            out.push(json!({"stack": stack, "version": p["version"], "sha256": p["sha256"]}));
        }
    }
    out
}

fn snapshot_alerts(dir: Option<&Path>, rule: &Rule) -> Option<u64> {
    let path = crate::snapshot::path_for(dir?, rule);
    let text = std::fs::read_to_string(path).ok()?;
    crate::snapshot::parse_header(&text).map(|h| h.alerts)
}

/// The HTML page context of one rule: [`rule_context`] plus sanitised guide and setup,
/// highlighted query, filtered links, fields, integrations, versions and evidence.
fn html_context(rule: &Rule, page: &str, root: &Path, input: &SiteInput<'_>) -> Value {
    let mut cx = rule_context(rule, page, &crate::snapshot::display_path(root, &rule.path));
    let r = &cx["file"]["rule"];
    let references: Vec<Value> = strings(&r["references"])
        .into_iter()
        .map(|u| json!({"href": safe_url(&u), "text": u}))
        .collect();
    let mut fields: Vec<String> = r["required_fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str().map(str::to_string))
        .collect();
    if fields.is_empty() {
        fields = crate::replay::query_fields(rule).unwrap_or_default();
    }
    let integrations: Vec<String> = r["related_integrations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let p = i["package"].as_str()?;
            Some(match i["integration"].as_str() {
                Some(n) => format!("{p}/{n}"),
                None => p.to_string(),
            })
        })
        .collect();
    let evidence = input.evidence.of(rule);
    let (exclusions_analysed, exclusions, exclusions_not_analysed) =
        input.evidence.exclusions(rule);
    let count = |status: &str| evidence.iter().filter(|e| e["status"] == status).count();
    let proven = evidence
        .iter()
        .filter(|e| e["status"] == "expected" && e["met"] == true)
        .count();
    let extra = json!({
        "note_html": rule.note.as_deref().map(to_safe_html),
        "setup_html": rule.setup.as_deref().map(to_safe_html),
        "query_html": rule.query.as_ref().map(|q| super::highlight::highlight(q.text.trim())),
        "reference_links": references,
        "required_fields": fields,
        "integrations": integrations,
        "data_sources": rule.tags.iter().filter_map(|t| t.strip_prefix("Data Source: ")).collect::<Vec<_>>(),
        "versions": versions(input.version_lock.as_ref(), &rule.rule_id),
        "evidence": evidence,
        "exclusions_analysed": exclusions_analysed,
        "exclusions": exclusions,
        "exclusions_not_analysed": exclusions_not_analysed,
        "proven": proven,
        "quiet": count("quiet"),
        "accepted": count("accepted"),
        "false_positives": count("false-positive"),
        "failed": count("failed"),
        "snapshot_alerts": snapshot_alerts(input.snapshot_dir, rule),
    });
    if let (Some(cx), Value::Object(extra)) = (cx.as_object_mut(), extra) {
        cx.extend(extra);
    }
    cx
}

/// The index entry of a rule: what the search and the filters look at.
fn search_entry(cx: &Value) -> Value {
    let mut tactics = Vec::new();
    let mut techniques = Vec::new();
    for t in cx["threat"].as_array().into_iter().flatten() {
        tactics.extend(t["tactic"]["name"].as_str().map(str::to_string));
        for tech in t["techniques"].as_array().into_iter().flatten() {
            techniques.push(format!("{} {}", text(&tech["id"]), text(&tech["name"])));
            for s in tech["subtechniques"].as_array().into_iter().flatten() {
                techniques.push(format!("{} {}", text(&s["id"]), text(&s["name"])));
            }
        }
    }
    tactics.dedup();
    let mut sources: Vec<String> = strings(&cx["data_sources"]);
    sources.extend(strings(&cx["index"]));
    sources.extend(strings(&cx["integrations"]));
    json!({
        "name": cx["name"], "rule_id": cx["rule_id"], "page": cx["page"],
        "type": cx["type"], "severity": cx["severity"], "tags": cx["tags"],
        "tactics": tactics, "techniques": techniques, "sources": sources,
        "fields": cx["required_fields"], "proven": cx["proven"],
    })
}

/// Creates `name` (a plain file name, not there yet) in `dir` without flushing it: a site has
/// thousands of files, flushed together by [`sync_all`] before the site is swapped in.
fn write_inside(dir: &Path, name: &str, text: &str) -> Result<PathBuf, RenderError> {
    use std::io::Write as _;
    if name.is_empty() || name.contains(['/', '\\']) || name == ".." || name == "." {
        return Err(RenderError::Escape(name.to_string()));
    }
    let path = dir.join(name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(io_error(&path))?;
    Ok(path)
}

/// Flushes every file of the finished site to disk, many at a time: one fsync after another
/// made a 2,000-page site take seconds of waiting for the disk.
fn sync_all(dir: &Path, names: &[String]) -> Result<(), RenderError> {
    const THREADS: usize = 16;
    let chunk = names.len().div_ceil(THREADS).max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = names
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    for name in part {
                        let path = dir.join(name);
                        std::fs::File::open(&path)
                            .and_then(|f| f.sync_all())
                            .map_err(io_error(&path))?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join().unwrap_or_else(|_| {
                Err(RenderError::Io {
                    path: dir.to_path_buf(),
                    source: std::io::Error::other("a thread flushing the site failed"),
                })
            })
        })
    })
}

/// Renders the HTML site and puts it at `out` as a whole (see [`super::publish_markdown`]: the
/// same fresh-directory swap and the same refusal of foreign directories). Returns the pages.
pub fn publish_html(
    rules: &[&Rule],
    root: &Path,
    renderer: &Renderer,
    out: &Path,
    input: &SiteInput<'_>,
) -> Result<Vec<PathBuf>, RenderError> {
    super::publish_with(out, |dir| write_html(rules, root, renderer, dir, input))
}

fn write_html(
    rules: &[&Rule],
    root: &Path,
    renderer: &Renderer,
    out: &Path,
    input: &SiteInput<'_>,
) -> Result<Vec<String>, RenderError> {
    let mut owners: HashMap<String, &Path> = HashMap::new();
    let mut pages = Vec::with_capacity(rules.len());
    for rule in rules {
        let page = page_name(rule, "html");
        if OWN_PAGES.contains(&page.as_str()) {
            return Err(RenderError::DuplicatePage {
                page,
                first: "the site".into(),
                second: rule.path.display().to_string(),
            });
        }
        if let Some(first) = owners.insert(page.clone(), &rule.path) {
            return Err(RenderError::DuplicatePage {
                page,
                first: first.display().to_string(),
                second: rule.path.display().to_string(),
            });
        }
        pages.push(page);
    }
    // Markdown, sanitising and highlighting are the costly part: done on every core. Pages are
    // rendered one by one (the renderer's per-page `range()` budget is not shared).
    let items: Vec<(&Rule, &String)> = rules.iter().copied().zip(&pages).collect();
    let mut contexts =
        crate::parallel::map(&items, |(rule, page)| html_context(rule, page, root, input));
    let mut written = Vec::new();
    for cx in &contexts {
        let page = cx["page"].as_str().unwrap_or_default();
        let text = renderer.render("rule.html", &json!({"rule": cx, "title": input.title}))?;
        write_inside(out, page, &text)?;
        written.push(page.to_string());
    }
    contexts.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    written.extend(write_index(renderer, out, &contexts, input)?);
    written.extend(write_matrix(renderer, out, &contexts, input)?);
    written.extend(write_assets(out, input.templates_dir)?);
    sync_all(out, &written)?;
    Ok(written)
}

fn write_index(
    renderer: &Renderer,
    out: &Path,
    contexts: &[Value],
    input: &SiteInput<'_>,
) -> Result<Vec<String>, RenderError> {
    let entries: Vec<Value> = contexts.iter().map(search_entry).collect();
    let mut tactics: Vec<&str> = entries
        .iter()
        .flat_map(|e| e["tactics"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    tactics.sort_unstable();
    tactics.dedup();
    let data = json!({"title": input.title, "rules": entries});
    let index = renderer.render(
        "index.html",
        &json!({"title": input.title, "rules": entries, "count": entries.len(), "tactics": tactics}),
    )?;
    write_inside(out, "index.html", &index)?;
    write_inside(out, "search-index.json", &data.to_string())?;
    // The same data as a script: browsers refuse `fetch` of a file:// URL, a <script> loads.
    write_inside(
        out,
        "search-index.js",
        &format!("window.RULEFORGE_INDEX = {};\n", script_json(&data)),
    )?;
    Ok(vec![
        "index.html".into(),
        "search-index.json".into(),
        "search-index.js".into(),
    ])
}

/// JSON for a script file: `<` escaped so that no `</script>` or `<!--` can appear.
fn script_json(v: &Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

fn write_matrix(
    renderer: &Renderer,
    out: &Path,
    contexts: &[Value],
    input: &SiteInput<'_>,
) -> Result<Vec<String>, RenderError> {
    let covered: Vec<super::attack::Covered<'_>> = contexts
        .iter()
        .map(|cx| super::attack::Covered {
            page: cx["page"].as_str().unwrap_or_default(),
            name: cx["name"].as_str().unwrap_or_default(),
            proven: cx["proven"].as_u64().is_some_and(|n| n > 0),
            threat: &cx["threat"],
        })
        .collect();
    let matrix = super::attack::matrix(&covered);
    let page = renderer.render(
        "matrix.html",
        &json!({"title": input.title, "matrix": matrix}),
    )?;
    write_inside(out, "matrix.html", &page)?;
    let layer = super::attack::navigator_layer(&covered, &input.title);
    let text = serde_json::to_string_pretty(&layer).unwrap_or_else(|_| layer.to_string());
    write_inside(out, "attack-navigator-layer.json", &text)?;
    Ok(vec![
        "matrix.html".into(),
        "attack-navigator-layer.json".into(),
    ])
}

fn write_assets(out: &Path, templates: Option<&Path>) -> Result<Vec<String>, RenderError> {
    let dir = out.join("assets");
    std::fs::create_dir(&dir).map_err(io_error(&dir))?;
    for (name, builtin) in ASSETS {
        let custom = templates.map(|t| t.join("assets").join(name));
        let text = match custom.filter(|p| p.is_file()) {
            Some(p) => std::fs::read_to_string(&p).map_err(io_error(&p))?,
            None => (*builtin).to_string(),
        };
        write_inside(&dir, name, &text)?;
    }
    Ok(ASSETS.iter().map(|(n, _)| format!("assets/{n}")).collect())
}
