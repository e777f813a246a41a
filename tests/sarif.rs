//! `check --format sarif`: the output validates against the OASIS SARIF 2.1.0 schema
//! (`tests/data/sarif-schema-2.1.0.json`, offline), has one result per gap (and per waived gap, with
//! a suppression), points every result at its rule and its place in the flow files, maps
//! severities to levels, and is byte-identical from run to run.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn run(dir: &str, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("flowaudit")
        .expect("binary built")
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("runs")
}

/// The SARIF and the JSON output of one `check` (exit code 0 or 1; the same for both formats).
fn check(dir: &str, args: &[&str]) -> (Vec<u8>, Value, Value) {
    let with = |format: &str| {
        let mut all: Vec<&str> = vec!["check"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", format]);
        run(dir, &all)
    };
    let sarif = with("sarif");
    let json = with("json");
    assert!(
        matches!(sarif.status.code(), Some(0 | 1)),
        "exit {:?}, stderr:\n{}",
        sarif.status.code(),
        String::from_utf8_lossy(&sarif.stderr)
    );
    assert_eq!(sarif.status.code(), json.status.code());
    assert!(
        sarif.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&sarif.stderr)
    );
    let parsed: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF output is JSON");
    let model: Value = serde_json::from_slice(&json.stdout).expect("JSON output is JSON");
    (sarif.stdout, parsed, model)
}

fn validate(sarif: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("schema JSON");
    // The OASIS schema is draft-04 (`$schema`, `id`); it only references its own definitions, so
    // it compiles offline.
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    let validator = jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} schema error(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

fn level(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        "low" | "info" => "note",
        other => panic!("unknown severity {other}"),
    }
}

fn security_severity(severity: &str) -> &'static str {
    match severity {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        "low" => "3.0",
        "info" => "1.0",
        other => panic!("unknown severity {other}"),
    }
}

/// Checks the SARIF log against the JSON result model of the same run.
fn check_against_model(sarif: &Value, model: &Value) {
    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "flowaudit");
    assert_eq!(driver["version"], model["tool"]["version"]);

    // Rules: those of the model, in order, with the severity mapped.
    let rules = driver["rules"].as_array().expect("rules");
    let model_rules = model["rules"].as_array().expect("model rules");
    assert_eq!(rules.len(), model_rules.len());
    for (r, m) in rules.iter().zip(model_rules) {
        let sev = m["severity"].as_str().expect("severity");
        assert_eq!(r["id"], m["id"]);
        assert_eq!(r["shortDescription"]["text"], m["title"]);
        assert_eq!(r["defaultConfiguration"]["level"], level(sev));
        assert_eq!(r["properties"]["security-severity"], security_severity(sev));
        let tags = r["properties"]["tags"].as_array().expect("tags");
        assert!(tags.iter().any(|t| t == sev), "{tags:?}");
        for a in m["articles"].as_array().expect("articles") {
            assert!(tags.contains(a), "{a} not in {tags:?}");
        }
        let name = r["name"].as_str().expect("name");
        assert!(
            !name.is_empty() && name.chars().all(char::is_alphanumeric),
            "{name}"
        );
        match m["references"].as_array().and_then(|x| x.first()) {
            Some(first) => assert_eq!(r["helpUri"], first["url"]),
            None => assert!(r.get("helpUri").is_none()),
        }
    }

    // Results: one per gap and per waived gap, in the model's order.
    let expected: Vec<&Value> = model["results"]
        .as_array()
        .expect("model results")
        .iter()
        .filter(|f| f["status"] == "gap" || f["status"] == "waived")
        .collect();
    let results = runs[0]["results"].as_array().expect("results");
    assert_eq!(results.len(), expected.len());
    let gaps = model["results"]
        .as_array()
        .expect("model results")
        .iter()
        .filter(|f| f["status"] == "gap")
        .count();
    let unsuppressed = results
        .iter()
        .filter(|r| r.get("suppressions").is_none())
        .count();
    assert_eq!(unsuppressed, gaps, "one unsuppressed result per gap");
    let summary_gaps: u64 = model["summary"]["statuses"]["gap"].as_u64().expect("count");
    assert_eq!(gaps as u64, summary_gaps);

    for (r, f) in results.iter().zip(&expected) {
        let rule_id = r["ruleId"].as_str().expect("ruleId");
        assert_eq!(rule_id, f["rule"]);
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], rule_id, "ruleIndex points at the rule");
        let sev = f["severity"].as_str().expect("severity");
        assert_eq!(r["level"], level(sev));
        assert_eq!(r["properties"]["severity"], sev);
        assert_eq!(r["properties"]["subjectKind"], f["subject"]["kind"]);
        assert_eq!(r["properties"]["subjectId"], f["subject"]["id"]);
        assert_eq!(r["properties"]["articles"], f["articles"]);
        let text = f["message"]
            .as_str()
            .unwrap_or_else(|| f["title"].as_str().expect("title"));
        assert_eq!(r["message"]["text"], text);
        assert_eq!(
            r["partialFingerprints"]["flowauditSubject/v1"],
            format!(
                "{}:{}:{}",
                rule_id,
                f["subject"]["kind"].as_str().expect("kind"),
                f["subject"]["id"].as_str().expect("id")
            )
        );
        let locations = r["locations"].as_array().expect("locations");
        assert_eq!(locations.len(), 1);
        let physical = &locations[0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], f["location"]["file"]);
        let line = physical["region"]["startLine"].as_u64().expect("startLine");
        let column = physical["region"]["startColumn"]
            .as_u64()
            .expect("startColumn");
        assert!(line >= 1 && column >= 1, "region {line}:{column}");
        assert_eq!(line, f["location"]["line"].as_u64().expect("line"));
        assert_eq!(column, f["location"]["column"].as_u64().expect("column"));
        if f["status"] == "waived" {
            let suppressions = r["suppressions"].as_array().expect("suppressions");
            assert_eq!(suppressions.len(), 1);
            assert_eq!(suppressions[0]["kind"], "external");
            assert_eq!(suppressions[0]["justification"], f["waiver"]["reason"]);
        }
    }
}

