//! `flowaudit init [DIR]`: a commented starter workspace, the config file and the editor schema,
//! then the pre-commit snippet and next steps on stdout (DESIGN §6).
//!
//! Never overwrites: a file that already exists is left byte for byte as it is and reported as
//! skipped. The exit code is 0 when every file is in place afterwards (written now or already
//! there: running `init` twice is harmless), 2 when a file could not be written.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::commands::{EXIT_INVALID, EXIT_OK, stderr_color};
use crate::diagnostics::{self, Code, Diagnostic, Sources};
use crate::source::display_path;

/// The starter flow file, relative to DIR.
pub const STARTER_PATH: &str = "flows/starter.flow.yaml";
/// The flow schema for editors, relative to DIR (the starter's `$schema` modeline points here).
pub const SCHEMA_PATH: &str = ".flowaudit/flow.schema.json";
/// The config file, relative to DIR.
pub const CONFIG_PATH: &str = ".flowaudit.yaml";
/// Stands for flowaudit's repository URL in the pre-commit snippet until one is published.
pub const REPOSITORY_PLACEHOLDER: &str = "https://example.invalid/flowaudit.git";

const STARTER_TEMPLATE: &str = "reports/init/starter.flow.yaml.tmpl";
const CONFIG_TEMPLATE: &str = "reports/init/flowaudit.yaml.tmpl";

/// What happened to one target file.
enum Outcome {
    Written,
    Exists,
    /// Not written for another reason than its own existence.
    Skipped(String),
    Failed(std::io::Error),
}

/// The contents `init` writes, by path relative to DIR.
pub fn files() -> [(&'static str, String); 3] {
    let embedded = |p: &str| {
        crate::embedded::get(p)
            .unwrap_or_else(|| panic!("{p} is embedded"))
            .to_string()
    };
    let mut schema = crate::loading::schema::flow_schema_text().to_string();
    if !schema.ends_with('\n') {
        schema.push('\n');
    }
    [
        (STARTER_PATH, embedded(STARTER_TEMPLATE)),
        (SCHEMA_PATH, schema),
        (CONFIG_PATH, embedded(CONFIG_TEMPLATE)),
    ]
}

/// Writes `text` to `path` only if nothing is there (`create_new`: no overwrite even in a race).
fn write_new(path: &Path, text: &str) -> Outcome {
    // A dangling symbolic link counts as existing too: writing through it is not ours to do.
    if path.symlink_metadata().is_ok() {
        return Outcome::Exists;
    }
    if let Some(parent) = path.parent()
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return Outcome::Failed(e);
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    match file {
        Ok(mut f) => match f.write_all(text.as_bytes()).and_then(|_| f.sync_all()) {
            Ok(()) => Outcome::Written,
            Err(e) => Outcome::Failed(e),
        },
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Outcome::Exists,
        Err(e) => Outcome::Failed(e),
    }
}

/// Flow files already under DIR (other than the starter): a starter with its own `controller`
/// would clash with their workspace (at most one controller), so it is not added.
fn existing_flow_files(dir: &Path) -> Vec<PathBuf> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let starter = dir.join(STARTER_PATH);
    let (found, _) = crate::loading::discover(&[dir.to_path_buf()]);
    found.into_iter().filter(|p| *p != starter).collect()
}

/// `flowaudit init [DIR]`.
pub fn init(args: &InitArgs) -> i32 {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let shown_dir = display_path(&dir);
    let shown = |rel: &str| {
        if shown_dir.is_empty() || shown_dir == "." {
            rel.to_string()
        } else {
            format!("{}/{rel}", shown_dir.trim_end_matches('/'))
        }
    };
    let others = existing_flow_files(&dir);
    let mut out = String::new();
    let mut diags = Vec::new();
    let mut written = 0;
    for (rel, text) in files() {
        let path = dir.join(rel);
        let outcome = if rel == STARTER_PATH && !others.is_empty() && !path.exists() {
            Outcome::Skipped(format!(
                "`{}` already holds flow files ({}); a second `controller` would clash with them",
                if shown_dir.is_empty() {
                    "."
                } else {
                    &shown_dir
                },
                display_path(&others[0])
            ))
        } else {
            write_new(&path, &text)
        };
        match outcome {
            Outcome::Written => {
                written += 1;
                out.push_str(&format!("wrote    {}\n", shown(rel)));
            }
            Outcome::Exists => {
                out.push_str(&format!(
                    "skipped  {} (already exists; left unchanged)\n",
                    shown(rel)
                ));
            }
            Outcome::Skipped(why) => {
                out.push_str(&format!("skipped  {}: {why}\n", shown(rel)));
            }
            Outcome::Failed(e) => {
                let at = shown(rel);
                diags.push(Diagnostic::file(
                    Code::CannotRead,
                    &at,
                    format!("cannot write `{at}`: {e}"),
                ));
            }
        }
    }
    if written == 0 && diags.is_empty() {
        out.push_str("nothing written: every file was already there\n");
    }
    out.push_str(&next_steps(&shown_dir));
    let _ = std::io::stdout().write_all(out.as_bytes());
    if !diags.is_empty() {
        let _ = std::io::stderr().write_all(
            diagnostics::render_text(&diags, &Sources::default(), stderr_color()).as_bytes(),
        );
        return EXIT_INVALID;
    }
    EXIT_OK
}

/// The pre-commit snippet and what to do next.
fn next_steps(shown_dir: &str) -> String {
    let cd = if shown_dir.is_empty() || shown_dir == "." {
        String::new()
    } else {
        format!("  cd {shown_dir}\n")
    };
    format!(
        "
Pre-commit: add this to .pre-commit-config.yaml at the repository root (`repo` is a
placeholder: use the URL of flowaudit's repository, and a tag or commit of it as `rev`):

repos:
  - repo: {REPOSITORY_PLACEHOLDER}
    rev: v{version}
    hooks:
      - id: flowaudit

Next steps:
{cd}  1. Edit {STARTER_PATH}: replace the example newsletter with your own processing
     (values marked `CHANGE:`); every field is commented. VS Code with the YAML extension
     validates and completes it through the `$schema` line at its top.
  2. flowaudit validate      # schema, ids and references only
  3. flowaudit check         # the GDPR checkpoints; exit 1 on gaps at or above `fail_on`
  4. flowaudit report        # HTML, Markdown and JSON reports for reviewers
  After upgrading flowaudit, refresh the editor schema:
     flowaudit schema flow > {SCHEMA_PATH}
  Shell completion: flowaudit completions bash|zsh|fish (see `flowaudit completions --help`).
",
        version = env!("CARGO_PKG_VERSION"),
    )
}
