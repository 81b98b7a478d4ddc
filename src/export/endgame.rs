//! Field types from the endgame schema (`etc/endgame_schemas/<version>/endgame_ecs_mapping.json.gz`),
//! the last source of `required_fields` types: for a rule whose `index` lists `endgame-*` and that
//! has neither an integration schema nor a Beats schema (`kibana-export.md` §3.2). The file is one
//! flat JSON object, field name → Elasticsearch type; types are reported as they are written
//! there (upstream does not reduce them to a type family).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::ExportError;

/// The index pattern that selects the endgame schema (upstream compares list items exactly).
pub const ENDGAME_INDEX: &str = "endgame-*";

/// Reads a gzip-compressed endgame mapping. Anything but an object of strings is an error: a
/// silently partial schema would type fields `"unknown"` without saying why.
pub fn load(path: &Path) -> Result<HashMap<String, String>, ExportError> {
    let invalid = |message: String| ExportError::InvalidFile {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let value: Value =
        serde_json::from_reader(std::io::BufReader::new(flate2::read::GzDecoder::new(file)))
            .map_err(|e| invalid(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(invalid("not a JSON object of field types".into()));
    };
    map.into_iter()
        .map(|(field, ty)| match ty {
            Value::String(t) => Ok((field, t)),
            other => Err(invalid(format!(
                "field {field}: type {other} is not a string"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn gz(dir: &Path, text: &str) -> std::path::PathBuf {
        let path = dir.join("endgame_ecs_mapping.json.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        path
    }

    #[test]
    fn reads_a_flat_mapping_and_rejects_other_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let path = gz(dir.path(), r#"{"a.b": "keyword", "c": "constant_keyword"}"#);
        let m = load(&path).unwrap();
        assert_eq!(m["a.b"], "keyword");
        assert_eq!(m["c"], "constant_keyword");
        let path = gz(dir.path(), r#"{"a.b": {"type": "keyword"}}"#);
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("a.b"), "{err}");
        let path = gz(dir.path(), "[1]");
        assert!(load(&path).is_err());
        assert!(load(&dir.path().join("missing.json.gz")).is_err());
    }
}
