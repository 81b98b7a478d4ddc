//! Kibana export of detection rules: the API object upstream's `to_api_format` builds, its
//! content hash and version (`kibana-export.md` §1–§5, `rule-format.md` §8, §9, §12).
//!
//! Input is the whole rule TOML converted to JSON (`{"metadata", "transform"?, "rule"}`); output
//! is the object Kibana's `_import` takes (one NDJSON line), serialised like Python's
//! `json.dumps(obj, sort_keys=True)`.
//!
//! Built-in data (see `data/`): ECS 9.5.0 field types, the Fleet integration manifests and the
//! non-ECS field types of the integration versions selected for package stack 9.6.
//!
//! Not reproduced: the ATT&CK v19 conversion of the `mitre_attack_v19` emit transform (no v19
//! data is shipped; only an explicit `threat_mappings` v19 block is honoured),
//! `--include-metadata`, downgrades to older stacks. Beats and endgame field types for
//! `required_fields` are read from the `etc/` folder beside the stack schema map (without one,
//! such fields are typed `"unknown"`).

mod beats;
mod datasets;
mod endgame;
mod fields;
mod integrations;
pub mod lock;
mod normalize;
mod pyjson;
pub mod semver;
mod setup;
mod tables;
mod transform;
mod version;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

pub use datasets::scan_datasets;
pub use fields::type_family;
pub use integrations::{
    Candidate, ML_ANALYTIC_PACKAGES, NON_DATASET_PACKAGES, candidates as integration_candidates,
    latest_compatible_version, least_compatible_version, parse_datasets,
    resolve as resolve_integrations,
};
pub use normalize::{cleanup_whitespace, strip_nulls};
pub use pyjson::{Separators, dumps as to_python_json_with};
pub use setup::{setup_in_note, split_setup};
pub use tables::{ManifestRow, PackageFields, Tables, shared_prefix_len};
pub use transform::{rendered_placeholders, safe_substitute};
pub use version::{LockEntry, Locked, RuleHashes, VersionLock, VersionSource, supported_stack};

/// The rule types the exporter knows.
pub const RULE_TYPES: &[&str] = &[
    "query",
    "eql",
    "esql",
    "threshold",
    "new_terms",
    "threat_match",
    "machine_learning",
];

/// Errors of the export, naming the rule (its `rule_id`, else its name) and the field concerned.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("rule file is not an object with a `rule` table")]
    NotARuleFile,
    #[error("rule {rule}: missing required field `{field}`")]
    MissingField { rule: String, field: String },
    #[error("rule {rule}: field `{field}` {reason}")]
    InvalidField {
        rule: String,
        field: String,
        reason: String,
    },
    #[error("rule {rule}: unknown rule type `{rule_type}`")]
    UnknownRuleType { rule: String, rule_type: String },
    #[error(
        "rule {rule}: metadata.integration package `{package}` is not in the integration manifests"
    )]
    UnknownPackage { rule: String, package: String },
    #[error("rule {rule}: deprecated rule is not in the version lock")]
    DeprecatedNotLocked { rule: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid {path}: {message}")]
    InvalidFile { path: PathBuf, message: String },
    #[error("invalid package stack `{0}`")]
    InvalidStack(String),
}

/// What the exporter needs besides the rule: package stack, version lock, field and
/// integration tables.
#[derive(Debug, Clone)]
pub struct ExportContext {
    package_stack: String,
    stack: semver::Version,
    lowest_supported_stack: semver::Version,
    lock: Option<Arc<VersionLock>>,
    tables: Arc<Tables>,
    /// detection-rules' `threat_mapping_version` when pinned (`"18"` keeps the baseline).
    threat_mapping_version: Option<String>,
    /// `beats_schemas/` beside the stack schema map, and the map's stack → beats version rows.
    beats_dir: Option<PathBuf>,
    stack_beats: Vec<(semver::Version, String)>,
    /// `endgame_schemas/` beside the stack schema map, and the map's stack → endgame version rows.
    endgame_dir: Option<PathBuf>,
    stack_endgame: Vec<(semver::Version, String)>,
    /// The stacks of the stack schema map (those packages are still built for).
    supported_stacks: Vec<semver::Version>,
    /// Beats schema files read so far, by path (read on first use).
    beats_cache: Arc<std::sync::Mutex<std::collections::HashMap<PathBuf, Arc<beats::BeatsSchema>>>>,
    /// Endgame schema files read so far, by path.
    endgame_cache: Arc<std::sync::Mutex<std::collections::HashMap<PathBuf, Arc<FieldTypes>>>>,
}

