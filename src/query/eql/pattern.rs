//! Wildcard patterns (`*` any run, `?` one code point, no escapes, anchored both ends),
//! lowered once to exact / prefix / suffix / contains strategies before the general,
//! linear-time matcher of [`crate::query::wildcard`].

use super::value::{FastSet, fold, fold_char, java_equals_ignore_case};
use crate::query::wildcard::{Matcher, Tok as G};
use memchr::memmem;
use std::cell::RefCell;

#[derive(Debug, Clone)]
enum Strategy {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    PrefixSuffix(Box<str>, Box<str>),
    Contains(Box<memmem::Finder<'static>>),
    Glob(Box<Matcher>),
}

/// One compiled wildcard pattern.
#[derive(Debug, Clone)]
pub struct Wildcard {
    strategy: Strategy,
    /// Case-insensitive: the pattern is stored folded and values are folded before matching.
    ci: bool,
}

thread_local! {
    static FOLD_BUF: RefCell<String> = const { RefCell::new(String::new()) };
}

impl Wildcard {
    pub fn new(pattern: &str, ci: bool) -> Wildcard {
        let folded;
        let pattern = if ci {
            folded = fold(pattern);
            &*folded
        } else {
            pattern
        };
        let toks: Vec<G> = pattern
            .chars()
            .map(|c| match c {
                '*' => G::Star,
                '?' => G::One,
                c => G::Lit(c),
            })
            .collect();
        let strategy = Self::lower(pattern, &toks);
        Wildcard { strategy, ci }
    }

    fn lower(pattern: &str, toks: &[G]) -> Strategy {
        if toks.contains(&G::One) {
            return glob(toks);
        }
        let stars = toks.iter().filter(|&&t| t == G::Star).count();
        let lead = pattern.starts_with('*');
        let trail = pattern.ends_with('*');
        let core = pattern.trim_matches('*');
        match stars {
            0 => Strategy::Exact(pattern.into()),
            _ if core.is_empty() => Strategy::Any,
            _ if !core.contains('*') => match (lead, trail) {
                (true, true) => {
                    Strategy::Contains(Box::new(memmem::Finder::new(core.as_bytes()).into_owned()))
                }
                (false, true) => Strategy::Prefix(core.into()),
                (true, false) => Strategy::Suffix(core.into()),
                (false, false) => glob(toks),
            },
            1 => {
                let (p, s) = pattern.split_once('*').unwrap_or((pattern, ""));
                Strategy::PrefixSuffix(p.into(), s.into())
            }
            _ => glob(toks),
        }
    }

    /// True when the pattern has no wildcard (so a set lookup can replace it).
    pub fn exact(&self) -> Option<&str> {
        match &self.strategy {
            Strategy::Exact(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_match(&self, value: &str) -> bool {
        if !self.ci {
            return self.match_folded(value);
        }
        if value
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        {
            return self.match_folded(value);
        }
        if value.is_ascii() {
            match &self.strategy {
                Strategy::Any => return true,
                Strategy::Exact(p) => return p.as_bytes().eq_ignore_ascii_case(value.as_bytes()),
                Strategy::Prefix(p) => {
                    return value.len() >= p.len()
                        && value.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes());
                }
                Strategy::Suffix(p) => {
                    return value.len() >= p.len()
                        && value.as_bytes()[value.len() - p.len()..]
                            .eq_ignore_ascii_case(p.as_bytes());
                }
                _ => {}
            }
            return FOLD_BUF.with(|buf| match buf.try_borrow_mut() {
                Ok(mut buf) => {
                    buf.clear();
                    buf.push_str(value);
                    buf.make_ascii_lowercase();
                    self.match_folded(&buf)
                }
                Err(_) => self.match_folded(&value.to_ascii_lowercase()),
            });
        }
        let folded: String = value.chars().map(fold_char).collect();
        self.match_folded(&folded)
    }

    /// Matches a value already folded when the pattern is case-insensitive.
    fn match_folded(&self, v: &str) -> bool {
        match &self.strategy {
            Strategy::Any => true,
            Strategy::Exact(p) => v == &**p,
            Strategy::Prefix(p) => v.starts_with(&**p),
            Strategy::Suffix(p) => v.ends_with(&**p),
            Strategy::PrefixSuffix(p, s) => {
                v.len() >= p.len() + s.len() && v.starts_with(&**p) && v.ends_with(&**s)
            }
            Strategy::Contains(f) => f.find(v.as_bytes()).is_some(),
            Strategy::Glob(g) => g.is_match(v),
        }
    }
}

fn glob(toks: &[G]) -> Strategy {
    Strategy::Glob(Box::new(Matcher::new(toks.iter().copied())))
}

/// Several patterns OR-ed: wildcard-free ones become one hash lookup.
#[derive(Debug, Clone)]
pub struct PatternSet {
    exact: FastSet<Box<str>>,
    others: Vec<Wildcard>,
    ci: bool,
    /// Wildcard-free patterns compare as Java's `compareToIgnoreCase` (a script's `:`).
    java_exact: bool,
}

impl PatternSet {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>, ci: bool) -> PatternSet {
        let mut exact = FastSet::default();
        let mut others = Vec::new();
        for p in patterns {
            let w = Wildcard::new(p, ci);
            match w.exact() {
                Some(e) => {
                    exact.insert(e.into());
                }
                None => others.push(w),
            }
        }
        PatternSet {
            exact,
            others,
            ci,
            java_exact: false,
        }
    }

    /// `:` on a computed value: Elasticsearch runs a script whose wildcard-free comparison is
    /// Java's `compareToIgnoreCase` (Unicode, one-to-one mappings) while wildcards go through a
    /// case-insensitive pattern (ASCII letters).
    pub fn for_script_seq<'a>(patterns: impl IntoIterator<Item = &'a str>) -> PatternSet {
        PatternSet {
            java_exact: true,
            ..PatternSet::new(patterns, true)
        }
    }

