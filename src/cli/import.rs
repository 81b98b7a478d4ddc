//! `ruleforge import FILE.ndjson|-`: rules exported from Kibana become rule files.

use anyhow::{Context as _, Result};
use clap::Args;
use ruleforge::config::Config;
use ruleforge::import::{self, Imported};
use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct ImportArgs {
    /// Kibana export file (.ndjson), or `-` for standard input.
    pub file: PathBuf,
    /// One folder for all the new rule files. Without it, each rule goes where detection-rules
    /// files it: building-block rules in the building-block folder, others in the subfolder of
    /// the rule folder for their integration (when `integrations/<package>/` exists), ML, OS,
    /// network or promotions.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// `metadata.maturity` of the new files.
    #[arg(long, default_value = "development",
          value_parser = ["development", "experimental", "beta", "production"])]
    pub maturity: String,
    /// Show what would be written, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Today as `YYYY/MM/DD` (UTC).
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = ruleforge::query::calendar::civil_from_days((secs / 86_400) as i64);
    format!("{y:04}/{m:02}/{d:02}")
}

fn read_input(file: &Path) -> Result<String> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

/// `<primary tactic>_<name>` in snake case, the detection-rules convention.
fn stem_for(rule: &Imported) -> String {
    let name = import::file_stem(&rule.name);
    let tactic = rule.file["rule"]["threat"][0]["tactic"]["name"]
        .as_str()
        .map(import::file_stem);
    match tactic {
        Some(t) if !t.is_empty() && !name.starts_with(&t) => format!("{t}_{name}"),
        _ if name.is_empty() => "imported_rule".to_string(),
        _ => name,
    }
}

pub fn run(config: &Config, args: &ImportArgs, quiet: bool) -> Result<ExitCode> {
    let text = read_input(&args.file)?;
    let source = if args.file.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        args.file.display().to_string()
    };
    let parsed = import::parse_ndjson(&text).with_context(|| source.clone())?;
    let opts = import::Options {
        maturity: args.maturity.clone(),
        today: today(),
        keep_version: config.data.bypass_version_lock.value,
    };
    let folders = Folders::of(config);
    if let Some(dir) = &args.dir {
        ruleforge::config::resolve_within(&config.root_canonical, dir)
            .with_context(|| format!("--dir {}", dir.display()))?;
    }
    let existing = existing_rules(config)?;
    // Everything is converted and checked before anything is written.
    let mut planned: Vec<(PathBuf, String, String)> = Vec::new();
    let mut stems = BTreeSet::new();
    for (line, obj) in &parsed.rules {
        let rule = import::rule_file(*line, obj, &opts).with_context(|| source.clone())?;
        if let Some(path) = existing.iter().find(|(id, _)| *id == rule.rule_id) {
            anyhow::bail!(
                "{source}: line {line}: rule_id {} is already in {}",
                rule.rule_id,
                path.1.display()
            );
        }
        let text = import::to_toml(&rule.file)
            .map_err(|m| anyhow::anyhow!("{source}: line {line}: rule {}: {m}", rule.rule_id))?;
        let dir = match &args.dir {
            Some(d) => d.clone(),
            None => folders.of_rule(&rule),
        };
        ruleforge::config::resolve_within(&config.root_canonical, &dir)
            .with_context(|| format!("rule folder {}", dir.display()))?;
        let base = stem_for(&rule);
        let mut stem = base.clone();
        let mut n = 2;
        while stems.contains(&stem) || dir.join(format!("{stem}.toml")).exists() {
            stem = format!("{base}_{n}");
            n += 1;
        }
        stems.insert(stem.clone());
        planned.push((dir.join(format!("{stem}.toml")), text, rule.rule_id));
    }
    if !args.dry_run {
        for (path, text, _) in &planned {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            ruleforge::output::write_atomic(path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if !quiet {
        for (path, _, rule_id) in &planned {
            let verb = if args.dry_run { "would write" } else { "wrote" };
            out!("{verb} {} ({rule_id})", path.display());
        }
        let mut skipped = Vec::new();
        if parsed.exception_objects > 0 {
            skipped.push(ruleforge::suite::plural(
                parsed.exception_objects,
                "exception list object",
            ));
        }
        if parsed.action_connectors > 0 {
            skipped.push(ruleforge::suite::plural(
                parsed.action_connectors,
                "action connector",
            ));
        }
        if parsed.summary_lines > 0 {
            skipped.push("the export summary line".to_string());
        }
        out!(
            "import: {} from {source}{}{}",
            ruleforge::suite::plural(planned.len(), "rule"),
            if args.dry_run {
                " (dry run, nothing written)"
            } else {
                ""
            },
            if skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped (not imported): {}", skipped.join(", "))
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The repository's rule folder and building-block folder.
struct Folders {
    rules: PathBuf,
    building_block: PathBuf,
}

impl Folders {
    fn of(config: &Config) -> Folders {
        let is_bbr = |d: &&PathBuf| d.file_name().is_some_and(|n| n == "rules_building_block");
        let rules = config
            .rule_dirs
            .iter()
            .find(|d| !is_bbr(d))
            .cloned()
            .unwrap_or_else(|| config.root.join("rules"));
        // Without a building-block folder, such rules join the others.
        let building_block = config
            .rule_dirs
            .iter()
            .find(is_bbr)
            .cloned()
            .unwrap_or_else(|| rules.clone());
        Folders {
            rules,
            building_block,
        }
    }

    fn of_rule(&self, rule: &Imported) -> PathBuf {
        let integrations = self.rules.join("integrations");
        let has = |p: &str| integrations.join(p).is_dir();
        match import::placement(&rule.file, &has) {
            import::Placement::BuildingBlock => self.building_block.clone(),
            import::Placement::Rules(sub) => self.rules.join(sub),
        }
    }
}

/// The rule_ids already in the repository, with their files.
fn existing_rules(config: &Config) -> Result<Vec<(String, PathBuf)>> {
    let dirs: Vec<PathBuf> = config
        .rule_dirs
        .iter()
        .filter(|d| d.is_dir())
        .cloned()
        .collect();
    let collection =
        ruleforge::rule::Collection::load_dirs(&dirs).context("loading the existing rules")?;
    Ok(collection
        .rules
        .iter()
        .map(|r| (r.rule_id.clone(), r.path.clone()))
        .collect())
}
