//! Lucene regular expressions with complement (`~`) and intersection (`&`) anywhere — inside
//! concatenations and under repetitions, where [`super::lucene`] cannot hand them to the
//! `regex` crate — matched by Brzozowski derivatives: the derivative of a term by a character
//! is the term matching what may follow it, and a value matches when the derivative by all of
//! its characters accepts the empty string. Complement and intersection derive like any other
//! operator, so no automaton construction is needed.
//!
//! Grammar (Lucene `RegExp`, all optional operators on): union `|` < intersection `&` <
//! concatenation < repetition `* + ? {n} {n,} {n,m}` < complement `~` (prefix, on one atom);
//! atoms: `.`, `@` (any string), `#` (no string), `"…"`, `[…]`/`[^…]`, `<n-m>`, `(…)`, `\c`,
//! any other character literally.

use std::sync::Arc as Rc;

/// Deepest nesting of groups and complements accepted (recursion stays bounded).
const MAX_DEPTH: usize = 64;
/// Largest `{n,m}` bound, and most values a `<n-m>` interval may spell out.
const MAX_REPEAT: u32 = 1000;
const MAX_INTERVAL: u64 = 10_000;
/// Terms larger than this while matching: give up on the value (no match) rather than hang.
const MAX_TERM: usize = 20_000;

#[derive(Debug, Clone, PartialEq)]
enum Re {
    /// No string.
    Empty,
    /// The empty string.
    Eps,
    /// One character: in one of the ranges (or, `negated`, in none of them).
    Set {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Cat(Vec<Rc<Re>>),
    Alt(Vec<Rc<Re>>),
    And(Vec<Rc<Re>>),
    Not(Rc<Re>),
    Star(Rc<Re>),
}

fn any_char() -> Rc<Re> {
    Rc::new(Re::Set {
        ranges: Vec::new(),
        negated: true,
    })
}

fn empty() -> Rc<Re> {
    Rc::new(Re::Empty)
}

fn eps() -> Rc<Re> {
    Rc::new(Re::Eps)
}

fn cat(parts: Vec<Rc<Re>>) -> Rc<Re> {
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        match &*p {
            Re::Empty => return empty(),
            Re::Eps => {}
            Re::Cat(inner) => out.extend(inner.iter().cloned()),
            _ => out.push(p),
        }
    }
    match out.len() {
        0 => eps(),
        1 => out.pop().unwrap_or_else(eps),
        _ => Rc::new(Re::Cat(out)),
    }
}

fn alt(parts: Vec<Rc<Re>>) -> Rc<Re> {
    let mut out: Vec<Rc<Re>> = Vec::with_capacity(parts.len());
    for p in parts {
        let items: Vec<Rc<Re>> = match &*p {
            Re::Empty => continue,
            Re::Alt(inner) => inner.clone(),
            _ => vec![p],
        };
        for i in items {
            if !out.iter().any(|o| Rc::ptr_eq(o, &i) || **o == *i) {
                out.push(i);
            }
        }
    }
    match out.len() {
        0 => empty(),
        1 => out.pop().unwrap_or_else(empty),
        _ => Rc::new(Re::Alt(out)),
    }
}

fn and(parts: Vec<Rc<Re>>) -> Rc<Re> {
    let mut out: Vec<Rc<Re>> = Vec::with_capacity(parts.len());
    for p in parts {
        if matches!(&*p, Re::Empty) {
            return empty();
        }
        if !out.iter().any(|o| **o == *p) {
            out.push(p);
        }
    }
    match out.len() {
        1 => out.pop().unwrap_or_else(empty),
        _ => Rc::new(Re::And(out)),
    }
}

fn not(r: Rc<Re>) -> Rc<Re> {
    match &*r {
        Re::Not(inner) => inner.clone(),
        _ => Rc::new(Re::Not(r)),
    }
}

fn nullable(r: &Re) -> bool {
    match r {
        Re::Empty | Re::Set { .. } => false,
        Re::Eps | Re::Star(_) => true,
        Re::Cat(rs) | Re::And(rs) => rs.iter().all(|x| nullable(x)),
        Re::Alt(rs) => rs.iter().any(|x| nullable(x)),
        Re::Not(x) => !nullable(x),
    }
}

fn derive(r: &Rc<Re>, c: char) -> Rc<Re> {
    match &**r {
        Re::Empty | Re::Eps => empty(),
        Re::Set { ranges, negated } => {
            let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
            if inside != *negated { eps() } else { empty() }
        }
        Re::Cat(rs) => {
            let mut alts = Vec::new();
            for (i, x) in rs.iter().enumerate() {
                let mut rest = vec![derive(x, c)];
                rest.extend(rs[i + 1..].iter().cloned());
                alts.push(cat(rest));
                if !nullable(x) {
                    break;
                }
            }
            alt(alts)
        }
        Re::Alt(rs) => alt(rs.iter().map(|x| derive(x, c)).collect()),
        Re::And(rs) => and(rs.iter().map(|x| derive(x, c)).collect()),
        Re::Not(x) => not(derive(x, c)),
        Re::Star(x) => cat(vec![derive(x, c), r.clone()]),
    }
}

