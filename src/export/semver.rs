//! Minimal semantic versions and Fleet `conditions.kibana.version` ranges.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum PreId {
    Num(u64),
    Alpha(String),
}

impl Ord for PreId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PreId::Num(a), PreId::Num(b)) => a.cmp(b),
            (PreId::Num(_), PreId::Alpha(_)) => Ordering::Less,
            (PreId::Alpha(_), PreId::Num(_)) => Ordering::Greater,
            (PreId::Alpha(a), PreId::Alpha(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for PreId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `major.minor.patch[-pre][+build]`; minor and patch may be omitted (read as 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pre: Vec<PreId>,
}

impl Version {
    pub fn new(major: u64, minor: u64, patch: u64) -> Self {
        Version {
            major,
            minor,
            patch,
            pre: Vec::new(),
        }
    }

    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = s.split_once('+').map_or(s, |(a, _)| a);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        let pre = match pre {
            Some(p) if !p.is_empty() => p
                .split('.')
                .map(|id| match id.parse::<u64>() {
                    Ok(n) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                        PreId::Num(n)
                    }
                    _ => PreId::Alpha(id.to_string()),
                })
                .collect(),
            Some(_) => return None,
            None => Vec::new(),
        };
        Some(Version {
            major,
            minor,
            patch,
            pre,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// `major.minor`.
    pub fn major_minor(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn comparator_satisfied(comp: &str, v: &Version) -> bool {
    let (op, rest) = ["^", "~", ">=", "<=", ">", "<", "="]
        .iter()
        .find_map(|op| comp.strip_prefix(op).map(|r| (*op, r)))
        .unwrap_or(("=", comp));
    let Some(base) = Version::parse(rest) else {
        return false;
    };
    match op {
        "^" => {
            let upper = if base.major > 0 {
                Version::new(base.major + 1, 0, 0)
            } else if base.minor > 0 {
                Version::new(0, base.minor + 1, 0)
            } else {
                Version::new(0, 0, base.patch + 1)
            };
            *v >= base && *v < upper
        }
        "~" => *v >= base && *v < Version::new(base.major, base.minor + 1, 0),
        ">=" => *v >= base,
        "<=" => *v <= base,
        ">" => *v > base,
        "<" => *v < base,
        _ => *v == base,
    }
}

/// Whether `v` satisfies a range such as `^8.13.0 || ~9.0.7 || >=9.1.0 <10.0.0`.
pub fn range_satisfied(range: &str, v: &Version) -> bool {
    range.split("||").any(|alt| {
        let comps: Vec<&str> = alt.split_whitespace().collect();
        !comps.is_empty() && comps.iter().all(|c| comparator_satisfied(c, v))
    })
}

/// The versions named in a range, operators removed (upstream's simplified reading).
pub fn range_versions(range: &str) -> Vec<Version> {
    range
        .split("||")
        .flat_map(|alt| alt.split_whitespace())
        .filter_map(|c| Version::parse(c.trim_start_matches(['>', '<', '=', '^', '~'])))
        .collect()
}
