//! Wildcard patterns (`*` any run, `?` one code point, no escapes, anchored both ends),
//! lowered once to exact / prefix / suffix / contains strategies before a general matcher.

use super::value::{FastSet, fold, fold_char};
use memchr::memmem;
use std::cell::RefCell;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum G {
    Star,
    One,
    Lit(char),
}

#[derive(Debug, Clone)]
enum Strategy {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    Suffix(Box<str>),
    PrefixSuffix(Box<str>, Box<str>),
    Contains(Box<memmem::Finder<'static>>),
    Glob(Box<[G]>),
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
            return Strategy::Glob(collapse_stars(toks).into());
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
                (false, false) => unreachable_glob(toks),
            },
            1 => {
                let (p, s) = pattern.split_once('*').unwrap_or((pattern, ""));
                Strategy::PrefixSuffix(p.into(), s.into())
            }
            _ => Strategy::Glob(collapse_stars(toks).into()),
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
            Strategy::Glob(g) => glob(g, v),
        }
    }
}

fn unreachable_glob(toks: &[G]) -> Strategy {
    Strategy::Glob(collapse_stars(toks).into())
}

fn collapse_stars(toks: &[G]) -> Vec<G> {
    let mut out: Vec<G> = Vec::with_capacity(toks.len());
    for &t in toks {
        if t == G::Star && out.last() == Some(&G::Star) {
            continue;
        }
        out.push(t);
    }
    out
}

/// Iterative glob match with single-star backtracking; linear in practice, no recursion.
fn glob(p: &[G], v: &str) -> bool {
    let mut pi = 0;
    let mut vi = 0;
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(c) = v[vi..].chars().next() {
            match p.get(pi) {
                Some(G::Star) => {
                    star = Some((pi + 1, vi));
                    pi += 1;
                    continue;
                }
                Some(G::One) => {
                    pi += 1;
                    vi += c.len_utf8();
                    continue;
                }
                Some(G::Lit(l)) if *l == c => {
                    pi += 1;
                    vi += c.len_utf8();
                    continue;
                }
                _ => {}
            }
            match star {
                Some((sp, sv)) => {
                    let step = v[sv..].chars().next().map_or(1, char::len_utf8);
                    star = Some((sp, sv + step));
                    pi = sp;
                    vi = sv + step;
                }
                None => return false,
            }
        } else {
            return p[pi..].iter().all(|&t| t == G::Star);
        }
    }
}

/// Several patterns OR-ed: wildcard-free ones become one hash lookup.
#[derive(Debug, Clone)]
pub struct PatternSet {
    exact: FastSet<Box<str>>,
    others: Vec<Wildcard>,
    ci: bool,
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
        PatternSet { exact, others, ci }
    }

    pub fn is_match(&self, value: &str) -> bool {
        if !self.exact.is_empty() {
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
        assert!(mi("ÉCOLE*", "école x"));
        assert!(mi("?x", "ÉX"));
        let set = PatternSet::new(["a.exe", "B*"], true);
        assert!(set.is_match("A.EXE"));
        assert!(set.is_match("bob"));
        assert!(!set.is_match("c"));
    }
}
