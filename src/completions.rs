//! `flowaudit completions bash|zsh|fish`: the shell completion script on stdout, generated from
//! the command-line definition by `clap_complete`, so it always matches the commands and flags.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, Shell};
use crate::commands::EXIT_OK;

/// `flowaudit completions`.
pub fn completions(args: &CompletionsArgs) -> i32 {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "flowaudit", &mut buf);
    // A closed pipe (`flowaudit completions bash | head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), &buf);
    EXIT_OK
}