/// Field name → type.
type FieldTypes = std::collections::HashMap<String, String>;

const DEFAULT_PACKAGE_STACK: &str = "9.6";
const DEFAULT_LOWEST_SUPPORTED_STACK: &str = "8.19.0";

fn builtin_tables() -> Arc<Tables> {
    static TABLES: OnceLock<Arc<Tables>> = OnceLock::new();
    TABLES
        .get_or_init(|| Arc::new(Tables::builtin().clone()))
        .clone()
}

impl ExportContext {
    /// Built-in tables only (what ships in the binary), package stack 9.6, no version lock.
    pub fn builtin() -> Self {
        ExportContext {
            package_stack: DEFAULT_PACKAGE_STACK.to_string(),
            stack: semver::Version::new(9, 6, 0),
            lowest_supported_stack: semver::Version::new(8, 19, 0),
            lock: None,
            tables: builtin_tables(),
            threat_mapping_version: None,
            beats_dir: None,
            stack_beats: Vec::new(),
            endgame_dir: None,
            stack_endgame: Vec::new(),
            supported_stacks: Vec::new(),
            beats_cache: Arc::default(),
            endgame_cache: Arc::default(),
        }
        .checked_defaults()
    }

    fn checked_defaults(mut self) -> Self {
        if let Some(v) = semver::Version::parse(DEFAULT_LOWEST_SUPPORTED_STACK) {
            self.lowest_supported_stack = v;
        }
        self
    }

    /// Adds a detection-rules `etc/` directory: `version.lock.json` (required), and when present
    /// `packages.yaml` (package stack name) and `stack-schema-map.yaml` (lowest supported stack).
    pub fn with_etc_dir(self, dir: &Path) -> Result<Self, ExportError> {
        let packages = dir.join("packages.yaml");
        let stack = crate::layout::package_stack(&packages);
        let mut ctx = self.with_data_files(
            Some(&dir.join("version.lock.json")),
            &dir.join("stack-schema-map.yaml"),
        )?;
        if let Some(name) = stack {
            ctx = ctx.with_package_stack(&name)?;
        }
        Ok(ctx)
    }

    /// Adds the version lock (`None`: versions come from the rule files, as with detection-rules'
    /// `bypass_version_lock`) and, when the file exists, the stack schema map (lowest supported
    /// stack).
    pub fn with_data_files(
        mut self,
        version_lock: Option<&Path>,
        stack_schema_map: &Path,
    ) -> Result<Self, ExportError> {
        if let Some(lock_path) = version_lock {
            let text = std::fs::read_to_string(lock_path).map_err(|source| ExportError::Io {
                path: lock_path.to_path_buf(),
                source,
            })?;
            let json: Value =
                serde_json::from_str(&text).map_err(|e| ExportError::InvalidFile {
                    path: lock_path.to_path_buf(),
                    message: e.to_string(),
                })?;
            let lock =
                VersionLock::from_json(&json).map_err(|message| ExportError::InvalidFile {
                    path: lock_path.to_path_buf(),
                    message,
                })?;
            self.lock = Some(Arc::new(lock));
        }
        if let Ok(text) = std::fs::read_to_string(stack_schema_map) {
            self.supported_stacks = yaml_stack_keys(&text);
            if let Some(lowest) = self.supported_stacks.iter().min() {
                self.lowest_supported_stack = lowest.clone();
            }
            self.stack_beats = stack_schema_versions(&text, "beats");
            self.beats_dir = stack_schema_map.parent().map(|d| d.join("beats_schemas"));
            self.stack_endgame = stack_schema_versions(&text, "endgame");
            self.endgame_dir = stack_schema_map.parent().map(|d| d.join("endgame_schemas"));
        }
        Ok(self)
    }

