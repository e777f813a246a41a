//! `flowaudit schema` prints the embedded schemas, which are valid JSON Schema 2020-12 and
//! describe every property (the descriptions are editor hover text).

use assert_cmd::Command;
use serde_json::Value;

fn schema(kind: &str) -> Value {
    let out = Command::cargo_bin("flowaudit")
        .expect("binary built")
        .args(["schema", kind])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).expect("schema output is JSON")
}

/// Every property of every `properties` block has a description; every object is closed.
fn check_described(node: &Value, path: &str, missing: &mut Vec<String>) {
    match node {
        Value::Object(m) => {
            if let Some(Value::Object(props)) = m.get("properties") {
                if m.get("additionalProperties") != Some(&Value::Bool(false)) {
                    missing.push(format!("{path}: not closed (additionalProperties)"));
                }
                for (k, v) in props {
                    if v.get("description")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        missing.push(format!("{path}/properties/{k}: no description"));
                    }
                }
            }
            for (k, v) in m {
                check_described(v, &format!("{path}/{k}"), missing);
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, v)| check_described(v, &format!("{path}/{i}"), missing)),
        _ => {}
    }
}

#[test]
fn schemas_are_printed_valid_and_described() {
    for (kind, file) in [
        ("flow", "schemas/flow.schema.json"),
        ("rule", "schemas/rule.schema.json"),
        ("config", "schemas/config.schema.json"),
        ("baseline", "schemas/baseline.schema.json"),
    ] {
        let printed = schema(kind);
        let on_disk: Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("schema file"))
                .expect("JSON");
        assert_eq!(printed, on_disk, "{kind}");
        assert_eq!(
            printed["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        jsonschema::draft202012::meta::validate(&printed).expect("valid 2020-12 schema");
        let mut missing = Vec::new();
        check_described(&printed, "", &mut missing);
        assert!(missing.is_empty(), "{kind}: {missing:#?}");
    }
}

#[test]
fn flow_schema_covers_every_top_level_section() {
    let s = schema("flow");
    let props = s["properties"].as_object().expect("properties");
    for section in [
        "flowaudit",
        "controller",
        "parties",
        "systems",
        "data_subjects",
        "consents",
        "activities",
        "flows",
        "notice",
        "rights",
        "security",
        "records",
        "breaches",
        "orders",
        "taxonomy",
        "waivers",
    ] {
        assert!(props.contains_key(section), "{section}");
    }
    assert_eq!(
        props.len(),
        16,
        "a section was added: update DESIGN-derived checks"
    );
}
