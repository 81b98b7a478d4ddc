//! Wildcard patterns: `*` (any run of characters) and, for Lucene, `?` (one character).
//! Compiled once into a strategy (exact, prefix, suffix, contains) for the common shapes, and
//! the linear-time matcher of [`crate::query::wildcard`] for the rest.

use crate::query::wildcard::{Matcher, Tok};
use memchr::memmem;

/// One element of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GlobPart {
    Lit(String),
    /// `*`
    Star,
    /// `?` (Lucene only; KQL escapes `?`).
    #[allow(dead_code)]
    One,
}

#[derive(Debug, Clone)]
enum Strategy {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// `*` alone (or only stars): any value, including the empty one.
    Any,
    General(Box<Matcher>),
}

/// A whole-value wildcard pattern.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    /// Segments between stars; each is a run of literals and `?`.
    segs: Vec<Vec<GlobPart>>,
    strategy: Strategy,
}

impl Glob {
    pub(crate) fn new(parts: &[GlobPart]) -> Glob {
        let mut segs: Vec<Vec<GlobPart>> = vec![Vec::new()];
        for p in parts {
            match p {
                GlobPart::Star => segs.push(Vec::new()),
                GlobPart::Lit(s) if s.is_empty() => {}
                GlobPart::Lit(s) => match segs.last_mut().and_then(|seg| seg.last_mut()) {
                    Some(GlobPart::Lit(prev)) => prev.push_str(s),
                    _ => segs.last_mut().expect("non-empty").push(p.clone()),
                },
                GlobPart::One => segs.last_mut().expect("non-empty").push(GlobPart::One),
            }
        }
        let lit = |seg: &Vec<GlobPart>| -> Option<String> {
            match seg.as_slice() {
                [] => Some(String::new()),
                [GlobPart::Lit(s)] => Some(s.clone()),
                _ => None,
            }
        };
        let general = || Strategy::General(Box::new(Matcher::new(tokens(&segs))));
        let n = segs.len();
        let strategy = if n == 1 {
            lit(&segs[0]).map_or_else(general, Strategy::Exact)
        } else if segs.iter().all(|s| s.is_empty()) {
            Strategy::Any
        } else if n == 2 && segs[1].is_empty() {
            lit(&segs[0]).map_or_else(general, Strategy::Prefix)
        } else if n == 2 && segs[0].is_empty() {
            lit(&segs[1]).map_or_else(general, Strategy::Suffix)
        } else if n >= 3 && segs[0].is_empty() && segs[n - 1].is_empty() {
            // `*x*` possibly with empty middles from `**x**`.
            let inner: Vec<_> = segs[1..n - 1].iter().filter(|s| !s.is_empty()).collect();
            match inner.as_slice() {
                [one] => lit(one).map_or_else(general, Strategy::Contains),
                [] => Strategy::Any,
                _ => general(),
            }
        } else {
            general()
        };
        Glob { segs, strategy }
    }

    /// The same pattern lower-cased (for case-insensitive fields and analysed tokens).
    pub(crate) fn to_lowercase(&self) -> Glob {
        let mut parts = Vec::new();
        for (i, seg) in self.segs.iter().enumerate() {
            if i > 0 {
                parts.push(GlobPart::Star);
            }
            for p in seg {
                parts.push(match p {
                    GlobPart::Lit(s) => GlobPart::Lit(s.to_lowercase()),
                    other => other.clone(),
                });
            }
        }
        Glob::new(&parts)
    }

    pub(crate) fn is_match(&self, s: &str) -> bool {
        match &self.strategy {
            Strategy::Exact(e) => s == e,
            Strategy::Prefix(p) => s.starts_with(p.as_str()),
            Strategy::Suffix(p) => s.ends_with(p.as_str()),
            Strategy::Contains(p) => memmem::find(s.as_bytes(), p.as_bytes()).is_some(),
            Strategy::Any => true,
            Strategy::General(m) => m.is_match(s),
        }
    }
}

/// The segments back as matcher tokens, stars between them.
fn tokens(segs: &[Vec<GlobPart>]) -> Vec<Tok> {
    let mut toks = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        if i > 0 {
            toks.push(Tok::Star);
        }
        for p in seg {
            match p {
                GlobPart::Lit(l) => toks.extend(l.chars().map(Tok::Lit)),
                GlobPart::One => toks.push(Tok::One),
                GlobPart::Star => toks.push(Tok::Star),
            }
        }
    }
    toks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str) -> Glob {
        let mut parts = Vec::new();
        for c in p.chars() {
            match c {
                '*' => parts.push(GlobPart::Star),
                '?' => parts.push(GlobPart::One),
                c => parts.push(GlobPart::Lit(c.to_string())),
            }
        }
        Glob::new(&parts)
    }

    #[test]
    fn strategies_and_general() {
        assert!(g("abc").is_match("abc") && !g("abc").is_match("abcd"));
        assert!(g("ab*").is_match("abz") && !g("ab*").is_match("zab"));
        assert!(g("*ab").is_match("zab") && !g("*ab").is_match("abz"));
        assert!(g("*ab*").is_match("xaby") && !g("*ab*").is_match("xay"));
        assert!(g("*").is_match("") && g("**").is_match("x"));
        assert!(g("a*b*c").is_match("aXbYc") && g("a*b*c").is_match("abc"));
        assert!(!g("a*b*c").is_match("aXbY"));
        assert!(g("a*a").is_match("aa") && !g("a*a").is_match("a"));
        assert!(g("*a*a*").is_match("aa") && !g("*a*a*").is_match("a"));
        assert!(g("?b").is_match("éb") && !g("?b").is_match("b"));
        assert!(g("a?*").is_match("ab") && !g("a?*").is_match("a"));
        assert!(g("*é?").is_match("xéz") && !g("*é?").is_match("é"));
        assert!(g("C:\\*\\x.exe").is_match("C:\\Windows\\x.exe"));
    }

    #[test]
    fn adversarial_patterns_take_linear_time() {
        for (p, v, want) in crate::query::wildcard::adversarial_cases() {
            assert_eq!(g(&p).is_match(&v), want, "{}", &p[..20]);
        }
    }
}
