//! Lucene `RegExp` syntax (what `regex`/`regex~` use) translated to the `regex` crate.
//!
//! Always a full match. `^`/`$` are literals; `\d`, `\s`, `\w` mean the letters; `"…"` is a
//! literal run; `@` is any string and `#` the empty language; `<n-m>` is a numeric interval.
//! Complement `~` and intersection `&` have no equivalent in the `regex` crate; [`Matcher`]
//! applies them to whole values — `A&B`, `~A`, `~(A|B)&C`, inside unions and whole-value
//! groups — by combining full matches of `regex` programs, and anywhere else (`a~bc`,
//! `(~a)*`) with the derivative matcher of [`super::derivative`]. With `regex~`, character
//! classes stay case-sensitive (a documented Lucene limitation).

use regex::Regex;

pub fn translate(pattern: &str, ci: bool) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    // No `(?i)`: the regex crate folds Unicode, Lucene's ASCII_CASE_INSENSITIVE (which
    // Elasticsearch's case-insensitive regexp query sets) only ASCII letters; see `push_lit`.
    let mut out = String::from("(?s)^(?:");
    let mut i = 0;
    let mut depth = 0usize;
    // Values all numeric intervals of the pattern may still spell out (see `interval`).
    let mut interval_budget = MAX_INTERVAL_VALUES;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return Err("trailing backslash".into());
                };
                push_lit(&mut out, n, ci);
                i += 2;
                continue;
            }
            '"' => {
                let Some(end) = chars[i + 1..].iter().position(|&x| x == '"') else {
                    return Err("unterminated quoted literal".into());
                };
                out.push_str("(?:");
                for &x in &chars[i + 1..i + 1 + end] {
                    push_lit(&mut out, x, ci);
                }
                out.push(')');
                i += end + 2;
                continue;
            }
            '[' => {
                i = class(&chars, i, &mut out, ci)?;
                continue;
            }
            '(' => {
                depth += 1;
                out.push_str("(?:");
            }
            ')' => {
                if depth == 0 {
                    return Err("unbalanced parenthesis".into());
                }
                depth -= 1;
                out.push(')');
            }
            '.' => out.push('.'),
            '|' | '?' | '*' | '+' => out.push(c),
            '{' => {
                let Some(end) = chars[i..].iter().position(|&x| x == '}') else {
                    return Err("unterminated repetition".into());
                };
                let body: String = chars[i + 1..i + end].iter().collect();
                let ok = !body.is_empty()
                    && body.split(',').count() <= 2
                    && body.split(',').enumerate().all(|(k, p)| {
                        (k == 1 && p.is_empty())
                            || p.chars().all(|d| d.is_ascii_digit()) && !p.is_empty()
                    });
                if !ok {
                    return Err(format!("invalid repetition {{{body}}}"));
                }
                out.push('{');
                out.push_str(&body);
                out.push('}');
                i += end + 1;
                continue;
            }
            '@' => out.push_str("(?:.*)"),
            // Case-sensitive even under `regex~`: case-folding the negated class would walk
            // the whole Unicode range for every `#`.
            '#' => out.push_str("(?-i:[^\\s\\S])"),
            '<' => {
                let Some(end) = chars[i..].iter().position(|&x| x == '>') else {
                    return Err("unterminated numeric interval".into());
                };
                let body: String = chars[i + 1..i + end].iter().collect();
                out.push_str(&interval(&body, &mut interval_budget)?);
                i += end + 1;
                continue;
            }
            '~' => return Err("the complement operator ~ is not supported".into()),
            '&' => return Err("the intersection operator & is not supported".into()),
            c => push_lit(&mut out, c, ci),
        }
        i += 1;
    }
    if depth != 0 {
        return Err("unbalanced parenthesis".into());
    }
    out.push_str(")$");
    Ok(out)
}

/// A literal character; case-insensitive: an ASCII letter with its other case, any other
/// character as itself.
fn push_lit(out: &mut String, c: char, ci: bool) {
    if ci && c.is_ascii_alphabetic() {
        out.push_str(&format!(
            "[{}{}]",
            c.to_ascii_lowercase(),
            c.to_ascii_uppercase()
        ));
        return;
    }
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

fn class_char(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || (!c.is_ascii() && !c.is_whitespace()) {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:x}}}", c as u32));
    }
}

