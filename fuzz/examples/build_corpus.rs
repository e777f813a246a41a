//! Writes the seed corpora of the fuzz targets from the repository's own files:
//!
//! - `corpus/loader/`: every YAML and JSON file under `examples/`, `tests/cmd/*.in/` and `rules/`
//!   (up to 16 KiB each, so that libFuzzer's input length stays small), plus `seeds/loader/`;
//! - `corpus/expression/`: every `when`, `require`, `escalate[].when` and `message` of the rule
//!   files under `rules/` and `tests/cmd/*.in/`, plus `seeds/expression/`.
//!
//! Run from anywhere: `cargo run --manifest-path fuzz/Cargo.toml --example build_corpus`.
//! Existing corpus files are kept (libFuzzer adds its own there); seeds are named by content hash.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use flowaudit::loading::yaml;
use serde_json::Value;

/// Largest repository file taken as a loader seed.
const MAX_SEED_BYTES: u64 = 16 * 1024;

fn files(root: &Path, dirs: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        for entry in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
            let Ok(entry) = entry else { continue };
            if entry.file_type().is_file() {
                out.push(entry.into_path());
            }
        }
    }
    out
}

fn is_yaml_or_json(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Writes `bytes` into `dir` under a name derived from its content; whether it was new.
fn put(dir: &Path, bytes: &[u8]) -> bool {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    let path = dir.join(format!("seed-{:016x}", h.finish()));
    if path.exists() {
        return false;
    }
    std::fs::write(&path, bytes).expect("write a seed");
    true
}

fn main() {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = fuzz
        .parent()
        .expect("fuzz/ is inside the repository")
        .to_path_buf();
    let loader = fuzz.join("corpus/loader");
    let expression = fuzz.join("corpus/expression");
    std::fs::create_dir_all(&loader).expect("create corpus/loader");
    std::fs::create_dir_all(&expression).expect("create corpus/expression");

    let (mut n_loader, mut n_expr) = (0, 0);
    let repo_files = files(&root, &["examples", "tests/cmd", "rules"]);
    for path in &repo_files {
        let under_cmd_input = path
            .strip_prefix(root.join("tests/cmd"))
            .ok()
            .and_then(|p| p.components().next())
            .is_some_and(|c| c.as_os_str().to_string_lossy().ends_with(".in"));
        if path.starts_with(root.join("tests/cmd")) && !under_cmd_input {
            continue; // expected outputs, not inputs
        }
        if !is_yaml_or_json(path) {
            continue;
        }
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        if bytes.len() as u64 <= MAX_SEED_BYTES && put(&loader, &bytes) {
            n_loader += 1;
        }
        // Rule files: their expressions and message templates.
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let Ok(doc) = yaml::parse(text, yaml::Limits::default()) else {
            continue;
        };
        let Value::Object(map) = &doc.value else {
            continue;
        };
        if !map.contains_key("require") {
            continue;
        }
        let mut texts: Vec<&str> = ["when", "require", "message"]
            .iter()
            .filter_map(|k| map.get(*k).and_then(Value::as_str))
            .collect();
        if let Some(Value::Array(esc)) = map.get("escalate") {
            texts.extend(esc.iter().filter_map(|e| e.get("when")?.as_str()));
        }
        for t in texts {
            if put(&expression, t.as_bytes()) {
                n_expr += 1;
            }
        }
    }
    for (target, dir) in [("loader", &loader), ("expression", &expression)] {
        for path in files(&fuzz, &[&format!("seeds/{target}")]) {
            let bytes = std::fs::read(&path).expect("read a committed seed");
            if put(dir, &bytes) {
                if target == "loader" {
                    n_loader += 1;
                } else {
                    n_expr += 1;
                }
            }
        }
    }
    println!(
        "corpus/loader: {n_loader} new seeds; corpus/expression: {n_expr} new seeds (in {})",
        fuzz.join("corpus").display()
    );
}