    /// The Beats schema of the package stack (`beats_schemas/v<beats version>.json.gz`), when
    /// the stack schema map names one and the file exists.
    fn beats_schema(&self) -> Result<Option<Arc<beats::BeatsSchema>>, ExportError> {
        let (Some(dir), Some(version)) = (&self.beats_dir, self.schema_version(&self.stack_beats))
        else {
            return Ok(None);
        };
        cached_schema(
            &self.beats_cache,
            dir.join(format!("v{version}.json.gz")),
            beats::BeatsSchema::load,
        )
    }

    /// The endgame schema of the package stack
    /// (`endgame_schemas/<endgame version>/endgame_ecs_mapping.json.gz`), when the stack schema
    /// map names one and the file exists.
    fn endgame_schema(&self) -> Result<Option<Arc<FieldTypes>>, ExportError> {
        let (Some(dir), Some(version)) =
            (&self.endgame_dir, self.schema_version(&self.stack_endgame))
        else {
            return Ok(None);
        };
        cached_schema(
            &self.endgame_cache,
            dir.join(version).join("endgame_ecs_mapping.json.gz"),
            endgame::load,
        )
    }

    /// The schema version of the highest stack schema map row at or below the package stack.
    fn schema_version<'a>(&self, rows: &'a [(semver::Version, String)]) -> Option<&'a str> {
        rows.iter()
            .filter(|(v, _)| *v <= self.stack)
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, version)| version.as_str())
    }

    /// Sets the package stack (e.g. `"9.6"`). The built-in ECS and integration field tables are
    /// those of stack 9.6 whatever the stack.
    pub fn with_package_stack(mut self, stack: &str) -> Result<Self, ExportError> {
        let v = semver::Version::parse(stack)
            .ok_or_else(|| ExportError::InvalidStack(stack.to_string()))?;
        self.package_stack = stack.to_string();
        self.stack = v;
        Ok(self)
    }

    /// Pins the ATT&CK mapping version (`_config.yaml` `threat_mapping_version`).
    pub fn with_threat_mapping_version(mut self, version: Option<&str>) -> Self {
        self.threat_mapping_version = version.map(str::to_string);
        self
    }

    /// Uses a version lock given as its JSON value.
    pub fn with_version_lock(mut self, lock: VersionLock) -> Self {
        self.lock = Some(Arc::new(lock));
        self
    }

    /// The stacks of the stack schema map (empty without one).
    pub fn supported_stacks(&self) -> &[semver::Version] {
        &self.supported_stacks
    }

    pub fn package_stack(&self) -> &str {
        &self.package_stack
    }

    pub fn version_lock(&self) -> Option<&VersionLock> {
        self.lock.as_deref()
    }

    /// The lowest stack of `stack-schema-map.yaml` (8.19.0 built in).
    pub fn lowest_supported_stack(&self) -> &semver::Version {
        &self.lowest_supported_stack
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }
}

/// A schema file loaded once per export run and shared between rules (the exporter is cloned
/// across threads, the cache with it); `None` when the file does not exist.
fn cached_schema<T>(
    cache: &std::sync::Mutex<std::collections::HashMap<PathBuf, Arc<T>>>,
    path: PathBuf,
    load: impl FnOnce(&Path) -> Result<T, ExportError>,
) -> Result<Option<Arc<T>>, ExportError> {
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(s) = cache.get(&path) {
        return Ok(Some(s.clone()));
    }
    if !path.is_file() {
        return Ok(None);
    }
    let schema = Arc::new(load(&path)?);
    cache.insert(path, schema.clone());
    Ok(Some(schema))
}

/// The `key` (`beats`, `endgame`) version of each stack of `stack-schema-map.yaml`.
fn stack_schema_versions(text: &str, key: &str) -> Vec<(semver::Version, String)> {
    let Ok(yaml_serde::Value::Mapping(map)) = yaml_serde::from_str::<yaml_serde::Value>(text)
    else {
        return Vec::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let stack = semver::Version::parse(k.as_str()?)?;
            let version = v.get(key)?.as_str()?.to_string();
            Some((stack, version))
        })
        .collect()
}

/// The uncommented top-level keys of `stack-schema-map.yaml` (`"9.6.0":`).
fn yaml_stack_keys(text: &str) -> Vec<semver::Version> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '#', '\t']) && l.trim_end().ends_with(':'))
        .filter_map(|l| {
            semver::Version::parse(l.trim_end().trim_end_matches(':').trim_matches(['"', '\'']))
        })
        .collect()
}

