//! Evaluation: every rule on every subject of its kind, giving a status per (rule, subject)
//! (DESIGN §5): gap, pass, waived, unknown or n/a.
//!
//! Unknown: a rule whose `when` or `require` failed while reading facts the workspace does not
//! state is unknown, not a gap, and names those facts (silence is never compliance, nor a
//! finding). Rules are written so that a missing fact makes `require` false; a rule may narrow the
//! facts that can make it unknown with `unknown:` patterns.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};
use serde::Serialize;

use super::dates;
use super::facts::{FactBase, Subject};
use super::node::{Missing, Owner, recording};
use super::rules::{Rule, Severity, pattern_matches, truth_template};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::Workspace;
use crate::reference::Reference;

/// A status of a rule on a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Status {
    #[serde(rename = "gap")]
    Gap,
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "waived")]
    Waived,
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "n/a")]
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Gap => "gap",
            Status::Unknown => "unknown",
            Status::Waived => "waived",
            Status::Pass => "pass",
            Status::NotApplicable => "n/a",
        }
    }

    pub const ALL: [Status; 5] = [
        Status::Gap,
        Status::Unknown,
        Status::Waived,
        Status::Pass,
        Status::NotApplicable,
    ];
}

/// The outcome of one rule on one subject.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub rule: usize,
    pub subject_kind: &'static str,
    pub subject_id: String,
    pub location: crate::model::Location,
    pub status: Status,
    pub severity: Severity,
    pub message: Option<String>,
    pub missing: Vec<Missing>,
    /// Index into the workspace's waivers, when one applies (or applied before it expired).
    pub waiver: Option<usize>,
}

/// What became of a waiver.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WaiverState {
    /// It turned a gap into `waived`.
    Applied,
    /// It matches a gap but its date has passed: the gap stands.
    Expired,
    /// No gap of that rule on that subject (fixed, renamed, or never there): review it.
    Unmatched,
}

#[derive(Clone, Debug)]
pub struct WaiverUse {
    pub waiver: usize,
    pub state: WaiverState,
}

/// Everything one evaluation produced.
pub struct Evaluation {
    pub outcomes: Vec<Outcome>,
    pub waivers: Vec<WaiverUse>,
    pub today: i64,
}

/// A rule's status on a subject, with the facts that left it unknown.
type RuleStatus = (String, Status, Vec<Missing>);

thread_local! {
    /// Statuses so far, by subject (`kind:id`), for `failed`.
    static FAILED: RefCell<HashMap<String, Vec<RuleStatus>>> = RefCell::new(HashMap::new());
}

fn subject_key(kind: &str, id: &str) -> String {
    format!("{kind}:{id}")
}

/// `failed` of an element: rules with gap or waived on it; unknown ones make it unknown.
pub fn failed_on(owner: &Owner) -> Value {
    let key = subject_key(owner.kind_name, &owner.id);
    FAILED.with(|f| {
        let f = f.borrow();
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for (rule, status, missing) in f.get(&key).into_iter().flatten() {
            match status {
                Status::Gap | Status::Waived => {
                    ids.insert(rule.clone());
                }
                Status::Unknown => {
                    for m in missing {
                        super::node::record(m.clone());
                    }
                }
                _ => {}
            }
        }
        Value::from(ids.into_iter().map(Value::from).collect::<Vec<_>>())
    })
}

/// Tests, filters and functions available to rules.
pub fn register(env: &mut Environment<'static>) {
    // `a | difference(b)`: the items of a not in b.
    env.add_filter("difference", |a: Value, b: Value| -> Result<Value, Error> {
        let b: Vec<Value> = b.try_iter()?.collect();
        Ok(Value::from(
            a.try_iter()?.filter(|x| !b.contains(x)).collect::<Vec<_>>(),
        ))
    });
    // `a | intersect(b)`: the items of a also in b.
    env.add_filter("intersect", |a: Value, b: Value| -> Result<Value, Error> {
        let b: Vec<Value> = b.try_iter()?.collect();
        Ok(Value::from(
            a.try_iter()?.filter(|x| b.contains(x)).collect::<Vec<_>>(),
        ))
    });
    // `days_between(a, b)`: days from date a to date b (none if either is not a full date).
    env.add_function("days_between", |a: Value, b: Value| -> Value {
        let day = |v: &Value| {
            let s = v.as_str()?;
            let (x, y) = dates::day_range(&serde_json::Value::String(s.to_string()))?;
            (x == y).then_some(x)
        };
        match (day(&a), day(&b)) {
            (Some(x), Some(y)) => Value::from(y - x),
            _ => Value::from(()),
        }
    });
}

