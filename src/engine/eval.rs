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
use minijinja::{Environment, Error, ErrorKind, State};
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
    pub location: std::sync::Arc<crate::model::Location>,
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
    /// The derived facts, for the report's tables (DPIA screening, transfers, graph).
    pub facts: FactBase,
}

/// A rule's status on a subject, with the facts that left it unknown.
type RuleStatus = (String, Status, Vec<Missing>);

thread_local! {
    /// The rules the rule being evaluated depends on: only their unknowns matter to its `failed`.
    static DEPENDS_ON: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
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
                Status::Unknown if !DEPENDS_ON.with(|d| d.borrow().contains(rule)) => {}
                Status::Unknown => {
                    // Undecided: a fact with two values, in or out, tried by the prober.
                    let fact = Missing {
                        kind: owner.kind_name.to_string(),
                        id: owner.id.clone(),
                        path: format!("failed:{rule}"),
                    };
                    let _ = missing;
                    match super::node::assumed(&fact) {
                        Some(serde_json::Value::Bool(true)) => {
                            ids.insert(rule.clone());
                        }
                        Some(_) => {}
                        None => super::node::record_with(
                            fact,
                            Some(std::sync::Arc::new(vec![
                                serde_json::Value::Bool(true),
                                serde_json::Value::Bool(false),
                            ])),
                        ),
                    }
                }
                _ => {}
            }
        }
        Value::from(ids.into_iter().map(Value::from).collect::<Vec<_>>())
    })
}