fn example(name: &str) -> Value {
    let path = format!("examples/{name}");
    let (bytes, sarif, model) = check(env!("CARGO_MANIFEST_DIR"), &[&path]);
    validate(&sarif);
    check_against_model(&sarif, &model);
    let (again, _, _) = check(env!("CARGO_MANIFEST_DIR"), &[&path]);
    assert!(bytes == again, "SARIF output differs between two runs");
    sarif
}

#[test]
fn robot_vacuum() {
    let sarif = example("robot-vacuum");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("examples/robot-vacuum/"))
    }));
}

#[test]
fn face_search() {
    let sarif = example("face-search");
    assert!(
        !sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .is_empty()
    );
}

#[test]
fn robot_vacuum_remediated() {
    let sarif = example("robot-vacuum-remediated");
    // No gap: an empty result list, still with every rule described.
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
    assert!(
        !sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .is_empty()
    );
}

#[test]
fn waived_finding_carries_a_suppression() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/cmd/check-custom-rules.in"
    );
    let args = ["--rules", "rules", "--select", "ACME"];
    let (bytes, sarif, model) = check(dir, &args);
    validate(&sarif);
    check_against_model(&sarif, &model);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let waived: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(waived.len(), 1, "{results:?}");
    assert_eq!(waived[0]["ruleId"], "ACME-CAMERA-VENDOR-NDA");
    assert_eq!(waived[0]["properties"]["subjectId"], "to-labelforge");
    assert_eq!(
        waived[0]["suppressions"],
        serde_json::json!([{"kind": "external", "justification": "NDA in signature, see ticket PRIV-12"}])
    );
    let (again, _, _) = check(dir, &args);
    assert!(bytes == again, "SARIF output differs between two runs");
}

/// A control: the validator does reject what the schema forbids (so a pass above means something).
#[test]
fn schema_rejects_a_broken_log() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/cmd/check-custom-rules.in"
    );
    let (_, mut sarif, _) = check(dir, &["--rules", "rules", "--select", "ACME"]);
    let result = &mut sarif["runs"][0]["results"][0];
    result["level"] = "critical".into();
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    result["suppressions"][0]["kind"] = "waiver".into();
    sarif["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] =
        serde_json::json!(["high", "high"]);
    let caught = std::panic::catch_unwind(|| validate(&sarif)).expect_err("must be rejected");
    let text = caught.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.starts_with("4 schema error(s)"), "{text}");
}
