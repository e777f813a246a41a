//! Large workspaces: rule messages that summarise the whole workspace stay bounded (they name at
//! most ten elements and count the rest), so a run on tens of thousands of activities neither
//! builds megabyte messages nor runs a message template out of fuel. Timings are not asserted
//! here (see benches/run.sh and docs/performance.md).

use assert_cmd::Command;

#[test]
fn workspace_wide_messages_name_ten_elements_and_count_the_rest() {
    let dir = std::env::temp_dir().join(format!("flowaudit-scale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut text = String::from(
        "flowaudit: 1\ncontroller: {id: acme, name: Acme, country: DE, eea_establishment: true}\n\
         notice: {exists: true}\nactivities:\n",
    );
    for i in 0..3000 {
        text.push_str(&format!("  - {{id: act-{i}, purpose: p{i}}}\n"));
    }
    std::fs::write(dir.join("w.flow.yaml"), text).expect("write");
    let out = Command::cargo_bin("flowaudit")
        .expect("binary built")
        .current_dir(&dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args([
            "check",
            "--select",
            "GDPR-ART12-NOTICE-NOT-INTELLIGIBLE",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let result = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["rule"] == "GDPR-ART12-NOTICE-NOT-INTELLIGIBLE")
        .expect("the rule ran");
    assert_eq!(result["status"], "unknown");
    let message = result["message"].as_str().expect("a message");
    assert!(
        message.contains("act-0, act-1, act-2") && message.contains("act-9 and 2990 more"),
        "{message}"
    );
    assert!(!message.contains("act-10,"), "{message}");
    assert!(message.len() < 500, "{} characters", message.len());
}
