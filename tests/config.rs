//! The `.flowaudit.yaml` config file through the real binary: discovery (walking up, stopping at
//! the repository root), precedence (command line over config over defaults), each setting, and
//! invalid configs (exit 2 with diagnostics in the config file).
//!
//! Each test builds its own project under `CARGO_TARGET_TMPDIR`, with a `.git` directory at its
//! root so that discovery never leaves it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A flow with one high-severity gap of the ACME rule below (a vendor without an NDA).
const GAP: &str = r#"flowaudit: 1
controller: {id: sweepwell, name: Sweepwell GmbH, country: "DE", eea_establishment: true}
parties:
  - {id: labelforge, role: processor, country: "US", contract: {type: none}, transfer: {mechanism: scc}}
data_subjects:
  - {id: testers, category: tester, countries: ["DE"]}
activities:
  - {id: annotation, legal_basis: consent}
flows:
  - {id: to-labelforge, activity: annotation, from: testers, to: labelforge, data: [user.content.image]}
"#;

/// The same flow with the vendor under an NDA: the ACME rule passes.
const CLEAN: &str = r#"flowaudit: 1
controller: {id: sweepwell, name: Sweepwell GmbH, country: "DE", eea_establishment: true}
parties:
  - {id: labelforge, role: processor, country: "DE", contract: {type: nda}}
data_subjects:
  - {id: testers, category: tester, countries: ["DE"]}
activities:
  - {id: annotation, legal_basis: consent}
flows:
  - {id: to-labelforge, activity: annotation, from: testers, to: labelforge, data: [user.content.image]}
"#;

const RULE: &str = r#"id: ACME-CAMERA-VENDOR-NDA
title: Vendors receiving camera images sign an NDA
articles: ["Art. 32(4)"]
severity: high
subject: flow
when: flow.media and flow.recipient
require: flow.recipient.contract.type in ['dpa', 'nda']
message: "{{ flow.recipient }} receives camera images on {{ flow }} without an NDA or DPA"
remediation: Have the vendor sign our NDA before sending images.
tests:
  - name: vendor without contract
    expect: gap
    workspace:
      flowaudit: 1
      parties: [{id: v, role: processor, country: "DE", contract: {type: none}}]
      activities: [{id: a}]
      data_subjects: [{id: s}]
      flows: [{id: f, activity: a, from: s, to: v, data: [user.content.image]}]
"#;

/// A fresh project directory: `.git/`, `flows/gap.flow.yaml`, `clean/clean.flow.yaml`,
/// `policy/ACME-CAMERA-VENDOR-NDA.yaml`, `sub/deeper/`, and the given `.flowaudit.yaml`.
fn project(name: &str, config: Option<&str>) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("config-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&root);
    for dir in [".git", "flows", "clean", "policy", "sub/deeper"] {
        std::fs::create_dir_all(root.join(dir)).expect("create dir");
    }
    write(&root, "flows/gap.flow.yaml", GAP);
    write(&root, "clean/clean.flow.yaml", CLEAN);
    write(&root, "policy/ACME-CAMERA-VENDOR-NDA.yaml", RULE);
    if let Some(text) = config {
        write(&root, ".flowaudit.yaml", text);
    }
    root
}

fn write(root: &Path, rel: &str, text: &str) {
    std::fs::write(root.join(rel), text).expect("write file");
}

