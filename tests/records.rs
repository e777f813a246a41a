//! `flowaudit records`: the Art. 30(1) record of processing activities, run on the bundled
//! examples in every format (JSON and CSV parsed back), byte-identical across runs, written
//! atomically with `--output`, exit 2 on an invalid workspace.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const FORMATS: &[&str] = &["markdown", "csv", "json"];
const EXAMPLES: &[&str] = &["robot-vacuum", "face-search", "robot-vacuum-remediated"];

fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("flowaudit")
        .expect("binary built")
        .env("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
        .env("NO_COLOR", "1")
        .arg("records")
        .args(args)
        .output()
        .expect("runs")
}

fn records(example: &str, format: &str) -> String {
    let out = run(&[&format!("examples/{example}"), "--format", format]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{example} {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{example} {format}: stderr not empty"
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(example: &str) -> Value {
    serde_json::from_str(&records(example, "json")).expect("JSON")
}

fn activity<'a>(record: &'a Value, id: &str) -> &'a Value {
    record["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no activity {id}"))
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x[key].as_str().unwrap_or_default().to_string())
        .collect()
}

fn missing_fields(a: &Value) -> Vec<String> {
    strings(&a["missing"], "field")
}

/// A small RFC 4180 reader: records of fields, quoted fields may hold commas, quotes, newlines.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                assert!(field.is_empty(), "quote inside an unquoted field");
                quoted = true;
            }
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            '\n' => panic!("bare LF ends a record"),
            c => field.push(c),
        }
    }
    assert!(!quoted, "unterminated quoted field");
    assert!(
        field.is_empty() && row.is_empty(),
        "last record without CRLF"
    );
    rows
}

/// The CSV as maps from column to cell, one per activity.
fn csv(example: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let rows = parse_csv(&records(example, "csv"));
    let header = &rows[0];
    assert_eq!(header[0], "activity_id");
    assert_eq!(header.last().map(String::as_str), Some("missing"));
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "row width");
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

