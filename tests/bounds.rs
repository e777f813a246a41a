//! Inputs that must be built at test time (too large to commit, or symbolic links): each gets a
//! clear diagnostic and exit code 2, never a panic.

use assert_cmd::Command;
use std::path::Path;

fn flowaudit(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("flowaudit")
        .expect("binary built")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .assert()
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("flowaudit-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn oversized_file_is_refused() {
    let dir = tempdir("large");
    let mut text = String::from("flowaudit: 1\nparties:\n");
    while text.len() <= 8 * 1024 * 1024 {
        text.push_str("  - {id: p, name: \"padding padding padding padding padding padding\"}\n");
    }
    std::fs::write(dir.join("big.flow.yaml"), text).expect("write");
    let out = flowaudit(&dir, &["validate"]).code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[E003]: `big.flow.yaml` is larger than 8 MiB"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_reported() {
    let dir = tempdir("loop");
    std::fs::create_dir_all(dir.join("flows")).expect("mkdir");
    std::fs::write(dir.join("flows/a.flow.yaml"), "flowaudit: 1\n").expect("write");
    std::os::unix::fs::symlink("..", dir.join("flows/up")).expect("symlink");
    let out = flowaudit(&dir, &["validate", "flows"])
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[E005]: symbolic-link loop: `flows/up` leads back to"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn dangling_symlink_is_reported() {
    let dir = tempdir("dangling");
    std::fs::write(dir.join("a.flow.yaml"), "flowaudit: 1\n").expect("write");
    std::os::unix::fs::symlink("missing.flow.yaml", dir.join("b.flow.yaml")).expect("symlink");
    let out = flowaudit(&dir, &["validate"]).code(2).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("b.flow.yaml"), "{stderr}");
    assert!(stderr.contains("no such file or directory"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
