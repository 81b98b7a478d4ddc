//! Field types from an Elasticsearch index mapping, which decide comparison rules (§10).

use super::error::{EqlError, EqlErrorKind};
use serde_json::Value;
use std::collections::HashMap;

/// The type of a field as far as EQL semantics care.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// keyword, constant_keyword, wildcard: exact strings.
    Keyword,
    /// text: only usable through an exact sub-field (`None` when there is none).
    Text {
        exact: Option<String>,
    },
    /// Integer types (long, integer, short, byte, unsigned_long).
    Integer,
    /// Floating types (double, float, half_float, scaled_float).
    Float,
    Boolean,
    /// date / date_nanos, with their `format` (`None` = the default).
    Date {
        format: Option<String>,
    },
    Ip,
    Version,
    /// object: not a value.
    Object,
    /// nested, geo_point, range types…: rejected by EQL.
    Unsupported(String),
}

impl FieldType {
    pub fn is_string(&self) -> bool {
        matches!(
            self,
            FieldType::Keyword | FieldType::Text { .. } | FieldType::Version
        )
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, FieldType::Integer | FieldType::Float)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    /// Where the value lives in `_source` (the alias target for an alias).
    pub source: String,
    pub ty: FieldType,
    /// Keyword `ignore_above` (for a text field: its exact sub-field's): longer strings are not
    /// indexed, so no query matches them and scripts see no value.
    pub ignore_above: Option<usize>,
    /// A keyword with the `lowercase` normalizer (for a text field: its exact sub-field's), as
    /// Elastic's ECS `*.caseless` multi-fields: doc values are lower-cased and term-level
    /// queries normalize their terms, so `==` is case-insensitive.
    pub lowercase: bool,
}

/// An object's `dynamic` setting: what indexing does with a field the mapping does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dynamic {
    /// Map it (strings as text + `.keyword`, integers as long, …); the default.
    #[default]
    True,
    /// Keep it in `_source` only: not searchable, so EQL reports it as an unknown column.
    False,
    /// Reject the document.
    Strict,
    /// Map it as a runtime field (strings as keyword, no text).
    Runtime,
}

impl Dynamic {
    fn parse(v: &Value, at: &str) -> Result<Dynamic, EqlError> {
        match v {
            Value::Bool(true) => Ok(Dynamic::True),
            Value::Bool(false) => Ok(Dynamic::False),
            Value::String(s) => match s.as_str() {
                "true" => Ok(Dynamic::True),
                "false" => Ok(Dynamic::False),
                "strict" => Ok(Dynamic::Strict),
                "runtime" => Ok(Dynamic::Runtime),
                other => Err(mapping_err(format!(
                    "unknown `dynamic` value [{other}] at [{at}] (true, false, strict or runtime)"
                ))),
            },
            other => Err(mapping_err(format!(
                "unknown `dynamic` value [{other}] at [{at}] (true, false, strict or runtime)"
            ))),
        }
    }
}

fn mapping_err(message: String) -> EqlError {
    EqlError::new(EqlErrorKind::Mapping, message, 0..0)
}

/// The root-level settings of dynamic mapping.
#[derive(Debug, Clone, PartialEq)]
struct DynamicSettings {
    /// `dynamic` per object path (`""` = the root); objects inherit their parent's.
    dynamic: HashMap<String, Dynamic>,
    date_detection: bool,
    numeric_detection: bool,
    date_formats: Vec<String>,
}

/// Elasticsearch's default `dynamic_date_formats`.
const DEFAULT_DYNAMIC_DATE_FORMATS: [&str; 2] = [
    "strict_date_optional_time",
    "yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z",
];

impl Default for DynamicSettings {
    fn default() -> Self {
        DynamicSettings {
            dynamic: HashMap::new(),
            date_detection: true,
            numeric_detection: false,
            date_formats: DEFAULT_DYNAMIC_DATE_FORMATS.map(str::to_string).to_vec(),
        }
    }
}

/// Field name → type, flattened to dotted names, aliases resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    fields: HashMap<String, FieldInfo>,
    settings: DynamicSettings,
}

