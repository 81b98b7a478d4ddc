//! `--changed-since REF` on `check`, `test` and `lint`: the changed files (libgit2) and the
//! work they affect, printed with the reasons under `-v`.

use super::Cli;
use anyhow::Result;
use clap::Args;
use ruleforge::changes::{self, Affected, Scope};
use ruleforge::config::Config;
use ruleforge::report::Format;
use ruleforge::rule::Collection;
use std::path::Path;

#[derive(Args, Clone, Default)]
pub struct ChangedArgs {
    /// Only the work the changes since REF's merge base with HEAD can affect (committed, staged,
    /// unstaged and untracked files): changed rules, every rule over changed fixtures, and
    /// everything when the configuration or schema data changed. Needs the history of REF.
    #[arg(long, value_name = "REF", conflicts_with = "rules")]
    pub changed_since: Option<String>,
}

/// The selection of a changed-only run (`Ok(None)` without `--changed-since`) and its scope
/// (`None` when everything is affected). Errors (no repository, unknown REF) are usage errors:
/// exit 2, never "nothing changed".
pub fn scope(
    cli: &Cli,
    args: &ChangedArgs,
    config: &Config,
    collection: &Collection,
) -> Result<Option<(Affected, Option<Scope>)>> {
    let Some(reference) = &args.changed_since else {
        return Ok(None);
    };
    let root = if config.root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &config.root
    };
    let changes = changes::since(root, reference)?;
    let affected = changes::affected(config, collection, &changes);
    if cli.verbose {
        let text = affected.describe(&changes);
        // Machine formats own standard output: the selection goes to standard error there.
        if cli.format == Format::Human {
            super::stdout::write(text.as_bytes());
        } else {
            eprint!("{text}");
        }
    }
    let scope = affected.scope();
    Ok(Some((affected, scope)))
}
