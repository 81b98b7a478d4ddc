//! The lints, one per file. The list below is the catalogue order.

use super::Lint;

mod data_source_tag;
mod duplicates;
mod ecs_allowed_value;
mod eql_config_fields;
mod eql_text_field;
mod esql_unknown_field;
mod field_other_integration;
mod field_package_version;
mod field_stack;
mod guide_field_investigation;
mod guide_sections;
mod index_implies_integration;
mod index_or_data_view;
mod integration_has_index;
mod integration_matches_datasets;
mod investigating_name;
mod language_for_type;
mod lock_min_stack;
mod lock_orphan;
mod lock_stale;
mod locked_maturity;
mod locked_type_change;
mod non_dataset_index_integration;
mod query_syntax;
mod required_field_known;
mod risk_matches_severity;
mod risk_score_canonical;
mod rule_formats;
mod setup_heading;
mod tactic_id_name;
mod tactic_once;
mod tags_required_by_index;
mod technique_current;
mod technique_id_name;
mod technique_in_tactic;
mod threat_references;
mod timestamp_override;
mod type_required_keys;
mod unknown_field;
mod updated_after_created;
mod value_type;
mod version_not_authored;

pub static LINTS: &[&dyn Lint] = &[
    &type_required_keys::TypeRequiredKeys,
    &language_for_type::LanguageForType,
    &query_syntax::KqlSyntax,
    &query_syntax::EqlSyntax,
    &query_syntax::EsqlSyntax,
    &unknown_field::UnknownField,
    &esql_unknown_field::EsqlUnknownField,
    &field_stack::FieldStack,
    &field_package_version::FieldPackageVersion,
    &eql_text_field::EqlTextField,
    &eql_config_fields::EqlConfigFields,
    &ecs_allowed_value::EcsAllowedValue,
    &value_type::ValueType,
    &field_other_integration::FieldOtherIntegration,
    &required_field_known::RequiredFieldKnown,
    &rule_formats::EnumValue,
    &rule_formats::RuleIdFormat,
    &rule_formats::RuleNameFormat,
    &rule_formats::DateFormat,
    &rule_formats::IntervalFormat,
    &rule_formats::RiskScoreRange,
    &version_not_authored::VersionNotAuthored,
    &risk_matches_severity::RiskMatchesSeverity,
    &risk_score_canonical::RiskScoreCanonical,
    &index_or_data_view::IndexOrDataView,
    &integration_matches_datasets::IntegrationMatchesDatasets,
    &integration_has_index::IntegrationHasIndex,
    &index_implies_integration::IndexImpliesIntegration,
    &non_dataset_index_integration::NonDatasetIndexIntegration,
    &tags_required_by_index::TagsRequiredByIndex,
    &data_source_tag::DataSourceTag,
    &investigating_name::InvestigatingName,
    &guide_sections::GuideSections,
    &guide_sections::GuideOrder,
    &setup_heading::SetupStartsWithHeading,
    &threat_references::ThreatUrlFormat,
    &technique_current::TechniqueCurrent,
    &technique_in_tactic::TechniqueInTactic,
    &tactic_id_name::TacticIdName,
    &technique_id_name::TechniqueIdName,
    &threat_references::ReferenceId,
    &threat_references::SubtechniqueParent,
    &tactic_once::TacticOnce,
    &updated_after_created::UpdatedAfterCreated,
    &rule_formats::FromFormat,
    &timestamp_override::TimestampOverride,
    &locked_type_change::LockedTypeChange,
    &locked_maturity::LockedMaturity,
    &lock_stale::LockStale,
    &lock_orphan::LockOrphan,
    &lock_min_stack::LockMinStack,
    &duplicates::DuplicateRuleId,
    &duplicates::DuplicateName,
    &duplicates::DuplicateBasename,
    &duplicates::NoRules,
    &guide_field_investigation::GuideFieldInvestigation,
];

/// Declares a lint's unit struct and its static description.
macro_rules! declare_lint {
    ($(#[$meta:meta])* $ty:ident, $code:literal, $name:literal, $sev:ident, $doc:expr) => {
        $(#[$meta])*
        pub struct $ty;
        impl $ty {
            pub const INFO: $crate::lint::LintInfo = $crate::lint::LintInfo {
                code: $code,
                name: $name,
                severity: $crate::diag::Severity::$sev,
                doc: $doc,
            };
        }
    };
}
pub(crate) use declare_lint;
