//! `--report FORMAT=PATH` (repeatable) on `check`, `test` and `lint`: every report of one run,
//! written atomically beside the standard output's `--format`; and the GitHub job summary,
//! appended to `$GITHUB_STEP_SUMMARY` when that is set and a `github` report is made.

use super::Cli;
use anyhow::{Context as _, Result};
use clap::Args;
use ruleforge::report::Format;
use ruleforge::report::diagnostics::Sources;
use ruleforge::report::run::RunReport;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Format(Format),
    /// The Markdown job summary (what `$GITHUB_STEP_SUMMARY` receives).
    Summary,
}

#[derive(Args, Clone, Default)]
pub struct ReportArgs {
    /// Also write the report in FORMAT (json, junit, sarif, github, human, or summary: the
    /// Markdown job summary) to PATH; repeatable. All reports come from the same run.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse)]
    pub reports: Vec<(Kind, PathBuf)>,
    /// SARIF: each code's help URI, an absolute http(s) URL where `{code}` is replaced by the
    /// code. Without it SARIF has no helpUri (ruleforge cannot know where your team publishes
    /// the codes' documentation); the explanation itself is always in each rule's help text.
    #[arg(long, value_name = "TEMPLATE", value_parser = parse_help_uri)]
    pub help_uri: Option<String>,
}

fn parse(s: &str) -> Result<(Kind, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected FORMAT=PATH (e.g. sarif=ruleforge.sarif)"))?;
    if path.is_empty() {
        return Err(format!("`{s}`: the path is empty"));
    }
    let kind = if format == "summary" {
        Kind::Summary
    } else {
        Kind::Format(
            format
                .parse::<Format>()
                .map_err(|e| format!("{e}, or summary"))?,
        )
    };
    Ok((kind, PathBuf::from(path)))
}

/// SARIF's helpUri must be an absolute URI (code scanning rejects the upload otherwise): an
/// http(s) URL with a host and nothing a URI cannot hold unescaped.
fn parse_help_uri(s: &str) -> Result<String, String> {
    let rest = (s.strip_prefix("https://"))
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| {
            format!(
                "`{s}`: expected an absolute http(s) URL, e.g. https://rules.example/codes#{{code}}"
            )
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let bad = s.chars().find(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '|')
    });
    if host.is_empty() || host.contains('{') {
        return Err(format!("`{s}`: the URL has no host"));
    }
    if let Some(c) = bad {
        return Err(format!("`{s}`: {c:?} must be percent-encoded in a URL"));
    }
    Ok(s.to_string())
}

/// The report on standard output (in `--format`), then every `--report` file and the job summary.
pub fn emit(cli: &Cli, args: &ReportArgs, report: &RunReport, sources: &mut Sources) -> Result<()> {
    super::stdout::write(report.render(cli.format, sources).as_bytes());
    for (kind, path) in &args.reports {
        let text = match kind {
            Kind::Format(f) => report.render(*f, sources),
            Kind::Summary => ruleforge::report::github::summary(report, sources),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the folder of the report {}", path.display()))?;
        }
        ruleforge::output::write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    let github = cli.format == Format::Github
        || (args.reports.iter()).any(|(k, _)| *k == Kind::Format(Format::Github));
    if let Some(file) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|_| github) {
        let file = PathBuf::from(file);
        use std::io::Write as _;
        let text = ruleforge::report::github::summary(report, sources);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&file)
            .with_context(|| format!("opening $GITHUB_STEP_SUMMARY ({})", file.display()))?;
        f.write_all(text.as_bytes())
            .with_context(|| format!("writing $GITHUB_STEP_SUMMARY ({})", file.display()))?;
    }
    Ok(())
}

/// Paths typed where the user was, re-expressed relative to the repository root.
pub fn rebase(args: &mut ReportArgs, typed_in: &std::path::Path) {
    for (_, p) in &mut args.reports {
        *p = super::paths::rebase(p, typed_in);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_help_uri;

    #[test]
    fn help_uris_must_be_absolute_http_urls() {
        for ok in [
            "https://rules.example/codes#{code}",
            "http://wiki.local/ruleforge/{code}",
        ] {
            assert_eq!(parse_help_uri(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "docs/codes.md#{code}",
            "rules.example/{code}",
            "https:///codes",
            "https://{code}.example/",
            "https://rules.example/a code",
            "ftp://rules.example/{code}",
        ] {
            assert!(parse_help_uri(bad).is_err(), "accepted {bad}");
        }
    }
}