/// What the caller's query parser knows about the query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryFacts {
    /// Field names the query references; `None` when unknown (then no `required_fields`).
    pub fields: Option<Vec<String>>,
    /// `event.dataset` / `data_stream.dataset` values compared in the query; `None` to let the
    /// exporter scan the query text ([`scan_datasets`]).
    pub datasets: Option<Vec<String>>,
}

/// A rule's export with the intermediate forms the version lock works on.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The Kibana API object (emit transforms applied, `version` set).
    pub api: Value,
    /// The baseline object: no emit transforms, no `version`.
    pub baseline: Value,
    pub hashes: RuleHashes,
    pub version: u64,
    pub version_source: VersionSource,
}

/// `file` is the whole rule TOML converted to JSON. `query_fields` are the field names the
/// rule's query references (`None` when unknown: `required_fields` is then omitted). Returns the
/// Kibana API object (upstream `to_api_format` + version).
pub fn rule_to_api(
    file: &Value,
    query_fields: Option<&[String]>,
    ctx: &ExportContext,
) -> Result<Value, ExportError> {
    let facts = QueryFacts {
        fields: query_fields.map(<[String]>::to_vec),
        datasets: None,
    };
    export_rule(file, &facts, ctx).map(|e| e.api)
}

/// [`rule_to_api`] with everything the caller's parser knows.
pub fn rule_to_api_with(
    file: &Value,
    facts: &QueryFacts,
    ctx: &ExportContext,
) -> Result<Value, ExportError> {
    export_rule(file, facts, ctx).map(|e| e.api)
}

/// Python `json.dumps(obj, sort_keys=True)` byte-for-byte.
pub fn to_python_json(v: &Value) -> String {
    pyjson::to_python_json(v)
}

/// Several rules → NDJSON text (one line each, trailing newline; empty text for no rules).
pub fn to_ndjson(objects: &[Value]) -> String {
    let mut out = String::new();
    for o in objects {
        out.push_str(&to_python_json(o));
        out.push('\n');
    }
    out
}

/// Content hash (`rule-format.md` §12) of an API object built without `version` and without the
/// stack emit transforms: `related_integrations` (and `version`, if present) removed, and
/// `required_fields` removed for an ES|QL rule whose first `| keep` lists `*` or a `…*` field;
/// then SHA-256 of the Base64 of the Python serialisation.
pub fn content_hash(api_without_version: &Value) -> String {
    let mut v = api_without_version.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("related_integrations");
        map.remove("version");
        let is_esql = map.get("type").and_then(Value::as_str) == Some("esql");
        if is_esql
            && map
                .get("query")
                .and_then(Value::as_str)
                .is_some_and(esql_keep_has_wildcard)
        {
            map.remove("required_fields");
        }
    }
    pyjson::dict_hash(&v)
}

/// [`content_hash`] with `related_integrations` kept (the lock's second accepted form).
pub fn content_hash_with_integrations(api_without_version: &Value) -> String {
    let mut v = api_without_version.clone();
    let integrations = v
        .as_object_mut()
        .and_then(|m| m.remove("related_integrations"));
    let mut base = v;
    if let Some(map) = base.as_object_mut() {
        map.remove("version");
        if map.get("type").and_then(Value::as_str) == Some("esql")
            && map
                .get("query")
                .and_then(Value::as_str)
                .is_some_and(esql_keep_has_wildcard)
        {
            map.remove("required_fields");
        }
        if let Some(ri) = integrations {
            map.insert("related_integrations".into(), ri);
        }
    }
    pyjson::dict_hash(&base)
}

/// Whether the first `| keep` of an ES|QL query lists `*` or a field ending in `*`.
fn esql_keep_has_wildcard(query: &str) -> bool {
    let lower = query.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while let Some(p) = lower[i..].find('|') {
        let start = i + p + 1;
        let rest = lower[start..].trim_start();
        let off = lower.len() - rest.len();
        if rest.starts_with("keep")
            && !rest[4..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            let body_start = off + 4;
            let body_end = lower[body_start..]
                .find('|')
                .map_or(lower.len(), |e| body_start + e);
            let _ = bytes;
            return query[body_start..body_end]
                .split(',')
                .map(str::trim)
                .any(|f| f == "*" || f.ends_with('*'));
        }
        i = start;
    }
    false
}

