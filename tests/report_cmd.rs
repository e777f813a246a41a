//! `flowaudit report`: writes report.html, report.md and report.json (the same bytes as
//! `check --format html|markdown|json`), atomically, with the check's exit code; output does not
//! depend on the order files are named or found in.

use assert_cmd::Command;

fn flowaudit(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("flowaudit")
        .expect("binary built")
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .args(args)
        .output()
        .expect("runs")
}

#[test]
fn report_writes_three_files_matching_check() {
    let dir = std::env::temp_dir().join(format!("flowaudit-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("out");
    let run = flowaudit(&[
        "report",
        "examples/robot-vacuum",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "the example has gaps: exit 1 as check"
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("report.html") && stdout.contains("blocked"),
        "{stdout}"
    );
    for (file, format) in [
        ("report.html", "html"),
        ("report.md", "markdown"),
        ("report.json", "json"),
    ] {
        let written = std::fs::read(out.join(file)).expect(file);
        let check = flowaudit(&["check", "examples/robot-vacuum", "--format", format]);
        assert_eq!(
            written, check.stdout,
            "{file} differs from check --format {format}"
        );
    }
    let names: Vec<String> = std::fs::read_dir(&out)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 3, "temporary files left: {names:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_does_not_depend_on_file_order() {
    let files: Vec<String> = std::fs::read_dir("examples/face-search")
        .expect("example")
        .filter_map(Result::ok)
        .map(|e| e.path().to_string_lossy().to_string())
        .filter(|p| p.ends_with(".flow.yaml"))
        .collect();
    let mut forward = files.clone();
    forward.sort();
    let mut backward = forward.clone();
    backward.reverse();
    let run = |list: &[String]| {
        let mut args = vec!["check", "--format", "json"];
        args.extend(list.iter().map(String::as_str));
        flowaudit(&args).stdout
    };
    let a = run(&forward);
    assert!(!a.is_empty());
    assert_eq!(a, run(&backward));
}
