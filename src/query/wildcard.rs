//! Whole-value wildcard matching (`*` any run of code points, `?` exactly one) in time linear in
//! the value, shared by EQL and KQL/Lucene. Case folding is the caller's business: patterns and
//! values arrive already folded.
//!
//! A backtracking matcher is quadratic (a 5,000-character pattern over 1 MB values took minutes).
//! Instead the pattern is split at `*` into segments of fixed length: the first is anchored at the
//! start, the last at the end, and every middle one is placed leftmost. Leftmost placement is
//! optimal because a segment has a fixed length, so the earliest start is also the earliest end
//! and leaves the most room to the rest. Each middle segment scans the value once from where the
//! previous one ended (memmem for plain text, bit-parallel Shift-And when it holds `?`), so all
//! scans together cover the value once.

use memchr::memmem;

/// One pattern element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// `*`
    Star,
    /// `?`
    One,
    Lit(char),
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// The pieces between stars; a single segment means the pattern has no star.
    segs: Vec<Segment>,
}

#[derive(Debug, Clone)]
struct Segment {
    /// `None` is `?`.
    chars: Box<[Option<char>]>,
    /// The segment as text when it has no `?`.
    lit: Option<Box<str>>,
    finder: Option<memmem::Finder<'static>>,
    shift_and: Option<ShiftAnd>,
}

impl Matcher {
    pub fn new(toks: impl IntoIterator<Item = Tok>) -> Matcher {
        let mut raw: Vec<Vec<Option<char>>> = vec![Vec::new()];
        for t in toks {
            match t {
                Tok::Star => raw.push(Vec::new()),
                Tok::One => raw.last_mut().expect("non-empty").push(None),
                Tok::Lit(c) => raw.last_mut().expect("non-empty").push(Some(c)),
            }
        }
        let n = raw.len();
        // Empty middle segments (from `**`) constrain nothing.
        let segs = raw
            .into_iter()
            .enumerate()
            .filter(|(i, s)| *i == 0 || *i == n - 1 || !s.is_empty())
            .map(|(i, s)| Segment::new(s, i > 0 && i < n - 1))
            .collect();
        Matcher { segs }
    }

    /// Parses `*` and `?` in a string (no escapes).
    pub fn from_glob(pattern: &str) -> Matcher {
        Matcher::new(pattern.chars().map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        }))
    }

    pub fn is_match(&self, v: &str) -> bool {
        let (first, rest) = match self.segs.split_first() {
            Some(x) => x,
            None => return v.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            return first.match_at(v, 0) == Some(v.len());
        };
        let Some(mut pos) = first.match_at(v, 0) else {
            return false;
        };
        for seg in middle {
            match seg.find(v, pos) {
                Some(end) => pos = end,
                None => return false,
            }
        }
        match nth_char_from_end(&v[pos..], last.chars.len()) {
            Some(start) => last.match_at(v, pos + start) == Some(v.len()),
            None => false,
        }
    }
}

/// Byte index in `s` where its last `n` code points begin.
fn nth_char_from_end(s: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(s.len());
    }
    s.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

impl Segment {
    fn new(chars: Vec<Option<char>>, middle: bool) -> Segment {
        let lit: Option<Box<str>> = chars
            .iter()
            .copied()
            .collect::<Option<String>>()
            .map(Into::into);
        let finder = match &lit {
            Some(l) if middle => Some(memmem::Finder::new(l.as_bytes()).into_owned()),
            _ => None,
        };
        let shift_and = (middle && lit.is_none()).then(|| ShiftAnd::new(&chars));
        Segment {
            chars: chars.into(),
            lit,
            finder,
            shift_and,
        }
    }

    /// Matches the segment at byte `pos`; returns where it ends.
    fn match_at(&self, v: &str, pos: usize) -> Option<usize> {
        let rest = v.get(pos..)?;
        if let Some(l) = &self.lit {
            return rest.starts_with(&**l).then(|| pos + l.len());
        }
        let mut it = rest.char_indices();
        for want in self.chars.iter() {
            let (_, c) = it.next()?;
            if want.is_some_and(|w| w != c) {
                return None;
            }
        }
        Some(pos + it.next().map_or(rest.len(), |(i, _)| i))
    }