/// `[...]` starting at `start`; returns the index after `]`.
fn class(chars: &[char], start: usize, out: &mut String, ci: bool) -> Result<usize, String> {
    let mut i = start + 1;
    let mut body = String::new();
    if chars.get(i) == Some(&'^') {
        body.push('^');
        i += 1;
    }
    let mut items = 0;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("unterminated character class".into());
        };
        if c == ']' && items > 0 {
            i += 1;
            break;
        }
        let lo = if c == '\\' {
            i += 1;
            *chars.get(i).ok_or("unterminated character class")?
        } else {
            c
        };
        i += 1;
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&n| n != ']') {
            let mut hi = chars[i + 1];
            i += 2;
            if hi == '\\' {
                hi = *chars.get(i).ok_or("unterminated character class")?;
                i += 1;
            }
            if hi < lo {
                return Err(format!("invalid range {lo}-{hi}"));
            }
            class_char(&mut body, lo);
            body.push('-');
            class_char(&mut body, hi);
        } else {
            class_char(&mut body, lo);
        }
        items += 1;
    }
    if ci {
        out.push_str("(?-i:[");
        out.push_str(&body);
        out.push_str("])");
    } else {
        out.push('[');
        out.push_str(&body);
        out.push(']');
    }
    Ok(i)
}

/// Values the numeric intervals `<n-m>` of one pattern may cover in total.
const MAX_INTERVAL_VALUES: u64 = 10_001;

fn interval(body: &str, budget: &mut u64) -> Result<String, String> {
    let (a, b) = body
        .split_once('-')
        .ok_or_else(|| format!("invalid numeric interval <{body}>"))?;
    let (a, b): (u64, u64) = (
        a.parse()
            .map_err(|_| format!("invalid numeric interval <{body}>"))?,
        b.parse()
            .map_err(|_| format!("invalid numeric interval <{body}>"))?,
    );
    let (a, b) = (a.min(b), a.max(b));
    // Each value becomes an alternative, so the budget is per pattern: thirty wide intervals in
    // one pattern took seconds to compile (found triaging the `#` fuzz finding).
    let values = (b - a).saturating_add(1);
    if values > *budget {
        return Err(format!(
            "numeric interval <{body}> is too wide: intervals in one pattern may cover at most \
             {MAX_INTERVAL_VALUES} values"
        ));
    }
    *budget -= values;
    let alts: Vec<String> = (a..=b).map(|n| n.to_string()).collect();
    Ok(format!("(?:0*(?:{}))", alts.join("|")))
}

pub fn compile(pattern: &str, ci: bool) -> Result<Regex, String> {
    let src = translate(pattern, ci)?;
    regex::RegexBuilder::new(&src)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| e.to_string())
}

/// A Lucene regular expression, always matched against a whole value.
#[derive(Debug, Clone)]
pub enum Matcher {
    Plain(Regex),
    /// `A|B` where some alternative needs `&` or `~`.
    Any(Vec<Matcher>),
    /// `A&B`: every part matches the whole value.
    All(Vec<Matcher>),
    /// `~A`: the value does not match `A`.
    Not(Box<Matcher>),
    /// `~`/`&` inside a concatenation or a repetition.
    Derivative(super::derivative::DerivRegex),
}

impl Matcher {
    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Matcher::Plain(r) => r.is_match(s),
            Matcher::Any(ms) => ms.iter().any(|m| m.is_match(s)),
            Matcher::All(ms) => ms.iter().all(|m| m.is_match(s)),
            Matcher::Not(m) => !m.is_match(s),
            Matcher::Derivative(d) => d.is_match(s),
        }
    }
}

/// Compiles a pattern, with `&` and `~` where they apply to whole values (see the module doc).
pub fn compile_matcher(pattern: &str, ci: bool) -> Result<Matcher, String> {
    compile_level(pattern, ci, 0)
}

const MAX_BOOLEAN_NESTING: usize = 64;

