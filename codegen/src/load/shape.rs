//! Help lines for a value of the wrong YAML shape, built from the schema and
//! what was written: a list written as a mapping (show the item's shape), a
//! mapping written as a list (show the `name: { .. }` form).
//!
//! Text only: `schema.rs` decides when a shape is wrong. Written values are
//! never echoed (they may be secrets); keys and names are.

use serde_json::{Map, Value};

/// `key` should be a list but a mapping was written: one `- ` item per entry,
/// shaped like the schema's `items` (`name` taken from each entry's key).
pub fn list_as_mapping(key: &str, items: Option<&Value>, written: &Map<String, Value>) -> String {
    let props = items.map(item_properties).unwrap_or_default();
    let example = if props.is_empty() {
        String::new()
    } else {
        let (name, value) = written
            .iter()
            .next()
            .map_or(("...", None), |(k, v)| (k.as_str(), Some(v)));
        let written_keys: Vec<&str> = value
            .and_then(Value::as_object)
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let fields: Vec<String> = props
            .iter()
            .filter(|(p, required)| *required || written_keys.contains(&p.as_str()))
            .map(|(p, _)| match p.as_str() {
                "name" if !written_keys.contains(&"name") => format!("name: {name}"),
                _ => format!("{p}: ..."),
            })
            .collect();
        format!(", e.g. `- {{ {} }}`", fields.join(", "))
    };
    let none = if written.is_empty() {
        "write `[]` for none, or "
    } else {
        "write "
    };
    format!("`{key}` is a list, not a mapping: {none}one `- ` item per entry{example}")
}

/// `key` should map names to entries but a list was written.
pub fn mapping_as_list(key: &str, keyed_by_name: bool, written: &[Value]) -> String {
    if !keyed_by_name {
        return format!(
            "`{key}` is a mapping: write its keys directly under `{key}:`, without `- `"
        );
    }
    let named = written.iter().find_map(|item| {
        let o = item.as_object()?;
        let name = o.get("name")?.as_str()?;
        let rest: Vec<String> = o
            .keys()
            .filter(|k| *k != "name")
            .map(|k| format!("{k}: ..."))
            .collect();
        Some(format!("`{name}: {{ {} }}`", rest.join(", ")))
    });
    match named {
        Some(example) => format!(
            "`{key}` maps each name to its settings: write {example} instead of a `- name:` item"
        ),
        None => format!(
            "`{key}` maps each name to its settings: write `<name>: {{ ... }}` entries instead of `- ` items"
        ),
    }
}

/// The item's properties, `name` first, then required ones, then the rest; each with whether it is required.
fn item_properties(items: &Value) -> Vec<(String, bool)> {
    let required: Vec<&str> = items
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut props: Vec<(String, bool)> = items
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| {
            p.keys()
                .map(|k| (k.clone(), required.contains(&k.as_str())))
                .collect()
        })
        .unwrap_or_default();
    props.sort_by_key(|(k, required)| (k != "name", !required, k.clone()));
    props
}
