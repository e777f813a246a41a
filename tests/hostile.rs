//! Hostile input: each is refused with exit 2 and a message naming the file and line, or accepted,
//! but never a panic, a stack overflow, a hang or unbounded memory. Where each item is covered:
//!
//! | input | test (here, unless named) |
//! |---|---|
//! | truncated YAML | `tab_indentation_truncation_and_binary…`, `more_malformed_files…` (mid-character, mid-string, mid-key, mid-list) |
//! | tabs | `tab_indentation_truncation_and_binary…` |
//! | duplicate keys | `duplicate_keys_in_json_and_after_100000_keys…`; `tests/cmd/e015-duplicate-key` |
//! | wrong types everywhere | `wrong_types_everywhere…` (sections), `wrong_types_in_every_field…` (every field of the schema, at every depth) |
//! | huge strings, 100k-element lists | `huge_strings_and_long_lists…`, `ten_thousand_problems…`, `duplicate_keys…` (100,000 keys) |
//! | nesting 10,000 deep | `nesting_10000_deep…` (flow, block, JSON); `tests/cmd/hostile-nesting-10000-json` |
//! | alias bombs | `alias_bomb_of_a_billion_nodes…`; `tests/cmd/e014-alias-expansion` |
//! | non-UTF-8, BOMs, CRLF (and CR) | `tab_indentation_truncation_and_binary…`, `byte_order_mark…`, `crlf_line_endings…`, `more_malformed_files…`; `tests/cmd/e002-not-utf8` |
//! | a 200 MB file; a file that never ends | `a_200_megabyte_file…`, `a_file_that_never_ends…`; `tests/bounds.rs` (8 MiB) |
//! | empty files | `more_malformed_files…` (empty, blank, BOM only); `tests/cmd/e011-empty-and-comment-only` |
//! | binary files | `tab_indentation_truncation_and_binary…`, `more_malformed_files…` (UTF-16, NUL bytes) |
//! | symlink loops | `symbolic_link_loops_on_files…`; `tests/bounds.rs` (directory loop, dangling link) |
//! | unreadable files; pipes, devices | `unreadable_files_are_named`, `pipes_and_devices…` |
//! | hostile rule expressions | `hostile_rule_expressions_fail…`, `hostile_rule_expressions_that_would_exhaust_the_stack…`; `tests/cmd/rule-out-of-fuel`, `tests/cmd/hostile-rule-*` |
//! | reports written atomically | `check_output_is_replaced_whole…`, `report_directory_is_replaced_whole…` |

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
    remove(&d);
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
    remove(&d);
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
        remove(&d);
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
    remove(&d);
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
    remove(&d);
}

// The rest of the suite: every item of the hostile-input list goes through the real binary, which
// must refuse the input with exit 2 and a message naming the file (and the line, where there is
// one), or accept it, quickly, and never panic, overflow its stack or hang. Each run has a deadline.

use std::time::Duration;

/// Runs the binary in `d` with a deadline, checking that nothing panicked or overflowed its stack.
/// The exit code (none when killed), stderr and the time taken.
fn run(d: &Path, args: &[&str]) -> (Option<i32>, String, Duration) {
    let started = std::time::Instant::now();
    let out = Command::cargo_bin("flowaudit")
        .expect("binary")
        .current_dir(d)
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("overflowed its stack"),
        "{stderr}"
    );
    (out.status.code(), stderr, took)
}

/// The diagnostics printed, one block each.
fn diagnostics(stderr: &str) -> Vec<&str> {
    stderr
        .split("\n\n")
        .filter(|b| b.starts_with("error["))
        .collect()
}

/// The one diagnostic whose text holds `needle` (a `--> file:line:` location, say).
fn diagnostic<'a>(stderr: &'a str, needle: &str) -> &'a str {
    let found: Vec<&str> = diagnostics(stderr)
        .into_iter()
        .filter(|b| b.contains(needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one diagnostic with {needle:?} in:\n{stderr}"
    );
    found[0]
}