fn compile_level(pattern: &str, ci: bool, depth: usize) -> Result<Matcher, String> {
    if depth > MAX_BOOLEAN_NESTING {
        return Err("too deeply nested ~ and & operators".into());
    }
    let chars: Vec<char> = pattern.chars().collect();
    if !chars.iter().any(|&c| c == '~' || c == '&') {
        return compile(pattern, ci).map(Matcher::Plain);
    }
    let union = split_top(&chars, '|')?;
    if union.len() > 1 {
        let parts: Vec<Matcher> = union
            .iter()
            .map(|p| compile_level(p, ci, depth + 1))
            .collect::<Result<_, _>>()?;
        return Ok(Matcher::Any(parts));
    }
    let inter = split_top(&chars, '&')?;
    if inter.len() > 1 {
        let parts: Vec<Matcher> = inter
            .iter()
            .map(|p| compile_level(p, ci, depth + 1))
            .collect::<Result<_, _>>()?;
        return Ok(Matcher::All(parts));
    }
    // One concatenation: `~atom` or `(group)` spanning the whole of it, else unsupported here.
    if chars.first() == Some(&'~') && atom_end(&chars, 1)? == chars.len() {
        let inner: String = chars[1..].iter().collect();
        return Ok(Matcher::Not(Box::new(compile_level(
            &inner,
            ci,
            depth + 1,
        )?)));
    }
    if chars.first() == Some(&'(') && atom_end(&chars, 0)? == chars.len() {
        let inner: String = chars[1..chars.len() - 1].iter().collect();
        return compile_level(&inner, ci, depth + 1);
    }
    // A lone `~`/`&` inside brackets, quotes or after `\` is literal: let the translator judge;
    // operators it cannot express go to the derivative matcher.
    match compile(pattern, ci) {
        Ok(re) => Ok(Matcher::Plain(re)),
        Err(e) if e.contains("not supported") => {
            super::derivative::parse(pattern, ci).map(Matcher::Derivative)
        }
        Err(e) => Err(e),
    }
}

/// Splits at `sep` outside groups, classes, quotes, intervals and escapes.
fn split_top(chars: &[char], sep: char) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    let mut depth = 0usize;
    while i < chars.len() {
        let c = chars[i];
        let next = match c {
            '\\' | '"' | '[' | '<' => atom_end(chars, i)?,
            '(' => {
                depth += 1;
                i + 1
            }
            ')' => {
                depth = depth.checked_sub(1).ok_or("unbalanced parenthesis")?;
                i + 1
            }
            _ => i + 1,
        };
        if c == sep && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.extend(&chars[i..next]);
        }
        i = next;
    }
    parts.push(cur);
    Ok(parts)
}

