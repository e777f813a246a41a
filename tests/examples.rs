//! The bundled examples show what the tool is for: each motivating case fails the checkpoints the
//! regulators' findings correspond to, and the remediated programme passes everything at `high`
//! and above.

use std::collections::BTreeSet;

use assert_cmd::Command;
use serde_json::Value;

/// Runs `check --format json` on an example, with a fixed report date.
fn check(example: &str) -> (i32, Value) {
    let out = Command::cargo_bin("flowaudit")
        .expect("binary built")
        .env("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
        .args(["check", &format!("examples/{example}"), "--format", "json"])
        .output()
        .expect("runs");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{example}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn with_status(report: &Value, status: &str) -> BTreeSet<String> {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == status)
        .map(|r| r["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn assert_gaps(example: &str, expected: &[&str]) {
    let (code, report) = check(example);
    assert_eq!(code, 1, "{example} has gaps at or above high");
    let gaps = with_status(&report, "gap");
    let missing: Vec<&&str> = expected.iter().filter(|r| !gaps.contains(**r)).collect();
    assert!(
        missing.is_empty(),
        "{example}: expected gaps not found: {missing:?}\nfound: {gaps:#?}"
    );
}

#[test]
fn robot_vacuum_fails_what_the_leak_revealed() {
    assert_gaps(
        "robot-vacuum",
        &[
            // Consent scope: testers agreed to product development, not to overseas reviewers.
            "GDPR-CONSENT-SCOPE-MISMATCH",
            // Household members, visitors and children were photographed.
            "GDPR-BYSTANDER-DATA-NO-BASIS",
            // The labelling vendor's crowd subprocessor was never authorised.
            "GDPR-ART28-2-UNAUTHORISED-SUBPROCESSOR",
            // Human review: unbound gig workers who could screenshot, unredacted images, undisclosed.
            "GDPR-ART29-32-4-REVIEWERS-NOT-BOUND",
            "GDPR-ART25-NO-REDACTION-BEFORE-HUMAN-REVIEW",
            "GDPR-HUMAN-REVIEW-UNDISCLOSED",
            // US -> Venezuela without any tool.
            "GDPR-ART44-TRANSFER-WITHOUT-TOOL",
            "GDPR-ART44-ONWARD-TRANSFER-UNCOVERED",
            // No DPIA for in-home cameras feeding AI training.
            "GDPR-ART35-DPIA-MISSING",
            "IOT-IN-HOME-CAPTURE-HIGH-RISK",
            // Children filmed at home under a tester's consent.
            "GDPR-ART8-24-25-CHILDREN-SAFEGUARDS",
            // The vendor's DPA lacks Art. 28(3) terms; the crowd was never vetted.
            "GDPR-ART28-3-MANDATORY-CLAUSES-MISSING",
            "GDPR-ART28-1-INSUFFICIENT-GUARANTEES",
            // The leak itself, never notified.
            "GDPR-ART33-BREACH-NOT-NOTIFIED",
            // The detector and dataset are built from unlawfully processed images.
            "AI-MODEL-TRAINED-ON-UNLAWFUL-DATA",
        ],
    );
}

#[test]
fn face_search_fails_what_the_regulator_found() {
    assert_gaps(
        "face-search",
        &[
            "GDPR-ART6-NO-LAWFUL-BASIS",
            "GDPR-ART9-SPECIAL-CATEGORY-NO-CONDITION",
            "GDPR-ART9-2-CONDITION-INVALID",
            "GDPR-ART14-INDIRECT-COLLECTION-NO-NOTICE",
            "GDPR-ART15-ACCESS-INCOMPLETE",
            "GDPR-ART17-ERASURE-NOT-HONOURED-OR-PROPAGATED",
            "GDPR-ART27-NO-EU-REPRESENTATIVE",
            "GDPR-ART31-NO-COOPERATION-OR-ORDER-BREACH",
            // Requests answered late or never; biometric scanning of everyone; scraped training data.
            "GDPR-ART12-REQUEST-LATE",
            "GDPR-ART9-BIOMETRIC-IDENTIFICATION-OF-ALL-PASSERS-BY",
            "AI-SCRAPED-TRAINING-DATA",
            // The GDPR applies to a US company monitoring people in the EEA (an info signal).
            "GDPR-ART3-EXTRATERRITORIAL-APPLICABILITY",
        ],
    );
}

#[test]
fn face_scraping_is_a_prohibited_ai_practice_reported_apart() {
    let (_, report) = check("face-search");
    let prohibited: Vec<&Value> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["rule"] == "AIACT-ART5-PROHIBITED-PRACTICE" && r["status"] == "gap")
        .collect();
    assert_eq!(prohibited.len(), 1, "{prohibited:#?}");
    assert_eq!(prohibited[0]["severity"], "critical");
    assert_eq!(prohibited[0]["subject"]["id"], "face-collection");
    // Counted in the AI Act overlay, not among the GDPR gaps.
    assert_eq!(report["summary"]["ai_act"]["critical"], 1);
}

#[test]
fn remediated_programme_passes_at_high_and_above() {
    let (code, report) = check("robot-vacuum-remediated");
    let serious: Vec<String> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| {
            r["status"] == "gap" && matches!(r["severity"].as_str(), Some("critical" | "high"))
        })
        .map(|r| format!("{} on {}: {}", r["rule"], r["subject"]["id"], r["message"]))
        .collect();
    assert!(serious.is_empty(), "{serious:#?}");
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["verdict"], "ready");
    // Every built-in rule ran on it, and the high and critical ones were decided, not left unknown.
    let unknown_serious: Vec<String> = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| {
            r["status"] == "unknown" && matches!(r["severity"].as_str(), Some("critical" | "high"))
        })
        .map(|r| format!("{} on {}: {}", r["rule"], r["subject"]["id"], r["missing"]))
        .collect();
    assert!(unknown_serious.is_empty(), "{unknown_serious:#?}");
}
