//! `check --output`: the report is written to the file (atomically, no temporary left behind),
//! nothing to stdout, and the same bytes as stdout would get; output is deterministic.

use assert_cmd::Command;

fn check(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("flowaudit")
        .expect("binary built")
        .current_dir("tests/cmd/check-custom-rules.in")
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env("NO_COLOR", "1")
        .args(["check", "--rules", "rules", "--select", "ACME"])
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn output_file_matches_stdout_and_is_written_atomically() {
    let dir = std::env::temp_dir().join(format!("flowaudit-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("results.json");
    let to_file = check(&[
        "--format",
        "json",
        "--output",
        file.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(to_file.status.code(), Some(0));
    assert!(to_file.stdout.is_empty());
    let to_stdout = check(&["--format", "json"]);
    assert_eq!(std::fs::read(&file).expect("written"), to_stdout.stdout);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name() != "results.json")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unwritable_output_is_an_error_not_a_panic() {
    let out = check(&["--output", "/nonexistent-dir/results.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cannot write `/nonexistent-dir/results.txt`")
    );
}

#[test]
fn output_is_deterministic() {
    let a = check(&["--format", "json"]);
    let b = check(&["--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
    assert!(String::from_utf8_lossy(&a.stdout).contains("\"date\": \"2026-01-01\""));
}
