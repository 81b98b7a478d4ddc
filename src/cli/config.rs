//! `ruleforge config`: the effective configuration and where each value came from; and the
//! export context the configuration describes.

use anyhow::{Context as _, Result};
use ruleforge::config::Config;
use ruleforge::export::ExportContext;
use std::process::ExitCode;

/// Prints one `key = value  (origin)` line per setting.
pub fn run(config: &Config) -> Result<ExitCode> {
    let width = config
        .provenance
        .iter()
        .map(|s| s.key.len())
        .max()
        .unwrap_or(0);
    let file = match &config.config_file {
        Some(p) => p.display().to_string(),
        None => "none (zero configuration)".into(),
    };
    out!("{:width$} = {file}", "ruleforge.toml");
    for s in &config.provenance {
        out!(
            "{:width$} = {}  ({})",
            s.key,
            ruleforge::diag::escape_control(&s.value),
            ruleforge::diag::escape_control(&s.origin)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The export context for the repository: its version lock (unless bypassed), stack schema
/// map and package stack. A missing lock is said on standard error: versions then come from
/// the rule files (or are 1), which is right only for a repository that has no lock yet.
pub fn export_context(config: &Config, quiet: bool) -> Result<ExportContext> {
    let data = &config.data;
    let lock_path = &data.version_lock.value;
    let lock = if data.bypass_version_lock.value {
        None
    } else if lock_path.is_file() {
        Some(lock_path.as_path())
    } else {
        if !quiet {
            eprintln!(
                "warning: no version lock at {} ({}): versions come from the rule files, else 1",
                lock_path.display(),
                data.version_lock.origin
            );
        }
        None
    };
    // As in detection-rules, the environment variable wins over `_config.yaml`.
    let pinned = std::env::var("DR_THREAT_MAPPING_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| {
            data.threat_mapping_version
                .as_ref()
                .map(|v| v.value.clone())
        });
    let ctx = ExportContext::builtin()
        .with_data_files(lock, &data.stack_schema_map.value)
        .with_context(|| format!("reading the data files of {}", data.etc_dir.value.display()))?
        .with_package_stack(&config.stack_version)
        .with_context(|| format!("stack_version {:?}", config.stack_version))?
        .with_threat_mapping_version(pinned.as_deref());
    Ok(ctx)
}
