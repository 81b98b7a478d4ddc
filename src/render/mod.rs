//! Documentation: rules rendered through tera templates from `docs-templates/` (the project's
//! own, or the built-in defaults when a repository has none): Markdown pages here, the HTML site
//! in [`site`].

pub mod attack;
pub mod highlight;
mod limits;
pub mod markdown;
pub mod site;

use crate::rule::Rule;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most elements one `range()` call in a template may produce, and all the calls of one
/// page together (nested loops multiply): tera's own `range` allocates whatever it is asked for.
const RANGE_LIMIT: usize = 100_000;
const RANGE_BUDGET: usize = 1_000_000;
/// The largest page a template may produce. tera's `render_to` streams the output of a
/// template's nodes into the writer as it goes, so the cap stops a runaway loop early (only the
/// body of a `{% filter %}` section or a macro call is buffered by tera before it is written).
const PAGE_LIMIT: usize = 64 << 20;

/// The file that marks a directory as a site ruleforge generated, so that `docs --out DIR`
/// replaces DIR only when it is one (never a home directory or a source tree).
pub const SITE_MARKER: &str = ".ruleforge-docs";

/// Built-in templates, used for any template a repository does not provide.
const BUILTIN: &[(&str, &str)] = &[
    ("rule.md", include_str!("../../docs-templates/rule.md")),
    ("index.md", include_str!("../../docs-templates/index.md")),
    // base.html first: the other pages extend it.
    ("base.html", include_str!("../../docs-templates/base.html")),
    ("rule.html", include_str!("../../docs-templates/rule.html")),
    (
        "index.html",
        include_str!("../../docs-templates/index.html"),
    ),
    (
        "matrix.html",
        include_str!("../../docs-templates/matrix.html"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to write outside the output directory: {0}")]
    Escape(String),
    #[error("rules {first} and {second} would both be written to the page {page}")]
    DuplicatePage {
        page: String,
        first: String,
        second: String,
    },
    #[error(
        "{}: refusing to replace a non-empty directory that `ruleforge docs` did not create (it has no {SITE_MARKER} file); choose a new or empty directory",
        .0.display()
    )]
    Foreign(PathBuf),
    #[error("{}: cannot be replaced by the docs site: {why}", path.display())]
    NotASite { path: PathBuf, why: &'static str },
}

fn tera_error(name: &str, e: &tera::Error) -> RenderError {
    // tera nests the useful message in the error's sources.
    let mut message = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        message.push_str(": ");
        message.push_str(&s.to_string());
        src = s.source();
    }
    RenderError::Template {
        name: name.to_string(),
        message,
    }
}

pub struct Renderer {
    tera: tera::Tera,
    /// Elements produced by `range()` since the current page started.
    range_used: Arc<AtomicUsize>,
    /// Values, loop iterations and macro depth of the current page ([`limits`]).
    budget: Arc<limits::Budget>,
}

fn usize_arg(
    args: &HashMap<String, Value>,
    name: &str,
    default: Option<usize>,
) -> tera::Result<usize> {
    match args.get(name) {
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                tera::Error::msg(format!(
                    "range(): `{name}` = {v} is not a non-negative integer"
                ))
            }),
        None => default.ok_or_else(|| tera::Error::msg(format!("range(): `{name}` is required"))),
    }
}

