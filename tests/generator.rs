//! The workload generator (`cargo run --example generate`): deterministic output, a valid
//! workspace, and about a third of the applicable checkpoints failing.

#[path = "../examples/generate.rs"]
#[allow(dead_code)]
mod generate;

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

/// A fresh, empty directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("flowaudit-generator-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn flowaudit(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("flowaudit")
        .expect("binary built")
        .env("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01: the dates the generator assumes
        .env("NO_COLOR", "1")
        .args(args)
        .arg("--no-config")
        .output()
        .expect("runs")
}

#[test]
fn prng_is_splitmix64() {
    // Reference outputs of splitmix64 from state 0 (Vigna's splitmix64.c).
    let mut rng = generate::Rng(0);
    let got: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
    assert_eq!(
        got,
        [
            0xE220_A839_7B1D_CDAF,
            0x6E78_9E6A_A1B9_65F4,
            0x06C4_5D18_8009_454F,
            0xF88B_B8A8_724C_81EC
        ]
    );
}

#[test]
fn same_size_and_seed_give_the_same_bytes() {
    for (n, seed) in [(150, 1), (37, 9), (1, 1)] {
        assert_eq!(
            generate::generate(n, seed),
            generate::generate(n, seed),
            "N={n} seed={seed}"
        );
    }
}

#[test]
fn another_seed_gives_another_workspace() {
    assert_ne!(generate::generate(100, 1), generate::generate(100, 2));
}

#[test]
fn n_systems_give_two_n_flows() {
    for n in [1, 9, 10, 37, 100, 250] {
        let (files, counts) = generate::build(n, 1);
        assert_eq!(counts.systems, n, "N={n}");
        assert_eq!(counts.flows, 2 * n, "N={n}");
        let text: usize = files
            .iter()
            .map(|(_, t)| t.matches("\n    activity: ").count())
            .sum();
        assert_eq!(text, 2 * n, "flows written for N={n}");
    }
}

#[test]
fn a_partial_programme_is_valid() {
    // 37 systems: three whole programmes and one cut after its seventh system.
    let dir = tempdir("partial");
    generate::write_workspace(&dir, &generate::generate(37, 3)).expect("written");
    let out = flowaudit(&["validate", dir.to_str().expect("utf-8 path")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_hundred_systems_validate_and_a_third_of_the_checks_fail() {
    let dir = tempdir("n200");
    generate::write_workspace(&dir, &generate::generate(200, 1)).expect("written");
    let path = dir.to_str().expect("utf-8 path");

    let out = flowaudit(&["validate", path]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "validate: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = flowaudit(&["check", path, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "check finds gaps: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let count = |status: &str| {
        report["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|r| r["status"] == status)
            .count()
    };
    let (gap, pass, unknown, waived) = (
        count("gap"),
        count("pass"),
        count("unknown"),
        count("waived"),
    );
    let gap_share = gap as f64 / (gap + pass) as f64;
    let unknown_share = unknown as f64 / (gap + pass + unknown + waived) as f64;
    assert!(
        (0.25..=0.42).contains(&gap_share),
        "gap share {gap_share:.3} (gap {gap}, pass {pass}) outside [0.25, 0.42]"
    );
    assert!(
        unknown_share < 0.10,
        "unknown share {unknown_share:.3} ({unknown} of {})",
        gap + pass + unknown + waived
    );
    let _ = std::fs::remove_dir_all(&dir);
}
