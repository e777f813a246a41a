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
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the workspace against the GDPR checkpoints; exit 1 on gaps at or above --fail-on
    Check(CheckArgs),
    /// Write the gap report as report.html, report.md and report.json into a directory
    Report(ReportArgs),
    /// Check flow documents against the schema and each other (references, ids, categories)
    Validate(ValidateArgs),
    /// Print the JSON Schema of flow documents or rule files (for editors)
    Schema(SchemaArgs),
    /// List, show or self-test the rules
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print the Art. 30(1) record of processing activities built from the workspace
    Records(RecordsArgs),
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Flow files or directories (default: the current directory)
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
    /// Flow files or directories (default: the current directory)
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Write the results to this file (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a gap of this severity or worse is found
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// More rule files (*.yaml) from this directory, beside the built-in ones
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Report only these rules (an id, or a prefix ending at a `-`, e.g. GDPR-ART28)
    #[arg(long, value_name = "ID")]
    pub select: Vec<String>,
    /// Do not report these rules (an id or prefix, as --select)
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Flow files or directories (default: the current directory)
    pub paths: Vec<PathBuf>,
    /// The directory to write report.html, report.md and report.json into (created if needed)
    #[arg(long, value_name = "DIR", default_value = "flowaudit-report")]
    pub out: PathBuf,
    /// Exit 1, and show the verdict "blocked", when a gap of this severity or worse is found
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// More rule files (*.yaml) from this directory, beside the built-in ones
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Report only these rules (an id, or a prefix ending at a `-`)
    #[arg(long, value_name = "ID")]
    pub select: Vec<String>,
    /// Do not report these rules
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
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
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// One line per rule: id, severity, subject, title
    List {
        /// More rule files from this directory
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Everything about one rule: articles, rationale, expressions, what it reads, fix, references, examples
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
    /// Run the rules' self-tests (`tests:`): the built-in ones, plus those of DIR
    Test {
        /// A directory of rule files to test with the built-in ones
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
    /// Flow files or directories (default: the current directory)
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
