//! `check` renders the docs when a template can have broken them: always when the repository
//! has its own templates folder, and in a `--changed-since` run only when a template changed.
//! The pages go to a temporary folder that is deleted; a template that fails is an RT018
//! finding, so a template change cannot pass the pull request and break the docs job later.

use anyhow::{Context as _, Result};
use ruleforge::changes::Affected;
use ruleforge::config::Config;
use ruleforge::diag::Diagnostic;
use ruleforge::render::site::{Evidence, SiteInput, publish_html};
use ruleforge::render::{RenderError, Renderer, publish_markdown};
use ruleforge::rule::Collection;
use ruleforge::suite::{Finding, Outcome};

/// Whether this `check` renders the docs (`changed`: the changed-only selection, if any).
pub fn wanted(config: &Config, changed: Option<&Affected>) -> bool {
    let own_templates = config.templates_dir.is_dir();
    match changed {
        None => own_templates,
        Some(a) if !a.everything.is_empty() => own_templates || !a.docs.is_empty(),
        Some(a) => !a.docs.is_empty(),
    }
}

/// Renders the HTML site and the Markdown pages of the loaded rules; the finding if they fail.
pub fn render(
    config: &Config,
    collection: &Collection,
    outcome: &Outcome,
) -> Result<Option<Finding>> {
    let rules: Vec<_> = (collection.rules.iter())
        .filter(|r| !r.is_deprecated())
        .collect();
    let scratch = tempfile::tempdir().context("creating a folder to render the docs into")?;
    let rendered = Renderer::new(Some(&config.templates_dir)).and_then(|renderer| {
        publish_markdown(
            &rules,
            &config.root,
            &renderer,
            &scratch.path().join("markdown"),
        )?;
        let input = SiteInput {
            evidence: Evidence::from_outcome(&config.root, outcome),
            snapshot_dir: Some(&config.snapshot_dir),
            // The lock's own problems are lint findings; the pages render without it.
            version_lock: std::fs::read_to_string(&config.data.version_lock.value)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok()),
            templates_dir: Some(&config.templates_dir),
            title: "Detection rules".into(),
        };
        publish_html(
            &rules,
            &config.root,
            &renderer,
            &scratch.path().join("site"),
            &input,
        )
    });
    let Err(e) = rendered else {
        return Ok(None);
    };
    let file = match &e {
        RenderError::Template { name, .. } if config.templates_dir.join(name).is_file() => {
            config.templates_dir.join(name)
        }
        _ => config.templates_dir.clone(),
    };
    let diagnostic = Diagnostic::error("RT018", format!("the docs do not render: {e}"))
        .at(&file, None)
        .with_help("fix the template; `ruleforge docs --out DIR` renders the same pages");
    Ok(Some(Finding {
        diagnostic,
        detail: None,
        fatal: false,
        rule: None,
        fixture: None,
    }))
}
