//! CLI cases: one folder per case under `tests/cmd/` (`<case>.toml` with the command and exit code,
//! `<case>.in/` the workspace it runs in, `<case>.stdout` / `<case>.stderr` the exact output).
//! Regenerate after a deliberate change with `TRYCMD=overwrite cargo test --test cli`, then review
//! every changed file.

#[test]
fn cli_cases() {
    trycmd::TestCases::new()
        .env("NO_COLOR", "1")
        .case("tests/cmd/*.toml");
}
