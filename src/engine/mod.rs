//! The rule engine. For now: the registry of built-in rule ids (`rules/gdpr/*.yaml`, embedded),
//! which waivers are checked against.

use crate::embedded;
use crate::loading::yaml;

/// Ids of the built-in rules, sorted.
pub fn builtin_rule_ids() -> Vec<String> {
    let mut ids: Vec<String> = embedded::under("rules/gdpr/")
        .filter(|(path, _)| path.ends_with(".yaml"))
        .filter_map(|(_, text)| yaml::parse(text, yaml::Limits::default()).ok())
        .filter_map(|doc| {
            doc.value
                .get("id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    ids
}
