//! Every diagnostic code ruleforge prints, documented in one place for `lint --explain`.
//!
//! Lints document themselves in the lint catalogue (`lint::catalogue`); this module adds the
//! codes reported elsewhere: while loading a rule file (RF1xx, RF909), by `test` (RT) and for
//! fixtures (FX). A test scans `src/` for code literals, so a new code without an entry here (or
//! in the lint catalogue) fails the suite.

use crate::diag::Severity;
use crate::lint::{self, LintInfo};

/// Families of codes, in the order `lint --explain` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// RF codes reported while reading a rule file (syntax, schema).
    Load,
    /// RF codes of the lint catalogue.
    Lint,
    /// RX lints: house checks beyond the upstream detection-rules ones.
    House,
    /// RT codes: replaying fixtures, expectations and snapshots.
    Test,
    /// FX codes: fixture manifests and recordings.
    Fixture,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Load,
        Group::Lint,
        Group::House,
        Group::Test,
        Group::Fixture,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Load => "RF: loading and schema (reported while reading a rule file)",
            Group::Lint => "RF: lints",
            Group::House => "RX: house lints (beyond upstream detection-rules)",
            Group::Test => "RT: replay, expectations and snapshots (`ruleforge test`)",
            Group::Fixture => "FX: fixture manifests and recordings",
        }
    }
}

