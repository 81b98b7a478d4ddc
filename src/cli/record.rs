//! `ruleforge record`: run a command under ptrace (or read an strace log) and write its process
//! tree as an NDJSON recording plus a manifest stub.

use anyhow::{Context as _, Result, bail};
use clap::Args;
use ruleforge::record::{self, Options, Recording};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct RecordArgs {
    /// Output path without extension: writes OUT.ndjson, and OUT.toml when it does not exist.
    #[arg(long)]
    out: PathBuf,
    /// Deterministic output: pids from 1000 in order of appearance, one millisecond per
    /// observation from 2026-01-01T00:00:00Z, entity ids derived from both.
    #[arg(long)]
    normalize: bool,
    /// Read a log captured with `strace -f -tt -e trace=process -o FILE` instead of running a
    /// command.
    #[arg(long, value_name = "FILE", conflicts_with = "command")]
    from_strace: Option<PathBuf>,
    /// The command to run and record, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

pub fn run(args: &RecordArgs) -> Result<ExitCode> {
    let opts = Options {
        normalize: args.normalize,
    };
    if args
        .out
        .extension()
        .is_some_and(|e| e == "ndjson" || e == "toml")
    {
        bail!("--out takes a path without extension (OUT.ndjson and OUT.toml are written)");
    }
    let (recording, note) = match (&args.from_strace, args.command.split_first()) {
        (Some(log), _) => (record::from_strace_file(log)?, String::new()),
        (None, Some((program, rest))) => trace(program, rest)?,
        (None, None) => bail!("give a command after `--`, or --from-strace FILE"),
    };
    let events = recording.to_ndjson(&opts)?;
    let ndjson = with_ext(&args.out, "ndjson");
    let manifest = with_ext(&args.out, "toml");
    if let Some(dir) = ndjson.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    ruleforge::output::write_atomic(&ndjson, events.as_bytes())
        .with_context(|| format!("writing {}", ndjson.display()))?;
    let file_name = ndjson
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest_note = if manifest.exists() {
        format!("{} exists: left as it is", manifest.display())
    } else {
        ruleforge::output::write_new(
            &manifest,
            recording.manifest_stub(&file_name, &opts).as_bytes(),
        )
        .with_context(|| format!("writing {}", manifest.display()))?;
        format!(
            "wrote {} (fill in description and verdict)",
            manifest.display()
        )
    };
    eprintln!(
        "recorded {} events to {}{note}; {manifest_note}",
        events.lines().count(),
        ndjson.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn with_ext(out: &Path, ext: &str) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

#[cfg(target_os = "linux")]
fn trace(program: &str, rest: &[String]) -> Result<(Recording, String)> {
    let (observations, code) = record::tracer::trace(program, rest)?;
    let command = std::iter::once(program)
        .chain(rest.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    let recording = Recording {
        observations,
        host: record::host::HostInfo::current(),
        command,
        source: "ptrace",
    };
    Ok((recording, format!(" (the command exited with {code})")))
}

#[cfg(not(target_os = "linux"))]
fn trace(_: &str, _: &[String]) -> Result<(Recording, String)> {
    bail!("recording a command needs Linux ptrace; use --from-strace FILE")
}
