//! Rule files (DESIGN §5): loading, validation against `schemas/rule.schema.json`, and the checks
//! that refuse a rule before it runs — an expression that does not compile, a field that neither
//! the flow schema nor the derived facts define, a message template that does not parse, a
//! duplicate id, an unknown or cyclic `depends_on`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::node::Shape;
use super::shapes::Shapes;
use crate::diagnostics::{Code, Diagnostic, Label};
use crate::embedded;
use crate::loading::{self, Document, schema, yaml};
use crate::source::{Pos, Range, SourceFile};
use crate::suggest;

/// How serious a gap is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    /// At least as serious as `other`.
    pub fn at_least(self, other: Severity) -> bool {
        self <= other
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RuleReference {
    pub title: String,
    pub url: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Escalation {
    pub when: String,
    pub severity: Severity,
}

/// A self-test: an inline workspace and the status the rule must give on it.
#[derive(Clone, Debug, Deserialize)]
pub struct RuleTest {
    pub name: String,
    pub expect: String,
    pub workspace: Json,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub today: Option<String>,
}

/// A rule as written.
#[derive(Clone, Debug, Deserialize)]
pub struct Rule {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub articles: Vec<String>,
    pub severity: Severity,
    pub subject: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub when: Option<String>,
    pub require: String,
    #[serde(default)]
    pub unknown: Option<Vec<String>>,
    #[serde(default)]
    pub escalate: Vec<Escalation>,
    pub message: String,
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<RuleReference>,
    #[serde(default)]
    pub tests: Vec<RuleTest>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Where the rule was read from (set by the loader).
    #[serde(skip)]
    pub origin: Origin,
}

/// Where a rule and its parts are written, for diagnostics.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// Display path (`rules/gdpr/x.yaml` for built-in rules).
    pub file: String,
    pub builtin: bool,
    pub text: std::sync::Arc<String>,
    pub doc: Option<std::sync::Arc<yaml::ParsedDoc>>,
}

impl Origin {
    /// The range of the value at a pointer in the rule file.
    pub fn range(&self, pointer: &str) -> Range {
        self.doc
            .as_ref()
            .map(|d| d.locate(pointer).value)
            .unwrap_or_default()
    }
}

/// The context variables a rule of each subject kind sees, with the shape behind each.
pub fn context_shapes(subject: &str) -> BTreeMap<&'static str, Option<std::sync::Arc<Shape>>> {
    let shapes = Shapes::get();
    let mut m: BTreeMap<&'static str, Option<std::sync::Arc<Shape>>> = BTreeMap::new();
    let kinds: [&'static str; 11] = [
        "controller",
        "party",
        "system",
        "data_subject",
        "consent",
        "activity",
        "flow",
        "transfer",
        "order",
        "breach",
        "request",
    ];
    if let Some(k) = kinds.iter().find(|k| **k == subject) {
        m.insert(k, Some(shapes.of(k)));
    }
    m.insert("controller", Some(shapes.of("controller")));
    for s in ["notice", "rights", "security", "records"] {
        m.insert(s, Some(shapes.of(s)));
    }
    if matches!(subject, "flow" | "transfer" | "activity") {
        m.insert("activity", Some(shapes.of("activity")));
        m.insert("consent", Some(shapes.of("consent")));
    }
    m.insert("today", None);
    m.insert("ref", None);
    m.insert("workspace", None);
    m.insert("lookup", None);
    m.insert("days_between", None);
    // minijinja's global functions.
    for f in [
        "range",
        "dict",
        "namespace",
        "lipsum",
        "cycler",
        "joiner",
        "debug",
    ] {
        m.insert(f, None);
    }
    m
}

/// Checks a dotted path (`flow.recipient.role`) against the context; the first unknown segment.
fn check_path(
    path: &str,
    ctx: &BTreeMap<&'static str, Option<std::sync::Arc<Shape>>>,
) -> Result<(), (String, Vec<String>)> {
    let mut segs = path.split('.');
    let root = segs.next().unwrap_or_default();
    let Some(shape) = ctx.get(root) else {
        return Err((
            root.to_string(),
            ctx.keys().map(|k| k.to_string()).collect(),
        ));
    };
    let mut shape = shape.clone();
    let mut walked = root.to_string();
    for seg in segs {
        let Some(s) = shape else {
            return Ok(()); // a plain value (ref, today): not checked further
        };
        // `block.has('key')` is a method, not a field.
        if seg == "has" && !s.fields.contains_key("has") {
            return Ok(());
        }
        match s.fields.get(seg) {
            Some(f) => {
                walked = format!("{walked}.{seg}");
                shape = f.nested.clone().or_else(|| f.items.clone());
                if shape.is_none() {
                    return Ok(()); // a leaf: methods and indexing beyond it are the value's own
                }
            }
            None => {
                return Err((
                    format!("{walked}.{seg}"),
                    s.fields.keys().cloned().collect(),
                ));
            }
        }
    }
    Ok(())
}

