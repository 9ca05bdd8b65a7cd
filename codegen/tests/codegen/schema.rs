//! The checked-in schemas equal what the spec types generate, and every valid
//! fixture and shipped config passes the schema and deserializes.

use gateway_codegen::diag::FileKind;
use gateway_codegen::load::schema;

use crate::common;

#[test]
fn checked_in_schemas_are_fresh() {
    for kind in FileKind::ALL {
        let path = common::workspace()
            .join("schema")
            .join(format!("{}.schema.json", schema::short_name(kind)));
        common::assert_file(
            &path,
            &schema::generate(kind),
            "GATEWAY_BLESS=1 cargo test -p gateway-codegen",
        );
    }
}

#[test]
fn every_valid_config_passes_schema_and_deserializes() {
    let root = common::workspace();
    let mut dirs = common::subdirs(&root.join("config"));
    dirs.extend(common::subdirs(&root.join("codegen/tests/fixtures/valid")));
    assert!(
        dirs.len() >= 7,
        "expected the 4 shipped envs and at least 3 valid fixtures"
    );
    for dir in dirs {
        let input = common::input(&dir, "x");
        if let Err(report) = gateway_codegen::analyze(&input) {
            panic!("{} failed:\n{}", dir.display(), report.render());
        }
    }
}

#[test]
fn schemas_describe_every_property() {
    fn walk(v: &serde_json::Value, path: &str) {
        if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
            for (k, p) in props {
                assert!(
                    p.get("description").is_some(),
                    "{path}.{k} has no description"
                );
            }
        }
        if let Some(obj) = v.as_object() {
            for (k, child) in obj {
                walk(child, &format!("{path}/{k}"));
            }
        }
    }
    for kind in FileKind::ALL {
        let v: serde_json::Value = serde_json::from_str(schema::checked_in(kind)).unwrap();
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
        walk(&v, schema::short_name(kind));
    }
}

#[test]
fn schema_defaults_match_the_documented_ones() {
    fn walk(v: &serde_json::Value, path: &str, seen: &mut usize) {
        if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
            for (k, p) in props {
                let Some(default) = p.get("default") else {
                    continue;
                };
                let desc = p["description"].as_str().unwrap_or("");
                let text = match default {
                    serde_json::Value::String(s) if s.len() > 40 => continue,
                    serde_json::Value::String(s) => format!("`{s}`"),
                    other => other.to_string(),
                };
                assert!(
                    desc.contains(&text),
                    "{path}.{k}: description does not say the default {text}: {desc}"
                );
                *seen += 1;
            }
        }
        if let Some(obj) = v.as_object() {
            for (k, child) in obj {
                walk(child, &format!("{path}/{k}"), seen);
            }
        }
    }
    let mut seen = 0;
    for kind in FileKind::ALL {
        let v: serde_json::Value = serde_json::from_str(schema::checked_in(kind)).unwrap();
        walk(&v, schema::short_name(kind), &mut seen);
    }
    assert!(seen >= 20, "only {seen} documented defaults");
}
