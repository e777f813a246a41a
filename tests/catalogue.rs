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