/// The end (exclusive) of the atom starting at `i`, with any prefix `~`s.
fn atom_end(chars: &[char], i: usize) -> Result<usize, String> {
    let close = |open: usize, end: char, what: &str| -> Result<usize, String> {
        let mut k = open + 1;
        if end == ']' && chars.get(k) == Some(&'^') {
            k += 1;
        }
        if end == ']' && chars.get(k) == Some(&']') {
            k += 1;
        }
        while k < chars.len() && chars[k] != end {
            if end == ']' && chars[k] == '\\' {
                k += 1;
            }
            k += 1;
        }
        if k >= chars.len() {
            return Err(format!("unterminated {what}"));
        }
        Ok(k + 1)
    };
    let mut i = i;
    while chars.get(i) == Some(&'~') {
        i += 1;
    }
    match chars.get(i) {
        None => Err("~ needs an operand".into()),
        Some('\\') => {
            if i + 1 >= chars.len() {
                Err("trailing backslash".into())
            } else {
                Ok(i + 2)
            }
        }
        Some('"') => close(i, '"', "quoted literal"),
        Some('[') => close(i, ']', "character class"),
        Some('<') => close(i, '>', "numeric interval"),
        Some('(') => {
            let mut depth = 0usize;
            let mut k = i;
            while k < chars.len() {
                match chars[k] {
                    '\\' | '"' | '[' | '<' => {
                        k = atom_end(chars, k)?;
                        continue;
                    }
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(k + 1);
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
            Err("unbalanced parenthesis".into())
        }
        Some(_) => Ok(i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, v: &str) -> bool {
        compile(p, false).unwrap().is_match(v)
    }

    #[test]
    fn numeric_intervals_share_one_budget_per_pattern() {
        // Thirty `<0-10000>` in one pattern took seconds to compile.
        assert!(compile("<0-10000>", false).unwrap().is_match("00042"));
        assert!(compile("<5-0>x<0-4999>", false).unwrap().is_match("3x4999"));
        let err = compile(&"<0-10000>".repeat(30), false).unwrap_err();
        assert!(err.contains("at most 10001 values"), "{err}");
        assert!(compile("<0-5000><0-5000>", false).is_err());
        assert!(compile("<0-18446744073709551615>", false).is_err());
    }

    #[test]
    fn empty_language_compiles_fast_case_insensitively() {
        // Fuzz finding: under `regex~` each `#` case-folded the whole Unicode range, so a
        // query with a few hundred of them took seconds to compile (a hang in CI).
        let p = format!("a{}", "#".repeat(2000));
        let start = std::time::Instant::now();
        let re = compile(&p, true).unwrap();
        let took = start.elapsed();
        assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
        assert!(!re.is_match("a") && !re.is_match("A"));
        assert!(compile("a|#", true).unwrap().is_match("A"));
        assert!(!compile("#", true).unwrap().is_match(""));
    }

    #[test]
    fn lucene_semantics() {
        assert!(m("a.c", "abc"));
        assert!(!m("a.c", "xabc"));
        assert!(m(r"\d+", "ddd"));
        assert!(!m(r"\d+", "123"));
        assert!(m("^a$", "^a$"));
        assert!(m("[a-c]+x", "abcx"));
        assert!(m("\"a.b\"", "a.b"));
        assert!(!m("\"a.b\"", "axb"));
        assert!(m("@", "anything"));
        assert!(m("v<1-12>", "v07"));
        assert!(!m("v<1-12>", "v13"));
        assert!(m(".*?x", "aax"));
        let ci = compile("[a-c]X", true).unwrap();
        assert!(ci.is_match("ax"));
        assert!(!ci.is_match("Ax"));
        assert!(compile("a~b", false).is_err());
    }

    fn mm(p: &str, v: &str) -> bool {
        compile_matcher(p, false).unwrap().is_match(v)
    }

    #[test]
    fn complement_and_intersection_on_whole_values() {
        // Intersection: both sides match the whole value.
        assert!(mm("a.*&.*z", "abcz"));
        assert!(!mm("a.*&.*z", "abc"));
        // Complement of a whole value, and of a group.
        assert!(mm("~(foo)", "bar"));
        assert!(!mm("~(foo)", "foo"));
        assert!(mm("~[abc]", "d") && !mm("~[abc]", "a") && mm("~[abc]", "ab"));
        // Precedence: | below &, ~ on one atom.
        assert!(mm("x|a.*&~(.*b.*)", "x"));
        assert!(mm("x|a.*&~(.*b.*)", "acd"));
        assert!(!mm("x|a.*&~(.*b.*)", "abd"));
        assert!(mm("(.*cmd.*&~(.*/c.*))", "cmd.exe /k"));
        assert!(!mm("(.*cmd.*&~(.*/c.*))", "cmd.exe /c"));
        // Double complement, case-insensitive complement.
        assert!(mm("~~(ab)", "ab"));
        assert!(!compile_matcher("~(ab)", true).unwrap().is_match("AB"));
        // Literal ~ and & where they are not operators.
        assert!(mm("a\\~b", "a~b"));
        assert!(mm("\"a&b\"", "a&b"));
        assert!(mm("[~&]x", "&x"));
        // Inside a concatenation or under a repetition: the derivative matcher.
        assert!(mm("a~bc", "axc") && !mm("a~bc", "abc"));
        assert!(mm("ab&c*d~e", "ab") == (mm("ab", "ab") && mm("c*d~e", "ab")));
        assert!(compile_matcher("~", false).is_err());
        let deep = format!("{}a", "~".repeat(100));
        assert!(compile_matcher(&deep, false).is_err());
    }
}