/// Instructions one evaluation of a rule's expression or message may execute, on a small
/// workspace.
pub const RULE_FUEL: u64 = 200_000;

/// Extra fuel per element of the workspace: a rule on the controller may look across every
/// activity a few times (one pass costs a few units per item), but a rule that scans the whole
/// workspace once per subject still runs out instead of taking quadratic time.
pub const RULE_FUEL_PER_ELEMENT: u64 = 50;

/// The fuel of one evaluation on a workspace of `elements` elements.
pub fn fuel_for(elements: usize) -> u64 {
    RULE_FUEL.saturating_add(RULE_FUEL_PER_ELEMENT.saturating_mul(elements as u64))
}

/// The minijinja environment shared by every rule: strict undefined, the tests, filters and
/// functions rules may use.
pub fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_debug(false);
    env.set_recursion_limit(64);
    // A rule cannot hang the tool: every evaluation of an expression or a message gets a budget
    // of VM instructions (the built-in rules use a few hundred at most), and running out is an
    // evaluation error naming the rule and the subject (E045).
    env.set_fuel(Some(RULE_FUEL));
    super::eval::register(&mut env);
    env
}

/// Wraps an expression as a template yielding `1` or `0`, so that compiled expressions can be
/// owned by the environment.
pub fn truth_template(expr: &str) -> String {
    format!("{{% if ({expr}) %}}1{{% else %}}0{{% endif %}}")
}

/// Byte offset of an expression inside its rule file, for error positions. Exact for plain and
/// quoted one-line scalars; for block scalars the start of the value.
fn expr_range(
    origin: &Origin,
    pointer: &str,
    text: &str,
    range: Option<std::ops::Range<usize>>,
) -> Range {
    let base = origin.range(pointer);
    let Some(r) = range else {
        return base;
    };
    // Find the expression text in the file at or after the value's start.
    let start_byte = char_to_byte(&origin.text, base.start.index);
    let rest = &origin.text[start_byte.min(origin.text.len())..];
    let Some(offset) = rest.find(text.lines().next().unwrap_or(text)) else {
        return base;
    };
    let abs = start_byte + offset;
    let to_pos = |byte: usize| -> Pos {
        // `s + 1` below may fall inside a multi-byte character: round up to its end.
        let mut byte = byte.min(origin.text.len());
        while !origin.text.is_char_boundary(byte) {
            byte += 1;
        }
        let before = &origin.text[..byte];
        Pos {
            line: before.matches('\n').count() + 1,
            col: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            index: before.chars().count(),
        }
    };
    // Only the first line of the expression maps one to one onto the file.
    let first_line = text.lines().next().unwrap_or(text).len();
    let s = r.start.min(first_line);
    let e = r.end.min(first_line).max(s + 1);
    Range {
        start: to_pos(abs + s),
        end: to_pos(abs + e),
    }
}

fn char_to_byte(text: &str, idx: usize) -> usize {
    text.char_indices()
        .nth(idx)
        .map(|(b, _)| b)
        .unwrap_or(text.len())
}

