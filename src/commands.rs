//! The commands: each reads its arguments, runs the library stages and writes its output.
//! They return the process exit code (DESIGN §6).

use std::io::{IsTerminal, Write};

use crate::cli::{DiagnosticFormat, SchemaArgs, SchemaKind, ValidateArgs};
use crate::diagnostics::{self, Diagnostic, Sources};
use crate::loading::{self, schema};
use crate::model::{self, Workspace};
use crate::reference::Reference;

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
    let default = [std::path::PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut loaded = loading::load(paths);
    let mut diags = std::mem::take(&mut loaded.diagnostics);
    let rule_ids = crate::engine::builtin_rule_ids();
    if diags.is_empty() {
        match model::build(&loaded.documents, &rule_ids, Reference::get()) {
            Ok(ws) => return (loaded, Ok(ws)),
            Err(more) => diags.extend(more),
        }
    } else {
        // Report the cross-document problems too, but build no model from invalid documents.
        diags.extend(model::check_only(
            &loaded.documents,
            &rule_ids,
            Reference::get(),
        ));
    }
    diagnostics::sort(&mut diags);
    (loaded, Err(diags))
}

/// `flowaudit validate`.
pub fn validate(args: &ValidateArgs) -> i32 {
    let (loaded, result) = load_workspace(&args.paths);
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