/// Codes outside the lint catalogue. Several are reserved for checks being added alongside
/// (RT012–RT015, FX007–FX009): documenting them first keeps every printed code explainable.
static OTHER: &[LintInfo] = &[
    LintInfo {
        code: "RF101",
        name: "unreadable-rule-file",
        severity: Severity::Error,
        doc: "The rule file could not be read or is not valid TOML: a permission or I/O error, \
a file that is not UTF-8, one larger than the 8 MiB limit, or a TOML syntax error (the first \
three are shown with their line and column).\n\nA file that cannot be read has no rule to lint \
or replay, so it is a failure rather than a skipped file: a broken rule must not pass CI \
unnoticed.\n\nExample: `name = \"Kernel unpacking` (unclosed string).\n\nFix: correct the syntax \
at the reported location, or the file's permissions or encoding.",
    },
    LintInfo {
        code: "RF102",
        name: "top-level-key",
        severity: Severity::Error,
        doc: "A top-level key is unknown, or a required top-level table (`[metadata]`, `[rule]`) \
is missing.\n\nUnknown keys are errors because a misspelt key is silently dropped by Kibana: the \
setting you meant to change would not take effect.\n\nExample: `[metdata]` instead of \
`[metadata]`.\n\nFix: use the key the help names, or remove it.",
    },
    LintInfo {
        code: "RF103",
        name: "unknown-key",
        severity: Severity::Error,
        doc: "A key inside a table is not part of the rule schema, is not valid for this rule \
type, or is reserved for deprecated rules (`deprecated_reason` on an active rule).\n\nA typo in \
a key would otherwise disable what it configures without a word.\n\nExample: `severty = \"high\"` \
in `[rule]`, or `threshold` on an `eql` rule.\n\nFix: spell the key as the help suggests, or \
remove it.",
    },
    LintInfo {
        code: "RF104",
        name: "unsupported-rule-type",
        severity: Severity::Error,
        doc: "`rule.type` is not a type Elastic Security knows (query, eql, esql, threshold, \
new_terms, threat_match, machine_learning).\n\nWithout a known type nothing about the rule can be \
checked or replayed, so it fails instead of being skipped.\n\nExample: `type = \"kql\"` (KQL is a \
`language`, the type is `query`).\n\nFix: set one of the listed types.",
    },
    LintInfo {
        code: "RF105",
        name: "missing-required-key",
        severity: Severity::Error,
        doc: "A table lacks a key the schema requires (for example `[rule.threshold]` without \
`field`, or `[metadata]` without `creation_date`).\n\nKibana rejects such a rule on import, so \
ruleforge rejects it first.\n\nExample: `[rule.threshold]` with only `value = 10`.\n\nFix: add \
the key the message names.",
    },
    LintInfo {
        code: "RF132",
        name: "value-type",
        severity: Severity::Error,
        doc: "A value has the wrong TOML type for its key (a string where a number is expected, \
a single string where an array is expected, ...).\n\nA mistyped value is either rejected by \
Kibana or read differently from what the author meant.\n\nExample: `risk_score = \"47\"`.\n\n\
Fix: write the value with the type the message gives (`risk_score = 47`).",
    },
    LintInfo {
        code: "RF909",
        name: "deprecated-rule-schema",
        severity: Severity::Warning,
        doc: "A deprecated rule (under `_deprecated/` or with `maturity = \"deprecated\"`) breaks \
a schema check. Upstream loads deprecated rules without the schema, so this is a warning, with \
the code of the check it would have failed in brackets.\n\nIt is reported rather than hidden so \
that nothing read from the repository goes unexamined.\n\nExample: `deprecated rule (not \
schema-checked upstream): unknown key in [rule]: `foo` [RF103]`.\n\nFix: correct the rule, or \
delete it if it is no longer needed.",
    },
    LintInfo {
        code: "RT001",
        name: "expectation-count",
        severity: Severity::Error,
        doc: "A fixture manifest's `[[expect]]` entry says how many alerts a rule raises on that \
recording (`alerts`, `at_least`, `at_most`; default: at least one) and the replay disagrees.\n\n\
A malicious recording the rule no longer detects is a lost detection: the test fails.\n\n\
Example: `\"Kernel Image Unpacking\" raised 0 alerts on fixtures/x.toml, expected exactly 1`.\n\n\
Fix: repair the rule so it detects the behaviour again, or, if the recording changed, correct \
the expected count.",
    },
    LintInfo {
        code: "RT002",
        name: "invalid-schedule",
        severity: Severity::Error,
        doc: "The rule's schedule cannot be simulated: `from`, `interval` or `[rule.new_terms] \
history_window_start` is not a date-math offset ruleforge understands (`now-6m`, `5m`).\n\n\
Threshold, new_terms and sequence results depend on the schedule; guessing it would make the \
replay disagree with Kibana, so the rule is not replayed and the run fails.\n\nExample: \
`from = \"now-6x\"`.\n\nFix: use `now-<n><s|m|h|d>` for `from` and `<n><s|m|h|d>` for \
`interval`.",
    },
    LintInfo {
        code: "RT003",
        name: "false-positive",
        severity: Severity::Error,
        doc: "A rule raised alerts on a benign fixture (a recording of legitimate activity) and \
the manifest does not accept them.\n\nEvery benign recording is a promise that the rules stay \
quiet on it; a new alert there is a false positive a reviewer must see.\n\nExample: \
`false positive: \"Kernel Image Unpacking\" raised 1 alert on benign fixture \
fixtures/kernel_unpacking/mkinitramfs_kernel_upgrade.toml`, followed by the offending events.\n\n\
Fix: tighten the rule (an exclusion for the benign process), or accept the alert with an \
`[[expect]]` entry and a `reason` in the manifest.",
    },
    LintInfo {
        code: "RT004",
        name: "unknown-rule-reference",
        severity: Severity::Error,
        doc: "A fixture manifest's `[[expect]] rule`, or a `--rule` flag, names no loaded rule \
(by rule_id, file stem or name).\n\nAn expectation on a rule that does not exist can never \
fail, so it would pass silently; it is an error instead.\n\nExample: `rule = \
\"discovery_kernel_unpack\"` after the rule file was renamed.\n\nFix: use the rule's current \
file stem, rule_id or name.",
    },
    LintInfo {
        code: "RT005",
        name: "not-replayable",
        severity: Severity::Error,
        doc: "The rule cannot be replayed: its query or schedule is invalid (the query error is \
reported beside it), or its type cannot be evaluated offline (machine_learning, a missing \
`[rule.threshold]`, an unsupported language).\n\nA rule that is not replayed is not tested, so \
this is an error by default; `[test] not_replayable = \"warning\"` in ruleforge.toml lowers it \
for types that can never be replayed.\n\nExample: `rule \"Anomalous Process\" is not replayable: \
machine_learning rules need a trained model`.\n\nFix: correct the query, or configure the \
severity for unsupported types.",
    },
    LintInfo {
        code: "RT006",
        name: "snapshot-changed",
        severity: Severity::Error,
        doc: "The alerts a rule raises over all fixtures differ from its accepted snapshot \
(`snapshots/<stem>.snap`), there is no accepted snapshot yet, or the snapshot could not be \
written.\n\nThe snapshot is the reviewed record of what a rule detects; any change, added or \
lost, must be looked at by a human.\n\nExample: `alerts of \"Kernel Image Unpacking\" changed`, \
followed by a unified diff.\n\nFix: review the diff; if it is intended, run `ruleforge test \
--accept` and commit the snapshot.",
    },
    LintInfo {
        code: "RT007",
        name: "orphaned-snapshot",
        severity: Severity::Error,
        doc: "A snapshot file has no rule with its file stem (the rule was renamed or deleted), \
or the snapshot directory could not be listed.\n\nA stale snapshot would hide that a detection \
disappeared.\n\nExample: `orphaned snapshot: no rule has this file stem` at \
`snapshots/old_name.snap`.\n\nFix: delete the file, or run `ruleforge test --accept`.",
    },
    LintInfo {
        code: "RT008",
        name: "missing-fixture",
        severity: Severity::Error,
        doc: "A production rule has no malicious fixture whose manifest expects it to alert.\n\n\
A rule never shown to detect anything is untested; by default that fails the run \
(`[test] missing_fixture = \"warning\"` lowers it).\n\nExample: `rule \"Kernel Module Load\" has \
no malicious fixture that expects it to alert`.\n\nFix: record the behaviour the rule detects \
and add a manifest with `verdict = \"malicious\"` and an `[[expect]]` entry for the rule.",
    },
    LintInfo {
        code: "RT009",
        name: "nothing-tested",
        severity: Severity::Error,
        doc: "The run tested nothing: no rule was selected, no fixture was found, or the fixtures \
hold zero events.\n\nAn empty run would report success without checking anything, which is \
exactly the silent pass a CI gate must not give.\n\nExample: `no fixtures found under fixtures: \
nothing was replayed`.\n\nFix: check `fixture_dirs` in ruleforge.toml, the `--rule` flags and \
the recordings.",
    },
    LintInfo {
        code: "RT010",
        name: "expected-fields",
        severity: Severity::Error,
        doc: "An `[[expect]]` entry with `[expect.fields]` requires every alert of the rule to \
include an event with those field values, and an alert has none.\n\nThe alert count alone can \
be right for the wrong reason (another event matching); the field values pin the detection to \
the intended event.\n\nExample: `alert 1 of \"Kernel Image Unpacking\" on fixtures/x.toml has no \
event with the expected field values` with `\"process.name\" = \"gunzip\"`.\n\nFix: correct the \
rule, or the expected values if the recording differs.",
    },
    LintInfo {
        code: "RT011",
        name: "replay-failed",
        severity: Severity::Error,
        doc: "Replaying a rule over a recording failed at run time: an event has no usable \
timestamp where the rule needs event time (sequences, threshold, new_terms), sequence events \
are out of order, or the EQL engine reported an error.\n\nThe rule's result on that recording is \
unknown, so it cannot count as a pass.\n\nExample: `replaying \"Kernel Module Staging\" failed: \
event at x.ndjson:3 has no usable timestamp`.\n\nFix: correct the recording (every event needs \
`@timestamp`, or the rule's `timestamp_override`), or the rule.",
    },
    LintInfo {
        code: "RT012",
        name: "accept-incomplete-run",
        severity: Severity::Error,
        doc: "`ruleforge test --accept` refused to write or remove any snapshot because the run \
did not see every rule and fixture: a rule file failed to load, or a fixture manifest or \
recording could not be read (those errors are reported above it, with their locations).\n\n\
Accepting snapshots from a partial run would record a rule's missing alerts as the reviewed \
truth, or delete the snapshot of a rule that merely failed to load.\n\nExample: `--accept \
refused: this run did not see every rule and fixture (rules/linux/x.toml did not load)`.\n\n\
Fix: correct the errors listed before it (`ruleforge lint` details rule files), then run \
`ruleforge test --accept` again.",
    },
    LintInfo {
        code: "RT013",
        name: "snapshot-collision",
        severity: Severity::Error,
        doc: "Two rules share a file stem (for example `rules/linux/x.toml` and \
`rules/windows/x.toml`), so both would write `snapshots/x.snap`.\n\nOne rule's snapshot would \
silently overwrite the other's, hiding changes in one of them.\n\nExample: two files named \
`persistence_cron.toml` in different folders.\n\nFix: rename one of the files.",
    },
    LintInfo {
        code: "RT014",
        name: "recording-without-manifest",
        severity: Severity::Error,
        doc: "An event file (`*.ndjson`) under a fixture directory has no manifest that names \
it.\n\nWithout a manifest the recording has no verdict and is never replayed; its events would \
sit in the repository untested.\n\nExample: `fixtures/cron/edit.ndjson` with no \
`fixtures/cron/edit.toml`.\n\nFix: add a manifest beside it (`events = \"edit.ndjson\"`, a \
`verdict` and a `description`), or delete the file. `[test] unreferenced_recording = \"warning\"` \
in ruleforge.toml lowers the severity.",
    },
    LintInfo {
        code: "RT015",
        name: "malicious-without-expectations",
        severity: Severity::Error,
        doc: "A malicious fixture's manifest has no `[[expect]]` entry.\n\nA malicious recording \
that names no rule asserts nothing: it would pass even if every rule stopped detecting it.\n\n\
Example: `verdict = \"malicious\"` and no `[[expect]]` table.\n\nFix: add an `[[expect]]` entry \
for each rule that must alert on the recording. `[test] malicious_without_expect = \"warning\"` \
in ruleforge.toml lowers the severity.",
    },
    LintInfo {
        code: "RT016",
        name: "invalid-replay-setting",
        severity: Severity::Error,
        doc: "A setting that decides which alerts the rule raises cannot be evaluated as Kibana \
would: an `[rule.alert_suppression]` Kibana refuses (`group_by` of 0 or more than 3 fields, a \
`missing_fields_strategy` other than `suppress`/`doNotSuppress`, a `duration` that is not \
`value >= 1` with unit `s`, `m` or `h`, `group_by` on a threshold rule), a `threat_mapping` \
without entries, or a `filters`/`threat_filters` entry whose query shape the replay does not \
evaluate.\n\nIgnoring the setting would replay a different rule than the one Kibana runs, so \
the rule is not replayed and the run fails.\n\nExample: `missing_fields_strategy = \
\"sometimes\"`.\n\nFix: use a value Kibana accepts, or write the filter as part of the query.",
    },
    LintInfo {
        code: "RT017",
        name: "unproven-exclusion",
        severity: Severity::Error,
        doc: "Off by default; `[test] unproven_exclusion = \"error\"` (or `\"warning\"`) in \
ruleforge.toml turns it on for `check`, `test` and `coverage`. A production rule has an \
exclusion (a `not (…)` clause, or one element of a negated list such as `x not in (\"a\", \"b\")`) \
that no benign fixture proves necessary: removing that exclusion alone from the query makes no \
benign fixture raise an extra alert.\n\nAn exclusion nobody can show to be needed may be dead \
weight, or a blind spot an attacker can use (naming a process after an excluded parent), and \
a later edit that breaks it would go unnoticed.\n\nExample: `\"Kernel Image Unpacking\" has an \
exclusion no benign fixture proves necessary: process.parent.name == \"kdumpctl\"`.\n\nFix: add a \
benign recording of the activity the exclusion is for (it must alert without the exclusion), \
or remove the exclusion. `ruleforge coverage` lists every exclusion and its proof.",
    },
    LintInfo {
        code: "RT018",
        name: "docs-do-not-render",
        severity: Severity::Error,
        doc: "`ruleforge check` renders the docs (the HTML site and the Markdown pages, into a \
temporary folder it then deletes) when the repository has a templates folder, and in a \
`--changed-since` run when a template changed; a template that does not parse or fails on a \
rule (an unknown variable, a filter misspelt, a page past the size limit) is this finding, \
located at the templates folder.\n\nWithout it a template change would pass the pull request \
and break the docs job after the merge.\n\nExample: `the docs do not render: template \
rule.md: Variable `rule.nmae` not found`.\n\nFix: correct the template; `ruleforge docs --out \
DIR` (and `--pages markdown`) renders the same pages.",
    },
    LintInfo {
        code: "FX001",
        name: "unreadable-manifest",
        severity: Severity::Error,
        doc: "A fixture manifest could not be read, or a fixture directory could not be \
listed.\n\nA fixture that cannot be read is a test that does not run; it fails instead of \
being skipped.\n\nExample: `cannot read fixture manifest: Permission denied`.\n\nFix: check the \
file's permissions and the `fixture_dirs` setting.",
    },
    LintInfo {
        code: "FX002",
        name: "invalid-manifest",
        severity: Severity::Error,
        doc: "A fixture manifest is not valid: TOML syntax, an unknown or missing key, a \
`verdict` other than benign or malicious, `baseline_until` that is not an ISO-8601 timestamp, \
or contradictory counts (`alerts` with `at_least`, `at_most` below `at_least`).\n\nUnknown keys \
are errors because a misspelt expectation would otherwise be ignored.\n\nExample: `at_leats = \
1`.\n\nFix: correct the manifest at the reported location.",
    },
    LintInfo {
        code: "FX003",
        name: "benign-expect-without-reason",
        severity: Severity::Error,
        doc: "An `[[expect]]` entry on a benign fixture accepts a false positive but gives no \
`reason`.\n\nAccepting a false positive is a decision a reviewer must be able to read.\n\n\
Example: `[[expect]] rule = \"x\"` in a manifest with `verdict = \"benign\"`.\n\nFix: add \
`reason = \"...\"` explaining why the alert is acceptable.",
    },
    LintInfo {
        code: "FX004",
        name: "unreadable-recording",
        severity: Severity::Error,
        doc: "The recording a manifest names (`events = ...`) could not be read: missing, a \
permission error, or not UTF-8.\n\nA manifest without its events tests nothing.\n\nExample: \
`cannot read recording fixtures/x.ndjson: No such file or directory`.\n\nFix: correct the \
`events` path (relative to the manifest) or add the file.",
    },
    LintInfo {
        code: "FX005",
        name: "empty-recording",
        severity: Severity::Error,
        doc: "The recording holds no events.\n\nEvery rule trivially stays quiet on an empty \
recording, so a benign fixture would pass and prove nothing.\n\nExample: an `.ndjson` file \
that is empty or has only blank lines.\n\nFix: record the activity again.",
    },
    LintInfo {
        code: "FX006",
        name: "invalid-event",
        severity: Severity::Error,
        doc: "A line of the recording is not a JSON object (invalid JSON, or an array, string \
or number).\n\nDropping the line would drop an event a rule might have matched; the error names \
the line and column.\n\nExample: a truncated last line `{\"@timestamp\": \"2026-11-26T`.\n\nFix: \
repair or remove the line.",
    },
    LintInfo {
        code: "FX007",
        name: "path-escapes-root",
        severity: Severity::Error,
        doc: "A path from the repository (a manifest's `events`, a configured directory) \
resolves outside the repository root.\n\nReading files outside the repository makes a run \
depend on the machine it runs on, and a rule PR could read arbitrary files of the CI \
runner.\n\nExample: `events = \"../../../etc/passwd\"`.\n\nFix: keep recordings beside their \
manifests, inside the repository.",
    },
    LintInfo {
        code: "FX008",
        name: "symlink",
        severity: Severity::Error,
        doc: "A rule file or a fixture folder is a symbolic link.\n\nA link can point outside \
the repository or make the same file count twice; ruleforge does not follow it.\n\nExample: \
`rules/linux/x.toml -> /home/me/x.toml`.\n\nFix: commit the file itself instead of a link.",
    },
    LintInfo {
        code: "FX009",
        name: "recording-not-regular-file",
        severity: Severity::Error,
        doc: "The recording a manifest names is not a regular file (a directory, a FIFO, a \
device).\n\nReading a FIFO or device could block the run or read endless data.\n\nExample: \
`events = \"fixtures\"` naming a directory.\n\nFix: point `events` at the `.ndjson` file.",
    },
];

