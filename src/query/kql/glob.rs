//! Wildcard patterns: `*` (any run of characters) and, for Lucene, `?` (one character).
//! Compiled once into a strategy (exact, prefix, suffix, contains, general) so the common shapes
//! need no backtracking.

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
    General,
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
        let n = segs.len();
        let strategy = if n == 1 {
            lit(&segs[0]).map_or(Strategy::General, Strategy::Exact)
        } else if segs.iter().all(|s| s.is_empty()) {
            Strategy::Any
        } else if n == 2 && segs[1].is_empty() {
            lit(&segs[0]).map_or(Strategy::General, Strategy::Prefix)
        } else if n == 2 && segs[0].is_empty() {
            lit(&segs[1]).map_or(Strategy::General, Strategy::Suffix)
        } else if n >= 3 && segs[0].is_empty() && segs[n - 1].is_empty() {
            // `*x*` possibly with empty middles from `**x**`.
            let inner: Vec<_> = segs[1..n - 1].iter().filter(|s| !s.is_empty()).collect();
            match inner.as_slice() {
                [one] => lit(one).map_or(Strategy::General, Strategy::Contains),
                [] => Strategy::Any,
                _ => Strategy::General,
            }
        } else {
            Strategy::General
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
            Strategy::General => self.general(s),
        }
    }

    fn general(&self, s: &str) -> bool {
        let n = self.segs.len();
        if n == 1 {
            return seg_match_at(&self.segs[0], s, 0) == Some(s.len());
        }
        let Some(mut pos) = seg_match_at(&self.segs[0], s, 0) else {
            return false;
        };
        for seg in &self.segs[1..n - 1] {
            match seg_find(seg, s, pos) {
                Some(end) => pos = end,
                None => return false,
            }
        }
        // The last segment is anchored at the end and has a fixed number of characters.
        let last = &self.segs[n - 1];
        let chars: usize = last
            .iter()
            .map(|p| match p {
                GlobPart::Lit(l) => l.chars().count(),
                _ => 1,
            })
            .sum();
        let Some(start) = nth_char_from_end(s, chars) else {
            return false;
        };
        start >= pos && seg_match_at(last, s, start) == Some(s.len())
    }
}

/// Byte index where the last `n` characters of `s` begin.
fn nth_char_from_end(s: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(s.len());
    }
    s.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

/// Matches `seg` at byte `pos` of `s`; returns the end.
fn seg_match_at(seg: &[GlobPart], s: &str, mut pos: usize) -> Option<usize> {
    for p in seg {
        match p {
            GlobPart::Lit(l) => {
                if !s[pos..].starts_with(l.as_str()) {
                    return None;
                }
                pos += l.len();
            }
            GlobPart::One => pos += s[pos..].chars().next()?.len_utf8(),
            // Segments never hold stars by construction.
            GlobPart::Star => {}
        }
    }
    Some(pos)
}

/// Leftmost match of `seg` at or after `from`; returns its end.
fn seg_find(seg: &[GlobPart], s: &str, from: usize) -> Option<usize> {
    if let [GlobPart::Lit(l)] = seg {
        return memmem::find(&s.as_bytes()[from..], l.as_bytes()).map(|i| from + i + l.len());
    }
    let mut pos = from;
    loop {
        if let Some(end) = seg_match_at(seg, s, pos) {
            return Some(end);
        }
        pos += s[pos..].chars().next()?.len_utf8();
    }
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
}
