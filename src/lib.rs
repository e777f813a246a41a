//! flowaudit: check personal-data flow descriptions against GDPR checkpoints.
//!
//! Stages, each a module: [`loading`] (discovery, YAML/JSON with positions, schema validation),
//! [`model`] (the typed, merged workspace with references resolved), [`engine`] (rules). Shared:
//! [`diagnostics`] (one model for every input problem, rendered for people and tools),
//! [`reference`] (embedded reference data), [`source`] (files and positions). [`cli`] and
//! [`commands`] are the command line.

// Errors here are diagnostics carrying positions and help text; they are built once per problem on
// a cold path, so their size does not matter and boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod cli;
pub mod commands;
pub mod completions;
pub mod config;
pub mod diagnostics;
pub mod embedded;
pub mod engine;
/// The entry points for fuzzers (`fuzz/`) and property tests (`tests/fuzz_props.rs`).
pub mod fuzzing;
pub mod init;
pub mod loading;
pub mod model;
pub mod reference;
pub mod report;
pub mod source;
pub mod suggest;
