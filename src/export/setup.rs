//! `setup` cut out of `note` (`kibana-export.md` §3.3).
//!
//! Upstream parses the note with a CommonMark parser and re-renders the blocks after the
//! `Setup` heading lossily: paragraphs become their inline text plus a newline, blank-line runs a
//! newline, code spans keep their backticks, fenced code becomes a bare ```` ``` ```` fence, and
//! every other element is reduced to the stripped text of its children (list markers, emphasis
//! markers and link targets disappear; list items are concatenated). This module reproduces that
//! for the Markdown subset used in rule notes: ATX / setext headings, paragraphs, bullet and
//! ordered lists, block quotes, fenced and indented code, thematic breaks, code spans, emphasis,
//! links, images, autolinks and backslash escapes.

use super::normalize::py_strip;

#[derive(Debug, Clone, PartialEq)]
enum Block {
    Blank,
    Heading { level: usize, text: String },
    Paragraph(String),
    Fenced(String),
    Code(String),
    List(Vec<Vec<Block>>),
    Quote(Vec<Block>),
    Rule,
}

fn indent_of(line: &str) -> usize {
    let mut n = 0;
    for c in line.chars() {
        match c {
            ' ' => n += 1,
            '\t' => n += 4 - (n % 4),
            _ => break,
        }
    }
    n
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn atx_heading(line: &str) -> Option<(usize, String)> {
    if indent_of(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let level = t.chars().take_while(|c| *c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let mut text = rest.trim();
    // Optional closing sequence of '#'.
    let stripped = text.trim_end_matches('#');
    if stripped.is_empty() || stripped.ends_with([' ', '\t']) {
        text = stripped.trim_end();
    }
    Some((level, text.to_string()))
}

fn fence_start(line: &str) -> Option<(char, usize, usize)> {
    let indent = indent_of(line);
    if indent > 3 {
        return None;
    }
    let t = line.trim_start();
    let c = t.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let n = t.chars().take_while(|x| *x == c).count();
    if n < 3 {
        return None;
    }
    if c == '`' && t[n..].contains('`') {
        return None;
    }
    Some((c, n, indent))
}

fn is_thematic_break(line: &str) -> bool {
    if indent_of(line) > 3 {
        return false;
    }
    let t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(first) = t.chars().next() else {
        return false;
    };
    matches!(first, '-' | '*' | '_') && t.len() >= 3 && t.chars().all(|c| c == first)
}

fn setext_level(line: &str) -> Option<usize> {
    if indent_of(line) > 3 {
        return None;
    }
    let t = line.trim();
    if !t.is_empty() && t.chars().all(|c| c == '=') {
        Some(1)
    } else if !t.is_empty() && t.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

/// `(marker kind, content indent, rest of the line)` of a list item start.
fn list_item(line: &str) -> Option<(String, usize, String)> {
    let indent = indent_of(line);
    if indent > 3 {
        return None;
    }
    let t = line.trim_start();
    let lead = line.len() - t.len();
    let (kind, marker_len) =
        if let Some(c) = t.chars().next().filter(|c| matches!(c, '-' | '+' | '*')) {
            (c.to_string(), 1)
        } else {
            let digits = t.chars().take_while(char::is_ascii_digit).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            let delim = t[digits..].chars().next()?;
            if delim != '.' && delim != ')' {
                return None;
            }
            (delim.to_string(), digits + 1)
        };
    let after = &t[marker_len..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    let spaces = after.chars().take_while(|c| *c == ' ').count();
    let content = after.trim_start_matches(' ');
    let pad = if content.is_empty() || spaces > 4 {
        1
    } else {
        spaces
    };
    let _ = lead;
    Some((kind, indent + marker_len + pad, content.to_string()))
}

fn starts_block(line: &str) -> bool {
    atx_heading(line).is_some()
        || fence_start(line).is_some()
        || is_thematic_break(line)
        || line.trim_start().starts_with('>') && indent_of(line) <= 3
        || list_item(line).is_some_and(|(_, _, rest)| !rest.is_empty())
}

fn remove_indent(line: &str, n: usize) -> &str {
    let mut width = 0;
    for (i, c) in line.char_indices() {
        if width >= n {
            return &line[i..];
        }
        match c {
            ' ' => width += 1,
            '\t' => width += 4 - (width % 4),
            _ => return &line[i..],
        }
    }
    ""
}

fn parse_blocks(lines: &[&str]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_blank(line) {
            while i < lines.len() && is_blank(lines[i]) {
                i += 1;
            }
            blocks.push(Block::Blank);
            continue;
        }
        if let Some((level, text)) = atx_heading(line) {
            blocks.push(Block::Heading { level, text });
            i += 1;
            continue;
        }
        if let Some((c, n, indent)) = fence_start(line) {
            let mut code = String::new();
            i += 1;
            while i < lines.len() {
                let l = lines[i];
                let t = l.trim();
                if indent_of(l) <= 3
                    && t.chars().take_while(|x| *x == c).count() >= n
                    && t.chars().all(|x| x == c)
                {
                    i += 1;
                    break;
                }
                code.push_str(remove_indent(l, indent));
                code.push('\n');
                i += 1;
            }
            blocks.push(Block::Fenced(code));
            continue;
        }
        if is_thematic_break(line) {
            blocks.push(Block::Rule);
            i += 1;
            continue;
        }
        if indent_of(line) >= 4 {
            let mut code = String::new();
            while i < lines.len() && (indent_of(lines[i]) >= 4 || is_blank(lines[i])) {
                code.push_str(remove_indent(lines[i], 4));
                code.push('\n');
                i += 1;
            }
            blocks.push(Block::Code(code));
            continue;
        }
        if line.trim_start().starts_with('>') {
            let mut inner: Vec<String> = Vec::new();
            while i < lines.len() && !is_blank(lines[i]) {
                let t = lines[i].trim_start();
                if let Some(rest) = t.strip_prefix('>') {
                    inner.push(rest.strip_prefix(' ').unwrap_or(rest).to_string());
                } else if starts_block(lines[i]) {
                    break;
                } else {
                    inner.push(lines[i].to_string());
                }
                i += 1;
            }
            let refs: Vec<&str> = inner.iter().map(String::as_str).collect();
            blocks.push(Block::Quote(parse_blocks(&refs)));
            continue;
        }
        if let Some((kind, _, _)) = list_item(line) {
            let (list, next) = parse_list(lines, i, &kind);
            blocks.push(list);
            i = next;
            continue;
        }
        // Paragraph.
        let mut para: Vec<&str> = vec![line];
        i += 1;
        let mut heading = None;
        while i < lines.len() {
            let l = lines[i];
            if is_blank(l) || starts_block(l) && setext_level(l).is_none() {
                break;
            }
            if let Some(level) = setext_level(l) {
                heading = Some(level);
                i += 1;
                break;
            }
            para.push(l);
            i += 1;
        }
        let text = para
            .iter()
            .map(|l| l.trim_start())
            .collect::<Vec<_>>()
            .join("\n");
        match heading {
            Some(level) => blocks.push(Block::Heading {
                level,
                text: text.trim().to_string(),
            }),
            None => blocks.push(Block::Paragraph(text.trim_end().to_string())),
        }
    }
    blocks
}

fn parse_list(lines: &[&str], start: usize, kind: &str) -> (Block, usize) {
    let mut items: Vec<Vec<String>> = Vec::new();
    let mut content_indent = 0;
    let mut i = start;
    let mut last_was_text = false;
    while i < lines.len() {
        let line = lines[i];
        if let Some((k, ci, rest)) = list_item(line) {
            if k != kind {
                break;
            }
            items.push(vec![rest.clone()]);
            content_indent = ci;
            last_was_text = !rest.is_empty();
            i += 1;
            continue;
        }
        if is_blank(line) {
            // The list goes on only if the next non-blank line belongs to it.
            let mut j = i;
            while j < lines.len() && is_blank(lines[j]) {
                j += 1;
            }
            let continues = j < lines.len()
                && (indent_of(lines[j]) >= content_indent
                    || list_item(lines[j]).is_some_and(|(k, _, _)| k == kind));
            if !continues {
                break;
            }
            if let Some(item) = items.last_mut() {
                for _ in i..j {
                    item.push(String::new());
                }
            }
            i = j;
            last_was_text = false;
            continue;
        }
        if indent_of(line) >= content_indent {
            if let Some(item) = items.last_mut() {
                item.push(remove_indent(line, content_indent).to_string());
            }
            last_was_text = true;
            i += 1;
            continue;
        }
        if last_was_text && !starts_block(line) {
            // Lazy continuation of the item's paragraph.
            if let Some(item) = items.last_mut() {
                item.push(line.trim_start().to_string());
            }
            i += 1;
            continue;
        }
        break;
    }
    let parsed = items
        .iter()
        .map(|item| {
            let refs: Vec<&str> = item.iter().map(String::as_str).collect();
            parse_blocks(&refs)
        })
        .collect();
    (Block::List(parsed), i)
}

/// Upstream's lossy rendering of a run of blocks (stops at a heading of level ≥ 2).
fn render_blocks(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Blank => out.push('\n'),
            Block::Paragraph(text) => {
                out.push_str(&render_inline(text));
                out.push('\n');
            }
            Block::Fenced(code) => {
                out.push_str("```\n");
                out.push_str(py_strip(code));
                out.push_str("\n```");
                out.push('\n');
            }
            Block::Heading { level, .. } if *level >= 2 => break,
            Block::Heading { text, .. } => out.push_str(&render_inline(text)),
            Block::List(items) => {
                let joined: String = items.iter().map(|item| render_blocks(item)).collect();
                out.push_str(py_strip(&joined));
            }
            Block::Quote(children) => out.push_str(&render_blocks(children)),
            Block::Code(code) => out.push_str(py_strip(code)),
            Block::Rule => {}
        }
    }
    py_strip(&out).to_string()
}

/// Inline content of a paragraph or heading, rendered as upstream does and stripped.
fn render_inline(text: &str) -> String {
    py_strip(&render_inline_raw(text)).to_string()
}

fn render_inline_raw(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                out.push('\n');
                i += 2;
            }
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            ' ' if trailing_spaces_then_newline(&chars, i) => {
                // Spaces before a line break belong to the break.
                while chars[i] == ' ' {
                    i += 1;
                }
            }
            '\n' => {
                out.push('\n');
                i += 1;
            }
            '`' => {
                let n = run_len(&chars, i, '`');
                if let Some(end) = find_backtick_close(&chars, i + n, n) {
                    let raw: String = chars[i + n..end].iter().collect();
                    let mut code = raw.replace('\n', " ");
                    if code.len() >= 2
                        && code.starts_with(' ')
                        && code.ends_with(' ')
                        && !code.trim().is_empty()
                    {
                        code = code[1..code.len() - 1].to_string();
                    }
                    out.push('`');
                    out.push_str(&code);
                    out.push('`');
                    i = end + n;
                } else {
                    for _ in 0..n {
                        out.push('`');
                    }
                    i += n;
                }
            }
            '!' if chars.get(i + 1) == Some(&'[') => {
                if let Some((label, end)) = link_at(&chars, i + 1) {
                    out.push_str(&render_inline(&label));
                    i = end;
                } else {
                    out.push('!');
                    i += 1;
                }
            }
            '[' => {
                if let Some((label, end)) = link_at(&chars, i) {
                    out.push_str(&render_inline(&label));
                    i = end;
                } else {
                    out.push('[');
                    i += 1;
                }
            }
            '<' => {
                if let Some(end) = chars[i + 1..].iter().position(|c| *c == '>') {
                    let inner: String = chars[i + 1..i + 1 + end].iter().collect();
                    let autolink = !inner.contains(char::is_whitespace)
                        && (inner.contains("://")
                            || inner.contains('@')
                            || inner.starts_with("mailto:"));
                    if autolink {
                        out.push_str(&inner);
                    } else {
                        out.push('<');
                        out.push_str(&inner);
                        out.push('>');
                    }
                    i += end + 2;
                } else {
                    out.push('<');
                    i += 1;
                }
            }
            '*' | '_' => {
                if let Some((inner, end)) = emphasis_at(&chars, i) {
                    out.push_str(&render_inline(&inner));
                    i = end;
                } else {
                    let n = run_len(&chars, i, c);
                    for _ in 0..n {
                        out.push(c);
                    }
                    i += n;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn trailing_spaces_then_newline(chars: &[char], i: usize) -> bool {
    let mut j = i;
    while j < chars.len() && chars[j] == ' ' {
        j += 1;
    }
    j < chars.len() && chars[j] == '\n'
}

fn run_len(chars: &[char], i: usize, c: char) -> usize {
    chars[i..].iter().take_while(|x| **x == c).count()
}

fn find_backtick_close(chars: &[char], from: usize, n: usize) -> Option<usize> {
    let mut j = from;
    while j < chars.len() {
        if chars[j] == '`' {
            let m = run_len(chars, j, '`');
            if m == n {
                return Some(j);
            }
            j += m;
        } else {
            j += 1;
        }
    }
    None
}

/// `[label](destination)` starting at `i` (the `[`): returns the label and the end index.
fn link_at(chars: &[char], i: usize) -> Option<(String, usize)> {
    let mut depth = 0;
    let mut j = i;
    let close = loop {
        match chars.get(j)? {
            '\\' => j += 1,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    break j;
                }
            }
            _ => {}
        }
        j += 1;
    };
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let mut k = close + 2;
    let mut paren = 1;
    while k < chars.len() {
        match chars[k] {
            '\\' => k += 1,
            '(' => paren += 1,
            ')' => {
                paren -= 1;
                if paren == 0 {
                    let label: String = chars[i + 1..close].iter().collect();
                    return Some((label, k + 1));
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// `*x*`, `**x**`, `_x_`, `__x__` at `i`: returns the inner text and the end index.
fn emphasis_at(chars: &[char], i: usize) -> Option<(String, usize)> {
    let c = chars[i];
    let n = run_len(chars, i, c).min(2);
    let after = *chars.get(i + n)?;
    if after.is_whitespace() {
        return None;
    }
    if c == '_' && i > 0 && chars[i - 1].is_alphanumeric() {
        return None;
    }
    let mut j = i + n;
    while j + n <= chars.len() {
        if chars[j] == '`' {
            let m = run_len(chars, j, '`');
            j = find_backtick_close(chars, j + m, m).map_or(j + m, |e| e + m);
            continue;
        }
        if chars[j..j + n].iter().all(|x| *x == c)
            && j > i + n
            && !chars[j - 1].is_whitespace()
            && (c != '_' || !chars.get(j + n).is_some_and(|x| x.is_alphanumeric()))
            && (n == 2 || chars.get(j + 1) != Some(&c) || chars.get(j - 1) == Some(&c))
        {
            let inner: String = chars[i + n..j].iter().collect();
            return Some((inner, j + n));
        }
        j += 1;
    }
    None
}

/// Whether the note has a level-2 `Setup` heading (upstream's `setup_in_note`).
pub fn setup_in_note(note: &str) -> bool {
    let lines: Vec<&str> = note.lines().collect();
    parse_blocks(&lines)
        .iter()
        .any(|b| matches!(b, Block::Heading { level: 2, text } if text == "Setup"))
}

/// Cut the setup section out of `note`: returns `(new note, setup)` when the note has a level-2
/// `Setup` heading.
pub fn split_setup(note: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = note.lines().collect();
    let blocks = parse_blocks(&lines);
    let has_setup = blocks
        .iter()
        .any(|b| matches!(b, Block::Heading { level: 2, text } if text == "Setup"));
    if !has_setup {
        return None;
    }
    let pos = blocks
        .iter()
        .position(|b| matches!(b, Block::Heading { text, .. } if text.contains("Setup")))?;
    let setup = render_blocks(&blocks[pos + 1..]);
    let mut guide = note.replace("## Setup\n\n", "");
    if !setup.is_empty() {
        guide = guide.replace(&setup, "");
    }
    Some((py_strip(&guide).to_string(), setup))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_trailing_setup_section() {
        let note = "## Triage\n\nSteps.\n\n## Setup\n\nThe AWS Fleet integration is required.";
        let (guide, setup) = split_setup(note).expect("setup found");
        assert_eq!(setup, "The AWS Fleet integration is required.");
        assert_eq!(guide, "## Triage\n\nSteps.");
    }

    #[test]
    fn setup_stops_at_next_heading_and_flattens_lists() {
        let note = "## Setup\n\nDeploy [X](https://x) via **Fleet**:\n\n- Enable `a`.\n- Enable b.\n\n### Next\nmore";
        let (_, setup) = split_setup(note).expect("setup found");
        assert_eq!(setup, "Deploy X via Fleet:\n\nEnable `a`.Enable b.");
    }

    #[test]
    fn no_setup_heading() {
        assert!(split_setup("## Triage\n\nNothing here.").is_none());
        assert!(!setup_in_note("### Setup\n\nwrong level"));
    }
}