    /// The end of the leftmost occurrence at or after byte `from`.
    fn find(&self, v: &str, from: usize) -> Option<usize> {
        let rest = v.get(from..)?;
        if let (Some(f), Some(l)) = (&self.finder, &self.lit) {
            return f.find(rest.as_bytes()).map(|i| from + i + l.len());
        }
        match &self.shift_and {
            Some(sa) => sa.find(rest).map(|end| from + end),
            None => self.match_at(v, from),
        }
    }
}

/// Shift-And (Baeza-Yates–Gonnet) over code points: bit `i` of the state says the last `i + 1`
/// characters match the first `i + 1` of the segment. `?` positions are set in every mask.
#[derive(Debug, Clone)]
struct ShiftAnd {
    len: usize,
    words: usize,
    /// Mask index per ASCII character; 0 is the mask of characters absent from the segment.
    ascii: Box<[u32; 128]>,
    /// Mask index per other character, sorted for binary search.
    other: Box<[(char, u32)]>,
    /// `words` words per mask, masks back to back.
    masks: Box<[u64]>,
}

impl ShiftAnd {
    fn new(chars: &[Option<char>]) -> ShiftAnd {
        let len = chars.len();
        let words = len.div_ceil(64).max(1);
        let mut distinct: Vec<char> = chars.iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut masks = vec![0u64; words * (distinct.len() + 1)];
        for (k, c) in chars.iter().enumerate() {
            let bit = 1u64 << (k % 64);
            match c {
                // A `?` accepts every character, so it is set in every mask.
                None => masks.chunks_mut(words).for_each(|m| m[k / 64] |= bit),
                Some(c) => {
                    let idx = distinct.binary_search(c).map_or(0, |i| i + 1);
                    masks[idx * words + k / 64] |= bit;
                }
            }
        }
        let mut ascii = Box::new([0u32; 128]);
        let mut other = Vec::new();
        for (i, &c) in distinct.iter().enumerate() {
            let idx = u32::try_from(i + 1).unwrap_or(u32::MAX);
            if c.is_ascii() {
                ascii[c as usize] = idx;
            } else {
                other.push((c, idx));
            }
        }
        ShiftAnd {
            len,
            words,
            ascii,
            other: other.into(),
            masks: masks.into(),
        }
    }

    fn mask(&self, c: char) -> &[u64] {
        let idx = if c.is_ascii() {
            self.ascii[c as usize]
        } else {
            self.other
                .binary_search_by_key(&c, |&(k, _)| k)
                .map_or(0, |i| self.other[i].1)
        };
        let at = idx as usize * self.words;
        &self.masks[at..at + self.words]
    }

    /// The byte end of the leftmost match in `s`.
    fn find(&self, s: &str) -> Option<usize> {
        if self.len == 0 {
            return Some(0);
        }
        let top_word = (self.len - 1) / 64;
        let top_bit = 1u64 << ((self.len - 1) % 64);
        if self.words == 1 {
            let mut state = 0u64;
            for (i, c) in s.char_indices() {
                state = ((state << 1) | 1) & self.mask(c)[0];
                if state & top_bit != 0 {
                    return Some(i + c.len_utf8());
                }
            }
            return None;
        }
        let mut state = vec![0u64; self.words];
        for (i, c) in s.char_indices() {
            let mask = self.mask(c);
            let mut carry = 1u64;
            for (w, m) in state.iter_mut().zip(mask) {
                let out = *w >> 63;
                *w = ((*w << 1) | carry) & m;
                carry = out;
            }
            if state[top_word] & top_bit != 0 {
                return Some(i + c.len_utf8());
            }
        }
        None
    }
}