/// Every documented code: the lint catalogue, then the others.
pub fn all() -> impl Iterator<Item = &'static LintInfo> {
    lint::catalogue().chain(OTHER.iter())
}

/// The family a documented code belongs to.
pub fn group_of(info: &LintInfo) -> Group {
    match &info.code[..2] {
        "RX" => Group::House,
        "RT" => Group::Test,
        "FX" => Group::Fixture,
        _ if lint::catalogue().any(|l| l.code == info.code) => Group::Lint,
        _ => Group::Load,
    }
}

/// The documentation of a code (case-insensitive) or of a lint by name.
pub fn explain(code_or_name: &str) -> Option<&'static LintInfo> {
    all().find(|i| i.code.eq_ignore_ascii_case(code_or_name) || i.name == code_or_name)
}

/// Every code, grouped, one `CODE name (severity)` line each.
pub fn listing() -> String {
    let mut out = String::new();
    for group in Group::ALL {
        let mut infos: Vec<_> = all().filter(|i| group_of(i) == group).collect();
        infos.sort_by_key(|i| i.code);
        out.push_str(group.title());
        out.push('\n');
        for i in infos {
            out.push_str(&format!(
                "  {}  {} ({})\n",
                i.code,
                i.name,
                i.severity.as_str()
            ));
        }
        out.push('\n');
    }
    out.push_str("`ruleforge lint --explain CODE` documents one code.\n");
    out
}