/// Parses, validates and checks one rule file.
pub fn load_rule(file: SourceFile, builtin: bool) -> Result<Rule, Vec<Diagnostic>> {
    let shown = file.display_path();
    let parsed = loading::parse_source(&file).map_err(|d| vec![d])?;
    let doc = Document { file, parsed };
    // Built-in rules are checked (schema, expressions, fields, templates) by the test suite
    // (`tests/catalogue.rs` loads each as a user rule), not on every run: the checks were half
    // of the start-up time of `check`.
    let errs = if builtin {
        Vec::new()
    } else {
        schema::validate_rule(&doc)
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut rule: Rule = serde_json::from_value(doc.parsed.value.clone()).map_err(|e| {
        vec![Diagnostic::file(
            Code::RuleInvalid,
            &shown,
            format!("cannot read rule: {e}"),
        )]
    })?;
    rule.origin = Origin {
        file: shown.clone(),
        builtin,
        text: std::sync::Arc::new(doc.file.text.clone()),
        doc: Some(std::sync::Arc::new(doc.parsed)),
    };
    if builtin {
        return Ok(rule);
    }
    let mut diags = Vec::new();
    let env = environment();
    let ctx = context_shapes(&rule.subject);
    let mut exprs: Vec<(String, &str)> = Vec::new();
    if let Some(w) = &rule.when {
        exprs.push(("/when".into(), w));
    }
    exprs.push(("/require".into(), &rule.require));
    for (i, e) in rule.escalate.iter().enumerate() {
        exprs.push((format!("/escalate/{i}/when"), &e.when));
    }
    for (pointer, text) in &exprs {
        if let Some(d) = too_many_operators(&rule, pointer, operators(text, false)) {
            diags.push(d);
            continue;
        }
        match env.compile_expression(text) {
            Err(e) => {
                let range = expr_range(&rule.origin, pointer, text, e.range());
                diags.push(
                    Diagnostic::at(
                        Code::RuleExpression,
                        &shown,
                        range,
                        format!("rule `{}`: expression does not compile: {}", rule.id, e.detail().unwrap_or("syntax error")),
                        "here",
                    )
                    .with_help("expressions are minijinja (Jinja) expressions, e.g. `flow.third_country and not flow.transfer.mechanism`"),
                );
            }
            Ok(expr) => {
                let mut vars: Vec<String> = expr.undeclared_variables(true).into_iter().collect();
                vars.sort();
                for var in vars {
                    if let Err((bad, known)) = check_path(&var, &ctx) {
                        let last = bad.rsplit('.').next().unwrap_or(&bad).to_string();
                        let range =
                            expr_range(&rule.origin, pointer, text, find_path(text, &var, &last));
                        let mut d = Diagnostic::at(
                            Code::RuleUnknownField,
                            &shown,
                            range,
                            format!(
                                "rule `{}` reads `{bad}`, which neither the flow schema nor the derived facts define",
                                rule.id
                            ),
                            "unknown field",
                        );
                        d = match suggest::did_you_mean(&last, known.iter().map(String::as_str)) {
                            Some(h) => d.with_help(h),
                            None => d.with_help("docs/facts.md lists the derived facts; `flowaudit schema flow` the stated fields"),
                        };
                        diags.push(d);
                    }
                }
            }
        }
    }
    let mut tpl_env = environment();
    if let Some(d) = too_many_operators(&rule, "/message", operators(&rule.message, true)) {
        diags.push(d);
    } else if let Err(e) = tpl_env.add_template_owned("message", rule.message.clone()) {
        diags.push(Diagnostic::at(
            Code::RuleExpression,
            &shown,
            rule.origin.range("/message"),
            format!(
                "rule `{}`: message template does not parse: {}",
                rule.id,
                e.detail().unwrap_or("syntax error")
            ),
            "in this template",
        ));
    } else if let Ok(t) = tpl_env.get_template("message") {
        let mut vars: Vec<String> = t.undeclared_variables(true).into_iter().collect();
        vars.sort();
        for var in vars {
            if let Err((bad, known)) = check_path(&var, &ctx) {
                let last = bad.rsplit('.').next().unwrap_or(&bad).to_string();
                let mut d = Diagnostic::at(
                    Code::RuleUnknownField,
                    &shown,
                    rule.origin.range("/message"),
                    format!(
                        "rule `{}`: message reads `{bad}`, which neither the flow schema nor the derived facts define",
                        rule.id
                    ),
                    "in this template",
                );
                if let Some(h) = suggest::did_you_mean(&last, known.iter().map(String::as_str)) {
                    d = d.with_help(h);
                }
                diags.push(d);
            }
        }
    }
    if diags.is_empty() {
        Ok(rule)
    } else {
        Err(diags)
    }
}

/// Most operators in one expression, or in one `{{ }}` / `{% %}` tag of a message (the longest
/// built-in expression has about 300). minijinja parses a chain such as `1 + 1 + … + 1` or
/// `x | f | f | …` into a tree as deep as it is long, and walks that tree recursively: a chain of
/// some thousands would overflow the stack, whatever the parser's own limit on nesting.
pub const MAX_OPERATORS: usize = 1_000;

/// The operators of an expression (`template`: the most in any one tag of a template), counted
/// generously: every operator character (`+ - * / % ~ | . ( [ < > = !`) and keyword (`and`, `or`,
/// `not`, `in`, `is`, `if`, `else`) outside string literals. Strings are skipped as minijinja's
/// lexer reads them, so a `}}` or an operator inside quotes neither ends a tag nor counts; an
/// unterminated string stops the count where the lexer stops too.
pub fn operators(text: &str, template: bool) -> usize {
    let b = text.as_bytes();
    let keyword = |w: &[u8]| matches!(w, b"and" | b"or" | b"not" | b"in" | b"is" | b"if" | b"else");
    let mut most = 0;
    let mut i = 0;
    while i < b.len() {
        // In a template, skip the text up to the next tag (and skip comments whole).
        if template {
            match (b[i], b.get(i + 1)) {
                (b'{', Some(b'{' | b'%')) => i += 2,
                (b'{', Some(b'#')) => {
                    i = text[i + 2..]
                        .find("#}")
                        .map_or(b.len(), |at| i + 2 + at + 2);
                    continue;
                }
                _ => {
                    i += 1;
                    continue;
                }
            }
        }
        let mut count = 0;
        let mut word: Option<usize> = None;
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_alphanumeric() || c == b'_' {
                word.get_or_insert(i);
                i += 1;
                continue;
            }
            if let Some(w) = word.take()
                && keyword(&b[w..i])
            {
                count += 1;
            }
            if template && matches!((c, b.get(i + 1)), (b'}' | b'%', Some(b'}'))) {
                i += 2;
                break;
            }
            if c == b'"' || c == b'\'' {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            } else if b"+-*/%~|.([<>=!".contains(&c) {
                count += 1;
            }
            i += 1;
        }
        if let Some(w) = word
            && keyword(&b[w..i.min(b.len())])
        {
            count += 1;
        }
        most = most.max(count);
        if !template {
            break;
        }
    }
    most
}

