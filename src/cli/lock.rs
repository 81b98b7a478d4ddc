//! `ruleforge version-lock [--check]`: update `version.lock.json`, or (for CI) fail when it is
//! stale.

use anyhow::{Context as _, Result};
use clap::Args;
use ruleforge::config::Config;
use ruleforge::export::QueryFacts;
use ruleforge::export::lock::{LockInput, to_lock_json, update};
use std::process::ExitCode;

#[derive(Args)]
pub struct VersionLockArgs {
    /// Write nothing; exit 1 when the lock is stale (lists what an update would change).
    #[arg(long)]
    pub check: bool,
}

pub fn run(config: &Config, args: &VersionLockArgs, quiet: bool) -> Result<ExitCode> {
    let data = &config.data;
    if data.bypass_version_lock.value {
        anyhow::bail!(
            "the version lock is bypassed ({}): versions come from the rule files",
            data.bypass_version_lock.origin
        );
    }
    let path = &data.version_lock.value;
    let current: serde_json::Value = match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{}: not a version lock", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !args.check => {
            serde_json::Value::Object(Default::default())
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let collection = super::load_rules(config, &[])?;
    if let Some(f) = collection.failed.first() {
        anyhow::bail!("{f}");
    }
    let ctx = super::config::export_context(config, true)?;
    let files: Vec<(serde_json::Value, QueryFacts)> = collection
        .rules
        .iter()
        .filter(|r| !r.is_deprecated())
        .map(|r| {
            let facts = QueryFacts {
                fields: ruleforge::replay::export_fields(r),
                datasets: None,
            };
            (r.to_json(), facts)
        })
        .collect();
    let inputs: Vec<LockInput<'_>> = files
        .iter()
        .map(|(file, facts)| LockInput {
            file,
            facts: facts.clone(),
        })
        .collect();
    let updated = update(&current, &inputs, &ctx)?;
    if !quiet || args.check {
        for c in &updated.changes {
            out!(
                "{} {}: {}",
                c.rule_id,
                ruleforge::diag::escape_control(&c.rule_name),
                c.what
            );
        }
    }
    let n = updated.changes.len();
    if args.check {
        if n > 0 {
            out!(
                "version-lock: {} stale: {n} {} to update (run `ruleforge version-lock`)",
                path.display(),
                if n == 1 { "change" } else { "changes" }
            );
            return Ok(ExitCode::from(1));
        }
        if !quiet {
            out!("version-lock: {} is up to date", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if n > 0 {
        ruleforge::output::write_atomic(path, to_lock_json(&updated.lock).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !quiet {
        out!(
            "version-lock: {n} {} written to {}",
            if n == 1 { "change" } else { "changes" },
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
