//! A TOML document as a tree of values that remember where they came from.
//!
//! The `toml` crate parses; this tree keeps every key's and value's byte span so that every later
//! check (schema, lints, query errors) can point at file:line:column.

use crate::diag::Span;
use toml::de::{DeTable, DeValue};

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// TOML dates are not used by the rule format; kept as text so they can be reported.
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Kind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Str(_) => "string",
            Kind::Int(_) => "integer",
            Kind::Float(_) => "float",
            Kind::Bool(_) => "boolean",
            Kind::Datetime(_) => "datetime",
            Kind::Array(_) => "array",
            Kind::Table(_) => "table",
        }
    }
}

/// A TOML parse failure with its location.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub span: Option<Span>,
}

/// Parses a TOML document into a spanned tree. Reports every syntax error the parser recovers from.
pub fn parse(text: &str) -> Result<Node, Vec<SyntaxError>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| SyntaxError {
                message: e.message().trim().to_string(),
                span: e.span(),
            })
            .collect());
    }
    let span = doc.span();
    Ok(Node {
        span,
        kind: convert_table(doc.get_ref()),
    })
}

fn convert_table(table: &DeTable<'_>) -> Kind {
    Kind::Table(
        table
            .iter()
            .map(|(k, v)| Entry {
                key: k.get_ref().to_string(),
                key_span: k.span(),
                value: convert(v.get_ref(), v.span()),
            })
            .collect(),
    )
}

fn convert(value: &DeValue<'_>, span: Span) -> Node {
    let kind = match value {
        DeValue::String(s) => Kind::Str(s.to_string()),
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|&c| c != '_').collect();
            match i64::from_str_radix(&digits, i.radix()) {
                Ok(n) => Kind::Int(n),
                // Out of i64 range: keep as float so it is reported as the wrong type.
                Err(_) => Kind::Float(digits.parse().unwrap_or(f64::NAN)),
            }
        }
        DeValue::Float(f) => Kind::Float(f.as_str().replace('_', "").parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Kind::Bool(*b),
        DeValue::Datetime(d) => Kind::Datetime(d.to_string()),
        DeValue::Array(items) => Kind::Array(
            items
                .iter()
                .map(|item| convert(item.get_ref(), item.span()))
                .collect(),
        ),
        DeValue::Table(t) => convert_table(t),
    };
    Node { span, kind }
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self.kind {
            Kind::Int(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            Kind::Table(t) => t,
            _ => &[],
        }
    }

    pub fn is_table(&self) -> bool {
        matches!(self.kind, Kind::Table(_))
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follows a dotted path of table keys (`"rule.threshold.value"`).
    pub fn path(&self, path: &str) -> Option<&Node> {
        path.split('.').try_fold(self, |node, key| node.get(key))
    }

    pub fn str_at(&self, path: &str) -> Option<&str> {
        self.path(path).and_then(Node::as_str)
    }

    /// Array of strings at `key`; a single string counts as a one-element list (some fields,
    /// like `metadata.integration`, accept both).
    pub fn strings(&self, key: &str) -> Vec<&str> {
        match self.get(key).map(|n| &n.kind) {
            Some(Kind::Str(s)) => vec![s.as_str()],
            Some(Kind::Array(items)) => items.iter().filter_map(Node::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The value as JSON, for export and templates. Tables keep source order.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Str(s) => Value::String(s.clone()),
            Kind::Int(n) => Value::from(*n),
            Kind::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Datetime(d) => Value::String(d.clone()),
            Kind::Array(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Kind::Table(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Where the content of a string value starts in the file, when file offsets map 1:1 onto the
/// string's characters (literal strings, and basic strings without escapes). Used to place query
/// parse errors inside the TOML file. `None` when escapes make the mapping inexact.
pub fn string_content_offset(text: &str, span: &Span) -> Option<usize> {
    let raw = text.get(span.clone())?;
    let (delim_len, literal) = if raw.starts_with("'''") {
        (3, true)
    } else if raw.starts_with("\"\"\"") {
        (3, false)
    } else if raw.starts_with('\'') {
        (1, true)
    } else if raw.starts_with('"') {
        (1, false)
    } else {
        return None;
    };
    if !literal && raw.contains('\\') {
        return None;
    }
    let mut start = span.start + delim_len;
    // A newline right after a multi-line opening delimiter is not part of the string.
    if delim_len == 3 {
        let rest = &text[start..];
        if rest.starts_with("\r\n") {
            start += 2;
        } else if rest.starts_with('\n') {
            start += 1;
        }
    }
    Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let text = "[rule]\nname = \"x\"\nquery = '''\nprocess where true\n'''\n";
        let root = parse(text).unwrap();
        let name = root.path("rule.name").unwrap();
        assert_eq!(&text[name.span.clone()], "\"x\"");
        let entry = root.get("rule").unwrap().entry("name").unwrap();
        assert_eq!(&text[entry.key_span.clone()], "name");
        let query = root.path("rule.query").unwrap();
        let start = string_content_offset(text, &query.span).unwrap();
        assert!(text[start..].starts_with("process where"));
    }

    #[test]
    fn syntax_errors_carry_a_span() {
        let errs = parse("[rule]\nname = \n").unwrap_err();
        assert!(!errs.is_empty());
        assert!(errs[0].span.is_some());
    }

    #[test]
    fn basic_strings_with_escapes_have_no_exact_offset() {
        let text = "q = \"a\\tb\"";
        let root = parse(text).unwrap();
        assert_eq!(
            string_content_offset(text, &root.get("q").unwrap().span),
            None
        );
    }
}