fn size(r: &Re) -> usize {
    match r {
        Re::Empty | Re::Eps | Re::Set { .. } => 1,
        Re::Cat(rs) | Re::Alt(rs) | Re::And(rs) => 1 + rs.iter().map(|x| size(x)).sum::<usize>(),
        Re::Not(x) | Re::Star(x) => 1 + size(x),
    }
}

/// A compiled pattern; always matched against the whole value. (Terms are shared with `Arc`,
/// imported as `Rc`, so compiled queries stay `Send + Sync`.)
#[derive(Debug, Clone)]
pub struct DerivRegex {
    root: Rc<Re>,
}

impl DerivRegex {
    pub fn is_match(&self, value: &str) -> bool {
        let mut r = self.root.clone();
        for c in value.chars() {
            r = derive(&r, c);
            if matches!(&*r, Re::Empty) || size(&r) > MAX_TERM {
                return false;
            }
        }
        nullable(&r)
    }
}

pub fn parse(pattern: &str, ci: bool) -> Result<DerivRegex, String> {
    let mut p = Parser {
        chars: pattern.chars().collect(),
        i: 0,
        ci,
        depth: 0,
        interval_budget: MAX_INTERVAL,
    };
    let root = p.union()?;
    if p.i < p.chars.len() {
        return Err(format!("unexpected `{}`", p.chars[p.i]));
    }
    Ok(DerivRegex { root })
}

