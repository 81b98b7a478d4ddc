//! Generator of `data/field_schema.tsv`, the field-name table behind RF604 (unknown-field), from
//! the schemas detection-rules validates queries against (only names and types are kept).
//!
//! Used by `tests/field_schema_table.rs`: with `RULEFORGE_REGEN=1` it rewrites the table,
//! otherwise it checks that the committed table equals what this generator produces.
//!
//! Inputs under `corpus/elastic-detection-rules/etc/`: every `ecs_schemas/*/ecs_flat.json.gz`
//! (with multi-fields), every `beats_schemas/*.json.gz` (fields.yml trees, flattened),
//! `endgame_schemas/*/endgame_ecs_mapping.json.gz`, `endpoint_schemas/*.json.gz`,
//! `non-ecs-schema.json` (all index patterns) and `integration-schemas.json.gz` (every package
//! version and data stream). The output is their union, sorted, front-coded as
//! `<bytes shared with previous name><TAB><rest of name><TAB><type>`; a name's type is the one
//! of the first source above that defines it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use ruleforge::export::shared_prefix_len;
use serde_json::Value;

fn read_json(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        s
    } else {
        String::from_utf8(bytes).map_err(|e| format!("{}: {e}", path.display()))?
    };
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Entries of `dir` sorted by name, so the output does not depend on directory order.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    out.sort();
    Ok(out)
}

/// A field name usable as one table line (no tabs or newlines, not empty).
fn usable(name: &str) -> bool {
    !name.is_empty() && !name.contains(['\t', '\n', '\r'])
}

fn add(out: &mut BTreeMap<String, String>, name: &str, ty: &str) {
    if usable(name) {
        out.entry(name.to_string())
            .or_insert_with(|| ty.replace(['\t', '\n', '\r'], " "));
    }
}

fn add_ecs(etc: &Path, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    // Newest version first, so its types win.
    let mut versions = sorted_entries(&etc.join("ecs_schemas"))?;
    versions.reverse();
    for v in versions {
        let flat = read_json(&v.join("ecs_flat.json.gz"))?;
        let Some(map) = flat.as_object() else {
            continue;
        };
        for (name, def) in map {
            add(
                out,
                name,
                def.get("type").and_then(Value::as_str).unwrap_or(""),
            );
            for mf in def
                .get("multi_fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = mf.get("flat_name").and_then(Value::as_str) {
                    add(out, n, mf.get("type").and_then(Value::as_str).unwrap_or(""));
                }
            }
        }
    }
    Ok(())
}

/// Flattens a fields.yml list: groups prefix their children's names.
fn flatten_beats(fields: &[Value], prefix: &str, out: &mut BTreeMap<String, String>) {
    for f in fields {
        let name = f.get("name").and_then(Value::as_str);
        let ty = f.get("type").and_then(Value::as_str).unwrap_or("");
        let children = f.get("fields").and_then(Value::as_array);
        match (name, children) {
            // Top-level entries (`key: …`) carry no name: their fields start at the root.
            (None, Some(kids)) => flatten_beats(kids, prefix, out),
            (Some(n), Some(kids)) => {
                let p = format!("{prefix}{n}.");
                if ty != "group" && !ty.is_empty() {
                    add(out, &format!("{prefix}{n}"), ty);
                }
                flatten_beats(kids, &p, out);
            }
            (Some(n), None) => add(
                out,
                &format!("{prefix}{n}"),
                if ty.is_empty() { "keyword" } else { ty },
            ),
            (None, None) => {}
        }
    }
}

/// Walks the beats folder tree (`folders`/`files`) and flattens every fields file.
fn walk_beats(node: &Value, out: &mut BTreeMap<String, String>) {
    let Some(obj) = node.as_object() else {
        return;
    };
    if let Some(files) = obj.get("files").and_then(Value::as_object) {
        for list in files.values().filter_map(Value::as_array) {
            flatten_beats(list, "", out);
        }
    }
    if let Some(folders) = obj.get("folders").and_then(Value::as_object) {
        for sub in folders.values() {
            walk_beats(sub, out);
        }
    }
}

fn add_beats(etc: &Path, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    let mut versions = sorted_entries(&etc.join("beats_schemas"))?;
    versions.reverse();
    for v in versions {
        let json = read_json(&v)?;
        for beat in json.as_object().into_iter().flat_map(|m| m.values()) {
            walk_beats(beat, out);
        }
    }
    Ok(())
}

/// `{name: type}` objects (endgame, endpoint, non-ECS per index); a nested object value is a
/// group whose keys continue the name (non-ECS `endgame-*` is written that way).
fn add_flat_map(v: &Value, out: &mut BTreeMap<String, String>) {
    add_nested_map(v, "", out);
}