fn rule_label(rule: &Map<String, Value>) -> String {
    rule.get("rule_id")
        .and_then(Value::as_str)
        .or_else(|| rule.get("name").and_then(Value::as_str))
        .unwrap_or("<unnamed>")
        .to_string()
}

fn metadata_integrations(meta: Option<&Value>) -> Vec<String> {
    match meta.and_then(|m| m.get("integration")) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn validate(rule: &Map<String, Value>, label: &str) -> Result<String, ExportError> {
    let missing = |field: &str| ExportError::MissingField {
        rule: label.to_string(),
        field: field.to_string(),
    };
    let invalid = |field: &str, reason: &str| ExportError::InvalidField {
        rule: label.to_string(),
        field: field.to_string(),
        reason: reason.to_string(),
    };
    let rule_type = match rule.get("type") {
        None => return Err(missing("type")),
        Some(Value::String(t)) => t.clone(),
        Some(_) => return Err(invalid("type", "must be a string")),
    };
    if !RULE_TYPES.contains(&rule_type.as_str()) {
        return Err(ExportError::UnknownRuleType {
            rule: label.to_string(),
            rule_type,
        });
    }
    let expect = |field: &str, ok: fn(&Value) -> bool, what: &str| match rule.get(field) {
        None => Err(missing(field)),
        Some(v) if ok(v) => Ok(()),
        Some(_) => Err(invalid(field, what)),
    };
    let is_str = |v: &Value| v.is_string();
    let is_array = |v: &Value| v.is_array();
    let is_int = |v: &Value| v.is_i64() || v.is_u64();
    let is_obj = |v: &Value| v.is_object();
    expect("rule_id", is_str, "must be a string")?;
    expect("name", is_str, "must be a string")?;
    expect("description", is_str, "must be a string")?;
    expect("author", is_array, "must be an array of strings")?;
    expect("risk_score", is_int, "must be an integer")?;
    expect("severity", is_str, "must be a string")?;
    if rule_type == "machine_learning" {
        expect("anomaly_threshold", is_int, "must be an integer")?;
        expect(
            "machine_learning_job_id",
            |v| v.is_string() || v.is_array(),
            "must be a string or an array of strings",
        )?;
        return Ok(rule_type);
    }
    expect("query", is_str, "must be a string")?;
    expect("language", is_str, "must be a string")?;
    match rule_type.as_str() {
        "threshold" => {
            expect("threshold", is_obj, "must be a table")?;
        }
        "new_terms" => {
            expect("new_terms", is_obj, "must be a table")?;
            let nt = rule.get("new_terms").unwrap_or(&Value::Null);
            if !nt.get("value").is_some_and(Value::is_array) {
                return Err(invalid("new_terms", "needs a `value` array"));
            }
            if !nt.get("field").is_some_and(Value::is_string) {
                return Err(invalid("new_terms", "needs a `field` string"));
            }
            let window = nt
                .get("history_window_start")
                .and_then(Value::as_array)
                .and_then(|w| w.first())
                .and_then(|w| w.get("value"));
            if window.is_none() {
                return Err(invalid(
                    "new_terms",
                    "needs a `history_window_start` entry with a `value`",
                ));
            }
        }
        "threat_match" => {
            expect("threat_index", is_array, "must be an array of strings")?;
            expect("threat_mapping", is_array, "must be an array of tables")?;
        }
        _ => {}
    }
    Ok(rule_type)
}

/// `actions[]` without `frequency.throttle` (other than `.cases` / `.workflows`) get
/// `frequency.throttle = null`.
fn add_known_nulls(rule: &mut Map<String, Value>) {
    let Some(Value::Array(actions)) = rule.get_mut("actions") else {
        return;
    };
    for action in actions.iter_mut() {
        let Value::Object(a) = action else { continue };
        let type_id = a.get("action_type_id").and_then(Value::as_str);
        if matches!(type_id, Some(".cases") | Some(".workflows")) {
            continue;
        }
        let freq = a
            .entry("frequency")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(f) = freq {
            f.entry("throttle").or_insert(Value::Null);
        }
    }
}

/// Full export of one rule (API object, baseline, hashes, version).
pub fn export_rule(
    file: &Value,
    facts: &QueryFacts,
    ctx: &ExportContext,
) -> Result<Exported, ExportError> {
    let rule_in = file
        .get("rule")
        .and_then(Value::as_object)
        .ok_or(ExportError::NotARuleFile)?;
    let metadata = file.get("metadata");
    let label = rule_label(rule_in);

    // 1. The [rule] table, absent values dropped.
    let mut rule_value = Value::Object(rule_in.clone());
    normalize::strip_nulls(&mut rule_value);
    let Value::Object(mut rule) = rule_value else {
        return Err(ExportError::NotARuleFile);
    };
    let rule_type = validate(&rule, &label)?;
    let toml_version = rule.remove("version").and_then(|v| v.as_u64());

    // 3. Transform plugins into the note.
    if let Some(transform) = file.get("transform").filter(|t| t.is_object()) {
        if let Some(Value::String(note)) = rule.get("note") {
            if !note.is_empty() {
                let rendered = transform::apply_note_transform(note, transform);
                rule.insert("note".into(), Value::String(rendered));
            }
        }
    }

    // 4. Known nulls.
    add_known_nulls(&mut rule);

    // 2. Whitespace normalisation.
    let mut rule_value = Value::Object(rule);
    normalize::nested_normalize(&mut rule_value, false);
    let Value::Object(mut rule) = rule_value else {
        return Err(ExportError::NotARuleFile);
    };

    // 5. threat_mappings removed (kept for the emit transform); technique defaults.
    let threat_mappings = rule.remove("threat_mappings");
    if let Some(Value::Array(threat)) = rule.get_mut("threat") {
        for entry in threat.iter_mut() {
            if let Value::Object(e) = entry {
                e.entry("technique")
                    .or_insert_with(|| Value::Array(Vec::new()));
            }
        }
    }

    // 6. Build-time fields.
    let language = rule
        .get("language")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let query = rule
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let datasets = match &facts.datasets {
        Some(d) => d.clone(),
        None => scan_datasets(&query, &language),
    };
    let is_ml = rule_type == "machine_learning";
    let query_family = !is_ml;

    // An authored list (even empty) is kept. Otherwise rows come from metadata.integration and
    // the query datasets; the key is set (possibly to []) whenever there was a candidate row.
    let meta_integrations = metadata_integrations(metadata);
    if !rule.contains_key("related_integrations")
        && !meta_integrations.is_empty()
        && ((query_family && language != "lucene") || is_ml)
    {
        let candidates =
            integrations::candidates(&meta_integrations, &rule_type, &datasets, &ctx.tables);
        if !candidates.is_empty() {
            let rows =
                integrations::resolve(&candidates, &ctx.tables, &ctx.stack).map_err(|package| {
                    ExportError::UnknownPackage {
                        rule: label.clone(),
                        package,
                    }
                })?;
            rule.insert("related_integrations".into(), Value::Array(rows));
        }
    }

    if query_family
        && language != "lucene"
        && rule_type != "esql"
        && !rule.contains_key("required_fields")
    {
        if let Some(fields) = &facts.fields {
            let beats = rule_beats_schema(&rule, &query, &language, ctx)?;
            let endgame = rule_endgame_schema(&rule, ctx)?;
            let sources = fields::FieldSources {
                beats: beats.as_ref(),
                endgame: endgame.as_deref(),
            };
            let entries = fields::required_fields(fields, &datasets, &ctx.tables, sources);
            if !entries.is_empty() {
                rule.insert("required_fields".into(), Value::Array(entries));
            }
        }
    }

    // Upstream moves the section when `setup` is absent or empty.
    let setup_absent = match rule.get("setup") {
        None => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    };
    if setup_absent {
        if let Some(Value::String(note)) = rule.get("note") {
            if let Some((guide, setup)) = setup::split_setup(note) {
                rule.insert("note".into(), Value::String(guide));
                rule.insert("setup".into(), Value::String(setup));
            }
        }
    }

    // 9. Type transform.
    if rule_type == "new_terms" {
        if let Some(Value::Object(nt)) = rule.remove("new_terms") {
            let key = nt
                .get("field")
                .and_then(Value::as_str)
                .unwrap_or("new_terms_fields")
                .to_string();
            let value = nt.get("value").cloned().unwrap_or(Value::Null);
            let window = nt
                .get("history_window_start")
                .and_then(Value::as_array)
                .and_then(|w| w.first())
                .and_then(|w| w.get("value"))
                .cloned()
                .unwrap_or(Value::Null);
            rule.insert(key, value);
            rule.insert("history_window_start".into(), window);
        }
    }

    let baseline = Value::Object(rule);

    // 7. Stack emit transforms.
    let mut emitted = baseline.clone();
    apply_emit_transforms(&mut emitted, threat_mappings.as_ref(), ctx);

    let hashes = RuleHashes {
        baseline: content_hash(&baseline),
        baseline_with_integrations: content_hash_with_integrations(&baseline),
        emitted: content_hash_with_integrations(&emitted),
    };

    // 11. Version.
    let rule_id = baseline
        .get("rule_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (version, version_source) = match ctx.lock.as_deref() {
        None => (toml_version.unwrap_or(1), VersionSource::New),
        Some(lock) => {
            let rule_min = metadata
                .and_then(|m| m.get("min_stack_version"))
                .and_then(Value::as_str);
            let supported = version::supported_stack(rule_min, &ctx.lowest_supported_stack);
            version::compute_version(lock.get(rule_id), &supported, &hashes, &ctx.stack)
        }
    };
    let mut api = emitted;
    if let Value::Object(m) = &mut api {
        m.insert("version".into(), Value::from(version));
    }
    Ok(Exported {
        api,
        baseline,
        hashes,
        version,
        version_source,
    })
}

/// The endgame schema of a rule whose `index` lists `endgame-*`.
fn rule_endgame_schema(
    rule: &Map<String, Value>,
    ctx: &ExportContext,
) -> Result<Option<Arc<FieldTypes>>, ExportError> {
    let reads_endgame = rule
        .get("index")
        .and_then(Value::as_array)
        .is_some_and(|index| index.iter().any(|i| i == endgame::ENDGAME_INDEX));
    if !reads_endgame {
        return Ok(None);
    }
    ctx.endgame_schema()
}

/// The Beats schema of a rule reading `*beat-*` indices (see `beats`).
fn rule_beats_schema(
    rule: &Map<String, Value>,
    query: &str,
    language: &str,
    ctx: &ExportContext,
) -> Result<Option<std::collections::HashMap<String, String>>, ExportError> {
    let index: Vec<String> = rule
        .get("index")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let beats = beats::beats_of(&index);
    if beats.is_empty() {
        return Ok(None);
    }
    let Some(schema) = ctx.beats_schema()? else {
        return Ok(None);
    };
    let (modules, datasets) = if language == "kuery" {
        (
            datasets::scan_kql_fields(query, &["event.module"]),
            datasets::scan_kql_fields(query, &["event.dataset"]),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Some(schema.rule_schema(&beats, &modules, &datasets)))
}

/// `kibana-export.md` §5 for `stack`: `mitre_attack_v19` (only an explicit `threat_mappings`
/// block for ATT&CK 19 is applied, with the `Tactic:` tag rewrite; the v18→v19 conversion needs
/// ATT&CK v19 data that is not shipped) and `related_integrations_gte`.
fn apply_emit_transforms(obj: &mut Value, threat_mappings: Option<&Value>, ctx: &ExportContext) {
    let Value::Object(map) = obj else { return };
    if ctx.stack < semver::Version::new(9, 5, 0) {
        return;
    }
    // A pinned mapping version other than 19 keeps the baseline (no auto-promotion).
    if ctx
        .threat_mapping_version
        .as_deref()
        .is_none_or(|v| v == "19")
    {
        mitre_attack_v19(map, threat_mappings);
    }
    if let Some(Value::Array(rows)) = map.get_mut("related_integrations") {
        for row in rows.iter_mut() {
            if let Some(Value::String(v)) = row.get_mut("version") {
                if let Some(rest) = v.strip_prefix('^') {
                    *v = format!(">={rest}");
                }
            }
        }
    }
}

/// The `mitre_attack_v19` emit transform: an explicit v19 `threat_mappings` block replaces
/// `threat`; the `Tactic:` tags follow the emitted mapping.
fn mitre_attack_v19(map: &mut Map<String, Value>, threat_mappings: Option<&Value>) {
    let selected = threat_mappings
        .and_then(Value::as_array)
        .and_then(|blocks| {
            blocks.iter().find(|b| {
                b.get("framework").and_then(Value::as_str) == Some("MITRE ATT&CK")
                    && match b.get("version") {
                        Some(Value::String(s)) => s == "19",
                        Some(Value::Number(n)) => n.as_u64() == Some(19),
                        _ => false,
                    }
            })
        });
    let baseline_threat = map
        .get("threat")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    // Without v19 data the conversion of the baseline yields nothing, so the baseline mapping
    // is emitted; the `Tactic:` tag rewrite still runs (it then only adds missing tags).
    let emitted = match selected {
        Some(block) => block
            .get("threat")
            .cloned()
            .unwrap_or(Value::Array(Vec::new())),
        None => baseline_threat.clone(),
    };
    let tags = map.get("tags").cloned();
    let rewritten = rewrite_tactic_tags(tags.as_ref(), &baseline_threat, &emitted);
    if selected.is_some() {
        map.insert("threat".into(), emitted);
    }
    if tags.is_some() || rewritten.as_array().is_some_and(|t| !t.is_empty()) {
        map.insert("tags".into(), rewritten);
    }
}

fn tactic_names(threat: &Value) -> Vec<String> {
    let mut names: Vec<String> = threat
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("tactic")?.get("name")?.as_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Drop `Tactic:` tags of baseline tactics missing from the emitted mapping; append tags for
/// emitted tactics (sorted) that are missing.
fn rewrite_tactic_tags(tags: Option<&Value>, baseline: &Value, emitted: &Value) -> Value {
    let baseline_names = tactic_names(baseline);
    let emitted_names = tactic_names(emitted);
    let mut kept: Vec<Value> = Vec::new();
    for tag in tags.and_then(Value::as_array).into_iter().flatten() {
        if let Some(name) = tag.as_str().and_then(|t| t.strip_prefix("Tactic: ")) {
            if baseline_names.iter().any(|n| n == name) && !emitted_names.iter().any(|n| n == name)
            {
                continue;
            }
        }
        kept.push(tag.clone());
    }
    for name in emitted_names {
        let tag = Value::String(format!("Tactic: {name}"));
        if !kept.contains(&tag) {
            kept.push(tag);
        }
    }
    Value::Array(kept)
}

/// Fleet stub for a deprecated rule that is in the lock (`kibana-export.md` §7, stacks ≥ 9.4):
/// `{rule_id, version: locked + 1, name, deprecated: true, deprecated_reason?}`.
pub fn deprecated_stub(file: &Value, ctx: &ExportContext) -> Result<Value, ExportError> {
    let rule = file
        .get("rule")
        .and_then(Value::as_object)
        .ok_or(ExportError::NotARuleFile)?;
    let label = rule_label(rule);
    let rule_id =
        rule.get("rule_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ExportError::MissingField {
                rule: label.clone(),
                field: "rule_id".into(),
            })?;
    let name =
        rule.get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| ExportError::MissingField {
                rule: label.clone(),
                field: "name".into(),
            })?;
    let entry = ctx
        .lock
        .as_deref()
        .and_then(|l| l.get(rule_id))
        .ok_or_else(|| ExportError::DeprecatedNotLocked {
            rule: label.clone(),
        })?;
    let mut m = Map::new();
    m.insert("deprecated".into(), Value::Bool(true));
    m.insert("name".into(), Value::String(name.to_string()));
    m.insert("rule_id".into(), Value::String(rule_id.to_string()));
    m.insert("version".into(), Value::from(entry.top.version + 1));
    if ctx.stack >= semver::Version::new(9, 4, 0) {
        if let Some(reason) = file
            .get("metadata")
            .and_then(|md| md.get("deprecated_reason"))
            .and_then(Value::as_str)
        {
            m.insert(
                "deprecated_reason".into(),
                Value::String(reason.to_string()),
            );
        }
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests;