/// Codes that `lint` itself reports (load and lint codes), and so the only ones
/// `--select`, `--ignore` and `[lint] select/ignore/warn` can act on.
pub fn lint_codes() -> impl Iterator<Item = &'static str> {
    all()
        .filter(|i| {
            matches!(group_of(i), Group::Load | Group::Lint | Group::House)
                // A symlink in a rule folder is a load failure of that path, reported by lint.
                || i.code == "FX008"
        })
        .map(|i| i.code)
}

/// A `--select`/`--ignore`/`[lint]` entry that names no code `lint` reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UnknownCode {
    pub given: String,
    pub message: String,
}

/// Accepts a lint code, or a prefix of at least one (`RF1`, `RX`). Anything else would select
/// or ignore nothing without a word, so it is refused with the closest known codes.
pub fn check_selector(given: &str) -> Result<(), UnknownCode> {
    if !given.is_empty() && lint_codes().any(|c| c.starts_with(given)) {
        return Ok(());
    }
    let fail = |message: String| {
        Err(UnknownCode {
            given: given.to_string(),
            message,
        })
    };
    if given.is_empty() {
        return fail("empty lint code (an empty prefix would match every code)".into());
    }
    if let Some(info) = all().find(|i| i.name == given) {
        return fail(format!(
            "unknown lint code `{given}`: did you mean its code `{}`?",
            info.code
        ));
    }
    let upper = given.to_ascii_uppercase();
    if all().any(|i| i.code.starts_with(&upper)) && !lint_codes().any(|c| c.starts_with(&upper)) {
        return fail(format!(
            "`{given}` is not a lint code: lint selection applies to the RF and RX codes (and \
FX008) that `ruleforge lint` reports; the other RT and FX codes come from `ruleforge test`"
        ));
    }
    let near = closest(&upper);
    if near.is_empty() {
        return fail(format!("unknown lint code `{given}`"));
    }
    fail(format!(
        "unknown lint code `{given}`: did you mean {}?",
        near.iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Up to three lint codes (or prefixes of the same length) nearest to `given` by edit distance.
fn closest(given: &str) -> Vec<String> {
    let len = given.chars().count();
    let mut candidates: Vec<String> = lint_codes()
        .map(|c| c.get(..len).unwrap_or(c).to_string())
        .collect();
    candidates.sort();
    candidates.dedup();
    let scored: Vec<(usize, String)> = candidates
        .into_iter()
        .map(|c| (crate::rule::schema::edit_distance(given, &c), c))
        .filter(|(d, _)| *d <= 2 && *d < len)
        .collect();
    let Some(best) = scored.iter().map(|(d, _)| *d).min() else {
        return Vec::new();
    };
    scored
        .into_iter()
        .filter(|(d, _)| *d == best)
        .map(|(_, c)| c)
        .take(3)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_well_formed_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for i in all() {
            assert!(seen.insert(i.code), "{} documented twice", i.code);
            let (family, digits) = i.code.split_at(2);
            assert!(["RF", "RX", "RT", "FX"].contains(&family), "{}", i.code);
            assert!(
                digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()),
                "{}",
                i.code
            );
            assert!(
                !i.name.is_empty() && i.doc.len() > 40,
                "{} lacks docs",
                i.code
            );
        }
    }

    #[test]
    fn the_reserved_codes_are_documented() {
        for code in [
            "RT012", "RT013", "RT014", "RT015", "FX007", "FX008", "FX009",
        ] {
            assert!(explain(code).is_some(), "{code}");
        }
    }

    #[test]
    fn groups_follow_the_code_family() {
        let group = |c: &str| group_of(explain(c).unwrap());
        assert_eq!(group("RF101"), Group::Load);
        assert_eq!(group("RF909"), Group::Load);
        assert_eq!(group("RF407"), Group::Lint);
        assert_eq!(group("RX102"), Group::House);
        assert_eq!(group("RT011"), Group::Test);
        assert_eq!(group("FX006"), Group::Fixture);
    }

    #[test]
    fn selectors_accept_codes_and_prefixes_of_lint_codes() {
        for ok in [
            "RF407", "RF1", "RF", "RX", "RX102", "RF101", "RF909", "R", "FX008",
        ] {
            assert_eq!(check_selector(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn unknown_selectors_name_the_closest_codes() {
        // Built at run time: a literal unknown code would trip the scan for unexplained codes.
        let e = check_selector(&format!("RF{}", 408)).unwrap_err();
        assert!(e.message.contains("`RF407`"), "{}", e.message);
        let e = check_selector("rf407").unwrap_err();
        assert!(e.message.contains("`RF407`"), "{}", e.message);
        let e = check_selector("investigating-name").unwrap_err();
        assert!(e.message.contains("`RF407`"), "{}", e.message);
        for test_code in ["RT008", "FX002", "RT"] {
            let e = check_selector(test_code).unwrap_err();
            assert!(e.message.contains("ruleforge test"), "{}", e.message);
        }
        assert!(check_selector("").is_err());
        assert!(check_selector("XYZ123").is_err());
    }
}