    pub fn is_match(&self, value: &str) -> bool {
        if self.java_exact {
            if self.exact.iter().any(|p| java_equals_ignore_case(value, p)) {
                return true;
            }
        } else if !self.exact.is_empty() {
            let hit = if self.ci {
                self.exact.contains(&*fold(value))
            } else {
                self.exact.contains(value)
            };
            if hit {
                return true;
            }
        }
        self.others.iter().any(|w| w.is_match(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, v: &str) -> bool {
        Wildcard::new(p, false).is_match(v)
    }

    fn mi(p: &str, v: &str) -> bool {
        Wildcard::new(p, true).is_match(v)
    }

    #[test]
    fn strategies() {
        assert!(m("/boot/*", "/boot/vmlinuz"));
        assert!(!m("/boot/*", "/bootx"));
        assert!(m("*.exe", "a.exe"));
        assert!(m("*ansible*", "python ansible-playbook"));
        assert!(m("a*z", "az"));
        assert!(!m("a*za", "aza"[..2].as_ref()));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "aXbY"));
        assert!(m("1?", "10"));
        assert!(!m("1?", "1"));
        assert!(!m("1?", "100"));
        assert!(m("?é?", "aéb"));
        assert!(m("%SystemRoot%*", "%SystemRoot%\\x"));
        assert!(m(r"C:\Windows\*", r"C:\Windows\x"));
        assert!(!m("abc", "ABC"));
    }

    #[test]
    fn case_insensitive() {
        assert!(mi("*ANSIBLE*", "x Ansible y"));
        assert!(mi("python.exe", "PYTHON.EXE"));
        assert!(mi("c:\\*", "C:\\x"));
        assert!(mi("*.EXE", "a.exe"));
        // Elasticsearch's case-insensitive wildcard query folds ASCII letters only.
        assert!(mi("ÉCOLE*", "École x"));
        assert!(!mi("ÉCOLE*", "école x"));
        assert!(mi("?x", "ÉX"));
        let set = PatternSet::new(["a.exe", "B*"], true);
        assert!(set.is_match("A.EXE"));
        assert!(set.is_match("bob"));
        assert!(!set.is_match("c"));
    }

    #[test]
    fn adversarial_patterns_take_linear_time() {
        let cases = crate::query::wildcard::adversarial_cases();
        for (i, (p, v, want)) in cases.into_iter().enumerate() {
            // Alternate so both the exact and the folding entry points are covered.
            let ci = i % 2 == 1;
            assert_eq!(
                Wildcard::new(&p, ci).is_match(&v),
                want,
                "{} ci={ci}",
                &p[..20]
            );
        }
    }
}