/// The context of one subject.
fn context(fb: &FactBase, subject: &Subject, lookup: &Value, reference: &Value) -> Value {
    let mut ctx: BTreeMap<&str, Value> = BTreeMap::new();
    ctx.insert("controller", fb.controller.clone());
    for (name, v) in &fb.sections {
        ctx.insert(name, v.clone());
    }
    if let Some(a) = subject.activity {
        ctx.insert("notice", fb.activity_notice[a].clone());
        ctx.insert("consent", fb.activity_consent[a].clone());
        if let Some(act) = fb.subjects.get("activity").and_then(|l| l.get(a)) {
            ctx.insert("activity", Value::from_dyn_object(act.node.clone()));
        }
    }
    ctx.insert(subject.kind, Value::from_dyn_object(subject.node.clone()));
    ctx.insert("today", Value::from(dates::format_day(fb.today)));
    ctx.insert("ref", reference.clone());
    ctx.insert("lookup", lookup.clone());
    ctx.insert("workspace", fb.workspace.clone());
    Value::from(ctx)
}

fn reference_value(reference: &Reference) -> Value {
    Value::from(minijinja::value::Serde(serde_json::json!({
        "eea": reference.eea_codes.iter().collect::<Vec<_>>(),
        "adequacy": reference.adequacy.iter().filter(|d| d.status == "in_force").map(|d| &d.country).collect::<Vec<_>>(),
        "location_min_interval_s": 60,
        "dpf_check_max_age_days": 365,
    })))
}

/// The `lookup(id)` function: the element an id names, or none.
#[derive(Debug)]
struct Lookup(HashMap<String, Value>);

impl minijinja::value::Object for Lookup {
    fn call(
        self: &std::sync::Arc<Self>,
        _state: &mut minijinja::State<'_, '_>,
        args: &[Value],
    ) -> Result<Value, Error> {
        match args.first() {
            Some(v) if v.is_none() || v.is_undefined() => Ok(Value::from(())),
            Some(v) => {
                let id = v.as_str().ok_or_else(|| {
                    Error::new(ErrorKind::InvalidOperation, "lookup(id) takes an id")
                })?;
                Ok(self.0.get(id).cloned().unwrap_or(Value::from(())))
            }
            None => Err(Error::new(
                ErrorKind::InvalidOperation,
                "lookup(id) takes an id",
            )),
        }
    }
}

