//! `ruleforge eval --explain`: each event (or those named with `--position`) against the
//! query (EQL or KQL), clause by clause; for sequences, the stages each event matched and why no sequence
//! completed per join key.

use anyhow::{Result, bail};
use ruleforge::event::EventFile;
use ruleforge::replay::explain::{Explainer, RuleExplainer, indent};
use ruleforge::report::Format;
use serde_json::json;
use std::path::Path;

/// The events to explain: all, or the ones at the given 1-based positions (lines of NDJSON).
fn selected(file: &EventFile, positions: &[usize]) -> Result<Vec<usize>> {
    if positions.is_empty() {
        return Ok((0..file.len()).collect());
    }
    let mut out = Vec::new();
    for &p in positions {
        match file.positions.iter().position(|&q| q == p) {
            Some(i) => out.push(i),
            None => bail!(
                "{}: no event at position {p} (--position takes the line of an NDJSON event)",
                file.path.display()
            ),
        }
    }
    Ok(out)
}

fn label(file: &EventFile, i: usize, shown: &Path) -> String {
    let v = &file.values[i];
    let get = |f: &str| ruleforge::snapshot::field_text(v, f);
    format!(
        "{}:{}  {}",
        shown.display(),
        file.positions[i],
        get("process.command_line")
            .or_else(|| get("process.name"))
            .or_else(|| get("event.action"))
            .unwrap_or_default()
    )
}

pub fn print(
    ex: &RuleExplainer,
    file: &EventFile,
    shown: &Path,
    positions: &[usize],
    format: Format,
) -> Result<()> {
    let picked = selected(file, positions)?;
    if let RuleExplainer::Eql(ex) = ex
        && ex.is_sequence()
    {
        return print_sequence(ex, file, shown, &picked, format);
    }
    for i in picked {
        let x = ex.event(&file.values[i])?;
        match format {
            Format::Json => {
                let deciding = x.deciding_clause();
                out!(
                    "{}",
                    json!({
                        "position": file.positions[i],
                        "matched": x.matched,
                        "failing_clauses": x.failing,
                        "deciding": deciding.map(|c| c.text.clone()),
                        "deciding_reads": deciding.map(|c| c.reads.iter().map(|(f, v)| json!({"field": f, "values": v})).collect::<Vec<_>>()),
                        "near_miss": x.flip,
                    })
                );
            }
            _ => {
                let verdict = if x.matched { "match" } else { "no match" };
                out!("{}  => {verdict}", label(file, i, shown));
                for l in indent(&x.render(), 2).lines() {
                    out!("{l}");
                }
            }
        }
    }
    Ok(())
}

fn print_sequence(
    ex: &Explainer,
    file: &EventFile,
    shown: &Path,
    picked: &[usize],
    format: Format,
) -> Result<()> {
    let report = ex.query.explain_sequence(&ex.opts, &file.values)?;
    if format == Format::Json {
        bail!("eval --explain prints sequences in the human format only");
    }
    for (i, stages) in &report.events {
        if !picked.contains(i) {
            continue;
        }
        let names: Vec<String> = stages
            .iter()
            .map(|s| {
                let key: Vec<String> = s.key.iter().map(|v| v.to_string()).collect();
                let what = if s.until {
                    "until".to_string()
                } else {
                    format!("stage {}", s.stage + 1)
                };
                format!("{what} [{}]", key.join(", "))
            })
            .collect();
        out!("{}  => {}", label(file, *i, shown), names.join("; "));
    }
    for l in ex.sequence_text(file, usize::MAX)?.lines() {
        out!("{l}");
    }
    Ok(())
}