#[test]
fn robot_vacuum_json_names_the_vendor_chain_and_the_venezuelan_leg() {
    let r = json("robot-vacuum");
    assert_eq!(r["format_version"], 1);
    assert_eq!(r["date"], "2026-01-01");
    assert_eq!(r["controller"]["id"], "sweepwell");
    assert_eq!(r["controller"]["name"], "Sweepwell Robotics GmbH");
    assert_eq!(r["controller"]["country"], "DE");
    assert_eq!(r["controller"]["dpo"]["designated"], true);
    assert_eq!(r["controller"]["eu_representative"]["required"], false);
    assert_eq!(r["controller"]["missing"], Value::Array(vec![]));
    let sources: Vec<&str> = r["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(sources.contains(&"examples/robot-vacuum/flows.flow.yaml"));
    assert!(sources.windows(2).all(|w| w[0] < w[1]), "sorted");
    let ids = strings(&r["activities"], "id");
    assert_eq!(
        ids,
        [
            "detector-training",
            "home-image-capture",
            "image-annotation",
            "tester-enrolment"
        ]
    );

    let a = activity(&r, "image-annotation");
    assert_eq!(a["purpose_category"], "ai_training");
    assert_eq!(a["legal_basis"], "consent");
    assert_eq!(
        strings(&a["recipients"], "id"),
        ["labelforge", "taskhive-ve"]
    );
    let taskhive = &a["recipients"][1];
    assert_eq!(taskhive["role"], "subprocessor");
    assert_eq!(taskhive["country"], "VE");
    let legs = a["transfers"].as_array().expect("transfers");
    let ve = legs
        .iter()
        .find(|t| t["country"] == "VE")
        .expect("a leg to Venezuela");
    assert_eq!(ve["importer"], "taskhive-ve");
    assert_eq!(ve["exporter"], "labelforge");
    assert_eq!(ve["leg"], "onward");
    assert_eq!(ve["mechanism"], "none");
    let us = legs
        .iter()
        .find(|t| t["country"] == "US")
        .expect("a leg to the US");
    assert_eq!(us["importer"], "labelforge");
    assert_eq!(us["mechanism"], "scc");
    assert_eq!(us["leg"], "initial");
    assert_eq!(
        strings(&a["data_subjects"], "category"),
        ["visitor", "child", "bystander", "tester"]
    );
    assert!(strings(&a["data_categories"], "id").contains(&"user.content.image".to_string()));
    assert_eq!(a["data_categories"][0]["name"], "Images of People");
    assert_eq!(a["retention"]["period"], "indefinite");
    // The vendor's workbench overrides the organisation's measures.
    let workbench = a["security"]
        .as_array()
        .expect("security")
        .iter()
        .find(|s| s["system"] == "annotation-workbench")
        .expect("workbench");
    let measures: Vec<&str> = workbench["measures"]
        .as_array()
        .expect("measures")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(measures.contains(&"encryption_at_rest"));
    assert!(!measures.contains(&"export_controls"));
    assert!(
        workbench["lacking"]
            .as_array()
            .expect("lacking")
            .contains(&Value::from("export_controls"))
    );
    // No erasure time limit: the one mandatory field the record cannot fill in.
    assert_eq!(missing_fields(a), ["retention.period"]);
    assert_eq!(a["missing"][0]["item"], "r1f");

    let enrolment = activity(&r, "tester-enrolment");
    assert_eq!(enrolment["retention"]["period"], "P6Y");
    assert_eq!(enrolment["recipients"], Value::Array(vec![]));
    assert_eq!(enrolment["transfers"], Value::Array(vec![]));
    assert!(missing_fields(enrolment).is_empty());
}

#[test]
fn face_search_json_lists_what_the_record_lacks() {
    let r = json("face-search");
    let c = &r["controller"];
    assert_eq!(c["id"], "lumaface");
    assert_eq!(c["country"], "US");
    assert_eq!(c["eu_representative"]["designated"], false);
    assert_eq!(c["eu_representative"]["required"], true);
    assert_eq!(c["dpo"]["required"], true);
    assert_eq!(
        strings(&c["missing"], "field"),
        ["controller.dpo", "controller.eu_representative"]
    );
    for id in ["embedder-training", "face-collection", "face-search"] {
        let a = activity(&r, id);
        let fields = missing_fields(a);
        for expected in [
            "controller.dpo",
            "controller.eu_representative",
            "retention.period",
        ] {
            assert!(
                fields.contains(&expected.to_string()),
                "{id}: {expected} not in {fields:?}"
            );
        }
        assert_eq!(a["special_categories"], serde_json::json!(["biometric"]));
        let face = a["data_categories"]
            .as_array()
            .expect("data")
            .iter()
            .find(|d| d["id"] == "user.biometric.face")
            .expect("face templates");
        assert_eq!(face["special"], "biometric");
    }
    let search = activity(&r, "face-search");
    assert_eq!(strings(&search["recipients"], "id"), ["us-law-enforcement"]);
    assert_eq!(search["recipients"][0]["role"], "controller");
    assert_eq!(search["transfers"][0]["importer"], "us-law-enforcement");
    assert_eq!(search["transfers"][0]["country"], "US");
    assert_eq!(search["transfers"][0]["mechanism"], "none");
    assert_eq!(strings(&search["data_subjects"], "category"), ["public"]);
    // Scraped sources are where data come from, not recipients.
    assert_eq!(
        activity(&r, "face-collection")["recipients"],
        Value::Array(vec![])
    );
}

#[test]
fn remediated_programme_has_no_missing_mandatory_field() {
    let r = json("robot-vacuum-remediated");
    assert_eq!(r["controller"]["missing"], Value::Array(vec![]));
    let activities = r["activities"].as_array().expect("activities");
    assert_eq!(activities.len(), 5);
    for a in activities {
        assert!(
            missing_fields(a).is_empty(),
            "{}: {:?}",
            a["id"],
            a["missing"]
        );
        assert!(a["retention"]["period"].is_string());
    }
    let annotation = activity(&r, "image-annotation");
    assert_eq!(
        strings(&annotation["recipients"], "id"),
        ["labelforge", "labelforge-eu"]
    );
    // The Portuguese annotators are in the EEA: the only leg is the SCC-covered one to the US.
    let legs = annotation["transfers"].as_array().expect("transfers");
    assert_eq!(legs.len(), 1);
    assert_eq!(legs[0]["country"], "US");
    assert_eq!(legs[0]["mechanism"], "scc");
}

#[test]
fn csv_has_one_row_per_activity_with_fixed_columns() {
    let rows = csv("robot-vacuum");
    assert_eq!(rows.len(), 4);
    let ids: Vec<&str> = rows.iter().map(|r| r["activity_id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "detector-training",
            "home-image-capture",
            "image-annotation",
            "tester-enrolment"
        ]
    );
    let a = &rows[2];
    assert_eq!(a["controller"], "Sweepwell Robotics GmbH");
    assert_eq!(a["controller_country"], "DE");
    assert!(
        a["recipients"].contains("labelforge"),
        "{}",
        a["recipients"]
    );
    assert!(a["recipients"].contains("taskhive-ve"));
    assert_eq!(a["recipients"].split("; ").count(), 2);
    let transfers: Vec<&str> = a["transfers"].split("; ").collect();
    assert_eq!(transfers.len(), 2);
    assert!(
        transfers
            .iter()
            .any(|t| t.contains("in VE") && t.contains("mechanism none")),
        "{transfers:?}"
    );
    assert_eq!(a["retention_period"], "indefinite");
    assert_eq!(a["missing"], "retention.period");
    assert_eq!(a["criminal_data"], "no");
    // A purpose with commas survives the quoting.
    assert_eq!(
        a["purpose"],
        "Have objects, rooms and obstacles in the captured frames outlined and labelled by human annotators to produce training labels"
    );
    assert_eq!(rows[3]["missing"], "");

    for row in csv("face-search") {
        let missing: Vec<&str> = row["missing"].split("; ").collect();
        assert!(
            missing.contains(&"retention.period")
                && missing.contains(&"controller.eu_representative"),
            "{}: {missing:?}",
            row["activity_id"]
        );
    }
    let remediated = csv("robot-vacuum-remediated");
    assert_eq!(remediated.len(), 5);
    for row in remediated {
        assert_eq!(row["missing"], "", "{}", row["activity_id"]);
    }
}

#[test]
fn markdown_has_a_section_and_a_table_per_activity() {
    let md = records("robot-vacuum", "markdown");
    assert!(md.starts_with("# Record of processing activities"));
    assert!(md.contains("| Date | 2026-01-01 |"));
    assert!(md.contains("examples/robot-vacuum/activities.flow.yaml"));
    for id in [
        "detector-training",
        "home-image-capture",
        "image-annotation",
        "tester-enrolment",
    ] {
        assert!(
            md.lines()
                .any(|l| l.starts_with("### ") && l.contains(&format!("(`{id}`)"))),
            "no section for {id}"
        );
    }
    assert_eq!(md.matches("| Art. 30(1) | field | record |").count(), 4);
    for item in ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)"] {
        assert!(md.contains(&format!("| {item} |")), "{item}");
    }
    assert!(md.contains("- `retention.period` (r1f): indefinite"));
    assert!(md.contains("TaskHive Workforce C.A. (`taskhive-ve`, subprocessor, VE)"));

    let remediated = records("robot-vacuum-remediated", "markdown");
    // The controller and each of the five activities.
    assert_eq!(
        remediated
            .matches("Missing mandatory fields: none.")
            .count(),
        6
    );
}