impl Mapping {
    /// Reads `{"properties": …}`, `{"mappings": {"properties": …}}` or
    /// `{"<index>": {"mappings": …}}` (the shape `GET <index>/_mapping` returns).
    pub fn from_es_mapping_json(v: &Value) -> Result<Mapping, EqlError> {
        let props = find_properties(v).ok_or_else(|| {
            EqlError::new(EqlErrorKind::Mapping, "no `properties` in mapping", 0..0)
        })?;
        let mut raw = Vec::new();
        let mut m = Mapping::default();
        collect(props, "", &mut raw, &mut m.settings.dynamic)?;
        if let Some(root) = find_root(v) {
            m.settings.read_root(root)?;
            // Runtime fields shadow indexed fields of the same name.
            collect_runtime(root, &mut raw);
        }
        let aliases: Vec<(String, String)> = raw
            .iter()
            .filter_map(|(n, t)| match t {
                Raw::Alias(p) => Some((n.clone(), p.clone())),
                _ => None,
            })
            .collect();
        for (name, r) in &raw {
            let (ty, source, ignore_above, lowercase) = match r {
                Raw::Type(ty, ia, lc) => (ty, name, *ia, *lc),
                Raw::Sub(ty, parent, ia, lc) => (ty, parent, *ia, *lc),
                Raw::Alias(_) => continue,
            };
            m.fields.insert(
                name.clone(),
                FieldInfo {
                    source: source.clone(),
                    ty: ty.clone(),
                    ignore_above,
                    lowercase,
                },
            );
        }
        for (name, info) in &m.fields {
            if let FieldType::Date { format: Some(f) } = &info.ty {
                super::date::check_format(f).map_err(|e| mapping_err(format!("[{name}]: {e}")))?;
            }
        }
        for f in &m.settings.date_formats {
            super::date::check_format(f)
                .map_err(|e| mapping_err(format!("dynamic_date_formats: {e}")))?;
        }
        for (name, path) in aliases {
            let target = m.fields.get(&path).cloned().ok_or_else(|| {
                EqlError::new(
                    EqlErrorKind::Mapping,
                    format!("alias [{name}] points to unknown field [{path}]"),
                    0..0,
                )
            })?;
            m.fields.insert(name, target);
        }
        Ok(m)
    }

