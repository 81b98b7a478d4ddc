//! Documentation: rules rendered through tera templates from `docs-templates/` (the project's
//! own, or the built-in defaults when a repository has none). Markdown now; the HTML site grows
//! in its own module.

use crate::rule::Rule;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Built-in templates, used for any template a repository does not provide.
const BUILTIN: &[(&str, &str)] = &[
    ("rule.md", include_str!("../../docs-templates/rule.md")),
    ("index.md", include_str!("../../docs-templates/index.md")),
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
        Ok(Renderer { tera })
    }

    pub fn render(&self, name: &str, context: &Value) -> Result<String, RenderError> {
        let cx = tera::Context::from_value(context.clone()).map_err(|e| tera_error(name, &e))?;
        self.tera
            .render(name, &cx)
            .map_err(|e| tera_error(name, &e))
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

/// Writes a Markdown page per rule and an index into `out`. Returns the files written.
pub fn write_markdown(
    rules: &[&Rule],
    root: &Path,
    renderer: &Renderer,
    out: &Path,
) -> Result<Vec<PathBuf>, RenderError> {
    std::fs::create_dir_all(out).map_err(|source| RenderError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let mut entries = Vec::new();
    for rule in rules {
        let page = page_name(rule, "md");
        let cx = rule_context(
            rule,
            &page,
            &crate::snapshot::display_path(root, &rule.path),
        );
        let text = renderer.render("rule.md", &cx)?;
        written.push(write_inside(out, &page, &text)?);
        entries.push(cx);
    }
    entries.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let index = renderer.render(
        "index.md",
        &json!({"rules": entries, "count": entries.len()}),
    )?;
    written.push(write_inside(out, "index.md", &index)?);
    Ok(written)
}

/// Writes `name` (a plain file name) inside `dir`; anything that could leave it is refused.
pub fn write_inside(dir: &Path, name: &str, text: &str) -> Result<PathBuf, RenderError> {
    if name.is_empty() || name.contains(['/', '\\']) || name == ".." || name == "." {
        return Err(RenderError::Escape(name.to_string()));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|source| RenderError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
