//! The commands: each reads its arguments, runs the library stages and writes its output.
//! They return the process exit code (DESIGN §6).

use std::io::{IsTerminal, Write};

use crate::cli::{
    CheckArgs, CheckFormat, DiagnosticFormat, FailOn, RulesCommand, SchemaArgs, SchemaKind,
    ValidateArgs,
};
use crate::diagnostics::{self, Diagnostic, Sources};
use crate::engine::{self, Severity};
use crate::loading::{self, schema};
use crate::model::{self, Workspace};
use crate::reference::Reference;
use crate::report;

/// Exit code: nothing wrong.
pub const EXIT_OK: i32 = 0;
/// Exit code: gaps at or above the threshold.
pub const EXIT_GAPS: i32 = 1;
/// Exit code: invalid input or command line.
pub const EXIT_INVALID: i32 = 2;

/// Whether to colour stderr: only on a terminal, and never with `NO_COLOR` set.
pub fn stderr_color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Loads and validates a workspace: the merged model, or every diagnostic.
pub fn load_workspace(
    paths: &[std::path::PathBuf],
) -> (loading::Loaded, Result<Workspace, Vec<Diagnostic>>) {
    load_workspace_with(paths, &crate::engine::builtin_rule_ids())
}

/// As [`load_workspace`], with the rule ids waivers may name.
pub fn load_workspace_with(
    paths: &[std::path::PathBuf],
    rule_ids: &[String],
) -> (loading::Loaded, Result<Workspace, Vec<Diagnostic>>) {
    let default = [std::path::PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut loaded = loading::load(paths);
    let mut diags = std::mem::take(&mut loaded.diagnostics);
    if diags.is_empty() {
        match model::build(&loaded.documents, rule_ids, Reference::get()) {
            Ok(ws) => return (loaded, Ok(ws)),
            Err(more) => diags.extend(more),
        }
    } else {
        // Report the cross-document problems too, but build no model from invalid documents.
        diags.extend(model::check_only(
            &loaded.documents,
            rule_ids,
            Reference::get(),
        ));
    }
    diagnostics::sort(&mut diags);
    (loaded, Err(diags))
}

/// `flowaudit validate`.
pub fn validate(args: &ValidateArgs) -> i32 {
    let Some(rules) = load_rules_for_check_or_report(&args.rules) else {
        return EXIT_INVALID;
    };
    let (loaded, result) = load_workspace_with(&args.paths, &engine::rules::ids(&rules));
    let diags: &[Diagnostic] = match &result {
        Ok(_) => &[],
        Err(d) => d,
    };
    match args.format {
        DiagnosticFormat::Json => {
            print_stdout(&diagnostics::render_json(diags));
        }
        DiagnosticFormat::Text => {
            if diags.is_empty() {
                if let Ok(ws) = &result {
                    print_stdout(&summary(ws, loaded.documents.len()));
                }
            } else {
                let sources = Sources::new(loaded.sources());
                let _ = std::io::stderr().write_all(
                    diagnostics::render_text(diags, &sources, stderr_color()).as_bytes(),
                );
            }
        }
    }
    if diags.is_empty() {
        EXIT_OK
    } else {
        EXIT_INVALID
    }
}

fn summary(ws: &Workspace, files: usize) -> String {
    let counts = [
        (
            ws.controller.is_some() as usize,
            "controller",
            "controllers",
        ),
        (ws.parties.len(), "party", "parties"),
        (ws.systems.len(), "system", "systems"),
        (
            ws.data_subjects.len(),
            "data subject group",
            "data subject groups",
        ),
        (ws.consents.len(), "consent", "consents"),
        (ws.activities.len(), "activity", "activities"),
        (ws.flows.len(), "flow", "flows"),
    ];
    let parts: Vec<String> = counts
        .iter()
        .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
    format!(
        "valid: {files} file{} ({})\n",
        if files == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// `flowaudit schema`.
pub fn schema(args: &SchemaArgs) -> i32 {
    let text = match args.kind {
        SchemaKind::Flow => schema::flow_schema_text(),
        SchemaKind::Rule => schema::rule_schema_text(),
    };
    print_stdout(text);
    if !text.ends_with('\n') {
        print_stdout("\n");
    }
    EXIT_OK
}

fn print_stdout(s: &str) {
    // A closed pipe (`flowaudit schema | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(s.as_bytes());
}

fn print_diagnostics(diags: &[Diagnostic], sources: Sources<'_>) {
    let _ = std::io::stderr()
        .write_all(diagnostics::render_text(diags, &sources, stderr_color()).as_bytes());
}

/// Whether a rule id is matched by a `--select` / `--ignore` pattern: the id, or a prefix of it
/// ending where the id has a `-`.
pub fn rule_matches(id: &str, pattern: &str) -> bool {
    id == pattern
        || id
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// What `check` and `report` share: rules, selection, workspace, evaluation.
struct Evaluate<'a> {
    paths: &'a [std::path::PathBuf],
    rules: &'a [std::path::PathBuf],
    select: &'a [String],
    ignore: &'a [String],
    fail_on: FailOn,
}

/// Loads, checks and evaluates; the result model, or the exit code of a failure already reported.
fn evaluate_to_model(args: Evaluate<'_>) -> Result<report::CheckReport, i32> {
    let rules = match engine::load_rules_for_check(args.rules) {
        Ok(r) => r,
        Err((mut diags, files)) => {
            diagnostics::sort(&mut diags);
            print_diagnostics(&diags, Sources::new(files.iter()));
            return Err(EXIT_INVALID);
        }
    };
    // Which rules are reported; an unknown --select/--ignore is a command-line error.
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    for (flag, patterns) in [("--select", args.select), ("--ignore", args.ignore)] {
        for p in patterns.iter() {
            if !ids.iter().any(|id| rule_matches(id, p)) {
                let mut d = Diagnostic::file(
                    crate::diagnostics::Code::UnknownRule,
                    "command line",
                    format!("{flag} {p}: no rule has this id or prefix"),
                );
                d.file = None;
                d = match crate::suggest::did_you_mean(p, ids.iter().copied()) {
                    Some(h) => d.with_help(h),
                    None => d.with_help("`flowaudit rules list` shows the rule ids"),
                };
                print_diagnostics(&[d], Sources::default());
                return Err(EXIT_INVALID);
            }
        }
    }
    let reported: Vec<bool> = rules
        .iter()
        .map(|r| {
            (args.select.is_empty() || args.select.iter().any(|p| rule_matches(&r.id, p)))
                && !args.ignore.iter().any(|p| rule_matches(&r.id, p))
        })
        .collect();
    let rule_ids = engine::rules::ids(&rules);
    let (loaded, result) = load_workspace_with(args.paths, &rule_ids);
    let ws = match result {
        Ok(ws) => ws,
        Err(diags) => {
            print_diagnostics(&diags, Sources::new(loaded.sources()));
            return Err(EXIT_INVALID);
        }
    };
    let today = engine::dates::today();
    let evaluation = match engine::eval::evaluate(&rules, &reported, &ws, Reference::get(), today) {
        Ok(e) => e,
        Err(mut diags) => {
            diagnostics::sort(&mut diags);
            let files = rule_sources(&rules);
            print_diagnostics(&diags, Sources::new(files.iter()));
            return Err(EXIT_INVALID);
        }
    };
    let fail_on = match args.fail_on {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    Ok(report::build(&evaluation, &rules, &reported, &ws, fail_on))
}

/// `flowaudit check`.
pub fn check(args: &CheckArgs) -> i32 {
    let model = match evaluate_to_model(Evaluate {
        paths: &args.paths,
        rules: &args.rules,
        select: &args.select,
        ignore: &args.ignore,
        fail_on: args.fail_on,
    }) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let text = match args.format {
        CheckFormat::Text => report::text::render(&model),
        CheckFormat::Json => report::json(&model),
        CheckFormat::Sarif => report::sarif::render(&model),
        CheckFormat::Markdown => report::markdown::render(&model),
        CheckFormat::Html => report::html::render(&model),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = report::write_atomically(path, &text) {
                let shown = crate::source::display_path(path);
                print_diagnostics(
                    &[Diagnostic::file(
                        crate::diagnostics::Code::CannotRead,
                        &shown,
                        format!("cannot write `{shown}`: {e}"),
                    )],
                    Sources::default(),
                );
                return EXIT_INVALID;
            }
        }
        None => print_stdout(&text),
    }
    if model.summary.failing > 0 {
        EXIT_GAPS
    } else {
        EXIT_OK
    }
}

fn load_rules_for_check_or_report(dirs: &[std::path::PathBuf]) -> Option<Vec<engine::Rule>> {
    match engine::load_rules_for_check(dirs) {
        Ok(r) => Some(r),
        Err((mut diags, files)) => {
            diagnostics::sort(&mut diags);
            print_diagnostics(&diags, Sources::new(files.iter()));
            None
        }
    }
}

fn load_rules_or_report(dirs: &[std::path::PathBuf]) -> Option<Vec<engine::Rule>> {
    match engine::load_rules(dirs) {
        Ok(r) => Some(r),
        Err((mut diags, files)) => {
            diagnostics::sort(&mut diags);
            print_diagnostics(&diags, Sources::new(files.iter()));
            None
        }
    }
}

/// `flowaudit rules`.
pub fn rules(cmd: &RulesCommand) -> i32 {
    match cmd {
        RulesCommand::List { rules, format } => {
            let Some(rules) = load_rules_or_report(rules) else {
                return EXIT_INVALID;
            };
            print_stdout(&match format {
                crate::cli::ListFormat::Text => engine::catalogue::list_text(&rules),
                crate::cli::ListFormat::Json => engine::catalogue::list_json(&rules),
                crate::cli::ListFormat::Markdown => engine::catalogue::list_markdown(&rules),
            });
            EXIT_OK
        }
        RulesCommand::Show { id, rules, format } => {
            let Some(rules) = load_rules_or_report(rules) else {
                return EXIT_INVALID;
            };
            let Some(r) = rules.iter().find(|r| &r.id == id) else {
                let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
                let mut d = Diagnostic::file(
                    crate::diagnostics::Code::UnknownRule,
                    "command line",
                    format!("no rule has the id `{id}`"),
                );
                d.file = None;
                if let Some(h) = crate::suggest::did_you_mean(id, ids.iter().copied()) {
                    d = d.with_help(h);
                }
                print_diagnostics(&[d], Sources::default());
                return EXIT_INVALID;
            };
            print_stdout(&match format {
                crate::cli::ShowFormat::Text => engine::catalogue::show_text(r),
                crate::cli::ShowFormat::Json => engine::catalogue::show_json(r),
                crate::cli::ShowFormat::Yaml => r.origin.text.to_string(),
            });
            EXIT_OK
        }
        RulesCommand::Test { dir } => {
            let dirs: Vec<std::path::PathBuf> = dir.iter().cloned().collect();
            let Some(rules) = load_rules_or_report(&dirs) else {
                return EXIT_INVALID;
            };
            let mut out = String::new();
            let (mut passed, mut failed) = (0, 0);
            let mut diags = Vec::new();
            let mut order: Vec<usize> = (0..rules.len()).collect();
            order.sort_by(|a, b| rules[*a].id.cmp(&rules[*b].id));
            for i in order {
                // With a directory, test only its rules (the built-in ones are tested by CI).
                if dir.is_some() && rules[i].origin.builtin {
                    continue;
                }
                for o in engine::selftest::run(&rules, i) {
                    if o.passed() {
                        passed += 1;
                        out.push_str(&format!("ok    {} / {}\n", o.rule, o.name));
                    } else {
                        failed += 1;
                        out.push_str(&format!("FAIL  {} / {}\n", o.rule, o.name));
                        diags.extend(o.diagnostic);
                    }
                }
            }
            out.push_str(&format!("\n{passed} passed, {failed} failed\n"));
            print_stdout(&out);
            if !diags.is_empty() {
                let files = rule_sources(&rules);
                print_diagnostics(&diags, Sources::new(files.iter()));
                return EXIT_GAPS;
            }
            EXIT_OK
        }
    }
}

/// The rule files' texts, for snippets in diagnostics about rules.
fn rule_sources(rules: &[engine::Rule]) -> Vec<crate::source::SourceFile> {
    rules
        .iter()
        .map(|r| crate::source::SourceFile {
            path: r.origin.file.clone().into(),
            text: r.origin.text.to_string(),
        })
        .collect()
}

/// `flowaudit records`: the Art. 30(1) record of processing activities. Missing fields are
/// content of the record, not errors: exit 0 on a valid workspace, 2 on an invalid one.
pub fn records(args: &crate::cli::RecordsArgs) -> i32 {
    let Some(rules) = load_rules_for_check_or_report(&args.rules) else {
        return EXIT_INVALID;
    };
    let (loaded, result) = load_workspace_with(&args.paths, &engine::rules::ids(&rules));
    let ws = match result {
        Ok(ws) => ws,
        Err(diags) => {
            print_diagnostics(&diags, Sources::new(loaded.sources()));
            return EXIT_INVALID;
        }
    };
    let sources = loaded
        .documents
        .iter()
        .map(|d| d.file.display_path())
        .collect();
    let record =
        report::records::from_workspace(&ws, Reference::get(), engine::dates::today(), sources);
    let text = match args.format {
        crate::cli::RecordsFormat::Markdown => report::records::markdown(&record),
        crate::cli::RecordsFormat::Csv => report::records::csv(&record),
        crate::cli::RecordsFormat::Json => report::records::json(&record),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = report::write_atomically(path, &text) {
                let shown = crate::source::display_path(path);
                print_diagnostics(
                    &[Diagnostic::file(
                        crate::diagnostics::Code::CannotRead,
                        &shown,
                        format!("cannot write `{shown}`: {e}"),
                    )],
                    Sources::default(),
                );
                return EXIT_INVALID;
            }
        }
        None => print_stdout(&text),
    }
    EXIT_OK
}

/// `flowaudit report`: the HTML, Markdown and JSON reports written into a directory.
pub fn report(args: &crate::cli::ReportArgs) -> i32 {
    let model = match evaluate_to_model(Evaluate {
        paths: &args.paths,
        rules: &args.rules,
        select: &args.select,
        ignore: &args.ignore,
        fail_on: args.fail_on,
    }) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let shown = crate::source::display_path(&args.out);
    let cannot = |e: std::io::Error| {
        print_diagnostics(
            &[Diagnostic::file(
                crate::diagnostics::Code::CannotRead,
                &shown,
                format!("cannot write the report into `{shown}`: {e}"),
            )],
            Sources::default(),
        );
        EXIT_INVALID
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return cannot(e);
    }
    let files = [
        ("report.html", report::html::render(&model)),
        ("report.md", report::markdown::render(&model)),
        ("report.json", report::json(&model)),
    ];
    for (name, text) in &files {
        if let Err(e) = report::write_atomically(&args.out.join(name), text) {
            return cannot(e);
        }
    }
    let s = &model.summary;
    let verdict = if model.fail_on == "never" {
        "ready (--fail-on never)".to_string()
    } else if s.failing > 0 {
        format!(
            "blocked: {} gap{} at or above {}",
            s.failing,
            if s.failing == 1 { "" } else { "s" },
            model.fail_on
        )
    } else {
        format!("ready: no gap at or above {}", model.fail_on)
    };
    print_stdout(&format!(
        "wrote {shown}/report.html, {shown}/report.md, {shown}/report.json — {verdict}\n"
    ));
    if s.failing > 0 { EXIT_GAPS } else { EXIT_OK }
}