fn remove(d: &Path) {
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn a_200_megabyte_file_is_refused_from_its_size() {
    let d = dir("200mb");
    // Sparse: 200 MB long, no disk used. Refused from its size alone, before a byte is read.
    let f = std::fs::File::create(d.join("big.flow.yaml")).expect("create");
    f.set_len(200 * 1024 * 1024).expect("set length");
    drop(f);
    write(&d, "ok.flow.yaml", b"flowaudit: 1\n");
    let (code, err, took) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        diagnostic(&err, "big.flow.yaml")
            .starts_with("error[E003]: `big.flow.yaml` is larger than 8 MiB"),
        "{err}"
    );
    assert_eq!(diagnostics(&err).len(), 1, "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    remove(&d);
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_that_never_ends_is_read_no_further_than_the_limit() {
    // Named explicitly (a device found in a directory is not read at all): its size says 0, like
    // a file that grows after it was measured, so the read itself must be bounded.
    let d = dir("endless");
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.flow.yaml")).expect("symlink");
    let (code, err, _) = run(&d, &["validate", "zero.flow.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with("error[E003]: `zero.flow.yaml` is larger than 8 MiB"),
        "{err}"
    );
    remove(&d);
}

#[cfg(unix)]
#[test]
fn pipes_and_devices_in_a_workspace_are_not_read() {
    // Reading a named pipe (or a terminal) would block forever.
    let d = dir("pipes");
    write(&d, "a.flow.yaml", b"flowaudit: 1\n");
    let made = std::process::Command::new("mkfifo")
        .arg(d.join("pipe.flow.yaml"))
        .status()
        .is_ok_and(|s| s.success());
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.flow.yaml")).expect("symlink");
    let (code, err, _) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    let names = if made {
        vec!["pipe.flow.yaml", "zero.flow.yaml"]
    } else {
        vec!["zero.flow.yaml"]
    };
    for name in &names {
        assert!(
            diagnostic(&err, &format!("--> {name}")).starts_with(&format!(
                "error[E001]: `{name}` is not a regular file (a named pipe, a device or a socket)"
            )),
            "{err}"
        );
    }
    assert_eq!(diagnostics(&err).len(), names.len(), "{err}");
    remove(&d);
}

#[test]
fn nesting_10000_deep_is_refused_in_every_style() {
    let d = dir("deep");
    let n = 10_000;
    let files: Vec<(&str, String, usize)> = vec![
        (
            "flow-seq.flow.yaml",
            format!(
                "flowaudit: 1\nnotice:\n  items: {}{}\n",
                "[".repeat(n),
                "]".repeat(n)
            ),
            3,
        ),
        (
            "flow-map.flow.yaml",
            format!(
                "flowaudit: 1\nnotice: {}1{}\n",
                "{a: ".repeat(n),
                "}".repeat(n)
            ),
            2,
        ),
        (
            "unclosed.flow.yaml",
            format!(
                "flowaudit: 1\nnotice:\n  items: {}\n",
                "[".repeat(1_000_000)
            ),
            3,
        ),
        (
            "block-seq.flow.yaml",
            format!("flowaudit: 1\nnotice:\n  items:\n    {}x\n", "- ".repeat(n)),
            4,
        ),
        // Indented block mappings: 2,000 deep is what fits in the 8 MiB limit comfortably.
        (
            "block-map.flow.yaml",
            format!(
                "flowaudit: 1\n{}",
                (0..2_000)
                    .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                    .collect::<String>()
            ),
            // The 65th mapping opens with the key on line 66 (`k64` at depth 65).
            66,
        ),
        (
            "arrays.flow.json",
            format!(
                "{{\"flowaudit\": 1, \"notice\": {}{}}}\n",
                "[".repeat(n),
                "]".repeat(n)
            ),
            1,
        ),
        (
            "objects.flow.json",
            format!(
                "{{\"flowaudit\": 1, \"notice\": {}1{}}}\n",
                "{\"a\": ".repeat(n),
                "}".repeat(n)
            ),
            1,
        ),
    ];
    for (name, text, _) in &files {
        write(&d, name, text.as_bytes());
    }
    let (code, err, _) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    for (name, _, line) in &files {
        let block = diagnostic(&err, &format!("--> {name}:"));
        assert!(
            block.starts_with("error[E013]: nesting deeper than 64 levels"),
            "{name}: {block}"
        );
        assert!(
            block.contains(&format!("--> {name}:{line}:")),
            "{name}: {block}"
        );
    }
    assert_eq!(diagnostics(&err).len(), files.len(), "{err}");
    remove(&d);
}

#[cfg(unix)]
#[test]
fn unreadable_files_are_named() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir("unreadable");
    write(&d, "a.flow.yaml", b"flowaudit: 1\n");
    // Unreadable even by root: reading the process's own memory at offset 0 fails (EIO).
    #[cfg(target_os = "linux")]
    std::os::unix::fs::symlink("/proc/self/mem", d.join("mem.flow.yaml")).expect("symlink");
    // Unreadable by its mode, unless the process may override it (root, CAP_DAC_OVERRIDE).
    write(&d, "locked.flow.yaml", b"flowaudit: 1\n");
    std::fs::create_dir(d.join("closed")).expect("mkdir");
    write(&d, "closed/b.flow.yaml", b"flowaudit: 1\n");
    let mode = |p: &str, m: u32| {
        std::fs::set_permissions(d.join(p), std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    mode("locked.flow.yaml", 0o000);
    mode("closed", 0o000);
    let privileged = std::fs::File::open(d.join("locked.flow.yaml")).is_ok();

    let (code, err, _) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    #[cfg(target_os = "linux")]
    assert!(
        diagnostic(&err, "mem.flow.yaml")
            .starts_with("error[E001]: cannot read `mem.flow.yaml`: Input/output error"),
        "{err}"
    );
    let check_modes = |err: &str| {
        assert!(
            diagnostic(err, "locked.flow.yaml")
                .starts_with("error[E001]: cannot read `locked.flow.yaml`: permission denied"),
            "{err}"
        );
        assert!(
            diagnostic(err, "--> closed")
                .starts_with("error[E005]: cannot read `closed`: permission denied"),
            "{err}"
        );
    };
    if !privileged {
        check_modes(&err);
    } else {
        // Root reads through any mode: both are read like any other file here.
        assert!(
            !err.contains("locked.flow.yaml") && !err.contains("closed"),
            "{err}"
        );
        // To check the message an ordinary user gets, run as one (nobody), where setpriv exists.
        let bin = assert_cmd::cargo::cargo_bin("flowaudit");
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .arg("validate")
            .current_dir(&d)
            .env("NO_COLOR", "1")
            .output();
        match out {
            Ok(out) if out.status.code() == Some(2) => {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(!err.contains("panicked"), "{err}");
                check_modes(&err);
            }
            other => eprintln!("not checked as an ordinary user (setpriv: {other:?})"),
        }
    }
    mode("closed", 0o755);
    remove(&d);
}

#[cfg(unix)]
#[test]
fn symbolic_link_loops_on_files_are_named() {
    let d = dir("file-loops");
    write(&d, "a.flow.yaml", b"flowaudit: 1\n");
    std::os::unix::fs::symlink("self.flow.yaml", d.join("self.flow.yaml")).expect("symlink");
    std::os::unix::fs::symlink("two.flow.yaml", d.join("one.flow.yaml")).expect("symlink");
    std::os::unix::fs::symlink("one.flow.yaml", d.join("two.flow.yaml")).expect("symlink");
    // Found by the walk.
    let (code, err, _) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    for name in ["self.flow.yaml", "one.flow.yaml", "two.flow.yaml"] {
        assert!(
            diagnostic(&err, &format!("--> {name}")).starts_with(&format!(
                "error[E005]: cannot read `{name}`: Too many levels of symbolic links"
            )),
            "{err}"
        );
    }
    // Named on the command line.
    let (code, err, _) = run(&d, &["validate", "one.flow.yaml"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with("error[E001]: cannot read `one.flow.yaml`: Too many levels"),
        "{err}"
    );
    remove(&d);
}

#[test]
fn alias_bomb_of_a_billion_nodes_is_refused_at_once() {
    let d = dir("laughs");
    let mut text =
        String::from("flowaudit: 1\nnotice:\n  items: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("x{i}: &a{i} [{refs}]\n"));
    }
    write(&d, "lol.flow.yaml", text.as_bytes());
    let (code, err, took) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with("error[E014]: aliases expand to more than 10000 nodes in this file"),
        "{err}"
    );
    assert!(err.contains("--> lol.flow.yaml:6:"), "{err}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    remove(&d);
}

#[test]
fn duplicate_keys_in_json_and_after_100000_keys_are_refused() {
    let d = dir("dups");
    write(
        &d,
        "a.flow.json",
        b"{\"flowaudit\": 1,\n \"flowaudit\": 1}\n",
    );
    // A repeat after 100,000 distinct keys: found without comparing every pair.
    let mut text = String::from("flowaudit: 1\ntaxonomy:\n");
    for i in 0..100_000 {
        text.push_str(&format!("  k{i}: {{}}\n"));
    }
    text.push_str("  k5: {}\n");
    write(&d, "b.flow.yaml", text.as_bytes());
    let (code, err, took) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    let a = diagnostic(&err, "--> a.flow.json");
    assert!(
        a.starts_with("error[E015]: duplicate key `flowaudit`"),
        "{a}"
    );
    assert!(
        a.contains("--> a.flow.json:2:2") && a.contains("1 | {\"flowaudit\""),
        "{a}"
    );
    let b = diagnostic(&err, "--> b.flow.yaml");
    assert!(b.starts_with("error[E015]: duplicate key `k5`"), "{b}");
    assert!(b.contains("--> b.flow.yaml:100003:3"), "{b}");
    assert!(
        b.contains("::: b.flow.yaml:8:3"),
        "first occurrence shown: {b}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    remove(&d);
}

#[test]
fn wrong_types_in_every_field_are_each_reported_at_their_line() {
    // Every field the flow schema defines, at every depth, given a value of a type it does not
    // take: each must be reported at its own line.
    use serde_json::Value;
    let schema: Value =
        serde_json::from_str(include_str!("../schemas/flow.schema.json")).expect("schema");
    let defs = &schema["$defs"];
    fn resolve<'a>(defs: &'a Value, mut s: &'a Value) -> &'a Value {
        while let Some(r) = s.get("$ref").and_then(Value::as_str) {
            s = &defs[r.rsplit('/').next().unwrap_or_default()];
        }
        s
    }
    /// The JSON types a schema takes.
    fn types(defs: &Value, s: &Value) -> Vec<String> {
        let s = resolve(defs, s);
        let mut t: Vec<String> = match &s["type"] {
            Value::String(x) => vec![x.clone()],
            Value::Array(xs) => xs
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        for k in ["oneOf", "anyOf", "allOf"] {
            for b in s[k].as_array().into_iter().flatten() {
                t.extend(types(defs, b));
            }
        }
        for v in s["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(s.get("const"))
        {
            t.push(
                match v {
                    Value::String(_) => "string",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    _ => "null",
                }
                .into(),
            );
        }
        if t.iter().any(|x| x == "number") {
            t.push("integer".into());
        }
        t
    }
    fn props(defs: &Value, s: &Value) -> Vec<(String, Value)> {
        resolve(defs, s)["properties"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }
    struct Doc {
        lines: Vec<String>,
        leaves: Vec<(usize, String)>,
    }
    /// Writes `key:` with a wrong value, or the block of its fields with wrong values.
    fn emit(doc: &mut Doc, defs: &Value, key: &str, s: &Value, indent: usize) {
        let s = resolve(defs, s);
        let t = types(defs, s);
        let has = |x: &str| t.iter().any(|y| y == x);
        let pad = " ".repeat(indent);
        if has("object") && !props(defs, s).is_empty() {
            doc.lines.push(format!("{pad}{key}:"));
            for (k, v) in props(defs, s) {
                emit(doc, defs, &k, &v, indent + 2);
            }
            return;
        }
        if has("array") && !props(defs, &s["items"]).is_empty() {
            doc.lines.push(format!("{pad}{key}:"));
            let first = doc.lines.len();
            for (k, v) in props(defs, &s["items"]) {
                emit(doc, defs, &k, &v, indent + 4);
            }
            // The first line of the item starts it: `- key: ...`.
            let line = &mut doc.lines[first];
            *line = format!("{pad}  - {}", &line[indent + 4..]);
            return;
        }
        let wrong = [
            ("[1]", "array"),
            ("\"text\"", "string"),
            ("7", "integer"),
            ("true", "boolean"),
            ("{zz: 1}", "object"),
        ]
        .into_iter()
        .find(|(_, ty)| !has(ty));
        if let Some((value, _)) = wrong {
            doc.lines.push(format!("{pad}{key}: {value}"));
            let text = doc.lines.last().cloned().unwrap_or_default();
            doc.leaves.push((doc.lines.len(), text));
        }
    }
    let mut doc = Doc {
        lines: vec!["flowaudit: 1".into()],
        leaves: Vec::new(),
    };
    for (k, v) in schema["properties"].as_object().expect("properties") {
        if k != "flowaudit" {
            emit(&mut doc, defs, k, v, 0);
        }
    }
    assert!(doc.leaves.len() > 200, "{}", doc.leaves.len());
    let d = dir("types-everywhere");
    write(&d, "a.flow.yaml", (doc.lines.join("\n") + "\n").as_bytes());
    // Not a mapping at all.
    write(&d, "list.flow.yaml", b"- flowaudit\n- 1\n");
    write(&d, "scalar.flow.yaml", b"42\n");
    let (code, err, _) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    for (line, text) in &doc.leaves {
        assert!(
            err.contains(&format!("--> a.flow.yaml:{line}:")),
            "line {line} `{text}` not reported:\n{err}"
        );
    }
    for name in ["list.flow.yaml", "scalar.flow.yaml"] {
        assert!(
            diagnostic(&err, &format!("--> {name}:1:"))
                .starts_with("error[E023]: a flow document must be a mapping"),
            "{err}"
        );
    }
    remove(&d);
}

#[test]
fn ten_thousand_problems_are_all_reported_quickly() {
    // Reporting must stay linear: every diagnostic used to re-read its whole file, and every
    // unknown reference was compared with every id.
    let n = 2_500;
    let d = dir("many");
    let mut parties = String::from("flowaudit: 1\nparties:\n");
    let mut keys = String::from("flowaudit: 1\ncontroller:\n  id: acme\n  name: Acme\n");
    let mut json = String::from("{\"flowaudit\": 1, \"systems\": [");
    for i in 0..n {
        parties.push_str(&format!(
            "  - {{id: p{i}, role: processer, engaged_by: q{i}}}\n"
        ));
        keys.push_str(&format!("  k{i}: 1\n"));
        json.push_str(&format!(
            "{}{{\"id\": \"s{i}\", \"kind\": \"mainframe\"}}",
            if i > 0 { ", " } else { "" }
        ));
    }
    json.push_str("]}\n");
    write(&d, "parties.flow.yaml", parties.as_bytes());
    write(&d, "keys.flow.yaml", keys.as_bytes());
    // Minified JSON: every problem on one 100 kB line.
    write(&d, "one-line.flow.json", json.as_bytes());
    let (code, err, took) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.ends_with(&format!(
            "error: {} problems in 3 files; fix them and run again\n",
            4 * n
        )),
        "{}",
        &err[err.len().saturating_sub(300)..]
    );
    assert_eq!(diagnostics(&err).len(), 4 * n);
    // The last problem on the long line is shown where it is, at its column.
    let last = json.rfind("\"mainframe\"").expect("value") + 1;
    let b = diagnostic(&err, &format!("--> one-line.flow.json:1:{last}\n"));
    assert!(
        b.starts_with("error[E022]: `mainframe` is not a valid value"),
        "{b}"
    );
    assert!(b.contains(&format!("systems[{}].kind", n - 1)), "{b}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    remove(&d);
}

#[test]
fn more_malformed_files_are_refused_with_positions() {
    let d = dir("malformed");
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        // Old Mac line endings: lines are still counted.
        (
            "cr.flow.yaml",
            b"flowaudit: 1\rparties:\r  - id: cr\r    role: processer\r".to_vec(),
            "error[E022]",
            "cr.flow.yaml:4:11",
        ),
        // A byte-order mark does not shift columns.
        (
            "bom.flow.yaml",
            b"\xef\xbb\xbfflowaudit: 1\nparties:\n  - id: bom\n    role: processer\n".to_vec(),
            "error[E022]",
            "bom.flow.yaml:4:11",
        ),
        (
            "bom-only.flow.yaml",
            b"\xef\xbb\xbf".to_vec(),
            "error[E011]: `bom-only.flow.yaml` holds no YAML document",
            "--> bom-only.flow.yaml",
        ),
        (
            "blank.flow.yaml",
            b"   \n\n  \n".to_vec(),
            "error[E011]: `blank.flow.yaml` holds no YAML document",
            "--> blank.flow.yaml",
        ),
        (
            "empty.flow.yaml",
            Vec::new(),
            "error[E011]: `empty.flow.yaml` holds no YAML document",
            "--> empty.flow.yaml",
        ),
        (
            "utf16.flow.yaml",
            b"\xff\xfef\x00l\x00o\x00w\x00".to_vec(),
            "error[E002]: `utf16.flow.yaml` is not UTF-8 text (invalid byte at line 1, column 1)",
            "utf16.flow.yaml:1:1",
        ),
        (
            "nul.flow.yaml",
            b"flowaudit: 1\nparties: \x00\x01\x02\n".to_vec(),
            "error[E010]",
            "nul.flow.yaml:2:10",
        ),
        // Truncated in the middle of a character, of a quoted string, of a key.
        (
            "cut-char.flow.yaml",
            b"flowaudit: 1\nparties: [{id: vendor, name: \"Gr\xc3".to_vec(),
            "error[E002]: `cut-char.flow.yaml` is not UTF-8 text (invalid byte at line 2, column 33)",
            "cut-char.flow.yaml:2:33",
        ),
        (
            "cut-quote.flow.yaml",
            b"flowaudit: 1\nparties:\n  - id: quote\n    name: \"unterminated\n".to_vec(),
            "error[E010]",
            "cut-quote.flow.yaml:4:11",
        ),
        (
            "cut-key.flow.yaml",
            b"flowaudit: 1\nparties:\n  - id".to_vec(),
            "error[E023]",
            "cut-key.flow.yaml:3:5",
        ),
        (
            "cut-doc.flow.yaml",
            b"flowaudit: 1\nparties:\n  - id: doc\n    role: [processor,".to_vec(),
            "error[E010]",
            "cut-doc.flow.yaml:4:",
        ),
    ];
    for (name, bytes, _, _) in &cases {
        write(&d, name, bytes);
    }
    let (code, err, _) = run(&d, &["validate"]);
    assert_eq!(code, Some(2), "{err}");
    for (name, _, head, place) in &cases {
        let b = diagnostic(&err, &format!("--> {name}"));
        assert!(b.starts_with(head), "{name}: {b}");
        assert!(b.contains(place), "{name}: {b}");
    }
    assert_eq!(diagnostics(&err).len(), cases.len(), "{err}");
    remove(&d);
}

/// A rule file for activities, `require` on line 6 and `message` on line 7.
fn rule(id: &str, require: &str, message: &str) -> String {
    format!(
        "id: {id}\ntitle: Hostile\narticles: [\"Art. 5(1)(a)\"]\nseverity: low\nsubject: activity\nrequire: \"{require}\"\nmessage: \"{message}\"\nremediation: None.\n"
    )
}

/// Runs the binary under `sh` with resource limits set first (`ulimit ...`).
#[cfg(unix)]
fn run_limited(d: &Path, limits: &str, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{limits}; exec \"$0\" \"$@\""))
        .arg(assert_cmd::cargo::cargo_bin("flowaudit"))
        .args(args)
        .current_dir(d)
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    out
}

#[cfg(unix)]
#[test]
fn hostile_rule_expressions_fail_with_the_rule_named_in_bounded_time_and_memory() {
    let d = dir("rules-eval");
    write(&d, "w.flow.yaml", b"flowaudit: 1\nactivities: [{id: a}]\n");
    std::fs::create_dir(d.join("rules")).expect("mkdir");
    let missing = [
        "occasional",
        "profiling",
        "combines_datasets",
        "compatibility_assessed",
        "collection.continuous",
        "collection.large_scale",
        "collection.event_triggered",
        "collection.wake_word_gated",
    ]
    .map(|f| format!("activity.{f}"))
    .join(" or ");
    // (id, require, message, the line failing, what the error says)
    let rules: Vec<(&str, String, &str, usize, &str)> = vec![
        (
            "ACME-LOOPS",
            "false".into(),
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            7,
            "ran out of fuel",
        ),
        (
            "ACME-RANGE",
            "range(10**12) | length > 0".into(),
            "m",
            6,
            "range has too many elements",
        ),
        (
            "ACME-POWER",
            "10 ** 10 ** 10 > 0".into(),
            "m",
            6,
            "unable to calculate",
        ),
        (
            "ACME-RECURSION",
            "false".into(),
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            7,
            "recursion limit exceeded",
        ),
        (
            "ACME-FAN-OUT",
            "false".into(),
            "{% macro f(n) %}{{ f(n + 1) }}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            7,
            "recursion limit exceeded",
        ),
        (
            "ACME-LOOP-RECURSION",
            "false".into(),
            "{% for i in range(10) recursive %}{{ loop(range(10)) }}{% endfor %}",
            7,
            "recursion limit exceeded",
        ),
        (
            "ACME-REPEAT",
            "('x' * 10**9) | length > 0".into(),
            "m",
            6,
            "ran out of fuel",
        ),
        (
            "ACME-REPEAT-MESSAGE",
            "false".into(),
            "{{ 'x' * 10**8 }}",
            7,
            "ran out of fuel",
        ),
        (
            "ACME-DOUBLING",
            "false".into(),
            "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
            7,
            "ran out of fuel",
        ),
        // The engine's own filters are charged for their work too.
        (
            "ACME-DIFFERENCE",
            "range(100000) | difference(range(100000)) | length > 0".into(),
            "m",
            6,
            "ran out of fuel",
        ),
        (
            "ACME-INTERSECT",
            "range(100000) | intersect(range(100000)) | length > 0".into(),
            "m",
            6,
            "ran out of fuel",
        ),
        // Eight unstated facts make the engine try 256 combinations of their values: all the tries
        // share one budget, so a costly expression runs out instead of taking 256 times as long.
        (
            "ACME-PROBES",
            format!("({missing}) and (range(40000) | map('string') | join(',') | length) < 0"),
            "m",
            6,
            "ran out of fuel",
        ),
    ];
    for (id, require, message, _, _) in &rules {
        write(
            &d,
            &format!("rules/{id}.yaml"),
            rule(id, require, message).as_bytes(),
        );
    }
    // At most 1 GB of address space (a rule that allocated gigabytes would abort the run) and a
    // minute of CPU time (a hang is killed).
    let started = std::time::Instant::now();
    let out = run_limited(
        &d,
        "ulimit -v 1048576; ulimit -t 60",
        &["check", "--rules", "rules", "--select", "ACME"],
    );
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for (id, _, _, line, what) in &rules {
        let b = diagnostic(&err, &format!("rule `{id}` failed"));
        assert!(b.starts_with("error[E045]"), "{b}");
        assert!(b.contains(&format!("--> rules/{id}.yaml:{line}:")), "{b}");
        assert!(b.contains(what), "{id}: {b}");
    }
    assert_eq!(diagnostics(&err).len(), rules.len(), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    remove(&d);
}

#[test]
fn hostile_rule_expressions_that_would_exhaust_the_stack_do_not_compile() {
    let d = dir("rules-compile");
    write(&d, "w.flow.yaml", b"flowaudit: 1\nactivities: [{id: a}]\n");
    std::fs::create_dir(d.join("rules")).expect("mkdir");
    let n = 10_000;
    let parens = format!("{}1{}", "(".repeat(n), ")".repeat(n));
    let chain = vec!["1"; 100_000].join(" + ");
    let filters = format!("activity.id{}", "|lower".repeat(n));
    let rules: Vec<(&str, String, String, usize, &str)> = vec![
        // Nesting: the parser's own limit, or the operator count first.
        (
            "ACME-PARENS",
            format!("{}1{} > 0", "(".repeat(500), ")".repeat(500)),
            "m".into(),
            6,
            "maximum recursion",
        ),
        (
            "ACME-PARENS-10000",
            format!("{parens} > 0"),
            "m".into(),
            6,
            "operators, more than the 1000 allowed",
        ),
        (
            "ACME-PARENS-MESSAGE",
            "false".into(),
            format!("{{{{ {parens} }}}}"),
            7,
            "operators, more than the 1000 allowed",
        ),
        (
            "ACME-IFS",
            "false".into(),
            format!("{}x{}", "{% if true %}".repeat(n), "{% endif %}".repeat(n)),
            7,
            "maximum recursion",
        ),
        // Long flat chains: minijinja's tree is as deep as they are long.
        (
            "ACME-CHAIN",
            format!("{chain} > 0"),
            "m".into(),
            6,
            "operators, more than the 1000 allowed",
        ),
        (
            "ACME-FILTERS",
            "false".into(),
            format!("{{{{ {filters} }}}}"),
            7,
            "operators, more than the 1000 allowed",
        ),
        (
            "ACME-CHAIN-IN-TAG",
            "false".into(),
            format!("Text {{{{ '}}}}' ~ {chain} }}}}"),
            7,
            "operators, more than the 1000 allowed",
        ),
    ];
    for (id, require, message, _, _) in &rules {
        write(
            &d,
            &format!("rules/{id}.yaml"),
            rule(id, require, message).as_bytes(),
        );
    }
    let (code, err, took) = run(&d, &["check", "--rules", "rules", "--select", "ACME"]);
    assert_eq!(code, Some(2), "{err}");
    for (id, _, _, line, what) in &rules {
        let b = diagnostic(&err, &format!("--> rules/{id}.yaml:"));
        assert!(b.starts_with(&format!("error[E041]: rule `{id}`")), "{b}");
        assert!(b.contains(&format!("--> rules/{id}.yaml:{line}:")), "{b}");
        assert!(b.contains(what), "{id}: {b}");
    }
    assert_eq!(diagnostics(&err).len(), rules.len(), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    remove(&d);
}

/// The files of a directory whose name starts with `.` and ends with `.tmp`: temporary report files.
fn temporaries(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.') && n.ends_with(".tmp"))
        .collect();
    v.sort();
    v
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("read")
}

#[cfg(unix)]
#[test]
fn check_output_is_replaced_whole_or_not_at_all() {
    use std::os::unix::process::ExitStatusExt;
    let d = dir("atomic-check");
    write(&d, "w.flow.yaml", b"flowaudit: 1\nactivities: [{id: a}]\n");
    let previous = b"the previous report\n";
    write(&d, "report.html", previous);
    let args = [
        "check",
        "w.flow.yaml",
        "--format",
        "html",
        "--output",
        "report.html",
    ];
    // A file size limit far below the report (8 blocks: 4 or 8 KiB, as the shell counts them).
    // Killed by SIGXFSZ in the middle of writing: the previous report is untouched, and only a
    // hidden temporary file is left (a killed process cannot clean up).
    let out = run_limited(&d, "ulimit -f 8", &args);
    assert_eq!(out.status.signal(), Some(25), "SIGXFSZ: {out:?}");
    assert_eq!(read(&d.join("report.html")), previous);
    let left = temporaries(&d);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(".report.html."), "{left:?}");
    // With SIGXFSZ ignored the write fails instead (EFBIG): exit 2, the file named, the previous
    // report untouched, and no new temporary file.
    let out = run_limited(&d, "trap '' XFSZ; ulimit -f 8", &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error[E001]: cannot write `report.html`: File too large"),
        "{err}"
    );
    assert_eq!(read(&d.join("report.html")), previous);
    assert_eq!(temporaries(&d), left);
    // A directory where the report goes: refused before anything is written.
    std::fs::create_dir(d.join("in-the-way.html")).expect("mkdir");
    let (code, err, _) = run(
        &d,
        &[
            "check",
            "w.flow.yaml",
            "--format",
            "html",
            "--output",
            "in-the-way.html",
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with(
            "error[E001]: cannot write `in-the-way.html`: `in-the-way.html` is a directory"
        ),
        "{err}"
    );
    assert!(d.join("in-the-way.html").is_dir());
    assert_eq!(temporaries(&d), left);
    // Without a limit the report is replaced.
    let (code, err, _) = run(&d, &args);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    let html = String::from_utf8(read(&d.join("report.html"))).expect("UTF-8");
    assert!(html.len() > 8 * 1024 && html.contains("<html"), "{html}");
    assert_eq!(temporaries(&d), left);
    remove(&d);
}

#[cfg(unix)]
#[test]
fn report_directory_is_replaced_whole_or_not_at_all() {
    use std::os::unix::process::ExitStatusExt;
    let d = dir("atomic-report");
    write(&d, "w.flow.yaml", b"flowaudit: 1\nactivities: [{id: a}]\n");
    let args = ["report", "w.flow.yaml", "--out", "rep"];
    let names = ["report.html", "report.md", "report.json"];
    let (code, err, _) = run(&d, &args);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    let rep = d.join("rep");
    let sizes: Vec<u64> = names
        .iter()
        .map(|n| std::fs::metadata(rep.join(n)).expect("written").len())
        .collect();
    // The previous report: three files the new one must either all replace or leave alone.
    for n in names {
        write(&rep, n, format!("previous {n}\n").as_bytes());
    }
    let unchanged = || {
        for n in names {
            assert_eq!(
                read(&rep.join(n)),
                format!("previous {n}\n").as_bytes(),
                "{n}"
            );
        }
    };
    // A file size limit that the HTML and Markdown fit in but the JSON, written last, does not
    // (in blocks of 512 bytes or of 1 KiB, as the shell may count them): a writer replacing the
    // files one by one would leave two new files beside an old one.
    let (small, last) = (sizes[0].max(sizes[1]), sizes[2]);
    let blocks = small / 512 + 2;
    assert!(
        blocks * 1024 < last,
        "the JSON must be the largest file: {sizes:?}"
    );
    let limit = format!("ulimit -f {blocks}");
    let out = run_limited(&d, &limit, &args);
    assert_eq!(out.status.signal(), Some(25), "SIGXFSZ: {out:?}");
    unchanged();
    let left = temporaries(&rep);
    // The killed writer leaves its temporary files (one per report file), never a report file.
    assert!(
        !left.is_empty()
            && left
                .iter()
                .all(|t| names.iter().any(|n| t.starts_with(&format!(".{n}.")))),
        "{left:?}"
    );
    let out = run_limited(&d, &format!("trap '' XFSZ; {limit}"), &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error[E001]: cannot write the report into `rep`: File too large"),
        "{err}"
    );
    unchanged();
    assert_eq!(temporaries(&rep), left);
    // A directory in the place of the Markdown: refused before a file is replaced.
    std::fs::remove_file(rep.join("report.md")).expect("rm");
    std::fs::create_dir(rep.join("report.md")).expect("mkdir");
    let (code, err, _) = run(&d, &args);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("`rep/report.md` is a directory"), "{err}");
    for n in ["report.html", "report.json"] {
        assert_eq!(
            read(&rep.join(n)),
            format!("previous {n}\n").as_bytes(),
            "{n}"
        );
    }
    assert_eq!(temporaries(&rep), left);
    // Without obstacles all three are replaced.
    std::fs::remove_dir(rep.join("report.md")).expect("rmdir");
    let (code, err, _) = run(&d, &args);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    for (n, size) in names.iter().zip(&sizes) {
        assert_eq!(
            std::fs::metadata(rep.join(n)).expect("written").len(),
            *size,
            "{n}"
        );
    }
    assert_eq!(temporaries(&rep), left);
    remove(&d);
}
