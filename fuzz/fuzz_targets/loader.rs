//! Arbitrary bytes as a flow file, named `.yaml` and then `.json`: reading, parsing with positions,
//! schema validation, model building, rule evaluation on a valid workspace, and the diagnostics
//! rendered as text and JSON. Panics (a finding) on any panic inside, or on a diagnostic whose
//! position lies outside the file (see `flowaudit::fuzzing::fuzz_load`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    flowaudit::fuzzing::fuzz_load(data, "yaml");
    flowaudit::fuzzing::fuzz_load(data, "json");
});
