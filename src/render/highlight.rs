//! Query syntax highlighting for the HTML pages: a small tokenizer of our own that wraps
//! keywords, strings, numbers, comments, operators and field names in `<span>`s. Every byte of
//! the query goes through [`escape`], so the result is safe to insert as HTML.

/// Keywords of EQL, KQL/Lucene and ES|QL (matched case-insensitively).
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "where",
    "sequence",
    "by",
    "with",
    "maxspan",
    "until",
    "sample",
    "any",
    "of",
    "like",
    "regex",
    "true",
    "false",
    "null",
    "runs",
    "from",
    "stats",
    "keep",
    "eval",
    "limit",
    "sort",
    "drop",
    "rename",
    "dissect",
    "grok",
    "enrich",
    "mv_expand",
    "asc",
    "desc",
    "is",
    "metadata",
    "to",
];

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn span(class: &str, text: &str, out: &mut String) {
    out.push_str("<span class=\"");
    out.push_str(class);
    out.push_str("\">");
    escape(text, out);
    out.push_str("</span>");
}

/// The byte length of the token of kind string/comment starting at `s` (which starts with its
/// opening delimiter); unterminated ones run to the end.
fn delimited(s: &str) -> usize {
    let close = |from: usize, end: &str| {
        s[from..]
            .find(end)
            .map_or(s.len(), |i| from + i + end.len())
    };
    if s.starts_with("\"\"\"") {
        return close(3, "\"\"\"");
    }
    if s.starts_with("//") {
        return s.find('\n').unwrap_or(s.len());
    }
    if s.starts_with("/*") {
        return close(2, "*/");
    }
    let quote = s.chars().next().unwrap_or('"');
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return i + c.len_utf8();
        }
    }
    s.len()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '*' | '?' | '-' | '$')
}

/// The query as escaped HTML with highlighting spans: `k` keyword, `s` string, `n` number,
/// `c` comment, `o` operator, `f` field or function name.
pub fn highlight(query: &str) -> String {
    let mut out = String::with_capacity(query.len() * 2);
    let mut rest = query;
    while let Some(c) = rest.chars().next() {
        let len = if c == '"' || c == '\'' || rest.starts_with("//") || rest.starts_with("/*") {
            let n = delimited(rest);
            let class = if c == '/' { "c" } else { "s" };
            span(class, &rest[..n], &mut out);
            n
        } else if is_word(c) && c != '-' {
            let n = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
            let word = &rest[..n];
            if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
                span("k", word, &mut out);
            } else if word.chars().all(|c| c.is_ascii_digit() || c == '.') {
                span("n", word, &mut out);
            } else {
                span("f", word, &mut out);
            }
            n
        } else if "=!<>:|~()[]{},".contains(c) {
            span("o", &rest[..c.len_utf8()], &mut out);
            c.len_utf8()
        } else {
            escape(&rest[..c.len_utf8()], &mut out);
            c.len_utf8()
        };
        rest = &rest[len..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_classified_and_everything_is_escaped() {
        let h = highlight("process where process.name == \"<x>\" and /* c */ x > 1");
        assert!(h.starts_with("<span class=\"f\">process</span> <span class=\"k\">where</span>"));
        assert!(
            h.contains("<span class=\"s\">&quot;&lt;x&gt;&quot;</span>"),
            "{h}"
        );
        assert!(h.contains("<span class=\"c\">/* c */</span>"), "{h}");
        assert!(h.contains("<span class=\"n\">1</span>"), "{h}");
        assert!(!h.contains("<x>"));
    }

    #[test]
    fn unterminated_and_multibyte_input_does_not_panic() {
        for q in ["\"abc", "'", "/*", "\"\"\"x", "é<ü>\\", "a\\"] {
            let h = highlight(q);
            assert!(!h.contains('<') || h.contains("<span"), "{h}");
        }
    }
}
