//! Rendering diagnostics.

use super::Format;
use crate::diag::{Diagnostic, LineIndex, Severity};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Source texts by path, so frames can be printed. Files not registered are read on demand.
#[derive(Default)]
pub struct Sources {
    files: HashMap<PathBuf, Option<(Arc<str>, LineIndex)>>,
}

impl Sources {
    pub fn add(&mut self, path: &Path, text: Arc<str>) {
        let idx = LineIndex::new(&text);
        self.files.insert(path.to_path_buf(), Some((text, idx)));
    }

    fn get(&mut self, path: &Path) -> Option<&(Arc<str>, LineIndex)> {
        self.files
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                let text: Arc<str> = std::fs::read_to_string(path).ok()?.into();
                let idx = LineIndex::new(&text);
                Some((text, idx))
            })
            .as_ref()
    }

    /// The text of a file (registered, or read now).
    pub fn text(&mut self, path: &Path) -> Option<Arc<str>> {
        self.get(path).map(|(t, _)| t.clone())
    }

    /// (line, column) of a diagnostic's span start, 1-based.
    pub fn position(&mut self, d: &Diagnostic) -> Option<(usize, usize)> {
        let (file, span) = (d.file.as_ref()?, d.span.as_ref()?);
        let (text, idx) = self.get(file)?;
        Some(idx.line_col(text, span.start))
    }
}

pub fn render(diags: &[Diagnostic], sources: &mut Sources, format: Format) -> String {
    match format {
        Format::Human => diags.iter().map(|d| human(d, sources)).collect(),
        Format::Json => diags
            .iter()
            .map(|d| format!("{}\n", json(d, sources)))
            .collect(),
        Format::Github => diags.iter().map(|d| github(d, sources)).collect(),
        Format::Junit | Format::Sarif => {
            super::run::RunReport::from_diagnostics("lint", diags, Vec::new())
                .render(format, sources)
        }
    }
}

/// Compiler-style: header, location, source line with a caret underline, help.
pub fn human(d: &Diagnostic, sources: &mut Sources) -> String {
    // Messages, help and source lines can carry text from rule files and recordings: escape
    // control characters so they cannot drive the terminal or forge output lines.
    let lines = crate::diag::escape_control_lines;
    let mut out = format!(
        "{}[{}]: {}\n",
        d.severity.as_str(),
        d.code,
        crate::diag::escape_control(&d.message)
    );
    if let Some(file) = &d.file {
        let frame = d.span.as_ref().and_then(|span| {
            let (text, idx) = sources.get(file)?;
            let (line, col) = idx.line_col(text, span.start);
            let src = idx.line_text(text, line);
            let (end_line, end_col) = idx.line_col(text, span.end);
            let width = if end_line == line && end_col > col {
                end_col - col
            } else {
                src.chars().count().saturating_sub(col - 1).max(1)
            };
            Some((line, col, lines(src).into_owned(), width))
        });
        match frame {
            Some((line, col, src, width)) => {
                let gutter = line.to_string().len();
                let pad = " ".repeat(gutter);
                let _ = writeln!(
                    out,
                    "{pad}--> {}:{line}:{col}",
                    lines(&file.display().to_string())
                );
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{line} | {src}");
                let lead: String = src
                    .chars()
                    .take(col - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(out, "{pad} | {lead}{}", "^".repeat(width.min(200)));
                if let Some(help) = &d.help {
                    let _ = writeln!(out, "{pad} = help: {}", lines(help));
                }
            }
            None => {
                let _ = writeln!(out, "  --> {}", lines(&file.display().to_string()));
                if let Some(help) = &d.help {
                    let _ = writeln!(out, "  = help: {}", lines(help));
                }
            }
        }
    } else if let Some(help) = &d.help {
        let _ = writeln!(out, "  = help: {}", lines(help));
    }
    out.push('\n');
    out
}

pub fn json(d: &Diagnostic, sources: &mut Sources) -> serde_json::Value {
    let pos = sources.position(d);
    serde_json::json!({
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "file": d.file.as_ref().map(|f| f.display().to_string()),
        "line": pos.map(|p| p.0),
        "column": pos.map(|p| p.1),
        "help": d.help,
    })
}

pub(crate) fn github(d: &Diagnostic, sources: &mut Sources) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| esc(s).replace(':', "%3A").replace(',', "%2C");
    let mut props = Vec::new();
    if let Some(f) = &d.file {
        props.push(format!("file={}", prop(&f.display().to_string())));
    }
    if let Some((line, col)) = sources.position(d) {
        props.push(format!("line={line},col={col}"));
    }
    props.push(format!("title={}", prop(d.code)));
    let mut msg = d.message.clone();
    if let Some(h) = &d.help {
        msg.push_str(&format!(" (help: {h})"));
    }
    format!("::{level} {}::{}\n", props.join(","), esc(&msg))
}