    /// Merges another index's mapping, as one search over several indices sees them: fields
    /// are united; a date field with different formats accepts all of them.
    pub fn merge(&mut self, other: &Mapping) {
        for (path, d) in &other.settings.dynamic {
            self.settings.dynamic.entry(path.clone()).or_insert(*d);
        }
        for (name, info) in &other.fields {
            match self.fields.get_mut(name) {
                None => {
                    self.fields.insert(name.clone(), info.clone());
                }
                Some(mine) => {
                    if let (FieldType::Date { format: a }, FieldType::Date { format: b }) =
                        (&mut mine.ty, &info.ty)
                    {
                        if a != b {
                            let fa = a
                                .clone()
                                .unwrap_or_else(|| super::date::DEFAULT_FORMAT.into());
                            let fb = b
                                .clone()
                                .unwrap_or_else(|| super::date::DEFAULT_FORMAT.into());
                            *a = Some(format!("{fa}||{fb}"));
                        }
                    }
                }
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.get(name)
    }

    pub fn insert(&mut self, name: &str, ty: FieldType) {
        self.fields.insert(
            name.to_string(),
            FieldInfo {
                source: name.to_string(),
                ty,
                ignore_above: None,
                lowercase: false,
            },
        );
    }

    /// Adds the fields Elasticsearch's dynamic mapping would create when indexing `events`
    /// in order (the first non-null value of a field decides its type), honouring `dynamic`
    /// (`true`, `false`, `strict`, `runtime`, inherited by sub-objects), `date_detection`,
    /// `dynamic_date_formats` and `numeric_detection`. With `dynamic: true` strings become
    /// `text` with a `.keyword` sub-field (`ignore_above` 256), integers `long`, other numbers
    /// `float`; with `runtime` strings become `keyword` and other numbers `double`. Fields
    /// already mapped are kept. A `strict` object meeting an unmapped field is an error (the
    /// document would be rejected), naming the event (0-based index) and the field.
    pub fn add_dynamic(&mut self, events: &[Value]) -> Result<(), EqlError> {
        for (i, e) in events.iter().enumerate() {
            self.add_dynamic_event(e).map_err(|mut err| {
                err.message = format!("event {i}: {}", err.message);
                err
            })?;
        }
        Ok(())
    }

    /// [`Mapping::add_dynamic`] for one event (the caller says where it came from on error).
    pub fn add_dynamic_event(&mut self, event: &Value) -> Result<(), EqlError> {
        self.dynamic_walk(event, "")
    }

    /// The `dynamic` setting in force for fields directly inside the object at `path`.
    fn dynamic_at(&self, path: &str) -> Dynamic {
        let mut p = path;
        loop {
            if let Some(d) = self.settings.dynamic.get(p) {
                return *d;
            }
            if p.is_empty() {
                return Dynamic::True;
            }
            p = p.rsplit_once('.').map_or("", |(parent, _)| parent);
        }
    }

    /// May the field `name` (inside the object `parent`) be added? `Ok(None)`: leave it out.
    fn dynamic_for(&self, parent: &str, name: &str) -> Result<Option<Dynamic>, EqlError> {
        match self.dynamic_at(parent) {
            Dynamic::False => Ok(None),
            Dynamic::Strict => Err(mapping_err(format!(
                "field [{name}] is not in the mapping and [{}] has `dynamic: strict`, \
                 so Elasticsearch would reject the document",
                if parent.is_empty() { "_doc" } else { parent }
            ))),
            d => Ok(Some(d)),
        }
    }

    fn dynamic_walk(&mut self, v: &Value, prefix: &str) -> Result<(), EqlError> {
        let parent = prefix.rsplit_once('.').map_or("", |(p, _)| p);
        match v {
            Value::Object(map) => {
                if !prefix.is_empty() {
                    match self.fields.get(prefix).map(|f| &f.ty) {
                        Some(FieldType::Object) => {}
                        // A value field holding an object: not something mapping can fix.
                        Some(_) => return Ok(()),
                        None => match self.dynamic_for(parent, prefix)? {
                            None => return Ok(()),
                            Some(_) => self.insert(prefix, FieldType::Object),
                        },
                    }
                }
                for (k, child) in map {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    self.dynamic_walk(child, &name)?;
                }
            }
            Value::Array(items) => {
                for i in items {
                    self.dynamic_walk(i, prefix)?;
                }
            }
            Value::Null => {}
            scalar => {
                if self.fields.contains_key(prefix) {
                    return Ok(());
                }
                let Some(mode) = self.dynamic_for(parent, prefix)? else {
                    return Ok(());
                };
                let ty = self.dynamic_type(prefix, scalar, mode == Dynamic::Runtime);
                // A text field carries its exact sub-field's `ignore_above`.
                let ignore_above = if let FieldType::Text { exact: Some(sub) } = &ty {
                    self.fields.insert(
                        sub.clone(),
                        FieldInfo {
                            source: prefix.to_string(),
                            ty: FieldType::Keyword,
                            ignore_above: Some(256),
                            lowercase: false,
                        },
                    );
                    Some(256)
                } else {
                    None
                };
                self.fields.insert(
                    prefix.to_string(),
                    FieldInfo {
                        source: prefix.to_string(),
                        ty,
                        ignore_above,
                        lowercase: false,
                    },
                );
            }
        }
        Ok(())
    }

    /// The type dynamic mapping gives a first non-null scalar value.
    fn dynamic_type(&self, name: &str, v: &Value, runtime: bool) -> FieldType {
        match v {
            Value::String(s) => {
                if let Some(format) = self.detect_date(s) {
                    return FieldType::Date { format };
                }
                if self.settings.numeric_detection {
                    if s.parse::<i64>().is_ok() {
                        return FieldType::Integer;
                    }
                    if s.parse::<f64>().is_ok_and(f64::is_finite) {
                        return FieldType::Float;
                    }
                }
                if runtime {
                    FieldType::Keyword
                } else {
                    FieldType::Text {
                        exact: Some(format!("{name}.keyword")),
                    }
                }
            }
            Value::Number(n) if n.is_f64() => FieldType::Float,
            Value::Number(_) => FieldType::Integer,
            _ => FieldType::Boolean,
        }
    }

    /// Date detection as Elasticsearch does it: only strings with more than one `:`, `-` or
    /// `/` are tried, against each of `dynamic_date_formats`; the first that parses becomes
    /// the field's format (`None` for the default `strict_date_optional_time`).
    fn detect_date(&self, s: &str) -> Option<Option<String>> {
        if !self.settings.date_detection {
            return None;
        }
        let count = |c: char| s.chars().filter(|&x| x == c).count();
        if count(':') <= 1 && count('-') <= 1 && count('/') <= 1 {
            return None;
        }
        self.settings
            .date_formats
            .iter()
            .find(|f| super::date::parse_with_format(s, f).is_some())
            .map(|f| (f != "strict_date_optional_time").then(|| f.clone()))
    }
}

impl DynamicSettings {
    /// Reads `dynamic`, `date_detection`, `numeric_detection`, `dynamic_date_formats` from the
    /// mapping's root object.
    fn read_root(&mut self, root: &serde_json::Map<String, Value>) -> Result<(), EqlError> {
        if let Some(d) = root.get("dynamic") {
            self.dynamic
                .insert(String::new(), Dynamic::parse(d, "_doc")?);
        }
        for (key, slot) in [
            ("date_detection", &mut self.date_detection),
            ("numeric_detection", &mut self.numeric_detection),
        ] {
            match root.get(key) {
                None => {}
                Some(Value::Bool(b)) => *slot = *b,
                Some(Value::String(s)) if s == "true" || s == "false" => *slot = s == "true",
                Some(other) => {
                    return Err(mapping_err(format!(
                        "`{key}` must be a boolean, got {other}"
                    )));
                }
            }
        }
        if let Some(f) = root.get("dynamic_date_formats") {
            let formats: Option<Vec<String>> = f
                .as_array()
                .map(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or(None);
            self.date_formats = formats.ok_or_else(|| {
                mapping_err(format!(
                    "`dynamic_date_formats` must be a list of strings, got {f}"
                ))
            })?;
        }
        Ok(())
    }
}

enum Raw {
    /// A field's type, `ignore_above` and whether a `lowercase` normalizer applies.
    Type(FieldType, Option<usize>, bool),
    /// A multi-field: its type, the parent whose `_source` value it indexes, `ignore_above`,
    /// lowercase normalizer.
    Sub(FieldType, String, Option<usize>, bool),
    Alias(String),
}

fn find_properties(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    if let Some(p) = v.get("properties").and_then(Value::as_object) {
        return Some(p);
    }
    if let Some(m) = v.get("mappings") {
        return find_properties(m);
    }
    // `{"index-name": {"mappings": …}}`
    v.as_object()?
        .values()
        .find_map(|x| x.get("mappings").and_then(find_properties))
}

/// The mapping object that holds the root `properties` (and `dynamic`, `runtime`, …).
fn find_root(v: &Value) -> Option<&serde_json::Map<String, Value>> {
    if v.get("properties").is_some_and(Value::is_object) {
        return v.as_object();
    }
    if let Some(m) = v.get("mappings") {
        return find_root(m);
    }
    v.as_object()?
        .values()
        .find_map(|x| x.get("mappings").and_then(find_root))
}

/// The mapping's `runtime` section: runtime fields read from `_source` at query time.
fn collect_runtime(root: &serde_json::Map<String, Value>, out: &mut Vec<(String, Raw)>) {
    let Some(rt) = root.get("runtime").and_then(Value::as_object) else {
        return;
    };
    for (name, def) in rt {
        let t = def.get("type").and_then(Value::as_str).unwrap_or("");
        out.push((name.clone(), Raw::Type(simple_type(t, def), None, false)));
    }
}

fn collect(
    props: &serde_json::Map<String, Value>,
    prefix: &str,
    out: &mut Vec<(String, Raw)>,
    dynamic: &mut HashMap<String, Dynamic>,
) -> Result<(), EqlError> {
    for (k, def) in props {
        let name = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let ty = def.get("type").and_then(Value::as_str);
        let sub = def.get("properties").and_then(Value::as_object);
        match ty {
            None | Some("object") => {
                out.push((name.clone(), Raw::Type(FieldType::Object, None, false)));
                if let Some(d) = def.get("dynamic") {
                    dynamic.insert(name.clone(), Dynamic::parse(d, &name)?);
                }
                // `enabled: false`: the object is kept in `_source` but nothing in it is mapped.
                if def.get("enabled") == Some(&Value::Bool(false)) {
                    dynamic.insert(name.clone(), Dynamic::False);
                    continue;
                }
                if let Some(sub) = sub {
                    collect(sub, &name, out, dynamic)?;
                }
            }
            Some("nested") => {
                // EQL cannot query nested documents: the field and everything under it.
                out.push((
                    name.clone(),
                    Raw::Type(FieldType::Unsupported("nested".into()), None, false),
                ));
                if let Some(sub) = sub {
                    let mut inner = Vec::new();
                    collect(sub, &name, &mut inner, &mut HashMap::new())?;
                    for (n, _) in inner {
                        out.push((
                            n,
                            Raw::Type(FieldType::Unsupported("nested".into()), None, false),
                        ));
                    }
                }
            }
            Some("alias") => {
                let path = def.get("path").and_then(Value::as_str).ok_or_else(|| {
                    EqlError::new(
                        EqlErrorKind::Mapping,
                        format!("alias [{name}] has no path"),
                        0..0,
                    )
                })?;
                out.push((name, Raw::Alias(path.to_string())));
            }
            Some(t) => {
                let fty = simple_type(t, def);
                let mut ignore_above = ignore_above_of(def);
                let mut lowercase = lowercase_of(def, &name)?;
                let mut exact = None;
                if let Some(fields) = def.get("fields").and_then(Value::as_object) {
                    for (sk, sdef) in fields {
                        let st = sdef.get("type").and_then(Value::as_str).unwrap_or("");
                        let sty = simple_type(st, sdef);
                        let sub_ia = ignore_above_of(sdef);
                        let sub_name = format!("{name}.{sk}");
                        let sub_lc = lowercase_of(sdef, &sub_name)?;
                        if sty == FieldType::Keyword && exact.is_none() {
                            exact = Some(sub_name.clone());
                            if matches!(fty, FieldType::Text { .. }) {
                                ignore_above = sub_ia;
                                lowercase = sub_lc;
                            }
                        }
                        out.push((sub_name, Raw::Sub(sty, name.clone(), sub_ia, sub_lc)));
                    }
                }
                let fty = match fty {
                    FieldType::Text { .. } => FieldType::Text { exact },
                    other => other,
                };
                out.push((name, Raw::Type(fty, ignore_above, lowercase)));
            }
        }
    }
    Ok(())
}

fn ignore_above_of(def: &Value) -> Option<usize> {
    def.get("ignore_above")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
}

/// Whether a field's `normalizer` is the built-in `lowercase`. Any other normalizer is defined
/// in index settings ruleforge does not read, so it is refused rather than ignored (ignoring it
/// would make `==` case-sensitive where Elasticsearch's is not).
fn lowercase_of(def: &Value, name: &str) -> Result<bool, EqlError> {
    match def.get("normalizer") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::String(n)) if n == "lowercase" => Ok(true),
        Some(other) => Err(mapping_err(format!(
            "[{name}]: unsupported normalizer [{}] (only the built-in `lowercase` is known without the index settings)",
            other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_string)
        ))),
    }
}