fn add_nested_map(v: &Value, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (name, ty) in v.as_object().into_iter().flatten() {
        let full = format!("{prefix}{name}");
        match ty {
            Value::Object(_) => add_nested_map(ty, &format!("{full}."), out),
            _ => add(out, &full, ty.as_str().unwrap_or("")),
        }
    }
}

fn add_overlays(etc: &Path, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    for v in sorted_entries(&etc.join("endgame_schemas"))? {
        add_flat_map(&read_json(&v.join("endgame_ecs_mapping.json.gz"))?, out);
    }
    for f in sorted_entries(&etc.join("endpoint_schemas"))? {
        add_flat_map(&read_json(&f)?, out);
    }
    let non_ecs = read_json(&etc.join("non-ecs-schema.json"))?;
    for per_index in non_ecs.as_object().into_iter().flat_map(|m| m.values()) {
        add_flat_map(per_index, out);
    }
    Ok(())
}

fn add_integrations(etc: &Path, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    let json = read_json(&etc.join("integration-schemas.json.gz"))?;
    for versions in json.as_object().into_iter().flat_map(|m| m.values()) {
        for streams in versions.as_object().into_iter().flat_map(|m| m.values()) {
            for (key, fields) in streams.as_object().into_iter().flatten() {
                // Each version also lists `jobs` (ML jobs), which are not fields.
                if key != "jobs" {
                    add_flat_map(fields, out);
                }
            }
        }
    }
    Ok(())
}

/// The table text generated from `shared`.
pub fn generate(shared: &Path) -> Result<String, String> {
    let etc = shared.join("corpus/elastic-detection-rules/etc");
    let mut fields = BTreeMap::new();
    add_ecs(&etc, &mut fields)?;
    add_beats(&etc, &mut fields)?;
    add_overlays(&etc, &mut fields)?;
    add_integrations(&etc, &mut fields)?;

    let mut text = String::from(
        "# Union of the field schemas detection-rules validates queries against (ECS, beats, \
endgame, endpoint, non-ECS, integration packages): <bytes shared with previous name><TAB><rest \
of name><TAB><type>. Generated by tools/gen_field_schema.rs.\n",
    );
    let mut prev = "";
    for (name, ty) in &fields {
        let shared = shared_prefix_len(prev, name);
        text.push_str(&format!("{shared}\t{}\t{ty}\n", &name[shared..]));
        prev = name;
    }
    Ok(text)
}

/// The text of `data/integration_only_fields.tsv` (RF626): every field that only integration
/// packages define (in no ECS, beats, endgame, endpoint or non-ECS schema), with the packages
/// that define it in any version: `<bytes shared with previous name><TAB><rest of
/// name><TAB><package>,<package>…`, sorted by name. Names with `*` are left out.
pub fn generate_integration_only(shared: &Path) -> Result<String, String> {
    let etc = shared.join("corpus/elastic-detection-rules/etc");
    let mut base = BTreeMap::new();
    add_ecs(&etc, &mut base)?;
    add_beats(&etc, &mut base)?;
    add_overlays(&etc, &mut base)?;
    let json = read_json(&etc.join("integration-schemas.json.gz"))?;
    let mut owners: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for (package, versions) in json.as_object().into_iter().flatten() {
        for streams in versions.as_object().into_iter().flat_map(|m| m.values()) {
            for (key, fields) in streams.as_object().into_iter().flatten() {
                if key == "jobs" {
                    continue;
                }
                let mut names = BTreeMap::new();
                add_flat_map(fields, &mut names);
                for name in names.keys() {
                    if !name.contains('*') && !base.contains_key(name) {
                        owners
                            .entry(name.clone())
                            .or_default()
                            .insert(package.clone());
                    }
                }
            }
        }
    }
    let mut text = String::from(
        "# Fields only integration packages define, with the packages (any version): <bytes \
shared with previous name><TAB><rest of name><TAB><packages>. Generated by \
tools/gen_field_schema.rs.\n",
    );
    let mut prev = "";
    for (name, packages) in &owners {
        let shared = shared_prefix_len(prev, name);
        let list: Vec<&str> = packages.iter().map(String::as_str).collect();
        text.push_str(&format!(
            "{shared}\t{}\t{}\n",
            &name[shared..],
            list.join(",")
        ));
        prev = name;
    }
    Ok(text)
}