fn too_many_operators(rule: &Rule, pointer: &str, count: usize) -> Option<Diagnostic> {
    (count > MAX_OPERATORS).then(|| {
        let what = if pointer == "/message" {
            "a tag of the message template"
        } else {
            "the expression"
        };
        Diagnostic::at(
            Code::RuleExpression,
            &rule.origin.file,
            rule.origin.range(pointer),
            format!(
                "rule `{}`: {what} has {count} operators, more than the {MAX_OPERATORS} allowed",
                rule.id
            ),
            "too long",
        )
        .with_help("split it: compute parts in `{% set %}` steps, or write a shorter condition")
    })
}

/// Where a dotted path's last segment is in an expression, for the caret.
fn find_path(text: &str, var: &str, last: &str) -> Option<std::ops::Range<usize>> {
    let prefix: Vec<&str> = var.split('.').collect();
    let needle = prefix
        .iter()
        .take_while(|s| **s != last)
        .chain(std::iter::once(&last))
        .copied()
        .collect::<Vec<_>>()
        .join(".");
    let at = text.find(&needle)?;
    let start = at + needle.len() - last.len();
    Some(start..start + last.len())
}

/// The built-in rules and those from `--rules` directories, all checked; ids unique;
/// `depends_on` resolved and acyclic. Rules come back in evaluation order.
pub fn load_rules(extra_dirs: &[PathBuf]) -> Result<Vec<Rule>, (Vec<Diagnostic>, Vec<SourceFile>)> {
    load(extra_dirs, true)
}

/// As [`load_rules`], without the self-tests: what `check` and `validate` need. Most of a rule
/// file is its self-tests, so leaving them unparsed keeps every run fast.
pub fn load_rules_for_check(
    extra_dirs: &[PathBuf],
) -> Result<Vec<Rule>, (Vec<Diagnostic>, Vec<SourceFile>)> {
    load(extra_dirs, false)
}

/// Blanks the top-level `tests:` block of a rule file (every character but line breaks becomes a
/// space), so that the rest parses with its positions unchanged.
fn without_tests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blanking = false;
    for line in text.split_inclusive('\n') {
        let top_level = line.starts_with(|c: char| !c.is_whitespace() && c != '#');
        if top_level {
            blanking = line.starts_with("tests:");
        }
        if blanking {
            out.extend(
                line.chars()
                    .map(|c| if c == '\n' || c == '\r' { c } else { ' ' }),
            );
        } else {
            out.push_str(line);
        }
    }
    out
}