fn simple_type(t: &str, def: &Value) -> FieldType {
    match t {
        "keyword" | "constant_keyword" | "wildcard" => FieldType::Keyword,
        "text" | "match_only_text" => FieldType::Text { exact: None },
        "long" | "integer" | "short" | "byte" | "unsigned_long" => FieldType::Integer,
        "double" | "float" | "half_float" | "scaled_float" => FieldType::Float,
        "boolean" => FieldType::Boolean,
        "date" | "date_nanos" => FieldType::Date {
            format: def
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string),
        },
        "ip" => FieldType::Ip,
        "version" => FieldType::Version,
        "object" => FieldType::Object,
        other => FieldType::Unsupported(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_types_aliases_and_subfields() {
        let m = Mapping::from_es_mapping_json(&json!({"mappings": {"properties": {
            "event_type": {"type": "keyword"},
            "event": {"properties": {"category": {"type": "alias", "path": "event_type"}}},
            "file_name": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
            "ts": {"type": "date", "format": "dd-MM-yyyy"},
            "ip": {"type": "ip"}
        }}}))
        .unwrap();
        assert_eq!(m.get("event.category").unwrap().source, "event_type");
        assert_eq!(
            m.get("file_name").unwrap().ty,
            FieldType::Text {
                exact: Some("file_name.keyword".into())
            }
        );
        assert_eq!(m.get("file_name.keyword").unwrap().ty, FieldType::Keyword);
        assert_eq!(m.get("file_name.keyword").unwrap().source, "file_name");
        assert_eq!(m.get("ip").unwrap().ty, FieldType::Ip);
    }
}
