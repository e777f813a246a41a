//! Hostile input (a first slice of the bad-input suite): each is refused with exit 2 and a message
//! naming the file and line, or accepted, but never a panic or a hang.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("flowaudit-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn validate(d: &Path) -> (i32, String) {
    let out = Command::cargo_bin("flowaudit")
        .expect("binary")
        .current_dir(d)
        .env("NO_COLOR", "1")
        .args(["validate"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

fn write(d: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(d.join(name), bytes).expect("write");
}

#[test]
fn crlf_line_endings_keep_positions() {
    let d = dir("crlf");
    write(
        &d,
        "a.flow.yaml",
        b"flowaudit: 1\r\nparties:\r\n  - id: vendor\r\n    role: processer\r\n",
    );
    let (code, err) = validate(&d);
    assert_eq!(code, 2);
    assert!(err.contains("a.flow.yaml:4:11"), "{err}");
}

#[test]
fn byte_order_mark_is_accepted() {
    let d = dir("bom");
    write(
        &d,
        "a.flow.yaml",
        b"\xef\xbb\xbfflowaudit: 1\nparties: [{id: vendor, role: processor}]\n",
    );
    assert_eq!(validate(&d).0, 0);
}

#[test]
fn tab_indentation_truncation_and_binary_are_refused_with_positions() {
    for (name, bytes, expect) in [
        (
            "tabs.flow.yaml",
            b"flowaudit: 1\nparties:\n\t- id: vendor\n".to_vec(),
            "tabs.flow.yaml:3",
        ),
        (
            "cut.flow.yaml",
            b"flowaudit: 1\nparties: [{id: vendor, role: proc".to_vec(),
            "cut.flow.yaml:2",
        ),
        (
            "bin.flow.yaml",
            vec![0xff, 0xfe, 0x00, 0x01, 0x80, 0x81],
            "bin.flow.yaml",
        ),
    ] {
        let d = dir(name);
        write(&d, name, &bytes);
        let (code, err) = validate(&d);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(expect), "{name}: {err}");
    }
}

#[test]
fn wrong_types_everywhere_are_all_reported() {
    let d = dir("types");
    write(
        &d,
        "a.flow.yaml",
        b"flowaudit: 1\ncontroller: [1, 2]\nparties: {id: x}\nsystems: 7\nflows: \"none\"\nnotice: []\n",
    );
    let (code, err) = validate(&d);
    assert_eq!(code, 2);
    assert_eq!(err.matches("error[E023]").count(), 5, "{err}");
}

#[test]
fn huge_strings_and_long_lists_are_handled() {
    let d = dir("big");
    let mut text = String::from("flowaudit: 1\nparties:\n  - id: vendor\n    name: \"");
    text.push_str(&"x".repeat(2_000_000));
    text.push_str("\"\ndata_subjects:\n  - id: people\n    countries: [");
    text.push_str(&vec!["\"DE\""; 100_000].join(", "));
    text.push_str("]\n");
    write(&d, "a.flow.yaml", text.as_bytes());
    let (code, err) = validate(&d);
    // 100,000 repeats of one country: a schema error (uniqueItems) at the list, not a hang.
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a.flow.yaml:"), "{err}");
}