/// tera's `range(end, start=0, step_by=1)`, bounded by [`RANGE_LIMIT`] per call and
/// [`RANGE_BUDGET`] per page.
fn bounded_range(args: &HashMap<String, Value>, used: &AtomicUsize) -> tera::Result<Value> {
    let start = usize_arg(args, "start", Some(0))?;
    let end = usize_arg(args, "end", None)?;
    let step = usize_arg(args, "step_by", Some(1))?;
    if step == 0 {
        return Err(tera::Error::msg("range(): `step_by` must be at least 1"));
    }
    if start > end {
        return Err(tera::Error::msg(format!(
            "range(): start={start} is greater than end={end}"
        )));
    }
    let count = (end - start).div_ceil(step);
    if count > RANGE_LIMIT {
        return Err(tera::Error::msg(format!(
            "range() of {count} elements: the limit is {RANGE_LIMIT}"
        )));
    }
    if used.fetch_add(count, Ordering::Relaxed) + count > RANGE_BUDGET {
        return Err(tera::Error::msg(format!(
            "the range() calls of one page produced more than {RANGE_BUDGET} elements"
        )));
    }
    Ok(Value::from(
        (start..end).step_by(step).collect::<Vec<usize>>(),
    ))
}

/// A page buffer that refuses to grow past `limit` bytes.
struct Capped {
    buf: Vec<u8>,
    limit: usize,
}

impl Write for Capped {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + bytes.len() > self.limit {
            return Err(std::io::Error::other(format!(
                "the page is larger than {} bytes",
                self.limit
            )));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Renderer {
    /// Loads the built-in templates, then any `*.md` / `*.html` template in `dir` over them.
    pub fn new(dir: Option<&Path>) -> Result<Renderer, RenderError> {
        let mut tera = tera::Tera::default();
        for (name, text) in BUILTIN {
            tera.add_raw_template(name, text)
                .map_err(|e| tera_error(name, &e))?;
        }
        if let Some(dir) = dir.filter(|d| d.is_dir()) {
            let entries = std::fs::read_dir(dir).map_err(|source| RenderError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if !(name.ends_with(".md") || name.ends_with(".html")) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).map_err(|source| RenderError::Io {
                    path: path.clone(),
                    source,
                })?;
                tera.add_raw_template(name, &text)
                    .map_err(|e| tera_error(name, &e))?;
            }
        }
        // Markdown output is not HTML: escaping there would corrupt rule text.
        tera.autoescape_on(vec![".html"]);
        let range_used = Arc::new(AtomicUsize::new(0));
        let used = Arc::clone(&range_used);
        tera.register_function("range", move |args: &HashMap<String, Value>| {
            bounded_range(args, &used)
        });
        // Templates come with rule pull requests: they must not read the CI runner's
        // environment (tokens, secrets) into a published page.
        tera.register_function("get_env", |_: &HashMap<String, Value>| {
            Err(tera::Error::msg(
                "get_env is disabled: templates cannot read the environment",
            ))
        });
        // `href="{{ url | safe_url }}"`: autoescaping does not stop a `javascript:` URL.
        tera.register_filter(
            "safe_url",
            |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
                Ok(Value::from(
                    v.as_str().and_then(markdown::safe_url).unwrap_or_default(),
                ))
            },
        );
        // Markdown table cells and headings end at a newline and split at `|`.
        tera.register_filter(
            "md_inline",
            |v: &Value, _: &HashMap<String, Value>| -> tera::Result<Value> {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                Ok(Value::from(md_inline(&s)))
            },
        );
        let budget = Arc::new(limits::Budget::default());
        limits::register(&mut tera, &budget);
        limits::instrument(&mut tera);
        Ok(Renderer {
            tera,
            range_used,
            budget,
        })
    }

    pub fn render(&self, name: &str, context: &Value) -> Result<String, RenderError> {
        self.render_capped(name, context, PAGE_LIMIT)
    }

    fn render_capped(
        &self,
        name: &str,
        context: &Value,
        limit: usize,
    ) -> Result<String, RenderError> {
        let cx = tera::Context::from_value(context.clone()).map_err(|e| tera_error(name, &e))?;
        self.range_used.store(0, Ordering::Relaxed);
        self.budget.reset();
        let mut page = Capped {
            buf: Vec::new(),
            limit,
        };
        self.tera
            .render_to(name, &cx, &mut page)
            .map_err(|e| tera_error(name, &e))?;
        String::from_utf8(page.buf).map_err(|e| RenderError::Template {
            name: name.to_string(),
            message: e.to_string(),
        })
    }
}

