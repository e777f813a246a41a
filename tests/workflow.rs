//! Workflow commands through the real binary: `init` (starter workspace, config, editor schema,
//! pre-commit snippet; never overwrites), `completions`, `--quiet`, the examples in every
//! subcommand's `--help`, and no colour in piped output.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn flowaudit_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("flowaudit").expect("binary built");
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.env("SOURCE_DATE_EPOCH", "1767225600")
        .args(args)
        .output()
        .expect("runs")
}

fn flowaudit(args: &[&str]) -> Output {
    flowaudit_in(None, args)
}

fn tempdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("flowaudit-workflow-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const STARTER: &str = "flows/starter.flow.yaml";
const SCHEMA: &str = ".flowaudit/flow.schema.json";
const CONFIG: &str = ".flowaudit.yaml";

#[test]
fn init_writes_a_valid_commented_starter_workspace() {
    let root = tempdir("init");
    let dir = root.join("privacy"); // does not exist yet: init creates it
    let run = flowaudit(&["init", s(&dir)]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}{}",
        stdout(&run),
        stderr(&run)
    );
    let out = stdout(&run);
    for rel in [STARTER, SCHEMA, CONFIG] {
        assert!(dir.join(rel).is_file(), "{rel} written");
        assert!(
            out.contains(&format!("wrote    {}/{rel}", s(&dir))),
            "{out}"
        );
    }

    // The pre-commit snippet and next steps.
    for needle in [
        ".pre-commit-config.yaml",
        "repos:\n  - repo: ",
        "    hooks:\n      - id: flowaudit\n",
        "Next steps:",
        "flowaudit check",
    ] {
        assert!(out.contains(needle), "stdout lacks {needle:?}:\n{out}");
    }

    // The `$schema` modeline comes first and points, relative to the file, at the flow schema.
    let starter = std::fs::read_to_string(dir.join(STARTER)).expect("starter");
    let first = starter.lines().next().expect("a first line");
    let rel = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("first line is the modeline: {first}"));
    let schema_path = dir.join("flows").join(rel);
    let written = std::fs::read_to_string(&schema_path).expect("the modeline's schema exists");
    let printed = stdout(&flowaudit(&["schema", "flow"]));
    assert_eq!(
        written, printed,
        "the schema file is `flowaudit schema flow`"
    );
    let v: serde_json::Value = serde_json::from_str(&written).expect("schema is JSON");
    assert!(
        v["title"].as_str().unwrap_or("").contains("flow"),
        "{}",
        v["title"]
    );

    // Every nested field is explained on its line; every section has a comment above it.
    let lines: Vec<&str> = starter.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let is_key = !t.starts_with('#')
            && t.trim_start_matches("- ")
                .split_once(':')
                .is_some_and(|(k, _)| {
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                });
        if !is_key {
            continue;
        }
        if line.starts_with(' ') {
            assert!(line.contains('#'), "line {} has no comment: {line}", i + 1);
        } else {
            assert!(
                line.contains('#') || lines[i - 1].starts_with('#'),
                "section at line {} has no comment: {line}",
                i + 1
            );
        }
    }

    // The config holds only the documented keys, fail_on high.
    let config = std::fs::read_to_string(dir.join(CONFIG)).expect("config");
    assert!(config.contains("\nroots: [flows]\n"), "{config}");
    assert!(config.contains("\nfail_on: high\n"), "{config}");
    for key in ["rules", "select", "ignore", "out", "baseline"] {
        assert!(
            config.contains(&format!("\n# {key}: ")),
            "{key} commented out"
        );
    }

    // Valid, and reasonably compliant: check exits 0 or 1, never 2 — from outside and inside.
    let validate = flowaudit(&["validate", s(&dir)]);
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
    assert!(
        stdout(&validate).starts_with("valid: 1 file"),
        "{}",
        stdout(&validate)
    );
    let check = flowaudit(&["check", s(&dir)]);
    assert!(
        matches!(check.status.code(), Some(0 | 1)),
        "{}",
        stderr(&check)
    );
    let inside = flowaudit_in(Some(&dir), &["check"]);
    assert!(
        matches!(inside.status.code(), Some(0 | 1)),
        "check with the written config: {}{}",
        stdout(&inside),
        stderr(&inside)
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn init_never_overwrites() {
    let dir = tempdir("again");
    let first = flowaudit(&["init", s(&dir)]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    // A user edit since the first run must survive.
    std::fs::write(dir.join(CONFIG), "roots: [flows]\nfail_on: medium\n").expect("edit");
    let before: Vec<Vec<u8>> = [STARTER, SCHEMA, CONFIG]
        .iter()
        .map(|r| std::fs::read(dir.join(r)).expect("read"))
        .collect();

    let second = flowaudit(&["init", s(&dir)]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "already initialised is not an error"
    );
    let out = stdout(&second);
    for (rel, old) in [STARTER, SCHEMA, CONFIG].iter().zip(&before) {
        assert_eq!(
            &std::fs::read(dir.join(rel)).expect("read"),
            old,
            "{rel} unchanged"
        );
        assert!(
            out.contains(&format!("skipped  {}/{rel}", s(&dir))),
            "{out}"
        );
    }
    assert!(!out.contains("wrote "), "{out}");
    assert!(out.contains("nothing written"), "{out}");
    assert!(
        out.contains("id: flowaudit"),
        "the snippet is printed again: {out}"
    );

    // Only the missing file is written.
    std::fs::remove_file(dir.join(SCHEMA)).expect("remove");
    let third = flowaudit(&["init", s(&dir)]);
    assert_eq!(third.status.code(), Some(0));
    let out = stdout(&third);
    assert!(
        out.contains(&format!("wrote    {}/{SCHEMA}", s(&dir))),
        "{out}"
    );
    assert!(
        out.contains(&format!("skipped  {}/{STARTER}", s(&dir))),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn init_adds_no_starter_beside_an_existing_workspace() {
    let dir = tempdir("existing");
    let own = "flowaudit: 1\ncontroller:\n  id: acme\n  name: Acme\n";
    std::fs::write(dir.join("org.flow.yaml"), own).expect("write");
    let run = flowaudit(&["init", s(&dir)]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let out = stdout(&run);
    assert!(!dir.join(STARTER).exists(), "no second controller added");
    assert!(
        out.contains("skipped") && out.contains("already holds flow files"),
        "{out}"
    );
    assert!(dir.join(CONFIG).is_file() && dir.join(SCHEMA).is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("org.flow.yaml")).expect("read"),
        own
    );
    let validate = flowaudit(&["validate", s(&dir)]);
    assert_eq!(validate.status.code(), Some(0), "{}", stderr(&validate));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn init_reports_a_file_it_cannot_write() {
    let dir = tempdir("blocked");
    // `flows` is a file, so flows/starter.flow.yaml cannot be created.
    std::fs::write(dir.join("flows"), "not a directory").expect("write");
    let run = flowaudit(&["init", s(&dir)]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("cannot write"), "{}", stderr(&run));
    assert!(
        dir.join(CONFIG).is_file(),
        "the other files are still written"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let run = flowaudit(&["completions", shell]);
        assert_eq!(run.status.code(), Some(0), "{shell}: {}", stderr(&run));
        let script = stdout(&run);
        assert!(script.contains("flowaudit"), "{shell}");
        for sub in ["check", "init", "completions", "--fail-on"] {
            assert!(script.contains(sub), "{shell} completes {sub}");
        }
    }
    let bad = flowaudit(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn quiet_prints_nothing_on_stdout() {
    let check = flowaudit(&["--quiet", "check", "examples/robot-vacuum"]);
    assert_eq!(check.status.code(), Some(1), "gaps: exit 1");
    assert!(check.stdout.is_empty(), "{}", stdout(&check));
    assert!(check.stderr.is_empty(), "{}", stderr(&check));

    for args in [
        &["-q", "validate", "examples/robot-vacuum"][..],
        &[
            "validate",
            "-q",
            "examples/robot-vacuum",
            "--format",
            "json",
        ],
        &["records", "examples/robot-vacuum", "--quiet"],
        &[
            "check",
            "-q",
            "examples/robot-vacuum-remediated",
            "--format",
            "json",
        ],
    ] {
        let run = flowaudit(args);
        assert_eq!(run.status.code(), Some(0), "{args:?}: {}", stderr(&run));
        assert!(run.stdout.is_empty(), "{args:?}: {}", stdout(&run));
    }

    // report still writes its files.
    let dir = tempdir("quiet-report");
    let out = dir.join("out");
    let report = flowaudit(&["-q", "report", "examples/robot-vacuum", "--out", s(&out)]);
    assert_eq!(report.status.code(), Some(1));
    assert!(report.stdout.is_empty(), "{}", stdout(&report));
    assert!(out.join("report.html").is_file());

    // Diagnostics still go to stderr.
    let bad = invalid_workspace("quiet-invalid");
    for cmd in ["check", "validate", "records", "report"] {
        let run = flowaudit(&["--quiet", cmd, s(&bad)]);
        assert_eq!(run.status.code(), Some(2), "{cmd}");
        assert!(run.stdout.is_empty(), "{cmd}: {}", stdout(&run));
        assert!(stderr(&run).contains("E021"), "{cmd}: {}", stderr(&run));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&bad);
}

/// A workspace with an unknown key (E021).
fn invalid_workspace(name: &str) -> PathBuf {
    let dir = tempdir(name);
    std::fs::write(
        dir.join("bad.flow.yaml"),
        "flowaudit: 1\nparties:\n  - id: vendor\n    role: processor\n    transfer:\n      mechanisms: scc\n",
    )
    .expect("write");
    dir
}

/// Every subcommand, as the argument lists that reach it (`["rules", "show"]`, …).
fn subcommands() -> Vec<Vec<String>> {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(&flowaudit::cli::Cli::command(), &[], &mut out);
    out
}

#[test]
fn every_subcommand_help_has_examples() {
    let subs = subcommands();
    assert!(subs.len() >= 10, "{subs:?}");
    for path in subs {
        for flag in ["--help", "-h"] {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push(flag);
            let run = flowaudit(&args);
            assert_eq!(run.status.code(), Some(0), "{args:?}");
            let help = stdout(&run);
            assert!(
                help.contains("\nExamples:\n  flowaudit "),
                "`flowaudit {}` lacks examples: add `#[command(after_help = examples::…)]` in src/cli.rs\n{help}",
                args.join(" ")
            );
        }
    }
}

#[test]
fn piped_diagnostics_have_no_colour() {
    let bad = invalid_workspace("colour");
    for no_color in [None, Some("1")] {
        for cmd in ["validate", "check"] {
            let mut c = Command::cargo_bin("flowaudit").expect("binary built");
            c.args([cmd, s(&bad)]);
            match no_color {
                Some(v) => c.env("NO_COLOR", v),
                None => c.env_remove("NO_COLOR"),
            };
            let run = c.output().expect("runs");
            assert_eq!(run.status.code(), Some(2));
            let err = stderr(&run);
            assert!(err.contains("error[E021]"), "{err}");
            assert!(
                !err.contains('\x1b'),
                "ANSI escape in piped stderr (NO_COLOR={no_color:?})"
            );
            assert!(!stdout(&run).contains('\x1b'));
        }
    }
    // Results piped to stdout carry no colour either.
    let check = Command::cargo_bin("flowaudit")
        .expect("binary built")
        .env_remove("NO_COLOR")
        .args(["check", "examples/robot-vacuum"])
        .output()
        .expect("runs");
    assert!(!stdout(&check).contains('\x1b'));
    let _ = std::fs::remove_dir_all(&bad);
}
