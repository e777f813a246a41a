//! Rule self-tests (`tests:` in a rule file): each inline workspace is loaded like a flow file
//! (schema, references) and the rule, with the rules it depends on, evaluated on it.

use std::collections::BTreeSet;

use super::eval::{self, Status};
use super::rules::Rule;
use crate::diagnostics::{Code, Diagnostic};
use crate::loading::{Document, schema};
use crate::model;
use crate::reference::Reference;
use crate::source::SourceFile;

/// The default report date of a self-test.
pub const DEFAULT_TODAY: &str = "2026-01-01";

/// The outcome of one self-test.
#[derive(Debug)]
pub struct TestOutcome {
    pub rule: String,
    pub name: String,
    pub expected: String,
    /// The status found, or why the test could not run.
    pub found: Result<String, String>,
    pub diagnostic: Option<Diagnostic>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.found.as_deref() == Ok(self.expected.as_str())
    }
}

/// The overall status of a rule over its subjects: gap if any, else unknown, waived, pass, n/a.
pub fn aggregate(statuses: impl IntoIterator<Item = Status>) -> Status {
    statuses.into_iter().min().unwrap_or(Status::NotApplicable)
}

/// Runs the self-tests of `rules[which]` (all rules are needed for `depends_on`).
pub fn run(rules: &[Rule], which: usize) -> Vec<TestOutcome> {
    let rule = &rules[which];
    let ids = super::rules::ids(rules);
    let mut out = Vec::new();
    for (i, test) in rule.tests.iter().enumerate() {
        let pointer = format!("/tests/{i}/workspace");
        let found = run_one(rules, which, i, &pointer, &ids);
        let diagnostic = match &found {
            Ok(s) if *s == test.expect => None,
            other => Some(Diagnostic::at(
                Code::RuleTestFailed,
                &rule.origin.file,
                rule.origin.range(&format!("/tests/{i}/expect")),
                format!(
                    "rule `{}`, test `{}`: expected {}, found {}",
                    rule.id,
                    test.name,
                    test.expect,
                    match other {
                        Ok(s) => s.clone(),
                        Err(e) => format!("an error: {e}"),
                    }
                ),
                "expected here",
            )),
        };
        out.push(TestOutcome {
            rule: rule.id.clone(),
            name: test.name.clone(),
            expected: test.expect.clone(),
            found,
            diagnostic,
        });
    }
    out
}

fn run_one(
    rules: &[Rule],
    which: usize,
    i: usize,
    pointer: &str,
    ids: &[String],
) -> Result<String, String> {
    let rule = &rules[which];
    let test = &rule.tests[i];
    let parsed = rule
        .origin
        .doc
        .as_ref()
        .and_then(|d| d.subdoc(pointer))
        .ok_or("the test workspace cannot be read")?;
    let doc = Document {
        file: SourceFile {
            path: rule.origin.file.clone().into(),
            text: rule.origin.text.to_string(),
        },
        parsed,
    };
    let mut problems: Vec<String> = Vec::new();
    if let Some(d) = crate::loading::check_version(&doc) {
        problems.push(d.message);
    }
    problems.extend(schema::validate(&doc).into_iter().map(|d| {
        let at = d
            .primary
            .map(|p| format!("{}:{}: ", p.range.start.line, p.range.start.col))
            .unwrap_or_default();
        format!("{at}{}", d.message)
    }));
    if !problems.is_empty() {
        return Err(format!("invalid workspace: {}", problems.join("; ")));
    }
    let ws = model::build(std::slice::from_ref(&doc), ids, Reference::get()).map_err(|d| {
        format!(
            "invalid workspace: {}",
            d.iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let today_text = test.today.as_deref().unwrap_or(DEFAULT_TODAY);
    let today = super::dates::day_range(&serde_json::Value::String(today_text.to_string()))
        .map(|r| r.0)
        .ok_or("bad `today`")?;
    // Evaluate this rule and what it depends on, transitively.
    let mut needed: BTreeSet<usize> = BTreeSet::new();
    let mut stack = vec![which];
    while let Some(r) = stack.pop() {
        if needed.insert(r) {
            for d in &rules[r].depends_on {
                if let Some(j) = rules.iter().position(|x| &x.id == d) {
                    stack.push(j);
                }
            }
        }
    }
    let subset: Vec<Rule> = rules
        .iter()
        .enumerate()
        .filter(|(j, _)| needed.contains(j))
        .map(|(_, r)| r.clone())
        .collect();
    let report: Vec<bool> = subset.iter().map(|r| r.id == rule.id).collect();
    let ev = eval::evaluate(&subset, &report, &ws, Reference::get(), today).map_err(|d| {
        d.iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let statuses = ev
        .outcomes
        .iter()
        .filter(|o| test.subject.as_ref().is_none_or(|s| *s == o.subject_id))
        .map(|o| o.status);
    let status = aggregate(statuses);
    if let Some(s) = &test.subject
        && !ev.outcomes.iter().any(|o| &o.subject_id == s)
    {
        return Err(format!("no {} `{s}` in the test workspace", rule.subject));
    }
    Ok(status.as_str().to_string())
}
