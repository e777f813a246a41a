//! `docs/rules.md` is the catalogue the tool generates from the rule files; it must not go stale.
//! Regenerate with `FLOWAUDIT_BLESS=1 cargo test --test catalogue` (or
//! `flowaudit rules list --format markdown > docs/rules.md`).

use assert_cmd::Command;

#[test]
fn rule_catalogue_is_current() {
    let out = Command::cargo_bin("flowaudit")
        .expect("binary built")
        .args(["rules", "list", "--format", "markdown"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
    if std::env::var_os("FLOWAUDIT_BLESS").is_some() {
        std::fs::write(path, &generated).expect("write docs/rules.md");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/rules.md is stale: run `FLOWAUDIT_BLESS=1 cargo test --test catalogue`"
    );
}

#[test]
fn rules_list_json_has_every_rule() {
    let out = Command::cargo_bin("flowaudit")
        .expect("binary built")
        .args(["rules", "list", "--format", "json"])
        .output()
        .expect("runs");
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rules = list.as_array().expect("array");
    assert!(rules.len() >= 24);
    for r in rules {
        assert!(
            r["id"].is_string() && r["articles"].is_array() && r["reads"].is_array(),
            "{r}"
        );
        assert!(
            !r["tests"].as_array().expect("tests").is_empty(),
            "{} has no self-tests",
            r["id"]
        );
    }
}

/// Built-in rules skip the load-time checks on every run (schema, expressions, fields, message
/// templates); this loads each one as a user rule so that those checks still hold for them.
#[test]
fn builtin_rules_pass_the_checks_user_rules_get() {
    let mut checked = 0;
    for (path, text) in flowaudit::embedded::FILES {
        if !(path.starts_with("rules/gdpr/") || path.starts_with("rules/aiact/"))
            || !path.ends_with(".yaml")
        {
            continue;
        }
        let file = flowaudit::source::SourceFile {
            path: std::path::PathBuf::from(path),
            text: text.to_string(),
        };
        if let Err(diags) = flowaudit::engine::rules::load_rule(file, false) {
            panic!("{path}: {diags:#?}");
        }
        checked += 1;
    }
    assert!(checked >= 71, "only {checked} rule files found");
}
