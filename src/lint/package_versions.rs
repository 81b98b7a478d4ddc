//! Which versions of an integration package a rule may run against (RF630): the versions its
//! `related_integrations` constraint allows (authored, or as the exporter computes it for the
//! package stack) whose Fleet `conditions.kibana.version` accepts at least one stack the rule
//! supports (`min_stack_version`, or the lowest stack, up to the package stack).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::export::semver::{Version, range_satisfied, range_versions};
use crate::export::{ManifestRow, Tables};

/// The embedded table (see `generate_integration_field_versions` in `tools/gen_field_schema.rs`).
pub const INTEGRATION_FIELD_VERSIONS_TSV: &str =
    include_str!("../../data/integration_field_versions.tsv");

/// Integration-only fields that some versions of their package lack: (package, field) → the
/// version ranges (inclusive, semver) that define it. A pair absent from the table means the
/// field is in every version of the package that defines it at all.
#[derive(Debug, Default)]
pub struct FieldVersions {
    ranges: HashMap<(Box<str>, Box<str>), Vec<VersionRun>>,
}

/// First and last version (inclusive) of a run of consecutive versions.
pub type VersionRun = (Version, Version);

impl FieldVersions {
    /// The built-in table, decoded on first use.
    pub fn builtin() -> &'static FieldVersions {
        static TABLE: OnceLock<FieldVersions> = OnceLock::new();
        TABLE.get_or_init(|| FieldVersions::parse(INTEGRATION_FIELD_VERSIONS_TSV))
    }

    /// Decodes `<package><TAB><field><TAB><first>..<last>,…` lines; malformed ones are skipped.
    pub fn parse(text: &str) -> FieldVersions {
        let mut ranges = HashMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let mut cols = line.split('\t');
            let (Some(package), Some(field), Some(list)) = (cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let parsed: Option<Vec<VersionRun>> = list
                .split(',')
                .map(|r| {
                    let (a, b) = r.split_once("..")?;
                    Some((Version::parse(a)?, Version::parse(b)?))
                })
                .collect();
            if let Some(p) = parsed {
                ranges.insert((package.into(), field.into()), p);
            }
        }
        FieldVersions { ranges }
    }

    /// The version ranges of `package` that define `field`, when some versions lack it.
    pub fn ranges(&self, package: &str, field: &str) -> Option<&[VersionRun]> {
        self.ranges
            .get(&(Box::from(package), Box::from(field)))
            .map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// True when some release of the `stack` line (`9.3.0`, `9.3.1`, …) satisfies `range`: the
/// satisfying set of a comparator conjunction is an interval whose ends are versions the range
/// names or the ends of the line, so those are the only candidates to try.
pub fn stack_line_compatible(range: &str, stack: &Version) -> bool {
    let mut tries = vec![
        Version::new(stack.major, stack.minor, 0),
        Version::new(stack.major, stack.minor, u64::from(u32::MAX)),
    ];
    tries.extend(
        range_versions(range)
            .into_iter()
            .filter(|v| v.major == stack.major && v.minor == stack.minor),
    );
    tries.iter().any(|v| range_satisfied(range, v))
}

/// The versions of one package a constraint allows on the given stacks, in semver order.
pub fn allowed_versions<'a>(
    rows: &'a [ManifestRow],
    constraint: &str,
    stacks: &[Version],
) -> Vec<&'a ManifestRow> {
    rows.iter()
        .filter(|r| range_satisfied(constraint, &r.semver))
        .filter(|r| stacks.iter().any(|s| stack_line_compatible(&r.kibana, s)))
        .collect()
}

/// `a–b` for a run of consecutive versions, runs joined by `, `.
pub fn describe_runs(rows: &[ManifestRow], present: impl Fn(&ManifestRow) -> bool) -> String {
    let mut runs: Vec<(&str, &str)> = Vec::new();
    let mut open = false;
    for r in rows {
        if present(r) {
            match runs.last_mut() {
                Some(last) if open => last.1 = &r.version,
                _ => runs.push((&r.version, &r.version)),
            }
            open = true;
        } else {
            open = false;
        }
    }
    runs.iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}–{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The package's manifest rows, when the built-in tables know the package.
pub fn package_rows(package: &str) -> Option<&'static [ManifestRow]> {
    Tables::builtin().manifests.get(package).map(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: &str, kibana: &str) -> ManifestRow {
        ManifestRow {
            version: version.into(),
            semver: Version::parse(version).unwrap(),
            kibana: kibana.into(),
            policy_templates: Vec::new(),
            data_streams: None,
        }
    }

    #[test]
    fn stack_lines_match_any_patch_release() {
        let v = |s| Version::parse(s).unwrap();
        assert!(stack_line_compatible("^8.19.4 || ^9.2.1", &v("8.19.0")));
        assert!(stack_line_compatible("^8.19.4 || ^9.2.1", &v("9.6.0")));
        assert!(!stack_line_compatible("^8.19.4 || ^9.2.1", &v("9.1.0")));
        assert!(stack_line_compatible(">=9.3.2 <9.3.5", &v("9.3.0")));
        assert!(!stack_line_compatible("^9.7.0", &v("9.6.0")));
    }

    #[test]
    fn allowed_versions_follow_constraint_and_stacks() {
        let rows = [
            row("1.0.0", "^8.0.0"),
            row("1.5.0", "^8.19.0"),
            row("2.0.0", "^9.0.0"),
            row("2.1.0", "^9.7.0"),
        ];
        let stacks = [Version::new(8, 19, 0), Version::new(9, 6, 0)];
        let names = |c: &str| -> Vec<String> {
            allowed_versions(&rows, c, &stacks)
                .iter()
                .map(|r| r.version.clone())
                .collect()
        };
        assert_eq!(names("^1.0.0"), ["1.0.0", "1.5.0"]);
        // 2.1.0 needs a stack newer than any the rule supports.
        assert_eq!(names(">=1.5.0"), ["1.5.0", "2.0.0"]);
        assert!(names("^3.0.0").is_empty());
        assert_eq!(
            describe_runs(&rows, |r| r.version != "1.5.0"),
            "1.0.0, 2.0.0–2.1.0"
        );
    }

    #[test]
    fn field_versions_decode_ranges() {
        let t = FieldVersions::parse(
            "# t\naws\taws.config.rule\t3.4.0..3.9.0,4.1.0..6.1.0\nbad\tline\tx..y\n",
        );
        assert_eq!(t.len(), 1);
        let r = t.ranges("aws", "aws.config.rule").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].0, Version::new(4, 1, 0));
        assert!(t.ranges("aws", "aws.cloudtrail.user").is_none());
    }
}