fn load(
    extra_dirs: &[PathBuf],
    with_tests: bool,
) -> Result<Vec<Rule>, (Vec<Diagnostic>, Vec<SourceFile>)> {
    let mut files: Vec<(SourceFile, bool)> = embedded::under("rules/gdpr/")
        .chain(embedded::under("rules/aiact/"))
        .chain(embedded::under("rules/iot/"))
        .filter(|(p, _)| p.ends_with(".yaml") || p.ends_with(".yml"))
        .map(|(p, t)| {
            (
                SourceFile {
                    path: PathBuf::from(p),
                    text: t.to_string(),
                },
                true,
            )
        })
        .collect();
    let mut diags = Vec::new();
    for dir in extra_dirs {
        match rule_files(dir) {
            Ok(list) => {
                for path in list {
                    match loading::read_source(&path) {
                        Ok(f) => files.push((f, false)),
                        Err(d) => diags.push(d),
                    }
                }
            }
            Err(d) => diags.push(d),
        }
    }
    let mut rules: Vec<Rule> = Vec::new();
    let mut sources = Vec::new();
    for (mut file, builtin) in files {
        if !with_tests {
            file.text = without_tests(&file.text);
        }
        let copy = SourceFile {
            path: file.path.clone(),
            text: file.text.clone(),
        };
        match load_rule(file, builtin) {
            Ok(r) => rules.push(r),
            Err(d) => diags.extend(d),
        }
        sources.push(copy);
    }
    // Unique ids.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        if let Some(&first) = seen.get(&r.id) {
            diags.push(
                Diagnostic::at(
                    Code::RuleDuplicateId,
                    &r.origin.file,
                    r.origin.range("/id"),
                    format!("rule id `{}` is defined twice", r.id),
                    "defined again here",
                )
                .with_secondary(Label {
                    file: rules[first].origin.file.clone(),
                    range: rules[first].origin.range("/id"),
                    text: "first defined here".into(),
                })
                .with_help("rule ids are never reused: give your rule a new id (e.g. with your organisation's prefix)"),
            );
        } else {
            seen.insert(r.id.clone(), i);
        }
    }
    // Dependencies: known, and a topological order.
    for r in &rules {
        for (j, dep) in r.depends_on.iter().enumerate() {
            if !seen.contains_key(dep) {
                diags.push(
                    Diagnostic::at(
                        Code::RuleDependency,
                        &r.origin.file,
                        r.origin.range(&format!("/depends_on/{j}")),
                        format!("rule `{}` depends on unknown rule `{dep}`", r.id),
                        "no rule has this id",
                    )
                    .with_help(
                        suggest::did_you_mean(dep, seen.keys().map(String::as_str))
                            .unwrap_or_else(|| "`flowaudit rules list` shows the rule ids".into()),
                    ),
                );
            }
        }
    }
    if !diags.is_empty() {
        return Err((diags, sources));
    }
    match topological(&rules) {
        Ok(order) => {
            let mut slots: Vec<Option<Rule>> = rules.into_iter().map(Some).collect();
            Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
        }
        Err(i) => {
            let r = &rules[i];
            Err((
                vec![Diagnostic::at(
                    Code::RuleDependency,
                    &r.origin.file,
                    r.origin.range("/depends_on"),
                    format!("rule `{}` is part of a `depends_on` cycle", r.id),
                    "cycle",
                )],
                sources,
            ))
        }
    }
}

/// Evaluation order: dependencies first, otherwise by id. Err(index) of a rule in a cycle.
fn topological(rules: &[Rule]) -> Result<Vec<usize>, usize> {
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut order = Vec::with_capacity(rules.len());
    let mut state = vec![0u8; rules.len()]; // 0 new, 1 visiting, 2 done
    let mut by_id: Vec<usize> = (0..rules.len()).collect();
    by_id.sort_by(|a, b| rules[*a].id.cmp(&rules[*b].id));
    fn visit(
        i: usize,
        rules: &[Rule],
        index: &BTreeMap<&str, usize>,
        state: &mut [u8],
        order: &mut Vec<usize>,
    ) -> Result<(), usize> {
        match state[i] {
            2 => return Ok(()),
            1 => return Err(i),
            _ => {}
        }
        state[i] = 1;
        let mut deps: Vec<usize> = rules[i]
            .depends_on
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .collect();
        deps.sort();
        for d in deps {
            visit(d, rules, index, state, order)?;
        }
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in by_id {
        visit(i, rules, &index, &mut state, &mut order)?;
    }
    Ok(order)
}

/// Rule files in a directory (recursively, sorted).
fn rule_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let shown = crate::source::display_path(dir);
    if !dir.is_dir() {
        return Err(Diagnostic::file(
            Code::CannotRead,
            &shown,
            format!("cannot read rules directory `{shown}`: not a directory"),
        ));
    }
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        match e {
            Ok(e) if e.file_type().is_file() => {
                let name = e.file_name().to_string_lossy();
                if name.ends_with(".yaml") || name.ends_with(".yml") {
                    out.push(e.path().to_path_buf());
                }
            }
            Ok(_) => {}
            Err(err) => {
                return Err(Diagnostic::file(
                    Code::WalkError,
                    &shown,
                    format!("cannot walk `{shown}`: {err}"),
                ));
            }
        }
    }
    Ok(out)
}