/// Template context for one rule: the whole TOML as `file`, plus flattened conveniences.
/// `source` is the rule file path as the reader should see it (relative to the repository).
pub fn rule_context(rule: &Rule, page: &str, source: &str) -> Value {
    let file = rule.to_json();
    let r = &file["rule"];
    let mut threat = Vec::new();
    for t in r["threat"].as_array().into_iter().flatten() {
        let techniques: Vec<Value> = t["technique"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|tech| {
                json!({
                    "id": tech["id"], "name": tech["name"], "reference": tech["reference"],
                    "subtechniques": tech["subtechnique"].as_array().cloned().unwrap_or_default(),
                })
            })
            .collect();
        threat.push(
            json!({"framework": t["framework"], "tactic": t["tactic"], "techniques": techniques}),
        );
    }
    json!({
        "page": page,
        "path": source,
        "stem": rule.stem(),
        "name": rule.name,
        "rule_id": rule.rule_id,
        "type": rule.rule_type.map(|t| t.as_str()),
        "language": rule.language,
        "query": rule.query.as_ref().map(|q| q.text.trim().to_string()),
        "severity": rule.severity,
        "risk_score": rule.risk_score,
        "description": r["description"].as_str().map(normalise_ws),
        "tags": rule.tags,
        "index": rule.index,
        "from": rule.from,
        "interval": rule.interval,
        "note": rule.note,
        "setup": rule.setup,
        "maturity": rule.maturity,
        "author": rule.author,
        "references": r["references"],
        "known_false_positives": r["false_positives"],
        "threat": threat,
        "threshold": r["threshold"],
        "new_terms": r["new_terms"],
        "investigation_fields": r["investigation_fields"]["field_names"],
        "file": file,
    })
}

/// Text for one Markdown line inside a table cell or heading: whitespace runs (newlines
/// included) become one space, `|` is escaped.
pub fn md_inline(s: &str) -> String {
    normalise_ws(s).replace('|', "\\|")
}

fn normalise_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A page file name for a rule: its file stem (unique per collection, RF804), sanitised.
pub fn page_name(rule: &Rule, ext: &str) -> String {
    let stem: String = rule
        .stem()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}.{ext}", if stem.is_empty() { "rule" } else { &stem })
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RenderError + '_ {
    move |source| RenderError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Renders the Markdown site (a page per rule and an index) and puts it at `out` as a whole: the
/// pages are written into a fresh directory beside `out`, which then replaces it. A template
/// error leaves the previous site as it was; pages of deleted rules do not survive; nothing in
/// `out` (a planted symlink included) is written through. An existing non-empty `out` is
/// replaced only if it is a site ruleforge generated ([`SITE_MARKER`]). Returns the pages.
pub fn publish_markdown(
    rules: &[&Rule],
    root: &Path,
    renderer: &Renderer,
    out: &Path,
) -> Result<Vec<PathBuf>, RenderError> {
    publish_with(out, |dir| write_markdown(rules, root, renderer, dir))
}

/// Builds a site with `write` (given a fresh, empty directory; returns the page names) and swaps
/// it in at `out` as [`publish_markdown`] describes.
fn publish_with(
    out: &Path,
    write: impl FnOnce(&Path) -> Result<Vec<String>, RenderError>,
) -> Result<Vec<PathBuf>, RenderError> {
    let Some(name) = out.file_name() else {
        return Err(RenderError::NotASite {
            path: out.to_path_buf(),
            why: "the path does not end in a directory name",
        });
    };
    let (parent, target) = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => (p, p.join(name)),
        _ => (Path::new("."), PathBuf::from(name)),
    };
    let previous = existing_site(&target)?;
    std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".ruleforge-docs-new-")
        .tempdir_in(parent)
        .map_err(io_error(parent))?;
    let pages = write(staging.path())?;
    write_inside(
        staging.path(),
        SITE_MARKER,
        "Generated by `ruleforge docs`, which replaces this directory as a whole on every run.\n",
    )?;
    set_site_mode(staging.path(), previous.as_ref())?;
    swap_in(staging, &target, previous.is_some())?;
    Ok(pages.iter().map(|p| target.join(p)).collect())
}

