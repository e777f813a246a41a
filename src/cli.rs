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
    /// Check flow documents against the schema and each other (references, ids, categories)
    Validate(ValidateArgs),
    /// Print the JSON Schema of flow documents or rule files (for editors)
    Schema(SchemaArgs),
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Flow files or directories (default: the current directory)
    pub paths: Vec<PathBuf>,
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