/// The text of `data/ecs_field_stacks.tsv` (RF629): the stacks of
/// `stack-schema-map.yaml` with their ECS version (`=<stack><TAB><ecs>`), every ECS version
/// (`+<ecs>`), then every ECS field (multi-fields included) that some ECS version lacks and that
/// no other schema defines (beats, endgame, endpoint, non-ECS, integration packages of any
/// version): `<name><TAB><ECS versions that have it>`, sorted by name. Such a field is unknown on
/// a stack whose ECS version lacks it, whatever the rule's indices.
pub fn generate_ecs_field_stacks(shared: &Path) -> Result<String, String> {
    let etc = shared.join("corpus/elastic-detection-rules/etc");
    let mut other = BTreeMap::new();
    add_beats(&etc, &mut other)?;
    add_overlays(&etc, &mut other)?;
    add_integrations(&etc, &mut other)?;
    let mut versions: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for dir in sorted_entries(&etc.join("ecs_schemas"))? {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // One version at a time: `add_ecs` reads every version under an `ecs_schemas` folder.
        let mut names = BTreeMap::new();
        let flat = read_json(&dir.join("ecs_flat.json.gz"))?;
        for (field, def) in flat.as_object().into_iter().flatten() {
            add(&mut names, field, "");
            for mf in def
                .get("multi_fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = mf.get("flat_name").and_then(Value::as_str) {
                    add(&mut names, n, "");
                }
            }
        }
        versions.push((name, names));
    }
    let map_text = std::fs::read_to_string(etc.join("stack-schema-map.yaml"))
        .map_err(|e| format!("stack-schema-map.yaml: {e}"))?;
    let map: Value = yaml_serde::from_str::<Value>(&map_text)
        .map_err(|e| format!("stack-schema-map.yaml: {e}"))?;
    let mut text = String::from(
        "# ECS fields that some ECS version lacks and no other schema defines: =<stack><TAB><its \
ECS version>, +<ECS version>, then <field><TAB><ECS versions that have it>. Generated by \
tools/gen_field_schema.rs.\n",
    );
    let mut stacks: Vec<(String, String)> = map
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(stack, v)| Some((stack.clone(), v.get("ecs")?.as_str()?.to_string())))
        .collect();
    stacks.sort_by_key(|(s, _)| {
        s.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    for (stack, ecs) in &stacks {
        text.push_str(&format!("={stack}\t{ecs}\n"));
    }
    for (v, _) in &versions {
        text.push_str(&format!("+{v}\n"));
    }
    let mut all: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (v, names) in &versions {
        for n in names.keys() {
            all.entry(n.as_str()).or_default().push(v.as_str());
        }
    }
    for (name, have) in all {
        if have.len() < versions.len() && !other.contains_key(name) && !name.contains('*') {
            text.push_str(&format!("{name}\t{}\n", have.join(",")));
        }
    }
    Ok(text)
}

/// Sort key of a package version (pre-releases before their release).
fn version_key(v: &str) -> (Vec<u64>, bool, String) {
    let (core, pre) = v.split_once('-').unwrap_or((v, ""));
    let nums = core.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    (nums, pre.is_empty(), pre.to_string())
}

/// The text of `data/integration_field_versions.tsv` (RF630): every integration-only field
/// (as in `generate_integration_only`) that some versions of a package defining it lack, with
/// the runs of consecutive versions (in semver order) that define it:
/// `<package><TAB><field><TAB><first>..<last>,…`, sorted by package and field.
pub fn generate_integration_field_versions(shared: &Path) -> Result<String, String> {
    let etc = shared.join("corpus/elastic-detection-rules/etc");
    let mut base = BTreeMap::new();
    add_ecs(&etc, &mut base)?;
    add_beats(&etc, &mut base)?;
    add_overlays(&etc, &mut base)?;
    let json = read_json(&etc.join("integration-schemas.json.gz"))?;
    let mut text = String::from(
        "# Integration-only fields that some versions of their package lack: \
<package><TAB><field><TAB><first>..<last>,... (versions that define it). Generated by \
tools/gen_field_schema.rs.\n",
    );
    for (package, versions) in json.as_object().into_iter().flatten() {
        let mut order: Vec<&String> = versions
            .as_object()
            .into_iter()
            .flatten()
            .map(|(v, _)| v)
            .collect();
        order.sort_by_key(|v| version_key(v));
        // Field → indices (in `order`) of the versions that define it.
        let mut present: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, v) in order.iter().enumerate() {
            let mut names = BTreeMap::new();
            for (key, fields) in versions[v.as_str()].as_object().into_iter().flatten() {
                if key != "jobs" {
                    add_flat_map(fields, &mut names);
                }
            }
            for name in names.into_keys() {
                if !name.contains('*') && !base.contains_key(&name) {
                    present.entry(name).or_default().push(i);
                }
            }
        }
        for (name, idx) in present {
            if idx.len() == order.len() {
                continue;
            }
            let mut runs: Vec<(usize, usize)> = Vec::new();
            for i in idx {
                match runs.last_mut() {
                    Some(r) if r.1 + 1 == i => r.1 = i,
                    _ => runs.push((i, i)),
                }
            }
            let list: Vec<String> = runs
                .iter()
                .map(|(a, b)| format!("{}..{}", order[*a], order[*b]))
                .collect();
            text.push_str(&format!("{package}\t{name}\t{}\n", list.join(",")));
        }
    }
    Ok(text)
}