struct Parser {
    chars: Vec<char>,
    i: usize,
    ci: bool,
    depth: usize,
    interval_budget: u64,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("pattern nested too deeply".into());
        }
        Ok(())
    }

    fn union(&mut self) -> Result<Rc<Re>, String> {
        let mut parts = vec![self.inter()?];
        while self.peek() == Some('|') {
            self.i += 1;
            parts.push(self.inter()?);
        }
        Ok(alt(parts))
    }

    fn inter(&mut self) -> Result<Rc<Re>, String> {
        let mut parts = vec![self.concat()?];
        while self.peek() == Some('&') {
            self.i += 1;
            parts.push(self.concat()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or_else(empty)
        } else {
            Rc::new(Re::And(parts))
        })
    }

    fn concat(&mut self) -> Result<Rc<Re>, String> {
        let mut parts = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == '&' || c == ')' {
                break;
            }
            parts.push(self.repeat()?);
        }
        Ok(cat(parts))
    }

    fn repeat(&mut self) -> Result<Rc<Re>, String> {
        let mut r = self.compl()?;
        loop {
            r = match self.peek() {
                Some('*') => Rc::new(Re::Star(r)),
                Some('+') => cat(vec![r.clone(), Rc::new(Re::Star(r))]),
                Some('?') => alt(vec![r, eps()]),
                Some('{') => {
                    let (lo, hi) = self.bounds()?;
                    let mut parts = vec![r.clone(); lo as usize];
                    match hi {
                        None => parts.push(Rc::new(Re::Star(r))),
                        Some(hi) => {
                            for _ in lo..hi {
                                parts.push(alt(vec![r.clone(), eps()]));
                            }
                        }
                    }
                    r = cat(parts);
                    continue;
                }
                _ => return Ok(r),
            };
            self.i += 1;
        }
    }

    /// `{n}`, `{n,}`, `{n,m}` at the cursor; moves past it.
    fn bounds(&mut self) -> Result<(u32, Option<u32>), String> {
        let end = self.chars[self.i..]
            .iter()
            .position(|&x| x == '}')
            .ok_or("unterminated repetition")?;
        let body: String = self.chars[self.i + 1..self.i + end].iter().collect();
        self.i += end + 1;
        let num = |s: &str| -> Result<u32, String> {
            s.parse::<u32>()
                .ok()
                .filter(|n| *n <= MAX_REPEAT)
                .ok_or_else(|| format!("invalid repetition {{{body}}}"))
        };
        match body.split_once(',') {
            None => {
                let n = num(&body)?;
                Ok((n, Some(n)))
            }
            Some((a, "")) => Ok((num(a)?, None)),
            Some((a, b)) => {
                let (lo, hi) = (num(a)?, num(b)?);
                if hi < lo {
                    return Err(format!("invalid repetition {{{body}}}"));
                }
                Ok((lo, Some(hi)))
            }
        }
    }

    fn compl(&mut self) -> Result<Rc<Re>, String> {
        if self.peek() == Some('~') {
            self.i += 1;
            self.nest()?;
            let r = self.compl()?;
            self.depth -= 1;
            return Ok(not(r));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Rc<Re>, String> {
        let c = self
            .peek()
            .ok_or("missing operand at the end of the pattern")?;
        self.i += 1;
        Ok(match c {
            '.' => any_char(),
            '@' => Rc::new(Re::Star(any_char())),
            '#' => empty(),
            '(' => {
                self.nest()?;
                let r = if self.peek() == Some(')') {
                    eps()
                } else {
                    self.union()?
                };
                if self.peek() != Some(')') {
                    return Err("unbalanced parenthesis".into());
                }
                self.i += 1;
                self.depth -= 1;
                r
            }
            '"' => {
                let end = self.chars[self.i..]
                    .iter()
                    .position(|&x| x == '"')
                    .ok_or("unterminated quoted literal")?;
                let lits: Vec<char> = self.chars[self.i..self.i + end].to_vec();
                self.i += end + 1;
                cat(lits.into_iter().map(|l| self.literal(l)).collect())
            }
            '[' => self.class()?,
            '<' => self.interval()?,
            '\\' => {
                let n = self.peek().ok_or("trailing backslash")?;
                self.i += 1;
                self.literal(n)
            }
            '*' | '+' | '?' | '{' | ')' | '|' | '&' => {
                return Err(format!("`{c}` has no operand"));
            }
            other => self.literal(other),
        })
    }

    /// One literal character; under `regex~` also its other case (ASCII letters).
    fn literal(&self, c: char) -> Rc<Re> {
        let mut ranges = vec![(c, c)];
        // ASCII letters only, as Lucene's ASCII_CASE_INSENSITIVE.
        if self.ci && c.is_ascii_alphabetic() {
            let other = if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            ranges.push((other, other));
        }
        Rc::new(Re::Set {
            ranges,
            negated: false,
        })
    }

    /// `[…]` after the `[`: ranges stay case-sensitive under `regex~`, as in Lucene.
    fn class(&mut self) -> Result<Rc<Re>, String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.i += 1;
        }
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek().ok_or("unterminated character class")?;
            self.i += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = if c == '\\' {
                let n = self.peek().ok_or("trailing backslash")?;
                self.i += 1;
                n
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.i + 1).is_some_and(|&n| n != ']') {
                self.i += 1;
                let mut hi = self.peek().ok_or("unterminated character class")?;
                self.i += 1;
                if hi == '\\' {
                    hi = self.peek().ok_or("trailing backslash")?;
                    self.i += 1;
                }
                if hi < lo {
                    return Err(format!("invalid range {lo}-{hi}"));
                }
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
        Ok(Rc::new(Re::Set { ranges, negated }))
    }

    /// `<n-m>` after the `<`: the decimal numbers in the range, leading zeros allowed.
    fn interval(&mut self) -> Result<Rc<Re>, String> {
        let end = self.chars[self.i..]
            .iter()
            .position(|&x| x == '>')
            .ok_or("unterminated numeric interval")?;
        let body: String = self.chars[self.i..self.i + end].iter().collect();
        self.i += end + 1;
        let (a, b) = body
            .split_once('-')
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
            .ok_or_else(|| format!("invalid numeric interval <{body}>"))?;
        let (a, b) = (a.min(b), a.max(b));
        let count = b - a + 1;
        if count > self.interval_budget {
            return Err(format!(
                "numeric intervals may spell out at most {MAX_INTERVAL} values"
            ));
        }
        self.interval_budget -= count;
        let zeros = Rc::new(Re::Star(self.literal('0')));
        let numbers = (a..=b)
            .map(|n| cat(n.to_string().chars().map(|d| self.literal(d)).collect()))
            .collect();
        Ok(cat(vec![zeros, alt(numbers)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, v: &str) -> bool {
        parse(p, false).unwrap().is_match(v)
    }

    #[test]
    fn complement_and_intersection_anywhere() {
        // Complement inside a concatenation: "a", then anything but "b", then "c".
        assert!(m("a~bc", "axc"));
        assert!(m("a~bc", "ac"));
        assert!(m("a~bc", "axyc"));
        assert!(!m("a~bc", "abc"));
        // Under a repetition: (~a)* is every string (it contains the empty string's repeats).
        assert!(m("(~a)*", "aaa"));
        // Intersection inside a group.
        assert!(m("x(.*1.*&.*2.*)y", "x12y"));
        assert!(m("x(.*1.*&.*2.*)y", "x21y"));
        assert!(!m("x(.*1.*&.*2.*)y", "x11y"));
        // Precedence: & binds tighter than |, ~ tighter than concatenation.
        assert!(m("ab&cd|ef", "ef"));
        assert!(!m("ab&cd|ef", "ab"));
        assert!(m("~ab", "xb"));
        assert!(!m("~ab", "ab"));
    }

    #[test]
    fn the_plain_operators() {
        assert!(m("a.c", "abc") && !m("a.c", "abbc"));
        assert!(m("a+b?", "aaa") && m("a{2,3}", "aaa") && !m("a{2,3}", "aaaa"));
        assert!(m("a{2,}", "aaaaa") && !m("a{2,}", "a"));
        assert!(m("[a-c]+", "abcab") && m("[^a-c]", "d") && !m("[^a-c]", "b"));
        assert!(m("@x", "anything x") && !m("#", "") && !m("a#", "a"));
        assert!(m("v<1-12>", "v012") && !m("v<1-12>", "v13"));
        assert!(m("\"a.b\"", "a.b") && !m("\"a.b\"", "axb"));
        assert!(m("a\\.b", "a.b") && !m("a\\.b", "axb"));
        assert!(m("()", "") && m("(a|)", ""));
        let ci = parse("~(cmd.*)", true).unwrap();
        assert!(!ci.is_match("CMD.exe") && ci.is_match("pwsh"));
        assert!(!parse("[A-C]", true).unwrap().is_match("b"));
    }

    #[test]
    fn bad_patterns_are_errors_not_panics() {
        for p in [
            "(", "a)", "[a", "a{2", "a{3,1}", "<1-x>", "*a", "a|*", "\\", "~", "\"ab",
        ] {
            assert!(parse(p, false).is_err(), "{p}");
        }
        assert!(parse(&"(".repeat(100), false).is_err());
        assert!(parse(&"~".repeat(100), false).is_err());
        assert!(parse("<0-100000>", false).is_err());
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// A random pattern over `a`, `b`, `c` without `~`/`&` (depth-limited).
    fn gen_plain(r: &mut Rng, depth: u32) -> String {
        let atom = |r: &mut Rng| -> String {
            match r.below(7) {
                0 => ".".into(),
                1 => "[ab]".into(),
                2 => "[^a]".into(),
                3 => "\"ab\"".into(),
                _ => ["a", "b", "c"][r.below(3) as usize].into(),
            }
        };
        let mut out = String::new();
        for _ in 0..1 + r.below(3) {
            let mut piece = if depth > 0 && r.below(3) == 0 {
                let (x, y) = (gen_plain(r, depth - 1), gen_plain(r, depth - 1));
                if r.below(2) == 0 {
                    format!("({x}|{y})")
                } else {
                    format!("({x})")
                }
            } else {
                atom(r)
            };
            piece.push_str(["", "", "*", "+", "?", "{1,2}"][r.below(6) as usize]);
            out.push_str(&piece);
        }
        out
    }

    fn gen_value(r: &mut Rng) -> String {
        (0..r.below(6))
            .map(|_| ['a', 'b', 'c'][r.below(3) as usize])
            .collect()
    }

    /// The derivative matcher against the `regex` crate translation on random plain patterns,
    /// and `&`/`~` against the boolean combination of full matches: 3000 patterns, 8 values
    /// each, fixed seed.
    #[test]
    fn agrees_with_the_regex_translation_and_boolean_combinations() {
        let mut r = Rng(0x2545_F491_4F6C_DD1D);
        for _ in 0..3000 {
            let (p, q) = (gen_plain(&mut r, 2), gen_plain(&mut r, 2));
            let (rp, rq) = (
                super::super::lucene::compile(&p, false).unwrap(),
                super::super::lucene::compile(&q, false).unwrap(),
            );
            let (dp, inter, compl) = (
                parse(&p, false).unwrap(),
                parse(&format!("({p})&({q})"), false).unwrap(),
                parse(&format!("~({p})"), false).unwrap(),
            );
            for _ in 0..8 {
                let v = gen_value(&mut r);
                let (a, b) = (rp.is_match(&v), rq.is_match(&v));
                assert_eq!(dp.is_match(&v), a, "{p} on {v:?}");
                assert_eq!(inter.is_match(&v), a && b, "({p})&({q}) on {v:?}");
                assert_eq!(compl.is_match(&v), !a, "~({p}) on {v:?}");
            }
        }
    }

    #[test]
    fn long_values_stay_fast() {
        let value = "ab".repeat(5000);
        let start = std::time::Instant::now();
        assert!(m("(.*a.*&~(.*c.*))", &value));
        assert!(!m("a~(.*b.*)", &value));
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