/// Evaluates the rules (in dependency order) on the workspace. `report` marks the rules whose
/// outcomes are wanted; the others run only because a reported rule depends on them.
pub fn evaluate(
    rules: &[Rule],
    report: &[bool],
    ws: &Workspace,
    reference: &Reference,
    today: i64,
) -> Result<Evaluation, Vec<Diagnostic>> {
    let fb = super::facts::derive(ws, reference, today);
    let mut env = super::rules::environment();
    let mut diags = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let add = |env: &mut Environment<'static>, name: String, src: String| {
            env.add_template_owned(name, src).err()
        };
        let mut errs = Vec::new();
        if let Some(w) = &r.when {
            errs.extend(add(&mut env, format!("{i}/when"), truth_template(w)));
        }
        errs.extend(add(
            &mut env,
            format!("{i}/require"),
            truth_template(&r.require),
        ));
        errs.extend(add(&mut env, format!("{i}/message"), r.message.clone()));
        for (j, e) in r.escalate.iter().enumerate() {
            errs.extend(add(
                &mut env,
                format!("{i}/escalate/{j}"),
                truth_template(&e.when),
            ));
        }
        for e in errs {
            diags.push(Diagnostic::file(
                Code::RuleExpression,
                &r.origin.file,
                format!("rule `{}`: {e}", r.id),
            ));
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let lookup = Value::from_object(Lookup(fb.by_id.clone()));
    let refv = reference_value(reference);
    FAILED.with(|f| f.borrow_mut().clear());
    let mut outcomes = Vec::new();
    let empty: Vec<Subject> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let subjects = fb.subjects.get(rule.subject.as_str()).unwrap_or(&empty);
        for subject in subjects {
            let ctx = context(&fb, subject, &lookup, &refv);
            let truth = |name: &str| -> Result<(bool, BTreeSet<Missing>), Error> {
                let t = env.get_template(name)?;
                let (out, missing) = recording(|| t.render(&ctx));
                Ok((out? == "1", missing))
            };
            let fail = |e: Error, part: &str| {
                Diagnostic::at(
                    Code::RuleEvaluation,
                    &rule.origin.file,
                    rule.origin.range(&format!("/{part}")),
                    format!(
                        "rule `{}` failed on {} `{}`: {}",
                        rule.id,
                        subject.kind,
                        subject.id,
                        e.detail().unwrap_or(&e.to_string())
                    ),
                    "while evaluating this",
                )
                .with_note(format!(
                    "{} `{}` is at {}:{}:{}",
                    subject.kind,
                    subject.id,
                    subject.location.file,
                    subject.location.range.start.line,
                    subject.location.range.start.col
                ))
            };
            let relevant = |m: BTreeSet<Missing>| -> Vec<Missing> {
                m.into_iter()
                    .filter(|m| match &rule.unknown {
                        None => true,
                        Some(patterns) => {
                            let text = format!("{}.{}", m.kind, m.path);
                            let text = if m.kind == "section" {
                                format!("section.{}.{}", m.id, m.path)
                            } else {
                                text
                            };
                            patterns.iter().any(|p| pattern_matches(p, &text))
                        }
                    })
                    .collect()
            };
            let (applies, when_missing) = if rule.when.is_some() {
                match truth(&format!("{i}/when")) {
                    Ok((b, m)) => (b, relevant(m)),
                    Err(e) => {
                        diags.push(fail(e, "when"));
                        continue;
                    }
                }
            } else {
                (true, Vec::new())
            };
            let (status, missing) = if !applies && when_missing.is_empty() {
                (Status::NotApplicable, Vec::new())
            } else {
                let (holds, req_missing) = match truth(&format!("{i}/require")) {
                    Ok((b, m)) => (b, relevant(m)),
                    Err(e) => {
                        diags.push(fail(e, "require"));
                        continue;
                    }
                };
                // `when` true is taken as true even if it read missing facts (`? or true`); `when`
                // false with missing facts is undecided: pass only if `require` holds outright.
                match (applies, holds) {
                    (true, true) => (Status::Pass, Vec::new()),
                    (false, true) if req_missing.is_empty() => (Status::Pass, Vec::new()),
                    (true, false) if req_missing.is_empty() => (Status::Gap, Vec::new()),
                    (true, false) => (Status::Unknown, sorted(req_missing)),
                    (false, _) => {
                        let all: Vec<Missing> =
                            when_missing.into_iter().chain(req_missing).collect();
                        (Status::Unknown, sorted(all))
                    }
                }
            };
            let mut severity = rule.severity;
            if status == Status::Gap {
                for j in 0..rule.escalate.len() {
                    if let Ok((true, _)) = truth(&format!("{i}/escalate/{j}"))
                        && rule.escalate[j].severity < severity
                    {
                        severity = rule.escalate[j].severity;
                    }
                }
            }
            let message = if matches!(status, Status::Gap | Status::Unknown) {
                let t = env.get_template(&format!("{i}/message"));
                let (rendered, _) = recording(|| t.and_then(|t| t.render(&ctx)));
                match rendered {
                    Ok(m) => Some(m.split_whitespace().collect::<Vec<_>>().join(" ")),
                    Err(e) => {
                        diags.push(fail(e, "message"));
                        None
                    }
                }
            } else {
                None
            };
            let entry = (rule.id.clone(), status, missing.clone());
            FAILED.with(|f| {
                let mut f = f.borrow_mut();
                f.entry(subject_key(subject.kind, &subject.id))
                    .or_default()
                    .push(entry.clone());
                // An activity's `failed` includes its flows' and legs'.
                if matches!(subject.kind, "flow" | "transfer")
                    && let Some(a) = subject
                        .activity
                        .and_then(|a| fb.subjects.get("activity").and_then(|l| l.get(a)))
                {
                    f.entry(subject_key("activity", &a.id))
                        .or_default()
                        .push(entry);
                }
            });
            if report[i] {
                outcomes.push(Outcome {
                    rule: i,
                    subject_kind: subject.kind,
                    subject_id: subject.id.clone(),
                    location: subject.location.clone(),
                    status,
                    severity,
                    message,
                    missing,
                    waiver: None,
                });
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let waivers = apply_waivers(&mut outcomes, rules, report, ws, today);
    Ok(Evaluation {
        outcomes,
        waivers,
        today,
    })
}

fn sorted(mut v: Vec<Missing>) -> Vec<Missing> {
    v.sort();
    v.dedup();
    v
}

/// Turns waived gaps into `waived`; reports expired and unmatched waivers.
fn apply_waivers(
    outcomes: &mut [Outcome],
    rules: &[Rule],
    report: &[bool],
    ws: &Workspace,
    today: i64,
) -> Vec<WaiverUse> {
    let mut uses = Vec::new();
    let index: HashMap<(&str, &str), Vec<usize>> = {
        let mut m: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, o) in outcomes.iter().enumerate() {
            m.entry((rules[o.rule].id.as_str(), o.subject_id.as_str()))
                .or_default()
                .push(i);
        }
        m
    };
    let mut updates: Vec<(usize, usize, bool)> = Vec::new();
    for (wi, w) in ws.waivers.iter().enumerate() {
        let Some(ri) = rules.iter().position(|r| r.id == w.data.rule) else {
            continue;
        };
        if !report[ri] {
            continue; // the rule is not being reported: nothing to say about its waivers
        }
        let hits: Vec<usize> = index
            .get(&(w.data.rule.as_str(), w.data.subject.as_str()))
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| outcomes[i].status == Status::Gap)
            .collect();
        if hits.is_empty() {
            uses.push(WaiverUse {
                waiver: wi,
                state: WaiverState::Unmatched,
            });
            continue;
        }
        // A waiver applies only before its expiry date.
        let valid = dates::day_range(&w.data.expires).is_some_and(|(start, _)| today < start);
        for i in hits {
            updates.push((i, wi, valid));
        }
        uses.push(WaiverUse {
            waiver: wi,
            state: if valid {
                WaiverState::Applied
            } else {
                WaiverState::Expired
            },
        });
    }
    for (i, wi, valid) in updates {
        outcomes[i].waiver = Some(wi);
        if valid {
            outcomes[i].status = Status::Waived;
        }
    }
    uses
}