fn flowaudit(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("flowaudit")
        .expect("binary built")
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const BASE: &str = "roots: [flows]\nrules: [policy]\nselect: [ACME]\n";

#[test]
fn found_by_walking_up_and_roots_used_when_no_path_is_given() {
    let root = project("walk-up", Some(BASE));
    let (code, stdout, stderr) = flowaudit(&root.join("sub/deeper"), &["check"]);
    assert_eq!(code, 1, "{stderr}");
    // `roots` is relative to the config file, shown relative to the current directory.
    assert!(
        stdout.contains("at ../../flows/gap.flow.yaml:10:5"),
        "{stdout}"
    );
    assert!(stdout.contains("ACME-CAMERA-VENDOR-NDA"), "{stdout}");
}

#[test]
fn fail_on_never_in_the_config_and_fail_on_on_the_command_line_overrides_it() {
    let root = project("fail-on", Some(&format!("{BASE}fail_on: never\n")));
    let (code, stdout, stderr) = flowaudit(&root, &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 gap (1 high)"), "{stdout}");
    let (code, stdout, _) = flowaudit(&root, &["check", "--fail-on", "high"]);
    assert_eq!(code, 1, "{stdout}");
    // Without the config the built-in default (high) applies again.
    let (code, _, stderr) = flowaudit(
        &root,
        &[
            "--no-config",
            "check",
            "flows",
            "--rules",
            "policy",
            "--select",
            "ACME",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn explicit_paths_replace_roots() {
    let root = project("explicit-paths", Some(BASE));
    let (code, stdout, stderr) = flowaudit(&root, &["check", "clean"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("0 gaps"), "{stdout}");
    // Paths on the command line are relative to the current directory, not to the config.
    let (code, stdout, stderr) = flowaudit(&root.join("sub"), &["check", "../clean"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn select_ignore_and_rules_come_from_the_config() {
    // `ignore` hides the only gap `select` leaves.
    let root = project(
        "ignore",
        Some(&format!("{BASE}ignore: [ACME-CAMERA-VENDOR-NDA]\n")),
    );
    let (code, stdout, stderr) = flowaudit(&root, &["check"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("ACME-CAMERA-VENDOR-NDA  "), "{stdout}");
    // --ignore on the command line replaces the config's list.
    let (code, stdout, _) = flowaudit(&root, &["check", "--ignore", "GDPR-ART30"]);
    assert_eq!(code, 1, "{stdout}");

    // Without `select`, every rule is reported: the built-in ones find more than ACME's gap.
    let root = project("rules-only", Some("roots: [flows]\nrules: [policy]\n"));
    let (_, stdout, stderr) = flowaudit(&root, &["check", "--format", "json"]);
    assert!(stdout.contains("ACME-CAMERA-VENDOR-NDA"), "{stderr}");
    assert!(stdout.contains("\"GDPR-"), "{stdout}");

    // `rules list`, `rules show` and `rules test` read the config's rule directories too.
    let (code, stdout, _) = flowaudit(&root.join("sub"), &["rules", "list"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("ACME-CAMERA-VENDOR-NDA"), "{stdout}");
    let (code, _, stderr) = flowaudit(&root, &["rules", "show", "ACME-CAMERA-VENDOR-NDA"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = flowaudit(&root, &["rules", "test"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("ok    ACME-CAMERA-VENDOR-NDA / vendor without contract"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    // Without the config the ACME rule is unknown.
    let (code, _, stderr) = flowaudit(
        &root,
        &["--no-config", "rules", "show", "ACME-CAMERA-VENDOR-NDA"],
    );
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn validate_and_records_read_the_roots() {
    let root = project("validate-records", Some("roots: [clean]\n"));
    let (code, stdout, stderr) = flowaudit(&root.join("sub/deeper"), &["validate"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("valid: 1 file"), "{stdout}");
    let (code, stdout, stderr) = flowaudit(&root, &["records", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("clean/clean.flow.yaml"), "{stdout}");
}

#[test]
fn report_writes_into_out_relative_to_the_config() {
    let root = project(
        "report-out",
        Some(&format!("{BASE}fail_on: never\nout: build/privacy\n")),
    );
    let (code, stdout, stderr) = flowaudit(&root.join("sub/deeper"), &["report"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("wrote ../../build/privacy/report.html"),
        "{stdout}"
    );
    for name in ["report.html", "report.md", "report.json"] {
        assert!(root.join("build/privacy").join(name).is_file(), "{name}");
    }
    // --out overrides it (relative to the current directory), --fail-on the config's never.
    let (code, stdout, _) = flowaudit(&root, &["report", "--out", "here", "--fail-on", "high"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(root.join("here/report.json").is_file());
}

#[test]
fn misspelt_keys_are_e021_with_position_and_did_you_mean() {
    let root = project("misspelt", Some("roots: [flows]\nfail-on: never\n"));
    for args in [
        &["check"][..],
        &["report"],
        &["validate"],
        &["records"],
        &["rules", "list"],
    ] {
        let (code, stdout, stderr) = flowaudit(&root.join("sub"), args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains("error[E021]: unknown key `fail-on` at the top level"),
            "{stderr}"
        );
        assert!(stderr.contains("--> ../.flowaudit.yaml:2:1"), "{stderr}");
        assert!(stderr.contains("help: did you mean `fail_on`?"), "{stderr}");
    }
    // `validate --format json` reports it as JSON on stdout.
    let (code, stdout, _) = flowaudit(&root, &["validate", "--format", "json"]);
    assert_eq!(code, 2);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["diagnostics"][0]["code"], "E021");
    assert_eq!(json["diagnostics"][0]["file"], ".flowaudit.yaml");
    assert_eq!(json["diagnostics"][0]["line"], 2);
    // `--no-config` ignores the broken file.
    let (code, _, stderr) = flowaudit(&root, &["--no-config", "validate", "clean"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn wrong_enum_value_is_e022() {
    let root = project("enum", Some("roots: [flows]\nfail_on: hihg\n"));
    let (code, _, stderr) = flowaudit(&root, &["check"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error[E022]: `hihg` is not a valid value for `fail_on`"),
        "{stderr}"
    );
    assert!(stderr.contains("--> .flowaudit.yaml:2:10"), "{stderr}");
    assert!(stderr.contains("did you mean `high`?"), "{stderr}");
    // An invalid config is an error even when the command line overrides the setting.
    let (code, _, _) = flowaudit(&root, &["check", "clean", "--fail-on", "never"]);
    assert_eq!(code, 2);
}

#[test]
fn discovery_stops_at_the_repository_root() {
    // A config above the directory holding `.git` is not read.
    let outer = project("outer", Some("fail_on: hihg\n"));
    let inner = outer.join("sub");
    std::fs::create_dir_all(inner.join(".git")).expect("mkdir");
    write(&inner, "one.flow.yaml", CLEAN);
    let (code, _, stderr) = flowaudit(&inner, &["validate"]);
    assert_eq!(code, 0, "{stderr}");
    // ... but one in that directory is.
    write(&inner, ".flowaudit.yaml", "fail_on: hihg\n");
    let (code, _, stderr) = flowaudit(&inner, &["validate"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--> .flowaudit.yaml:1:10"), "{stderr}");
}

#[test]
fn yml_explicit_config_and_empty_config() {
    // `.flowaudit.yml` is accepted.
    let root = project("yml", None);
    write(&root, ".flowaudit.yml", BASE);
    let (code, _, stderr) = flowaudit(&root.join("sub"), &["check"]);
    assert_eq!(code, 1, "{stderr}");
    // --config names a file anywhere; its paths are relative to it.
    let root = project("explicit", None);
    write(
        &root,
        "sub/ci.yaml",
        "roots: [../flows]\nrules: [../policy]\nselect: [ACME]\n",
    );
    let (code, stdout, stderr) = flowaudit(&root, &["--config", "sub/ci.yaml", "check"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("at flows/gap.flow.yaml:10:5"), "{stdout}");
    let (code, _, stderr) = flowaudit(&root, &["check", "--config", "missing.yaml"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error[E001]: cannot read `missing.yaml`"),
        "{stderr}"
    );
    let (code, _, stderr) = flowaudit(&root, &["--config", "a.yaml", "--no-config", "check"]);
    assert_eq!(code, 2, "{stderr}");
    // A config with only comments is all defaults: the current directory, every rule.
    let root = project("empty", Some("# nothing configured yet\n"));
    let (code, stdout, stderr) = flowaudit(&root.join("clean"), &["validate"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("valid: 1 file"), "{stdout}");
}

#[test]
fn config_paths_that_do_not_exist_point_into_the_config() {
    let root = project("missing-paths", Some("roots: [flows]\nrules: [policies]\n"));
    let (code, _, stderr) = flowaudit(&root, &["check"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("error[E001]: cannot read `policies` (`rules` in `.flowaudit.yaml`)"),
        "{stderr}"
    );
    assert!(stderr.contains("--> .flowaudit.yaml:2:9"), "{stderr}");
    // --rules on the command line replaces the broken list.
    let (code, _, stderr) = flowaudit(&root, &["check", "--rules", "policy", "--select", "ACME"]);
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn schema_config_prints_the_embedded_schema() {
    let root = project("schema", None);
    let (code, stdout, _) = flowaudit(&root, &["schema", "config"]);
    assert_eq!(code, 0);
    let on_disk = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/config.schema.json"),
    )
    .expect("schema file");
    assert_eq!(stdout, on_disk);
}
