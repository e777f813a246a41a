//! The rule engine: rule files ([`rules`]), derived facts ([`facts`]) seen through schema-aware
//! objects ([`node`], [`shapes`]), and evaluation into statuses ([`eval`]).

pub mod catalogue;
pub mod dates;
pub mod eval;
pub mod facts;
pub mod node;
pub mod rules;
pub mod selftest;
pub mod shapes;
pub mod tri;

use std::path::PathBuf;

use crate::diagnostics::Diagnostic;
use crate::source::SourceFile;

pub use eval::{Evaluation, Outcome, Status, WaiverState};
pub use rules::{Rule, Severity};

/// Ids of the built-in rules, sorted (empty if a built-in rule is broken, which the test suite
/// rules out).
pub fn builtin_rule_ids() -> Vec<String> {
    rules::load_rules(&[])
        .map(|r| rules::ids(&r))
        .unwrap_or_default()
}

/// Loads the built-in rules and those of `dirs`, in evaluation order.
pub fn load_rules(dirs: &[PathBuf]) -> Result<Vec<Rule>, (Vec<Diagnostic>, Vec<SourceFile>)> {
    rules::load_rules(dirs)
}

/// Loads the rules without their self-tests (for `check` and `validate`).
pub fn load_rules_for_check(
    dirs: &[PathBuf],
) -> Result<Vec<Rule>, (Vec<Diagnostic>, Vec<SourceFile>)> {
    rules::load_rules_for_check(dirs)
}
