//! The `flowaudit` binary: parse the command line, run the command, exit with its code.

use clap::Parser;
use flowaudit::cli::{Cli, Command};
use flowaudit::commands;

// The tool allocates many small, short-lived values while evaluating rules; glibc's allocator
// spent a fifth of a large `check` consolidating its free lists (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are successes; every other command-line problem is exit 2.
            std::process::exit(if e.use_stderr() {
                commands::EXIT_INVALID
            } else {
                commands::EXIT_OK
            });
        }
    };
    commands::set_quiet(cli.quiet);
    flowaudit::config::choose(cli.config_choice());
    let code = match &cli.command {
        Command::Check(args) => commands::check(args),
        Command::Report(args) => commands::report(args),
        Command::Validate(args) => commands::validate(args),
        Command::Schema(args) => commands::schema(args),
        Command::Rules(cmd) => commands::rules(cmd),
        Command::Records(args) => commands::records(args),
        Command::Baseline(args) => commands::baseline(args),
        Command::Init(args) => flowaudit::init::init(args),
        Command::Completions(args) => flowaudit::completions::completions(args),
    };
    std::process::exit(code);
}
