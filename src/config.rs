//! The project config file, `.flowaudit.yaml` (DESIGN §6): `roots`, `rules`, `select`, `ignore`,
//! `fail_on`, `out` and `baseline`.
//!
//! The file is found by looking in the current directory, then in each parent, up to the first
//! directory holding `.git` (the repository root) or the file-system root; the first
//! `.flowaudit.yaml` (or `.flowaudit.yml`) found is used. `--config FILE` names one explicitly,
//! `--no-config` reads none. It is parsed with the flow files' YAML loader and validated against
//! the embedded `schemas/config.schema.json`, so its problems are the same diagnostics (E021 unknown
//! key with a "did you mean", E022 value not allowed, E023 wrong type, …) at its `file:line:col`.
//!
//! Precedence: the command line over the config file over the built-in defaults. Relative paths in
//! the file are relative to the file's directory; they are resolved here, so a config found in a
//! parent directory gives paths such as `../flows` that work from the current directory.

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use clap::ValueEnum;
use serde_json::Value;

use crate::cli::FailOn;
use crate::diagnostics::{Code, Diagnostic};
use crate::loading::{self, Document, schema, yaml};
use crate::source::{Range, SourceFile, display_path};

/// File names looked for, in order of preference within one directory.
pub const FILE_NAMES: &[&str] = &[".flowaudit.yaml", ".flowaudit.yml"];

/// Which config file a run reads: the command line's `--config FILE` / `--no-config`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Choice {
    /// The nearest `.flowaudit.yaml` from the current directory up to the repository root.
    #[default]
    Discover,
    /// This file (`--config FILE`).
    File(PathBuf),
    /// None (`--no-config`).
    Off,
}

static CHOICE: OnceLock<Choice> = OnceLock::new();

/// Records the command line's choice for this process (the binary calls it once, before running
/// a command). Without a call, commands discover the config file.
pub fn choose(choice: Choice) {
    let _ = CHOICE.set(choice);
}

/// The choice recorded by [`choose`].
pub fn choice() -> &'static Choice {
    CHOICE.get_or_init(Choice::default)
}

/// A valid config file, with its paths resolved against its directory.
#[derive(Debug)]
pub struct Config {
    /// The file, as shown in messages (relative to the current directory when found by walking up).
    pub path: PathBuf,
    /// `roots`: the workspace when no path is given on the command line. Empty: not set.
    pub roots: Vec<PathBuf>,
    /// `rules`: more rule directories. Empty: not set.
    pub rules: Vec<PathBuf>,
    /// `select`: rule ids or prefixes to report. Empty: not set (all rules).
    pub select: Vec<String>,
    /// `ignore`: rule ids or prefixes not to report.
    pub ignore: Vec<String>,
    /// `fail_on`.
    pub fail_on: Option<FailOn>,
    /// `out`: the report directory.
    pub out: Option<PathBuf>,
    /// `baseline`: the baseline file.
    pub baseline: Option<PathBuf>,
    /// The file's text and positions, for diagnostics that point into it.
    pub source: SourceFile,
    parsed: yaml::ParsedDoc,
}

/// Diagnostics, and the files they point into.
pub type Failure = (Vec<Diagnostic>, Vec<SourceFile>);

impl Config {
    /// The file as shown in messages.
    pub fn shown(&self) -> String {
        display_path(&self.path)
    }

    /// Where the value at a JSON pointer (`/select/0`) is in the file.
    pub fn range(&self, pointer: &str) -> Range {
        self.parsed.locate(pointer).value
    }

    /// A diagnostic at the value of a setting (`/select/2`), in the config file.
    pub fn diagnostic_at(
        &self,
        code: Code,
        pointer: &str,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::at(code, self.shown(), self.range(pointer), message, label)
    }

    /// E001 for every path of a path-list setting (`roots`, `rules`) that cannot be read, at its
    /// place in the file. Checked only by the commands that use the setting.
    pub fn unreadable(&self, key: &str) -> Vec<Diagnostic> {
        let paths = match key {
            "roots" => &self.roots,
            "rules" => &self.rules,
            _ => return Vec::new(),
        };
        let written: Vec<&str> = self
            .parsed
            .value
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let Err(e) = std::fs::metadata(path) else {
                continue;
            };
            let reason = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            };
            let shown = display_path(path);
            let mut d = self.diagnostic_at(
                Code::CannotRead,
                &format!("/{key}/{i}"),
                format!(
                    "cannot read `{shown}` (`{key}` in `{}`): {reason}",
                    self.shown()
                ),
                reason,
            );
            if written.get(i).is_some_and(|w| Path::new(w).is_relative()) {
                d = d.with_help("paths in the config file are relative to the file's directory");
            }
            out.push(d);
        }
        out
    }
}