#[test]
fn output_is_byte_identical_across_runs() {
    for example in EXAMPLES {
        for format in FORMATS {
            assert_eq!(
                records(example, format),
                records(example, format),
                "{example} {format}"
            );
        }
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowaudit-records-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn output_file_is_written_atomically_with_the_stdout_bytes() {
    let dir = temp_dir("output");
    for format in FORMATS {
        let file = dir.join(format!("record.{format}"));
        let out = run(&[
            "examples/robot-vacuum",
            "--format",
            format,
            "--output",
            file.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stdout.is_empty());
        assert_eq!(
            std::fs::read_to_string(&file).expect("written"),
            records("robot-vacuum", format)
        );
    }
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "temporary files left: {names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_workspace_gives_diagnostics_and_exit_2() {
    let dir = temp_dir("invalid");
    std::fs::write(
        dir.join("a.flow.yaml"),
        "flowaudit: 1\nactivities:\n  - {id: signup, purpos: typo}\n",
    )
    .expect("write");
    let out = run(&[dir.to_str().expect("utf-8"), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error["), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn write_workspace(dir: &Path) {
    std::fs::write(
        dir.join("a.flow.yaml"),
        r#"flowaudit: 1
controller: {id: acme, name: "Acme <b>|\"Co\", Ltd", country: "DE", eea_establishment: true, dpo: {designated: true}}
parties:
  - {id: vendor, role: processor}
systems:
  - {id: app, operated_by: acme, kind: mobile_app}
data_subjects:
  - {id: users, name: "Users | <all>"}
activities:
  - id: signup
    purpose: "Sign-up, with \"quotes\"\nand a second line"
flows:
  - {id: f1, activity: signup, from: users, to: app, data: [user.name]}
  - {id: f2, activity: signup, from: app, to: vendor, data: [user.name], subjects: [users]}
"#,
    )
    .expect("write");
}

#[test]
fn user_text_is_escaped_and_quoted_and_gaps_are_named() {
    let dir = temp_dir("escape");
    write_workspace(&dir);
    let path = dir.to_str().expect("utf-8");
    let out = run(&[path, "--format", "markdown"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).expect("utf-8");
    assert!(md.contains("Acme &lt;b&gt;\\|\"Co\", Ltd"), "{md}");
    assert!(md.contains("Users \\| &lt;all&gt;"));
    assert!(!md.contains("<b>") && !md.contains("<all>"));
    assert!(md.contains("Sign-up, with \"quotes\" and a second line"));

    let out = run(&[path, "--format", "csv"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let rows = parse_csv(&text);
    assert_eq!(rows.len(), 2);
    let header = &rows[0];
    let cell = |name: &str| {
        let i = header.iter().position(|h| h == name).expect(name);
        rows[1][i].clone()
    };
    assert_eq!(cell("controller"), "Acme <b>|\"Co\", Ltd");
    assert_eq!(
        cell("purpose"),
        "Sign-up, with \"quotes\"\nand a second line"
    );
    let missing: Vec<String> = cell("missing").split("; ").map(str::to_string).collect();
    for field in [
        "purpose_category",
        "legal_basis",
        "data_subjects[users].category",
        "parties[vendor].country",
        "retention.period",
        "systems[app].security",
    ] {
        assert!(
            missing.contains(&field.to_string()),
            "{field} not in {missing:?}"
        );
    }

    let out = run(&[path, "--format", "json"]);
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let a = activity(&r, "signup");
    let vendor = a["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .find(|m| m["field"] == "parties[vendor].country")
        .expect("vendor country");
    assert_eq!(vendor["item"], "r1d");
    assert_eq!(vendor["reason"], "not stated");
    let _ = std::fs::remove_dir_all(&dir);
}