/// Patterns of 1,000 to 5,000 characters over 1 MB values. The first four made a backtracking
/// matcher retry a long segment at every position of the value (O(value x pattern)); the last two
/// are the many-segments `*a?b*...` shape.
#[cfg(test)]
pub(crate) fn adversarial_cases() -> Vec<(String, String, bool)> {
    let mb = 1 << 20;
    let a_run = format!("x{}", "a".repeat(mb));
    let long_lit = format!("x*{}b*", "a".repeat(4996));
    // Shorter than the others only to keep debug-build tests quick (16 words of Shift-And).
    let long_one = format!("x*{}b*", "a?".repeat(500));
    let short = format!("{}*", "*a?b".repeat(1250));
    vec![
        (long_lit.clone(), a_run.clone(), false),
        (long_lit, format!("{a_run}b"), true),
        (long_one.clone(), a_run.clone(), false),
        (long_one, format!("{a_run}b"), true),
        (
            short.clone(),
            format!("{}{a_run}", "axb".repeat(1249)),
            false,
        ),
        (short, format!("{a_run}{}", "a\u{e9}b".repeat(1250)), true),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious exponential definition, as the oracle.
    fn naive(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|k| naive(rest, &v[k..])),
            Some(('?', rest)) => !v.is_empty() && naive(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && naive(rest, &v[1..]),
        }
    }

    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn string(&mut self, alphabet: &[char], max: usize) -> String {
            let n = self.below(max + 1);
            (0..n)
                .map(|_| alphabet[self.below(alphabet.len())])
                .collect()
        }
    }

    #[test]
    fn agrees_with_the_naive_matcher_on_random_cases() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let pat_alpha = ['a', 'b', 'é', '😀', '*', '?', '*'];
        let val_alpha = ['a', 'b', 'é', '😀'];
        let mut matched = 0;
        for _ in 0..20_000 {
            let p = rng.string(&pat_alpha, 8);
            let v = rng.string(&val_alpha, 10);
            let pc: Vec<char> = p.chars().collect();
            let vc: Vec<char> = v.chars().collect();
            let want = naive(&pc, &vc);
            assert_eq!(Matcher::from_glob(&p).is_match(&v), want, "{p:?} on {v:?}");
            matched += usize::from(want);
        }
        // The generator must exercise both outcomes, or the comparison proves little.
        assert!(matched > 2_000, "only {matched} matches");
    }

    #[test]
    fn long_segments_use_several_words() {
        // 130 pattern characters: three 64-bit words, with `?` crossing word boundaries.
        let seg: String = (0..130)
            .map(|i| if i % 7 == 3 { '?' } else { 'a' })
            .collect();
        let p = format!("x*{seg}*y");
        let m = Matcher::from_glob(&p);
        let pc: Vec<char> = p.chars().collect();
        let mut outcomes = [0, 0];
        for b_at in [0, 3, 60, 63, 64, 66, 127, 128, 129, 130, 200] {
            for len in [129, 130, 131, 200, 260] {
                let body: String = (0..len)
                    .map(|i| if i == b_at { 'b' } else { 'a' })
                    .collect();
                let v = format!("x{body}y");
                let want = naive(&pc, &v.chars().collect::<Vec<_>>());
                assert_eq!(m.is_match(&v), want, "b at {b_at}, len {len}");
                outcomes[usize::from(want)] += 1;
            }
        }
        assert!(outcomes[0] > 5 && outcomes[1] > 5, "{outcomes:?}");
    }

    #[test]
    fn adversarial_patterns_over_megabyte_values_complete() {
        for (p, v, want) in super::adversarial_cases() {
            assert!(p.chars().count() >= 1000);
            assert_eq!(Matcher::from_glob(&p).is_match(&v), want, "{}", &p[..20]);
        }
    }

    #[test]
    fn anchors_and_empty_values() {
        assert!(Matcher::from_glob("").is_match(""));
        assert!(!Matcher::from_glob("").is_match("a"));
        assert!(Matcher::from_glob("**").is_match(""));
        assert!(Matcher::from_glob("a**b").is_match("ab"));
        assert!(!Matcher::from_glob("a*a").is_match("a"));
        assert!(Matcher::from_glob("?*?").is_match("éé"));
        assert!(!Matcher::from_glob("?*?").is_match("é"));
    }
}
