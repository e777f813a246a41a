//! The commands: each reads its arguments, runs the library stages and writes its output.
//! They return the process exit code (DESIGN §6).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::{
    CheckArgs, CheckFormat, DiagnosticFormat, FailOn, RulesCommand, SchemaArgs, SchemaKind,
    ValidateArgs,
};
use crate::config::Config;
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
    // Problems with the config file are printed the way the workspace's would be.
    let invalid = |diags: &[Diagnostic], sources: Sources<'_>| {
        match args.format {
            DiagnosticFormat::Json => print_stdout(&diagnostics::render_json(diags)),
            DiagnosticFormat::Text => print_diagnostics(diags, sources),
        }
        EXIT_INVALID
    };
    let config = match crate::config::load() {
        Ok(c) => c,
        Err((mut diags, files)) => {
            diagnostics::sort(&mut diags);
            return invalid(&diags, Sources::new(files.iter()));
        }
    };
    let inputs = match inputs(config.as_ref(), &args.paths, &args.rules) {
        Ok(i) => i,
        Err(diags) => return invalid(&diags, config_sources(config.as_ref())),
    };
    let Some(rules) = load_rules_for_check_or_report(&inputs.rules) else {
        return EXIT_INVALID;
    };
    let (loaded, result) = load_workspace_with(&inputs.paths, &engine::rules::ids(&rules));
    let diags: &[Diagnostic] = match &result {
        Ok(_) => &[],
        Err(d) => d,
    };
    match args.format {
        DiagnosticFormat::Json => {
            if !(diags.is_empty() && quiet()) {
                print_stdout(&diagnostics::render_json(diags));
            }
        }
        DiagnosticFormat::Text => {
            if diags.is_empty() {
                if let Ok(ws) = &result {
                    print_result(&summary(ws, loaded.documents.len()));
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
        SchemaKind::Config => schema::config_schema_text(),
        SchemaKind::Baseline => schema::baseline_schema_text(),
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

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--quiet`: `check`, `report`, `validate` and `records` print nothing on stdout, so only the exit
/// code tells; diagnostics still go to stderr, and `--output`/`--out` files are still written.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints a command's result on stdout, unless `--quiet`.
fn print_result(s: &str) {
    if !quiet() {
        print_stdout(s);
    }
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

/// The config file in effect (`.flowaudit.yaml`, `--config`, `--no-config`), or the exit code
/// once its diagnostics are printed.
fn load_config() -> Result<Option<Config>, i32> {
    crate::config::load().map_err(|(mut diags, files)| {
        diagnostics::sort(&mut diags);
        print_diagnostics(&diags, Sources::new(files.iter()));
        EXIT_INVALID
    })
}

/// The config file's text, for snippets in diagnostics about its settings.
fn config_sources(config: Option<&Config>) -> Sources<'_> {
    Sources::new(config.map(|c| &c.source))
}

/// Where a command reads the workspace and which rule directories it adds.
struct Inputs {
    paths: Vec<PathBuf>,
    rules: Vec<PathBuf>,
}

/// The workspace paths and rule directories: the command line's, else the config file's `roots`
/// and `rules` (each checked to exist, with a diagnostic at its place in the file), else the
/// current directory and the built-in rules only.
fn inputs(
    config: Option<&Config>,
    paths: &[PathBuf],
    rules: &[PathBuf],
) -> Result<Inputs, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let paths = match config {
        Some(c) if paths.is_empty() && !c.roots.is_empty() => {
            diags.extend(c.unreadable("roots"));
            c.roots.clone()
        }
        _ => paths.to_vec(),
    };
    let rules = match config {
        Some(c) if rules.is_empty() && !c.rules.is_empty() => {
            diags.extend(c.unreadable("rules"));
            c.rules.clone()
        }
        _ => rules.to_vec(),
    };
    if diags.is_empty() {
        Ok(Inputs { paths, rules })
    } else {
        Err(diags)
    }
}

/// The rule directories of `rules list|show|test`: the command line's, else the config file's.
fn rule_dirs(config: Option<&Config>, cli: &[PathBuf]) -> Result<Vec<PathBuf>, i32> {
    inputs(config, &[PathBuf::from(".")], cli)
        .map(|i| i.rules)
        .map_err(|diags| {
            print_diagnostics(&diags, config_sources(config));
            EXIT_INVALID
        })
}

/// What `check` and `report` share: rules, selection, workspace, evaluation. Built by
/// [`Evaluate::resolve`]: the command line over the config file over the built-in defaults.
struct Evaluate<'a> {
    paths: Vec<PathBuf>,
    rules: Vec<PathBuf>,
    select: Vec<String>,
    ignore: Vec<String>,
    fail_on: FailOn,
    /// The config file, when `select` (first) or `ignore` (second) come from it: diagnostics
    /// about them point into it.
    from_config: (Option<&'a Config>, Option<&'a Config>),
}

impl<'a> Evaluate<'a> {
    /// Each setting from the command line when given there, else from the config file, else the
    /// default; the exit code once diagnostics are printed when a configured path is missing.
    fn resolve(
        config: Option<&'a Config>,
        paths: &[PathBuf],
        rules: &[PathBuf],
        select: &[String],
        ignore: &[String],
        fail_on: Option<FailOn>,
    ) -> Result<Self, i32> {
        let Inputs { paths, rules } = inputs(config, paths, rules).map_err(|diags| {
            print_diagnostics(&diags, config_sources(config));
            EXIT_INVALID
        })?;
        let pick = |cli: &[String], configured: fn(&Config) -> &Vec<String>| match config {
            Some(c) if cli.is_empty() && !configured(c).is_empty() => {
                (configured(c).clone(), Some(c))
            }
            _ => (cli.to_vec(), None),
        };
        let (select, select_from) = pick(select, |c| &c.select);
        let (ignore, ignore_from) = pick(ignore, |c| &c.ignore);
        Ok(Evaluate {
            paths,
            rules,
            select,
            ignore,
            fail_on: fail_on
                .or_else(|| config.and_then(|c| c.fail_on))
                .unwrap_or(FailOn::High),
            from_config: (select_from, ignore_from),
        })
    }
}

/// Loads, checks and evaluates; the result model, or the exit code of a failure already reported.
fn evaluate_to_model(args: Evaluate<'_>) -> Result<report::CheckReport, i32> {
    let rules = match engine::load_rules_for_check(&args.rules) {
        Ok(r) => r,
        Err((mut diags, files)) => {
            diagnostics::sort(&mut diags);
            print_diagnostics(&diags, Sources::new(files.iter()));
            return Err(EXIT_INVALID);
        }
    };
    // Which rules are reported; an unknown --select/--ignore is a command-line error, an unknown
    // `select`/`ignore` entry an error in the config file.
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    for (key, patterns, config) in [
        ("select", &args.select, args.from_config.0),
        ("ignore", &args.ignore, args.from_config.1),
    ] {
        for (i, p) in patterns.iter().enumerate() {
            if !ids.iter().any(|id| rule_matches(id, p)) {
                let mut d = match config {
                    Some(c) => c.diagnostic_at(
                        crate::diagnostics::Code::UnknownRule,
                        &format!("/{key}/{i}"),
                        format!(
                            "`{key}` in `{}` names `{p}`: no rule has this id or prefix",
                            c.shown()
                        ),
                        "no rule has this id or prefix",
                    ),
                    None => {
                        let mut d = Diagnostic::file(
                            crate::diagnostics::Code::UnknownRule,
                            "command line",
                            format!("--{key} {p}: no rule has this id or prefix"),
                        );
                        d.file = None;
                        d
                    }
                };
                d = match crate::suggest::did_you_mean(p, ids.iter().copied()) {
                    Some(h) => d.with_help(h),
                    None => d.with_help("`flowaudit rules list` shows the rule ids"),
                };
                print_diagnostics(&[d], config_sources(config));
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
    let (loaded, result) = load_workspace_with(&args.paths, &rule_ids);
    let ws = match result {
        Ok(ws) => ws,
        Err(diags) => {
            print_diagnostics(&diags, Sources::new(loaded.sources()));
            return Err(EXIT_INVALID);
        }
    };
    // The parsed documents (values and position trees, several times the size of the files)
    // are not needed once the model holds every element and its location.
    drop(loaded);
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

/// What `check` and `report` both do: config, baseline, evaluation into the result model.
fn model_for(
    paths: &[std::path::PathBuf],
    rules: &[std::path::PathBuf],
    select: &[String],
    ignore: &[String],
    fail_on: Option<FailOn>,
    baseline: Option<&std::path::Path>,
) -> Result<(Option<crate::config::Config>, report::CheckReport), i32> {
    let config = load_config()?;
    let baseline =
        load_baseline(baseline.or_else(|| config.as_ref().and_then(|c| c.baseline.as_deref())))?;
    let mut model = Evaluate::resolve(config.as_ref(), paths, rules, select, ignore, fail_on)
        .and_then(evaluate_to_model)?;
    if let Some(b) = &baseline {
        report::baseline::apply(&mut model, b);
    }
    Ok((config, model))
}

/// `flowaudit check`.
pub fn check(args: &CheckArgs) -> i32 {
    let (_, model) = match model_for(
        &args.paths,
        &args.rules,
        &args.select,
        &args.ignore,
        args.fail_on,
        args.baseline.as_deref(),
    ) {
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
        None => print_result(&text),
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
            let dirs = match load_config().and_then(|c| rule_dirs(c.as_ref(), rules)) {
                Ok(d) => d,
                Err(code) => return code,
            };
            let Some(rules) = load_rules_or_report(&dirs) else {
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
            let dirs = match load_config().and_then(|c| rule_dirs(c.as_ref(), rules)) {
                Ok(d) => d,
                Err(code) => return code,
            };
            let Some(rules) = load_rules_or_report(&dirs) else {
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
            let given: Vec<PathBuf> = dir.iter().cloned().collect();
            let dirs = match load_config().and_then(|c| rule_dirs(c.as_ref(), &given)) {
                Ok(d) => d,
                Err(code) => return code,
            };
            let Some(rules) = load_rules_or_report(&dirs) else {
                return EXIT_INVALID;
            };
            let mut out = String::new();
            let (mut passed, mut failed) = (0, 0);
            let mut diags = Vec::new();
            let mut order: Vec<usize> = (0..rules.len()).collect();
            order.sort_by(|a, b| rules[*a].id.cmp(&rules[*b].id));
            for i in order {
                // With a directory (given, or the config's `rules`), test only its rules (the
                // built-in ones are tested by CI).
                if !dirs.is_empty() && rules[i].origin.builtin {
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
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let inputs = match inputs(config.as_ref(), &args.paths, &args.rules) {
        Ok(i) => i,
        Err(diags) => {
            print_diagnostics(&diags, config_sources(config.as_ref()));
            return EXIT_INVALID;
        }
    };
    let Some(rules) = load_rules_for_check_or_report(&inputs.rules) else {
        return EXIT_INVALID;
    };
    let (loaded, result) = load_workspace_with(&inputs.paths, &engine::rules::ids(&rules));
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
        None => print_result(&text),
    }
    EXIT_OK
}

/// `flowaudit report`: the HTML, Markdown and JSON reports written into a directory.
pub fn report(args: &crate::cli::ReportArgs) -> i32 {
    let (config, model) = match model_for(
        &args.paths,
        &args.rules,
        &args.select,
        &args.ignore,
        args.fail_on,
        args.baseline.as_deref(),
    ) {
        Ok(m) => m,
        Err(code) => return code,
    };
    // --out, else the config's `out`, else `flowaudit-report` in the current directory.
    let out = args
        .out
        .clone()
        .or_else(|| config.as_ref().and_then(|c| c.out.clone()))
        .unwrap_or_else(|| PathBuf::from("flowaudit-report"));
    let shown = crate::source::display_path(&out);
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
    if let Err(e) = std::fs::create_dir_all(&out) {
        return cannot(e);
    }
    let files = [
        ("report.html", report::html::render(&model)),
        ("report.md", report::markdown::render(&model)),
        ("report.json", report::json(&model)),
    ];
    let paths: Vec<PathBuf> = files.iter().map(|(name, _)| out.join(name)).collect();
    let writes: Vec<(&std::path::Path, &str)> = paths
        .iter()
        .zip(&files)
        .map(|(p, (_, text))| (p.as_path(), text.as_str()))
        .collect();
    if let Err(e) = report::write_all_atomically(&writes) {
        return cannot(e);
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
    let baselined = s
        .baselined
        .map(|n| format!(" ({n} baselined)"))
        .unwrap_or_default();
    print_result(&format!(
        "wrote {shown}/report.html, {shown}/report.md, {shown}/report.json — {verdict}{baselined}\n"
    ));
    if s.failing > 0 { EXIT_GAPS } else { EXIT_OK }
}

/// The baseline file of `--baseline`, validated; the exit code once its diagnostics are printed.
fn load_baseline(
    path: Option<&std::path::Path>,
) -> Result<Option<report::baseline::Baseline>, i32> {
    let Some(path) = path else {
        return Ok(None);
    };
    report::baseline::load(path).map(Some).map_err(|e| {
        print_diagnostics(&e.diagnostics, Sources::new(e.source.iter()));
        EXIT_INVALID
    })
}

/// `flowaudit baseline`: records the workspace's gaps in a baseline file (atomically). An existing
/// file is updated, not replaced: entries still matching a gap keep their reason and expiry, new
/// gaps get the reason placeholder and `--expires`, fixed ones are dropped. A file that is not a
/// valid baseline is left untouched (exit 2): it may hold reasons written by hand.
pub fn baseline(args: &crate::cli::BaselineArgs) -> i32 {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let today = engine::dates::today();
    let expires = match &args.expires {
        Some(day) => {
            let start = engine::dates::day_range(&serde_json::Value::String(day.clone()))
                .map_or(i64::MIN, |(s, _)| s);
            if start <= today {
                let mut d = Diagnostic::file(
                    crate::diagnostics::Code::InvalidValue,
                    "command line",
                    format!(
                        "--expires {day}: the day has come (today is {}), so the entries would hide nothing",
                        engine::dates::format_day(today)
                    ),
                )
                .with_help("give a day after today");
                d.file = None;
                print_diagnostics(&[d], Sources::default());
                return EXIT_INVALID;
            }
            day.clone()
        }
        None => report::baseline::default_expiry(today),
    };
    // --out, else the config's `baseline`.
    let Some(out) = args
        .out
        .clone()
        .or_else(|| config.as_ref().and_then(|c| c.baseline.clone()))
    else {
        let mut d = Diagnostic::file(
            crate::diagnostics::Code::InvalidValue,
            "command line",
            "no baseline file to write: give `--out FILE`",
        )
        .with_help("or set `baseline: FILE` in .flowaudit.yaml");
        d.file = None;
        print_diagnostics(&[d], Sources::default());
        return EXIT_INVALID;
    };
    let previous = if out.exists() {
        match load_baseline(Some(&out)) {
            Ok(b) => b,
            Err(code) => return code,
        }
    } else {
        None
    };
    let model = match Evaluate::resolve(
        config.as_ref(),
        &args.paths,
        &args.rules,
        &args.select,
        &args.ignore,
        Some(FailOn::Never),
    )
    .and_then(evaluate_to_model)
    {
        Ok(m) => m,
        Err(code) => return code,
    };
    let written = report::baseline::update(&model, previous.as_ref(), &expires);
    let shown = crate::source::display_path(&out);
    if let Err(e) = report::write_atomically(&out, &written.text) {
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
    let n = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
    print_result(&format!(
        "wrote {shown}: {} ({} added, {} kept, {} removed){}\n",
        n(written.entries, "entry", "entries"),
        written.added,
        written.kept,
        written.removed,
        if written.added > 0 {
            "; replace each new entry's TODO with the reason its gap is accepted"
        } else {
            ""
        }
    ));
    EXIT_OK
}
