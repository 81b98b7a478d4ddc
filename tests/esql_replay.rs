//! ES|QL rules in `ruleforge test`: the example rules replay over their fixtures, and the
//! gate fails closed when a rule's exclusion, threshold or query breaks.

#[path = "common/scratch.rs"]
mod scratch;

use scratch::{edit, run, scratch_copy, text};

const SWEEP: &str = "rules/linux/discovery_boot_file_sweep_by_one_parent.toml";
const PARAMS: &str = "rules/linux/defense_evasion_boot_security_parameters_disabled.toml";

#[test]
fn removing_the_excluded_parents_makes_update_grub_a_false_positive() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        SWEEP,
        r#"and process.parent.name not in ("grub-mkconfig", "grub2-mkconfig", "10_linux", "dracut", "mkinitramfs", "kernel-install", "dkms")"#,
        "",
    );
    let out = run(
        dir.path(),
        &["test", "--rule", "discovery_boot_file_sweep_by_one_parent"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[RT003]"), "{stdout}");
    assert!(
        stdout.contains("update_grub_and_admin_kernel_compare"),
        "{stdout}"
    );
    // The snapshot diff shows the new aggregate row: 10_linux and the eight files it probed.
    assert!(
        stdout.contains(
            "+    row: host.name=ubu2404-db-03 user.name=root process.parent.name=10_linux"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Esql.boot_file_count_distinct=8"),
        "{stdout}"
    );
}

#[test]
fn a_lower_threshold_catches_the_administrators_near_miss() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        SWEEP,
        "Esql.boot_file_count_distinct >= 6",
        "Esql.boot_file_count_distinct >= 5",
    );
    let out = run(
        dir.path(),
        &["test", "--rule", "discovery_boot_file_sweep_by_one_parent"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[RT003]"), "{stdout}");
    assert!(stdout.contains("process.parent.name=bash"), "{stdout}");
}

#[test]
fn a_type_error_is_a_located_query_error_not_a_pass() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        PARAMS,
        "| keep _id, _index, _version, @timestamp,",
        "| where process.name > 5\n| keep _id, _index, _version, @timestamp,",
    );
    let out = run(
        dir.path(),
        &[
            "test",
            "--rule",
            "defense_evasion_boot_security_parameters_disabled",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[RF602]: ES|QL: "), "{stdout}");
    assert!(
        stdout.contains("defense_evasion_boot_security_parameters_disabled.toml:"),
        "located in the rule file: {stdout}"
    );
}

#[test]
fn a_column_neither_the_schema_nor_the_recording_has_fails_the_fixture() {
    let dir = scratch_copy();
    edit(
        dir.path(),
        PARAMS,
        "| keep _id, _index, _version, @timestamp,",
        "| where no_such_field > 1\n| keep _id, _index, _version, @timestamp,",
    );
    let out = run(
        dir.path(),
        &[
            "test",
            "--rule",
            "defense_evasion_boot_security_parameters_disabled",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[RT011]"), "{stdout}");
    assert!(
        stdout.contains("Unknown column [no_such_field]"),
        "{stdout}"
    );
}

#[test]
fn without_metadata_id_the_overlapping_runs_raise_the_same_row_again() {
    let dir = scratch_copy();
    // Without `_id` Kibana cannot tell that two executions saw the same event. With
    // `from = now-9m` and the default 5 minute interval, executions run 0, 5 and 10 minutes
    // after the recording's first event; the grubby event (at +39 s) is in the windows of
    // the second one only, the sed event (at +68 s) in those of the second and the third:
    // three alerts instead of two.
    edit(
        dir.path(),
        PARAMS,
        "from logs-endpoint.events.process-* metadata _id, _index, _version",
        "from logs-endpoint.events.process-*",
    );
    edit(
        dir.path(),
        PARAMS,
        "| keep _id, _index, _version, @timestamp,",
        "| keep @timestamp,",
    );
    let out = run(
        dir.path(),
        &[
            "test",
            "--rule",
            "defense_evasion_boot_security_parameters_disabled",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[RT001]"), "{stdout}");
    assert!(stdout.contains("+alerts: 3"), "{stdout}");
}
