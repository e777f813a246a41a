//! Schema validation of flow documents: every error the JSON Schema finds, each turned into a
//! diagnostic at the exact key or value, with a suggestion where a close name exists.

use std::sync::OnceLock;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic};
use crate::embedded;
use crate::loading::Document;
use crate::loading::formats;
use crate::suggest;

/// The flow schema as shipped.
pub fn flow_schema_text() -> &'static str {
    embedded::get("schemas/flow.schema.json").unwrap_or("{}")
}

/// The rule schema as shipped.
pub fn rule_schema_text() -> &'static str {
    embedded::get("schemas/rule.schema.json").unwrap_or("{}")
}

/// The parsed flow schema.
pub fn flow_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(flow_schema_text()).expect("the embedded flow schema is valid JSON")
    })
}

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .with_format("partial-date", formats::is_partial_date)
            .with_format("duration", formats::is_duration)
            .with_format("country", formats::is_country)
            .with_format("country-or-eea", formats::is_country_or_eea)
            .build(flow_schema())
            .expect("the embedded flow schema compiles")
    })
}

/// The (sub)schema an evaluation path leads to, following local `$ref`s. The last segment (the
/// failing keyword) is not followed, so the result is the schema object holding it.
fn schema_at<'a>(root: &'a Value, evaluation_path: &str) -> Option<&'a Value> {
    let mut node = root;
    let segments: Vec<String> = evaluation_path
        .strip_prefix('/')
        .unwrap_or(evaluation_path)
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((_, parents)) = segments.split_last() else {
        return Some(node);
    };
    for seg in parents {
        if seg == "$ref" {
            let target = node.get("$ref")?.as_str()?;
            let ptr = target.strip_prefix('#')?;
            node = root.pointer(ptr)?;
        } else {
            node = match node {
                Value::Object(m) => m.get(seg.as_str())?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
    }
    Some(node)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

/// The field name a pointer ends in, for messages ("in `flows[2].access`").
pub fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').filter(|s| !s.is_empty()) {
        if seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg.replace("~1", "/").replace("~0", "~"));
        }
    }
    if out.is_empty() {
        "the document".to_string()
    } else {
        out
    }
}

/// The parsed rule schema.
pub fn rule_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(rule_schema_text()).expect("the embedded rule schema is valid JSON")
    })
}

fn rule_validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(rule_schema())
            .expect("the embedded rule schema compiles")
    })
}

/// Validates one document against the flow schema; all errors, not only the first.
pub fn validate(doc: &Document) -> Vec<Diagnostic> {
    validate_against(doc, validator(), flow_schema())
}

/// Validates a rule file against the rule schema.
pub fn validate_rule(doc: &Document) -> Vec<Diagnostic> {
    validate_against(doc, rule_validator(), rule_schema())
}

/// The baseline schema as shipped (`flowaudit baseline`).
pub fn baseline_schema_text() -> &'static str {
    embedded::get("schemas/baseline.schema.json").unwrap_or("{}")
}

/// The parsed baseline schema.
pub fn baseline_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(baseline_schema_text())
            .expect("the embedded baseline schema is valid JSON")
    })
}

fn baseline_validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .with_format("partial-date", formats::is_partial_date)
            .build(baseline_schema())
            .expect("the embedded baseline schema compiles")
    })
}

/// Validates a baseline file against the baseline schema.
pub fn validate_baseline(doc: &Document) -> Vec<Diagnostic> {
    validate_against(doc, baseline_validator(), baseline_schema())
}

/// The config-file schema as shipped (`.flowaudit.yaml`).
pub fn config_schema_text() -> &'static str {
    embedded::get("schemas/config.schema.json").unwrap_or("{}")
}

/// The parsed config-file schema.
pub fn config_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::from_str(config_schema_text())
            .expect("the embedded config schema is valid JSON")
    })
}

fn config_validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::draft202012::options()
            .build(config_schema())
            .expect("the embedded config schema compiles")
    })
}

/// Validates a `.flowaudit.yaml` against the config schema.
pub fn validate_config(doc: &Document) -> Vec<Diagnostic> {
    validate_against(doc, config_validator(), config_schema())
}