/// The config file of this run, as chosen on the command line: `Ok(None)` when there is none.
pub fn load() -> Result<Option<Config>, Failure> {
    match choice() {
        Choice::Off => Ok(None),
        Choice::File(path) => load_file(path).map(Some),
        Choice::Discover => match std::env::current_dir().ok().and_then(|d| find(&d)) {
            Some(path) => load_file(&path).map(Some),
            None => Ok(None),
        },
    }
}

/// The nearest config file from `start` upwards: `start` first, then each parent, stopping after
/// the first directory that holds `.git` (the repository root). The path is relative to `start`
/// (`.flowaudit.yaml`, `../../.flowaudit.yaml`).
pub fn find(start: &Path) -> Option<PathBuf> {
    let mut up = PathBuf::new();
    for dir in start.ancestors() {
        for name in FILE_NAMES {
            if dir.join(name).is_file() {
                return Some(up.join(name));
            }
        }
        if dir.join(".git").exists() {
            return None;
        }
        up.push("..");
    }
    None
}

/// Reads, parses, validates and resolves a config file.
pub fn load_file(path: &Path) -> Result<Config, Failure> {
    let file = loading::read_source(path).map_err(|d| (vec![d], Vec::new()))?;
    let parsed = match loading::parse_source(&file) {
        Ok(p) => p,
        // A config file with only comments is a config file with every setting at its default.
        Err(d) if d.code == Code::Empty => yaml::ParsedDoc {
            value: Value::Object(Default::default()),
            spans: yaml::SpanNode::Map(Range::default(), Default::default()),
        },
        Err(d) => return Err((vec![d], vec![file])),
    };
    let shown = file.display_path();
    if !parsed.value.is_object() {
        let d = Diagnostic::at(
            Code::WrongType,
            &shown,
            parsed.locate("").value,
            format!("`{shown}` must be a mapping of settings"),
            "expected settings such as `roots:` and `fail_on:`",
        )
        .with_help("`flowaudit schema config` describes every setting");
        return Err((vec![d], vec![file]));
    }
    let doc = Document { file, parsed };
    let mut diags = schema::validate_config(&doc);
    if !diags.is_empty() {
        crate::diagnostics::sort(&mut diags);
        return Err((diags, vec![doc.file]));
    }
    let Document { file, parsed } = doc;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let v = &parsed.value;
    let strings = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let paths = |key: &str| -> Vec<PathBuf> {
        strings(key)
            .iter()
            .map(|p| resolve(&dir, Path::new(p)))
            .collect()
    };
    let path_of = |key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(|p| resolve(&dir, Path::new(p)))
    };
    Ok(Config {
        path: path.to_path_buf(),
        roots: paths("roots"),
        rules: paths("rules"),
        select: strings("select"),
        ignore: strings("ignore"),
        // The schema admits only the names of `FailOn`'s values.
        fail_on: v
            .get("fail_on")
            .and_then(Value::as_str)
            .and_then(|s| FailOn::from_str(s, false).ok()),
        out: path_of("out"),
        baseline: path_of("baseline"),
        source: file,
        parsed,
    })
}

/// `path` relative to `dir` (absolute paths stay as they are), normalised lexically: no `.`
/// segments, and `name/..` dropped (the path as the file's author reads it):
/// (`..`, `flows`) → `../flows`; (`ci`, `../flows`) → `flows`; (``, `.`) → `.`.
pub fn resolve(dir: &Path, path: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    let joined = dir.join(path);
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            // `/..` is `/`.
            Component::ParentDir if matches!(parts.last(), Some(Component::RootDir)) => {}
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        PathBuf::from(".")
    } else {
        parts.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_against_the_config_directory() {
        assert_eq!(
            resolve(Path::new(""), Path::new("flows")),
            PathBuf::from("flows")
        );
        assert_eq!(resolve(Path::new(""), Path::new(".")), PathBuf::from("."));
        assert_eq!(
            resolve(Path::new("../.."), Path::new("./flows/")),
            PathBuf::from("../../flows")
        );
        assert_eq!(
            resolve(Path::new(".."), Path::new(".")),
            PathBuf::from("..")
        );
        assert_eq!(
            resolve(Path::new("ci"), Path::new("../flows")),
            PathBuf::from("flows")
        );
        assert_eq!(
            resolve(Path::new("ci"), Path::new("..")),
            PathBuf::from(".")
        );
        assert_eq!(
            resolve(Path::new("../a"), Path::new("../../b")),
            PathBuf::from("../../b")
        );
        assert_eq!(
            resolve(Path::new("cfg"), Path::new("/abs/rules")),
            PathBuf::from("/abs/rules")
        );
    }
}