/// What is at the output path now: nothing (`None`), or a directory that may be replaced (its
/// permissions, which the new site keeps).
fn existing_site(target: &Path) -> Result<Option<std::fs::Permissions>, RenderError> {
    let meta = match std::fs::symlink_metadata(target) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(target)(e)),
        Ok(m) => m,
    };
    if meta.file_type().is_symlink() {
        return Err(RenderError::NotASite {
            path: target.to_path_buf(),
            why: "it is a symbolic link (give the directory it points to)",
        });
    }
    if !meta.is_dir() {
        return Err(RenderError::NotASite {
            path: target.to_path_buf(),
            why: "it is not a directory",
        });
    }
    let mut entries = std::fs::read_dir(target).map_err(io_error(target))?;
    if entries.next().is_some() {
        let marker = std::fs::symlink_metadata(target.join(SITE_MARKER));
        if !marker.is_ok_and(|m| m.is_file()) {
            return Err(RenderError::Foreign(target.to_path_buf()));
        }
    }
    Ok(Some(meta.permissions()))
}

/// A temporary directory is private (0700); a site is read by others, as the one it replaces.
fn set_site_mode(dir: &Path, previous: Option<&std::fs::Permissions>) -> Result<(), RenderError> {
    #[cfg(unix)]
    let perms = previous.cloned().unwrap_or_else(|| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::Permissions::from_mode(0o755)
    });
    #[cfg(not(unix))]
    let Some(perms) = previous.cloned() else {
        return Ok(());
    };
    std::fs::set_permissions(dir, perms).map_err(io_error(dir))
}

/// Moves the finished site at `staging` to `target`: the previous site is renamed aside first,
/// put back if the new one cannot take its place, and removed (without following symlinks)
/// once it has.
fn swap_in(staging: tempfile::TempDir, target: &Path, replace: bool) -> Result<(), RenderError> {
    let parent = staging
        .path()
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let aside = if replace {
        let reserved = tempfile::Builder::new()
            .prefix(".ruleforge-docs-old-")
            .tempdir_in(&parent)
            .map_err(io_error(&parent))?;
        let aside = reserved.path().to_path_buf();
        // Free the unique name for the rename (a directory cannot be renamed over a directory on
        // every platform).
        reserved.close().map_err(io_error(&aside))?;
        std::fs::rename(target, &aside).map_err(io_error(target))?;
        Some(aside)
    } else {
        None
    };
    let new = staging.keep();
    if let Err(e) = std::fs::rename(&new, target) {
        if let Some(aside) = &aside {
            let _ = std::fs::rename(aside, target);
        }
        let _ = std::fs::remove_dir_all(&new);
        return Err(io_error(target)(e));
    }
    crate::output::sync_dir(&parent);
    if let Some(aside) = aside {
        std::fs::remove_dir_all(&aside).map_err(io_error(&aside))?;
    }
    Ok(())
}