fn validate_against(doc: &Document, validator: &Validator, root: &Value) -> Vec<Diagnostic> {
    let file = doc.file.display_path();
    let mut out = Vec::new();
    for err in validator.iter_errors(&doc.parsed.value) {
        let instance_path = err.instance_path().as_str().to_string();
        let eval_path = err.evaluation_path().as_str().to_string();
        let here = schema_at(root, &eval_path);
        let value = doc
            .parsed
            .value
            .pointer(&instance_path)
            .unwrap_or(&Value::Null);
        let loc = doc.parsed.locate(&instance_path);
        let field = field_path(&instance_path);
        let d = match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known: Vec<&str> = here
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                for key in unexpected {
                    let ptr = format!(
                        "{instance_path}/{}",
                        key.replace('~', "~0").replace('/', "~1")
                    );
                    let l = doc.parsed.locate(&ptr);
                    let place = if instance_path.is_empty() {
                        "at the top level".to_string()
                    } else {
                        format!("in `{field}`")
                    };
                    let mut d = Diagnostic::at(
                        Code::UnknownKey,
                        &file,
                        l.key.unwrap_or(l.value),
                        format!("unknown key `{key}` {place}"),
                        if std::ptr::eq(root, flow_schema()) {
                            "not a field of format version 1"
                        } else if std::ptr::eq(root, baseline_schema()) {
                            "not a field of baseline files"
                        } else if std::ptr::eq(root, config_schema()) {
                            "not a setting of the config file"
                        } else {
                            "not a field of rule files"
                        },
                    );
                    d = match suggest::did_you_mean(key, known.iter().copied()) {
                        Some(h) => d.with_help(h),
                        None => d.with_help(format!("known keys here: {}", known.join(", "))),
                    };
                    out.push(d);
                }
                continue;
            }
            ValidationErrorKind::Enum { options } => {
                let opts: Vec<&str> = options
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut d = Diagnostic::at(
                    Code::InvalidEnum,
                    &file,
                    loc.value,
                    format!("{} is not a valid value for `{field}`", shown(value)),
                    "not one of the allowed values",
                );
                let list = format!("allowed values: {}", opts.join(", "));
                d = match value
                    .as_str()
                    .and_then(|s| suggest::did_you_mean(s, opts.iter().copied()))
                {
                    Some(h) => d.with_help(h).with_note(list),
                    None => d.with_help(list),
                };
                d
            }
            ValidationErrorKind::Type { .. } => {
                let expected = here
                    .and_then(|s| s.get("type"))
                    .map(|t| match t {
                        Value::Array(a) => a
                            .iter()
                            .filter_map(Value::as_str)
                            .map(json_type_name)
                            .collect::<Vec<_>>()
                            .join(" or "),
                        Value::String(s) => json_type_name(s).to_string(),
                        _ => "another type".to_string(),
                    })
                    .unwrap_or_else(|| "another type".to_string());
                let mut d = Diagnostic::at(
                    Code::WrongType,
                    &file,
                    loc.value,
                    format!("`{field}` must be {expected}, found {}", type_name(value)),
                    format!("expected {expected}"),
                );
                if let (Value::String(s), true) = (value, expected.contains("boolean"))
                    && matches!(
                        s.as_str(),
                        "yes" | "no" | "on" | "off" | "y" | "n" | "Yes" | "No" | "True" | "False"
                    )
                {
                    let meant = if matches!(s.as_str(), "yes" | "on" | "y" | "Yes" | "True") {
                        "true"
                    } else {
                        "false"
                    };
                    d = d.with_help(format!(
                        "write `{meant}`: in YAML 1.2 and JSON only `true` and `false` are booleans, `{s}` is text"
                    ));
                }
                if expected.contains("list") && !value.is_array() {
                    d = d.with_help(format!("write a list: `[{}]`", compact(value)));
                }
                d
            }
            ValidationErrorKind::Required { property } => {
                let prop = property.as_str().unwrap_or("?");
                let place = if instance_path.is_empty() {
                    "the document".to_string()
                } else {
                    format!("`{field}`")
                };
                let mut d = Diagnostic::at(
                    Code::MissingKey,
                    &file,
                    doc.parsed.head(&instance_path),
                    format!("missing required key `{prop}` in {place}"),
                    format!("`{prop}` is required here"),
                );
                if let Some(desc) = here
                    .and_then(|s| s.pointer(&format!("/properties/{prop}/description")))
                    .and_then(Value::as_str)
                {
                    d = d.with_note(format!("`{prop}`: {desc}"));
                }
                d
            }
            ValidationErrorKind::Format { format } => {
                let text = value.as_str().unwrap_or_default();
                match format.as_str() {
                    "partial-date" => Diagnostic::at(
                        Code::BadDate,
                        &file,
                        loc.value,
                        format!("{} is not a date (in `{field}`)", shown(value)),
                        "not a date",
                    )
                    .with_help("write `YYYY-MM-DD`, or `YYYY-MM` / `YYYY` when only that is known"),
                    "duration" => Diagnostic::at(
                        Code::BadDuration,
                        &file,
                        loc.value,
                        format!("{} is not a duration (in `{field}`)", shown(value)),
                        "not an ISO 8601 duration",
                    )
                    .with_help("write an ISO 8601 duration such as `P30D`, `P6M` or `P2Y`, or `indefinite`"),
                    "country" | "country-or-eea" => {
                        let mut d = Diagnostic::at(
                            Code::BadCountry,
                            &file,
                            loc.value,
                            format!("{} is not a country code (in `{field}`)", shown(value)),
                            "not an ISO 3166-1 alpha-2 code",
                        );
                        d = match formats::country_hint(text, format == "country-or-eea") {
                            Some(h) => d.with_help(h),
                            None if format == "country-or-eea" => d.with_help(
                                "use an upper-case ISO 3166-1 alpha-2 code such as `FR`, or `EEA` where people are only known to be in the EEA",
                            ),
                            None => d.with_help("use an upper-case ISO 3166-1 alpha-2 code such as `FR`, `US`, `VE`"),
                        };
                        d
                    }
                    _ => Diagnostic::at(
                        Code::InvalidValue,
                        &file,
                        loc.value,
                        format!("{} is not a valid `{format}` (in `{field}`)", shown(value)),
                        "invalid value",
                    ),
                }
            }
            ValidationErrorKind::Pattern { pattern } => {
                let text = value.as_str().unwrap_or_default();
                let mut d = Diagnostic::at(
                    Code::InvalidValue,
                    &file,
                    loc.value,
                    format!("{} is not a valid value for `{field}`", shown(value)),
                    "does not match the required form",
                );
                if let Some(desc) = here
                    .and_then(|s| s.get("description"))
                    .and_then(Value::as_str)
                {
                    d = d.with_note(desc.to_string());
                }
                let help = pattern_help(pattern, text);
                if let Some(h) = help {
                    d = d.with_help(h);
                }
                d
            }
            ValidationErrorKind::Constant { expected_value } => Diagnostic::at(
                Code::InvalidValue,
                &file,
                loc.value,
                format!("`{field}` must be {expected_value}, found {}", shown(value)),
                format!("expected {expected_value}"),
            ),
            ValidationErrorKind::UniqueItems => {
                // Point at the first repeat, with the item it repeats as a second label.
                let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
                let repeat = (0..items.len())
                    .find_map(|j| (0..j).find(|&i| items[i] == items[j]).map(|i| (i, j)));
                match repeat {
                    Some((i, j)) => {
                        let first = doc.parsed.locate(&format!("{instance_path}/{i}"));
                        let again = doc.parsed.locate(&format!("{instance_path}/{j}"));
                        Diagnostic::at(
                            Code::InvalidValue,
                            &file,
                            again.value,
                            format!("`{field}` lists {} twice", shown(&items[j])),
                            "listed again here",
                        )
                        .with_secondary(crate::diagnostics::Label {
                            file: file.clone(),
                            range: first.value,
                            text: "first listed here".to_string(),
                        })
                        .with_help("remove the repeated item")
                    }
                    None => Diagnostic::at(
                        Code::InvalidValue,
                        &file,
                        loc.value,
                        format!("`{field}` lists the same item more than once"),
                        "duplicate items",
                    ),
                }
            }
            _ => Diagnostic::at(
                Code::InvalidValue,
                &file,
                loc.value,
                format!("invalid value for `{field}`: {err}"),
                "invalid value",
            ),
        };
        out.push(d);
    }
    out
}

