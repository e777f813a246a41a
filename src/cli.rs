//! The command line (DESIGN §6).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "flowaudit",
    version,
    about = "Check personal-data flow descriptions against GDPR checkpoints",
    long_about = None,
    after_help = "Exit codes: 0 clean; 1 gaps at or above --fail-on; 2 invalid input or command line."
)]
pub struct Cli {
    /// Print nothing on stdout for check, report, validate and records: the exit code tells
    /// (diagnostics still go to stderr)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Read this config file instead of the nearest .flowaudit.yaml
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Read no config file (.flowaudit.yaml)
    #[arg(long, global = true)]
    pub no_config: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Which config file the command reads (`--config`, `--no-config`, or the nearest one).
    pub fn config_choice(&self) -> crate::config::Choice {
        match (&self.config, self.no_config) {
            (_, true) => crate::config::Choice::Off,
            (Some(file), false) => crate::config::Choice::File(file.clone()),
            (None, false) => crate::config::Choice::Discover,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the workspace against the GDPR checkpoints; exit 1 on gaps at or above --fail-on
    #[command(after_help = examples::CHECK)]
    Check(CheckArgs),
    /// Write the gap report as report.html, report.md and report.json into a directory
    #[command(after_help = examples::REPORT)]
    Report(ReportArgs),
    /// Check flow documents against the schema and each other (references, ids, categories)
    #[command(after_help = examples::VALIDATE)]
    Validate(ValidateArgs),
    /// Print the JSON Schema of flow documents, rule files or the config file (for editors)
    #[command(after_help = examples::SCHEMA)]
    Schema(SchemaArgs),
    /// List, show or self-test the rules
    #[command(subcommand, after_help = examples::RULES)]
    Rules(RulesCommand),
    /// Print the Art. 30(1) record of processing activities built from the workspace
    #[command(after_help = examples::RECORDS)]
    Records(RecordsArgs),
    /// Record today's gaps in a baseline file; `check --baseline FILE` then reports only new ones
    #[command(after_help = examples::BASELINE)]
    Baseline(BaselineArgs),
    /// Write a commented starter workspace, the config file and the editor schema; print the
    /// pre-commit snippet (never overwrites a file)
    #[command(after_help = examples::INIT)]
    Init(InitArgs),
    /// Print the shell completion script for bash, zsh or fish
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Flow files or directories (default: the `roots` of .flowaudit.yaml, else the current directory)
    pub paths: Vec<PathBuf>,
    /// More rule files from this directory (waivers may name their ids)
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// How to print the diagnostics
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Text)]
    pub format: DiagnosticFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// rustc-style diagnostics on stderr
    Text,
    /// A JSON document on stdout
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Flow files or directories (default: the `roots` of .flowaudit.yaml, else the current directory)
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Write the results to this file (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a gap of this severity or worse is found (default: the `fail_on` of .flowaudit.yaml, else high)
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// More rule files (*.yaml) from this directory, beside the built-in ones
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Report only these rules (an id, or a prefix ending at a `-`, e.g. GDPR-ART28)
    #[arg(long, value_name = "ID")]
    pub select: Vec<String>,
    /// Do not report these rules (an id or prefix, as --select)
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
    /// Hide the gaps this baseline file lists (unexpired entries); report its stale and expired entries (default: the `baseline` of .flowaudit.yaml)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Flow files or directories (default: the `roots` of .flowaudit.yaml, else the current directory)
    pub paths: Vec<PathBuf>,
    /// The directory to write report.html, report.md and report.json into, created if needed (default: the `out` of .flowaudit.yaml, else flowaudit-report)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Exit 1, and show the verdict "blocked", when a gap of this severity or worse is found (default: the `fail_on` of .flowaudit.yaml, else high)
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// More rule files (*.yaml) from this directory, beside the built-in ones
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Report only these rules (an id, or a prefix ending at a `-`)
    #[arg(long, value_name = "ID")]
    pub select: Vec<String>,
    /// Do not report these rules
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
    /// Hide the gaps this baseline file lists (unexpired entries); report its stale and expired entries (default: the `baseline` of .flowaudit.yaml)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Gaps grouped by severity, facts to supply, waivers, summary
    Text,
    /// The result model (docs/results.md)
    Json,
    /// SARIF 2.1.0 for code-scanning tools
    Sarif,
    /// GitHub-flavoured Markdown, short enough for a pull-request comment
    Markdown,
    /// One self-contained HTML page: the gap report with an inline data-flow diagram
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    /// Always exit 0 when the input is valid
    Never,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Which schema
    #[arg(value_enum, default_value_t = SchemaKind::Flow)]
    pub kind: SchemaKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// Flow documents (`*.flow.yaml`)
    Flow,
    /// Rule files (`rules/gdpr/*.yaml`)
    Rule,
    /// The config file (`.flowaudit.yaml`)
    Config,
    /// Baseline files (`flowaudit baseline --out FILE`)
    Baseline,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// One line per rule: id, severity, subject, title
    #[command(after_help = examples::RULES_LIST)]
    List {
        /// More rule files from this directory
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Everything about one rule: articles, rationale, expressions, what it reads, fix, references, examples
    #[command(after_help = examples::RULES_SHOW)]
    Show {
        /// The rule id
        id: String,
        /// More rule files from this directory
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
        /// Output format (`yaml`: the rule file as written)
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// Run the rules' self-tests (`tests:`): those of DIR, else of the config's `rules`, else the built-in ones
    #[command(after_help = examples::RULES_TEST)]
    Test {
        /// A directory of rule files to test (default: the `rules` of .flowaudit.yaml, else the built-in rules)
        dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table
    Text,
    /// Every rule with its fields, what it reads and its self-tests
    Json,
    /// The catalogue as Markdown (docs/rules.md)
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
    /// The rule file as written
    Yaml,
}

#[derive(Debug, clap::Args)]
pub struct RecordsArgs {
    /// Flow files or directories (default: the `roots` of .flowaudit.yaml, else the current directory)
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = RecordsFormat::Markdown)]
    pub format: RecordsFormat,
    /// Write the record to this file (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// More rule files from this directory (waivers may name their ids)
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RecordsFormat {
    /// A GitHub-flavoured document, one section per activity
    Markdown,
    /// One row per activity (RFC 4180)
    Csv,
    /// The record model (docs/records.md)
    Json,
}

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// Flow files or directories (default: the `roots` of .flowaudit.yaml, else the current directory)
    pub paths: Vec<PathBuf>,
    /// The baseline file to write (atomically; default: the `baseline` of .flowaudit.yaml); an
    /// existing one is updated: entries still matching a gap keep their reason and expiry, fixed
    /// ones are dropped
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Expiry date of new entries, YYYY-MM-DD (default: today + 90 days)
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub expires: Option<String>,
    /// More rule files (*.yaml) from this directory, beside the built-in ones
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Record only the gaps of these rules (an id, or a prefix ending at a `-`)
    #[arg(long, value_name = "ID")]
    pub select: Vec<String>,
    /// Do not record the gaps of these rules
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
}

/// A calendar day, `YYYY-MM-DD`.
fn parse_day(s: &str) -> Result<String, String> {
    let ok =
        s.len() == 10 && crate::loading::formats::is_partial_date(s) && s.matches('-').count() == 2;
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a date: write YYYY-MM-DD"))
    }
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The directory to set up (created if needed; default: the current directory)
    pub dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// The examples shown at the end of each subcommand's `--help`.
mod examples {
    pub const CHECK: &str = "\
Examples:
  flowaudit check                                          # the current directory
  flowaudit check examples/robot-vacuum --fail-on critical
  flowaudit check flows/ --format sarif --output flowaudit.sarif
  flowaudit check flows/ --select GDPR-ART28 --ignore GDPR-ART28-3-MANDATORY-CLAUSES-MISSING";

    pub const REPORT: &str = "\
Examples:
  flowaudit report examples/robot-vacuum --out build/gdpr-report
  flowaudit report flows/ --fail-on never                  # always exit 0 on valid input
  flowaudit --quiet report flows/ --out public/privacy     # files only, nothing on stdout";

    pub const VALIDATE: &str = "\
Examples:
  flowaudit validate examples/robot-vacuum
  flowaudit validate flows/ --format json
  flowaudit --quiet validate flows/ && echo valid";

    pub const SCHEMA: &str = "\
Examples:
  flowaudit schema flow > .flowaudit/flow.schema.json
  flowaudit schema rule > .flowaudit/rule.schema.json
  flowaudit schema config > .flowaudit/config.schema.json
Then start a flow file with `# yaml-language-server: $schema=../.flowaudit/flow.schema.json`.";

    pub const RULES: &str = "\
Examples:
  flowaudit rules list
  flowaudit rules show GDPR-ART28-3-NO-CONTRACT
  flowaudit rules test my-rules/";

    pub const RULES_LIST: &str = "\
Examples:
  flowaudit rules list
  flowaudit rules list --format markdown > docs/rules.md
  flowaudit rules list --rules my-rules/ --format json";

    pub const RULES_SHOW: &str = "\
Examples:
  flowaudit rules show GDPR-ART28-3-NO-CONTRACT
  flowaudit rules show GDPR-ART44-TRANSFER-WITHOUT-TOOL --format yaml
  flowaudit rules show MY-RULE --rules my-rules/";

    pub const RULES_TEST: &str = "\
Examples:
  flowaudit rules test                                     # the built-in rules
  flowaudit rules test my-rules/                           # the rules of my-rules/";

    pub const RECORDS: &str = "\
Examples:
  flowaudit records examples/robot-vacuum
  flowaudit records flows/ --format csv --output ropa.csv
  flowaudit records flows/ --format json";

    pub const BASELINE: &str = "\
Examples:
  flowaudit baseline flows/ --out .flowaudit-baseline.yaml
  flowaudit check flows/ --baseline .flowaudit-baseline.yaml      # only gaps not in the baseline
  flowaudit baseline flows/ --out .flowaudit-baseline.yaml --expires 2026-12-31
Entries are keyed on rule, subject kind and subject id (never line numbers). Running it again on
an existing file updates it: new gaps are added, fixed ones dropped, and the others keep their
reason and expiry.";

    pub const INIT: &str = "\
Examples:
  flowaudit init                                           # into the current directory
  flowaudit init privacy/                                  # into privacy/ (created if needed)
Writes flows/starter.flow.yaml, .flowaudit/flow.schema.json and .flowaudit.yaml; a file that
already exists is skipped and left unchanged. Exit 0 when every file is in place afterwards
(written now or already there), 2 when one could not be written.";

    pub const COMPLETIONS: &str = "\
Examples:
  flowaudit completions bash > ~/.local/share/bash-completion/completions/flowaudit
  flowaudit completions zsh > ~/.zfunc/_flowaudit        # with fpath+=(~/.zfunc) in ~/.zshrc
  flowaudit completions fish > ~/.config/fish/completions/flowaudit.fish";
}