/// The items of `a` that are (`found`) or are not in `b`. minijinja charges a custom filter only
/// for its result, so the items read and the comparisons made are charged here: a rule cannot spend
/// ten billion comparisons on `range(100000) | difference(range(100000))`.
fn keep(state: &State, a: Value, b: Value, found: bool) -> Result<Value, Error> {
    let mut others = Vec::new();
    for x in b.try_iter()? {
        state.consume_fuel(1)?;
        others.push(x);
    }
    let mut out = Vec::new();
    for x in a.try_iter()? {
        state.consume_fuel(1 + others.len() as u64)?;
        if others.contains(&x) == found {
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

thread_local! {
    /// Expression renders (first evaluations and probes) of the current rule, for the timings.
    static RENDERS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Tests, filters and functions available to rules.
pub fn register(env: &mut Environment<'static>) {
    // `a | difference(b)`: the items of a not in b.
    env.add_filter("difference", |s: &State, a: Value, b: Value| {
        keep(s, a, b, false)
    });
    // `a | intersect(b)`: the items of a also in b.
    env.add_filter("intersect", |s: &State, a: Value, b: Value| {
        keep(s, a, b, true)
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
    // Every reference file by stem, its data keys at the top (`ref.consent_ages.ages.FR`), plus
    // the tunables and the short lists rules use most.
    let mut map = serde_json::Map::new();
    for (stem, table) in &reference.tables {
        map.insert(stem.clone(), table.clone());
        if stem == "tunables"
            && let Some(t) = table.as_object()
        {
            for (k, v) in t {
                if !matches!(k.as_str(), "source" | "as_of" | "notes") {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
    }
    map.insert(
        "eea".into(),
        serde_json::json!(reference.eea_codes.iter().collect::<Vec<_>>()),
    );
    map.insert(
        "adequacy".into(),
        serde_json::json!(
            reference
                .adequacy
                .iter()
                .filter(|d| d.status == "in_force")
                .map(|d| &d.country)
                .collect::<Vec<_>>()
        ),
    );
    map.entry("location_min_interval_s")
        .or_insert(serde_json::json!(60));
    map.entry("dpf_check_max_age_days")
        .or_insert(serde_json::json!(365));
    Value::from(minijinja::value::Serde(serde_json::Value::Object(map)))
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
    let fuel = super::rules::fuel_for(fb.subjects.values().map(Vec::len).sum());
    env.set_fuel(Some(fuel));
    // Templates compile on first use: most rules never render a message or an escalation on a
    // given workspace, and compiling all of them was a third of a small `check`. Rules were
    // compiled once when loaded (user rules) or by the test suite (built-in ones), so a template
    // that fails here is reported as an evaluation error of its rule.
    let mut sources: HashMap<String, String> = HashMap::new();
    for (i, r) in rules.iter().enumerate() {
        if let Some(w) = &r.when {
            sources.insert(format!("{i}/when"), truth_template(w));
        }
        sources.insert(format!("{i}/require"), truth_template(&r.require));
        sources.insert(format!("{i}/message"), r.message.clone());
        for (j, e) in r.escalate.iter().enumerate() {
            sources.insert(format!("{i}/escalate/{j}"), truth_template(&e.when));
        }
    }
    env.set_loader(move |name| Ok(sources.get(name).cloned()));
    let mut diags = Vec::new();
    let by_id = std::sync::Arc::new(fb.by_id.clone());
    let lookup = Value::from_object(Lookup((*by_id).clone()));
    // `ids | map('lookup')`: the elements a list of ids names.
    env.add_filter("lookup", move |id: Value| -> Value {
        id.as_str()
            .and_then(|i| by_id.get(i).cloned())
            .unwrap_or(Value::from(()))
    });
    let refv = reference_value(reference);
    FAILED.with(|f| f.borrow_mut().clear());
    // Sized up front: growing by doubling kept up to twice the outcomes of a large workspace.
    let mut outcomes = Vec::with_capacity(
        rules
            .iter()
            .zip(report)
            .filter(|(_, wanted)| **wanted)
            .map(|(r, _)| fb.subjects.get(r.subject.as_str()).map_or(0, Vec::len))
            .sum(),
    );
    let empty: Vec<Subject> = Vec::new();
    // Each subject's context is the same for every rule: built once.
    let contexts: BTreeMap<&str, Vec<Value>> = fb
        .subjects
        .iter()
        .map(|(kind, list)| {
            (
                *kind,
                list.iter()
                    .map(|s| context(&fb, s, &lookup, &refv))
                    .collect(),
            )
        })
        .collect();
    // `FLOWAUDIT_RULE_TIMINGS=1`: time spent in each rule, on stderr (for rule authors and
    // docs/performance.md; not part of any output format).
    let timings = std::env::var_os("FLOWAUDIT_RULE_TIMINGS").is_some();
    let mut spent: Vec<(std::time::Duration, u64, &str)> = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let started = std::time::Instant::now();
        DEPENDS_ON.with(|d| *d.borrow_mut() = rule.depends_on.clone());
        let subjects = fb.subjects.get(rule.subject.as_str()).unwrap_or(&empty);
        for (si, subject) in subjects.iter().enumerate() {
            let ctx = &contexts[rule.subject.as_str()][si];
            // One budget for every render of the rule on this subject: the prober renders an
            // expression up to hundreds of times, and must not multiply the fuel of one render.
            let left = std::cell::Cell::new(PROBE_FUEL_RENDERS.saturating_mul(fuel));
            let render = |name: &str| -> Result<bool, Error> {
                RENDERS.with(|r| r.set(r.get() + 1));
                if left.get() == 0 {
                    return Err(Error::from(ErrorKind::OutOfFuel));
                }
                let t = env.get_template(name)?.render_captured(ctx)?;
                let used = t.state().fuel_levels().map_or(0, |(used, _)| used);
                left.set(left.get().saturating_sub(used));
                Ok(t.output() == "1")
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
            let matches_pattern = |m: &Missing, patterns: &[String]| {
                let text = if m.kind == "section" {
                    format!("section.{}.{}", m.id, m.path)
                } else {
                    format!("{}.{}", m.kind, m.path)
                };
                patterns.iter().any(|p| pattern_matches(p, &text))
            };
            let relevant = |m: &Missing| match &rule.unknown {
                None => true,
                Some(_) if m.path.starts_with("failed:") => true,
                // A partly undecided fact matters if a fact that would decide it does.
                Some(patterns) if m.path.starts_with("derived:") => {
                    super::node::undecided_sources(m)
                        .iter()
                        .any(|s| matches_pattern(s, patterns))
                }
                Some(patterns) => matches_pattern(m, patterns),
            };
            let when = match &rule.when {
                Some(_) => match decide(&|| render(&format!("{i}/when")), &relevant) {
                    Ok(t) => t,
                    Err(e) => {
                        diags.push(fail(e, "when"));
                        continue;
                    }
                },
                None => Truth::Decided(true),
            };
            let (status, missing) = if when == Truth::Decided(false) {
                (Status::NotApplicable, Vec::new())
            } else {
                let require = match decide(&|| render(&format!("{i}/require")), &relevant) {
                    Ok(t) => t,
                    Err(e) => {
                        diags.push(fail(e, "require"));
                        continue;
                    }
                };
                // CHECKPOINTS §1.2: W=false -> n/a; W=true -> R decides; W=? -> R true passes,
                // anything else is unknown.
                match (when, require) {
                    (_, Truth::Decided(true)) => (Status::Pass, Vec::new()),
                    (Truth::Decided(_), Truth::Decided(false)) => (Status::Gap, Vec::new()),
                    (Truth::Decided(_), Truth::Undecided(m)) => (Status::Unknown, expand(m)),
                    (Truth::Undecided(mw), r) => {
                        let mut all = mw;
                        if let Truth::Undecided(mr) = r {
                            all.extend(mr);
                        }
                        (Status::Unknown, expand(all))
                    }
                }
            };
            let mut severity = rule.severity;
            if status == Status::Gap {
                for j in 0..rule.escalate.len() {
                    if let Ok(true) = render(&format!("{i}/escalate/{j}"))
                        && rule.escalate[j].severity < severity
                    {
                        severity = rule.escalate[j].severity;
                    }
                }
            }
            let message = if matches!(status, Status::Gap | Status::Unknown) {
                let t = env.get_template(&format!("{i}/message"));
                let (rendered, _) = recording(|| t.and_then(|t| t.render(ctx)));
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
            // Only what `failed` facts read (gaps, and unknowns a dependant may try both ways):
            // recording every pass and n/a cost a third of the memory of a large run.
            let entry = (rule.id.clone(), status, missing.clone());
            let failing = matches!(status, Status::Gap | Status::Waived | Status::Unknown);
            FAILED.with(|f| {
                if !failing {
                    return;
                }
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
        if timings {
            spent.push((started.elapsed(), RENDERS.with(|r| r.replace(0)), &rule.id));
        }
    }
    if timings {
        spent.sort();
        for (d, renders, id) in spent.iter().rev() {
            eprintln!(
                "{:>10.3} ms {renders:>8} renders  {id}",
                d.as_secs_f64() * 1000.0
            );
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
        facts: fb,
    })
}

/// Whether an expression holds, or depends on facts the workspace does not state.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Truth {
    Decided(bool),
    Undecided(Vec<Missing>),
}

/// The fuel of all the renders of one rule on one subject (its `when`, `require` and `escalate`,
/// with every probe), in renders' worth of fuel.
const PROBE_FUEL_RENDERS: u64 = 4;

/// Most combinations of missing facts tried before giving up on deciding.
const MAX_PROBES: usize = 256;

/// Evaluates an expression; when it read missing facts that matter, decides whether its value
/// depends on them: each fact with few possible values (a boolean, an enum) is tried with every
/// value, and if the expression gives the same result for all of them, that result stands (so a
/// stated fault gives a gap even if another fact is missing: Kleene's `false and ?` = false). Facts
/// with many possible values leave a false result undecided; a true result then stands, as rules
/// are written so that a missing fact makes them false.
fn decide(
    render: &dyn Fn() -> Result<bool, Error>,
    relevant: &dyn Fn(&Missing) -> bool,
) -> Result<Truth, Error> {
    let (value, recorded) = recording(render);
    let value = value?;
    let mut facts: Vec<(Missing, super::node::Domain)> =
        recorded.into_iter().filter(|(m, _)| relevant(m)).collect();
    if facts.is_empty() {
        return Ok(Truth::Decided(value));
    }
    let missing = |facts: &[(Missing, super::node::Domain)]| {
        let mut v: Vec<Missing> = facts.iter().map(|(m, _)| m.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    // Facts read only under some assumptions (behind `and`/`or`) join the set as they are met,
    // and the enumeration starts again.
    'restart: loop {
        let domains: Option<Vec<std::sync::Arc<Vec<serde_json::Value>>>> =
            facts.iter().map(|(_, d)| d.clone()).collect();
        let combinations = domains.as_ref().and_then(|ds| {
            ds.iter()
                .try_fold(1usize, |acc, d| acc.checked_mul(d.len().max(1)))
        });
        let (Some(ds), Some(n)) = (domains, combinations) else {
            return Ok(if value {
                Truth::Decided(true)
            } else {
                Truth::Undecided(missing(&facts))
            });
        };
        if n > MAX_PROBES {
            return Ok(if value {
                Truth::Decided(true)
            } else {
                Truth::Undecided(missing(&facts))
            });
        }
        for k in 0..n {
            let mut rest = k;
            let mut values = BTreeMap::new();
            for ((m, _), d) in facts.iter().zip(&ds) {
                values.insert(m.clone(), d[rest % d.len()].clone());
                rest /= d.len();
            }
            let (probe, more) = super::node::assuming(values, || recording(render));
            let probe = probe?;
            let new: Vec<(Missing, super::node::Domain)> = more
                .into_iter()
                .filter(|(m, _)| relevant(m) && !facts.iter().any(|(f, _)| f == m))
                .collect();
            if !new.is_empty() {
                facts.extend(new);
                continue 'restart;
            }
            if probe != value {
                return Ok(Truth::Undecided(missing(&facts)));
            }
        }
        return Ok(Truth::Decided(value));
    }
}

/// Replaces the `failed:<rule>` facts of an unknown result by the facts that left that rule
/// unknown on the subject.
fn expand(missing: Vec<Missing>) -> Vec<Missing> {
    let mut out: Vec<Missing> = Vec::new();
    FAILED.with(|f| {
        let f = f.borrow();
        for m in missing {
            if m.path.starts_with("derived:") {
                out.extend(super::node::undecided_sources(&m));
                continue;
            }
            match m.path.strip_prefix("failed:") {
                Some(rule) => {
                    for (r, _, ms) in f.get(&subject_key(&m.kind, &m.id)).into_iter().flatten() {
                        if r == rule {
                            out.extend(ms.iter().cloned());
                        }
                    }
                }
                None => out.push(m),
            }
        }
    });
    out.sort();
    out.dedup();
    out
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