/// What to write instead of a value that does not match one of the schema's patterns.
fn pattern_help(pattern: &str, text: &str) -> Option<String> {
    let rule_like = text.to_uppercase().replace(['_', ' '], "-");
    match pattern {
        p if p.starts_with("^[A-Z]") => Some(format!("rule ids are upper case: `{rule_like}`")),
        p if p.starts_with("^[a-z0-9_]+") => Some(format!(
            "data-category ids are dotted lower-case names such as `user.content.image`{}",
            if text != text.to_lowercase() {
                format!(": `{}`", text.to_lowercase())
            } else {
                String::new()
            }
        )),
        p if p.starts_with("^[a-z0-9][a-z0-9-]*") => {
            let k = kebab(text);
            Some(if !k.is_empty() && k != text {
                format!("ids are lower-case kebab-case: `{k}`")
            } else {
                "ids are lower-case kebab-case (`a-z`, `0-9`, `-`), starting with a letter or digit"
                    .to_string()
            })
        }
        p if p.starts_with("^[a-z]{2,3}") => {
            Some("use a lower-case ISO 639 language code such as `en`, `de` or `pt-BR`".to_string())
        }
        p if p.starts_with("^https?://") => Some("write a full `https://` address".to_string()),
        _ => None,
    }
}

fn json_type_name(t: &str) -> &str {
    match t {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "text",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean (`true` or `false`)",
        "null" => "null",
        other => other,
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `Clinic_GmbH` -> `clinic-gmbh`.
pub fn kebab(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schemas_compile() {
        let _ = validator();
        let rule: Value = serde_json::from_str(rule_schema_text()).expect("rule schema is JSON");
        jsonschema::draft202012::new(&rule).expect("rule schema compiles");
        let _ = baseline_validator();
        let _ = config_validator();
    }

    #[test]
    fn schema_at_follows_refs() {
        let root = flow_schema();
        let s = schema_at(
            root,
            "/properties/parties/items/properties/transfer/$ref/additionalProperties",
        )
        .expect("resolves");
        assert!(
            s.get("properties")
                .and_then(|p| p.get("mechanism"))
                .is_some()
        );
    }

    #[test]
    fn field_paths_read_naturally() {
        assert_eq!(field_path("/flows/2/transfer/tia"), "flows[2].transfer.tia");
        assert_eq!(field_path(""), "the document");
    }

    #[test]
    fn kebab_cases() {
        assert_eq!(kebab("Clinic_GmbH"), "clinic-gmbh");
        assert_eq!(kebab("Scale AI "), "scale-ai");
    }
}