/// Ids of the rules, for checking waivers.
pub fn ids(rules: &[Rule]) -> Vec<String> {
    let mut v: Vec<String> = rules.iter().map(|r| r.id.clone()).collect();
    v.sort();
    v
}

/// Matches a fact pattern with `*` wildcards.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked_against_schema_and_facts() {
        let ctx = context_shapes("flow");
        assert!(check_path("flow.recipient.dpf_certified", &ctx).is_ok());
        assert!(check_path("flow.transfer.mechanism", &ctx).is_ok());
        assert!(check_path("activity.human_review.performed", &ctx).is_ok());
        assert!(check_path("consent.covers.human_review", &ctx).is_ok());
        let (bad, known) = check_path("flow.third_contry", &ctx).expect_err("typo");
        assert_eq!(bad, "flow.third_contry");
        assert!(known.iter().any(|k| k == "third_country"));
        assert!(
            check_path("party.role", &ctx).is_err(),
            "no party in a flow rule"
        );
        assert!(check_path("ref.eea", &ctx).is_ok());
    }

    #[test]
    fn tests_are_blanked_with_positions_kept() {
        let text = "id: X\ntests:\n  - name: a\n    expect: gap\nmessage: m\n";
        let out = without_tests(text);
        assert_eq!(out.len(), text.len());
        assert_eq!(out.lines().count(), text.lines().count());
        assert!(out.contains("message: m") && !out.contains("name: a"));
        assert!(out.starts_with("id: X\n"));
    }

    #[test]
    fn operators_are_counted_outside_strings() {
        assert_eq!(operators("a and not b.c", false), 3);
        assert_eq!(operators("x | f(1) + y[0] ~ 'a.b+c'", false), 5);
        assert_eq!(operators("a and'' and\"\" and b", false), 3);
        assert_eq!(operators("'unterminated + + +", false), 0);
        assert_eq!(operators("band or_ island", false), 0);
        // Templates: the most in one tag; `}}` inside a string does not end the tag.
        let t =
            "Text. (a+b) {{ a.b }} {% if x in y %}{{ '}}' ~ 1 + 1 + 1 }}{% endif %}{# 1+1+1+1 #}";
        assert_eq!(operators(t, true), 3);
        let chain = format!("{{{{ {} }}}}", vec!["1"; 2_000].join(" + "));
        assert_eq!(operators(&chain, true), 1_999);
    }

    #[test]
    fn long_operator_chains_are_refused_before_they_reach_minijinja() {
        let chain = vec!["1"; 50_000].join(" + ");
        let text = format!(
            "id: ACME-LONG\ntitle: t\narticles: [\"Art. 5(1)(a)\"]\nseverity: low\nsubject: activity\nrequire: \"{chain} > 0\"\nmessage: \"{{{{ {chain} }}}}\"\nremediation: r\n"
        );
        let file = SourceFile {
            path: PathBuf::from("rules/ACME-LONG.yaml"),
            text,
        };
        let diags = load_rule(file, false).expect_err("refused");
        assert_eq!(diags.len(), 2, "{diags:?}");
        for (d, line) in diags.iter().zip([6, 7]) {
            assert_eq!(d.code, Code::RuleExpression);
            assert!(
                d.message.contains(" operators, more than the 1000 allowed"),
                "{}",
                d.message
            );
            assert_eq!(d.primary.as_ref().map(|p| p.range.start.line), Some(line));
        }
    }

    #[test]
    fn wildcards() {
        assert!(pattern_matches(
            "party.contract.*",
            "party.contract.clauses"
        ));
        assert!(pattern_matches(
            "activity.dpia.status",
            "activity.dpia.status"
        ));
        assert!(!pattern_matches("party.contract.*", "party.role"));
        assert!(pattern_matches("*.informed", "data_subject.informed"));
    }
}
