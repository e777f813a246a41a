//! Every built-in rule's self-tests pass, and every rule has the tests a rule must ship: a
//! workspace where it reports a gap, one where it passes, and one where it is unknown or n/a.

use flowaudit::engine::{load_rules, selftest};

#[test]
fn builtin_rules_pass_their_self_tests() {
    let rules = match load_rules(&[]) {
        Ok(r) => r,
        Err((diags, _)) => panic!(
            "built-in rules do not load: {:#?}",
            diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        ),
    };
    assert!(!rules.is_empty());
    let mut failures = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let outcomes = selftest::run(&rules, i);
        let expects: Vec<&str> = rule.tests.iter().map(|t| t.expect.as_str()).collect();
        // A signal rule (`require: false`, e.g. "the GDPR applies") can only be gap or n/a.
        let signal = rule.require.trim() == "false";
        let needed: &[&str] = if signal { &["gap"] } else { &["gap", "pass"] };
        for needed in needed {
            if !expects.contains(needed) {
                failures.push(format!("{}: no self-test expecting {needed}", rule.id));
            }
        }
        if !expects.iter().any(|e| matches!(*e, "unknown" | "n/a")) {
            failures.push(format!(
                "{}: no self-test expecting unknown or n/a",
                rule.id
            ));
        }
        for o in outcomes.iter().filter(|o| !o.passed()) {
            failures.push(format!(
                "{} / {}: expected {}, found {:?}",
                o.rule, o.name, o.expected, o.found
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