/// Writes a Markdown page per rule and an index into `out`, a fresh directory. Returns the
/// page names.
fn write_markdown(
    rules: &[&Rule],
    root: &Path,
    renderer: &Renderer,
    out: &Path,
) -> Result<Vec<String>, RenderError> {
    let mut written = Vec::new();
    let mut entries = Vec::new();
    let mut owners: HashMap<String, &Path> = HashMap::new();
    for rule in rules {
        let page = page_name(rule, "md");
        if let Some(first) = owners.insert(page.clone(), &rule.path) {
            return Err(RenderError::DuplicatePage {
                page,
                first: first.display().to_string(),
                second: rule.path.display().to_string(),
            });
        }
        let cx = rule_context(
            rule,
            &page,
            &crate::snapshot::display_path(root, &rule.path),
        );
        let text = renderer.render("rule.md", &cx)?;
        write_inside(out, &page, &text)?;
        written.push(page);
        entries.push(cx);
    }
    entries.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let index = renderer.render(
        "index.md",
        &json!({"rules": entries, "count": entries.len()}),
    )?;
    if owners.contains_key("index.md") {
        return Err(RenderError::DuplicatePage {
            page: "index.md".into(),
            first: "the index".into(),
            second: owners["index.md"].display().to_string(),
        });
    }
    write_inside(out, "index.md", &index)?;
    written.push("index.md".to_string());
    Ok(written)
}

/// Creates `name` (a plain file name, not there yet) inside `dir`; anything that could leave
/// the directory is refused.
pub fn write_inside(dir: &Path, name: &str, text: &str) -> Result<PathBuf, RenderError> {
    if name.is_empty() || name.contains(['/', '\\']) || name == ".." || name == "." {
        return Err(RenderError::Escape(name.to_string()));
    }
    let path = dir.join(name);
    crate::output::write_new(&path, text.as_bytes()).map_err(io_error(&path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(args: Value) -> tera::Result<Value> {
        let args: HashMap<String, Value> = serde_json::from_value(args).unwrap();
        bounded_range(&args, &AtomicUsize::new(0))
    }

    #[test]
    fn range_matches_teras_within_the_limits() {
        assert_eq!(range(json!({"end": 3})).unwrap(), json!([0, 1, 2]));
        assert_eq!(
            range(json!({"start": 1, "end": 8, "step_by": 3})).unwrap(),
            json!([1, 4, 7])
        );
        assert_eq!(range(json!({"start": 2, "end": 2})).unwrap(), json!([]));
    }

    #[test]
    fn range_refuses_what_would_exhaust_memory_or_panic() {
        assert!(range(json!({"end": RANGE_LIMIT + 1})).is_err());
        // tera's own range panics on a zero step.
        assert!(range(json!({"end": 5, "step_by": 0})).is_err());
        assert!(range(json!({"start": 5, "end": 1})).is_err());
        assert!(range(json!({"end": -1})).is_err());
        let used = AtomicUsize::new(RANGE_BUDGET - 2);
        let args: HashMap<String, Value> = serde_json::from_value(json!({"end": 3})).unwrap();
        assert!(bounded_range(&args, &used).is_err());
    }

    #[test]
    fn a_page_is_capped_while_it_is_rendered() {
        let r = Renderer::new(None).unwrap();
        let long = json!({"rules": [], "count": 0});
        let err = r.render_capped("index.md", &long, 8).unwrap_err();
        assert!(err.to_string().contains("larger than 8 bytes"), "{err}");
        assert!(r.render_capped("index.md", &long, 1 << 20).is_ok());
    }

    #[test]
    fn markdown_headings_and_tables_survive_newlines_and_pipes_in_names() {
        let r = Renderer::new(None).unwrap();
        let rule = json!({"name": "A | B\n# not a heading", "page": "a.md", "type": "eql",
                          "severity": "low", "threat": []});
        let index = r
            .render("index.md", &json!({"rules": [rule], "count": 1}))
            .unwrap();
        let row = index.lines().find(|l| l.starts_with("| [")).unwrap();
        assert_eq!(row, "| [A \\| B # not a heading](a.md) | eql | low |  |");
        assert!(!index.lines().any(|l| l.starts_with("# not")), "{index}");
    }

    #[test]
    fn templates_cannot_read_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.md"), "{{ get_env(name=\"PATH\") }}").unwrap();
        let r = Renderer::new(Some(dir.path())).unwrap();
        let err = r.render("index.md", &json!({})).unwrap_err();
        assert!(err.to_string().contains("get_env is disabled"), "{err}");
    }
}
