//! Loading: discovery of flow files, reading with bounds, parsing with positions, the format
//! version check and schema validation. Produces parsed documents and diagnostics; never panics
//! on user input.

pub mod formats;
pub mod schema;
pub mod yaml;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{Range, SourceFile, display_path};

/// Largest flow file accepted, in bytes.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// File name endings that mark a flow document during discovery.
pub const FLOW_SUFFIXES: &[&str] = &[".flow.yaml", ".flow.yml", ".flow.json"];

/// Directories never walked into (besides hidden ones).
const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];

/// The format version this build reads.
pub const FORMAT_VERSION: i64 = 1;

/// A parsed flow document and its source.
#[derive(Debug)]
pub struct Document {
    pub file: SourceFile,
    pub parsed: yaml::ParsedDoc,
}

/// The result of loading: the documents that parsed, and every problem found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub documents: Vec<Document>,
    /// Files that could be read, whether or not they parsed (for snippets in diagnostics).
    pub unparsed: Vec<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// Every readable file, parsed or not.
    pub fn sources(&self) -> impl Iterator<Item = &SourceFile> {
        self.documents
            .iter()
            .map(|d| &d.file)
            .chain(self.unparsed.iter())
    }
}

fn is_flow_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    FLOW_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Finds the flow files under the given paths (DESIGN §2): directories are walked in sorted order,
/// skipping hidden directories, `target/` and `node_modules/`; files named explicitly are loaded
/// whatever their name. The result is sorted by path and free of repeats.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut diags = Vec::new();
    for path in paths {
        let shown = display_path(path);
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                diags.push(Diagnostic::file(
                    Code::CannotRead,
                    &shown,
                    format!("cannot read `{shown}`: {}", io_reason(&e)),
                ));
                continue;
            }
        };
        if !meta.is_dir() {
            found.push(path.clone());
            continue;
        }
        let before = found.len();
        let walker = walkdir::WalkDir::new(path)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !e.file_type().is_dir()
                    || !{
                        let name = e.file_name().to_string_lossy();
                        name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref())
                    }
            });
        for entry in walker {
            match entry {
                Ok(e) => {
                    if !e.file_type().is_dir() && is_flow_file(e.path()) {
                        if e.file_type().is_file() {
                            found.push(e.path().to_path_buf());
                        } else {
                            // A named pipe or a terminal would block the read forever.
                            let at = display_path(e.path());
                            diags.push(
                                Diagnostic::file(
                                    Code::CannotRead,
                                    &at,
                                    format!("`{at}` is not a regular file (a named pipe, a device or a socket), so it is not read"),
                                )
                                .with_help("name it on the command line to read it anyway"),
                            );
                        }
                    }
                }
                Err(e) => {
                    let at = e.path().map(display_path).unwrap_or_else(|| shown.clone());
                    let reason = if let Some(ancestor) = e.loop_ancestor() {
                        format!(
                            "symbolic-link loop: `{at}` leads back to `{}`",
                            display_path(ancestor)
                        )
                    } else if let Some(io) = e.io_error() {
                        format!("cannot read `{at}`: {}", io_reason(io))
                    } else {
                        format!("cannot walk `{at}`: {e}")
                    };
                    diags.push(Diagnostic::file(Code::WalkError, &at, reason));
                }
            }
        }
        if found.len() == before {
            diags.push(
                Diagnostic::file(
                    Code::NoFlowFiles,
                    &shown,
                    format!("no flow files under `{shown}`"),
                )
                .with_help(format!(
                    "flow files are named `*{}`, `*{}` or `*{}`; name a file explicitly to load it whatever its name",
                    FLOW_SUFFIXES[0], FLOW_SUFFIXES[1], FLOW_SUFFIXES[2]
                )),
            );
        }
    }
    // Sort by the path shown, and drop a file reached twice (named and walked, or by two roots).
    found.sort_by_key(|p| display_path(p));
    let mut seen = BTreeSet::new();
    found.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    (found, diags)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// Reads a file with the size bound, as UTF-8 (a leading byte-order mark is dropped).
pub fn read_source(path: &Path) -> Result<SourceFile, Diagnostic> {
    let shown = display_path(path);
    let cannot = |e: std::io::Error| {
        Diagnostic::file(
            Code::CannotRead,
            &shown,
            format!("cannot read `{shown}`: {}", io_reason(&e)),
        )
    };
    let too_large = || {
        Diagnostic::file(
            Code::TooLarge,
            &shown,
            format!(
                "`{shown}` is larger than {} MiB",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
        .with_help("split the workspace over several files")
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    // A file known to be too large is refused without reading a byte of it.
    if file.metadata().is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    // Read one byte past the bound, so that a file growing while read (or a device that never
    // ends, such as `/dev/zero`) is caught too.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let prefix = String::from_utf8_lossy(valid);
            // Lines end at `\n`, `\r\n` or a lone `\r`, as the YAML parser counts them.
            let lines = prefix.replace("\r\n", "\n").replace('\r', "\n");
            let line = lines.matches('\n').count() + 1;
            let col = lines.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let mut d = Diagnostic::file(
                Code::NotUtf8,
                &shown,
                format!("`{shown}` is not UTF-8 text (invalid byte at line {line}, column {col})"),
            )
            .with_help("save the file as UTF-8");
            // No snippet can be shown (the text is not UTF-8), but the position can.
            d.primary = Some(crate::diagnostics::Label {
                file: shown.clone(),
                range: Range::point(crate::source::Pos {
                    line,
                    col,
                    index: prefix.chars().count(),
                }),
                text: "invalid byte".to_string(),
            });
            return Err(d);
        }
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_string)
        .unwrap_or(text);
    let text = lone_cr_to_lf(text);
    Ok(SourceFile {
        path: path.to_path_buf(),
        text,
    })
}

/// Turns a carriage return not followed by a line feed (old Mac line endings) into a line feed.
/// YAML reads either as a line break, but positions count lines by line feeds: without this, a
/// file with CR line endings would be one long line in every message. One character for one, so
/// positions stay the same; CRLF is left alone.
fn lone_cr_to_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() != Some(&'\n') {
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses a source file, reporting YAML problems at their position.
pub fn parse_source(file: &SourceFile) -> Result<yaml::ParsedDoc, Diagnostic> {
    let shown = file.display_path();
    yaml::parse(&file.text, yaml::Limits::default()).map_err(|e| {
        use yaml::YamlErrorKind as K;
        if e.kind == K::Empty {
            // No position to point at: the whole file is the problem.
            return Diagnostic::file(Code::Empty, &shown, format!("`{shown}` holds no YAML document"))
                .with_help("a flow file starts with `flowaudit: 1`");
        }
        let (code, label, help) = match &e.kind {
            K::Syntax if e.message.contains("did not find expected") => (
                Code::Syntax,
                "here",
                Some("check the indentation: the entries of one list or mapping start in the same column"),
            ),
            K::Syntax => (Code::Syntax, "here", None),
            K::Empty => (Code::Empty, "no document", None),
            K::MultipleDocuments => (
                Code::MultipleDocuments,
                "second document",
                Some("put each document in a file of its own"),
            ),
            K::TooDeep => (Code::TooDeep, "too deep", None),
            K::AliasBudget => (
                Code::AliasBudget,
                "expansion limit reached here",
                Some("write the repeated blocks out, or use fewer aliases"),
            ),
            K::DuplicateKey { .. } => (
                Code::DuplicateKey,
                "second occurrence",
                Some("remove one of them; YAML keeps only one value per key"),
            ),
            K::ComplexKey => (
                Code::ComplexKey,
                "not a plain key",
                Some("keys are plain names such as `id` or `country`"),
            ),
            K::Unrepresentable => (
                Code::Unrepresentable,
                "cannot be represented",
                Some("write a finite number, or quote the value to make it text"),
            ),
        };
        let mut d = Diagnostic::at(code, &shown, e.range, e.message.clone(), label);
        if let Some((range, text)) = &e.related {
            d = d.with_secondary(crate::diagnostics::Label {
                file: shown.clone(),
                range: *range,
                text: text.clone(),
            });
        }
        if let K::DuplicateKey { first } = e.kind {
            d = d.with_secondary(crate::diagnostics::Label {
                file: shown.clone(),
                range: first,
                text: "first occurrence".to_string(),
            });
        }
        if let Some(h) = help {
            d = d.with_help(h);
        }
        d
    })
}

/// Checks the `flowaudit:` version key. Other keys are only meaningful once this is right.
pub fn check_version(doc: &Document) -> Option<Diagnostic> {
    let shown = doc.file.display_path();
    let Value::Object(map) = &doc.parsed.value else {
        let loc = doc.parsed.locate("");
        return Some(
            Diagnostic::at(
                Code::WrongType,
                &shown,
                loc.value,
                "a flow document must be a mapping",
                "expected `flowaudit: 1` and sections",
            )
            .with_help("start the file with `flowaudit: 1`"),
        );
    };
    match map.get("flowaudit") {
        None => {
            let start = doc.parsed.locate("").value.start;
            Some(
                Diagnostic::at(
                    Code::FormatVersion,
                    &shown,
                    Range::point(start),
                    "missing `flowaudit:` format version",
                    "expected `flowaudit: 1` in this document",
                )
                .with_help("add `flowaudit: 1` as the first line"),
            )
        }
        Some(Value::Number(n)) if n.as_i64() == Some(FORMAT_VERSION) => None,
        Some(v) => {
            let loc = doc.parsed.locate("/flowaudit");
            let help = if v.as_str() == Some(&FORMAT_VERSION.to_string()) {
                format!(
                    "the version is a number: write `flowaudit: {FORMAT_VERSION}`, without quotes"
                )
            } else {
                format!(
                    "this flowaudit {} reads `flowaudit: {FORMAT_VERSION}`",
                    env!("CARGO_PKG_VERSION")
                )
            };
            Some(
                Diagnostic::at(
                    Code::FormatVersion,
                    &shown,
                    loc.value,
                    format!("unknown format version `{v}`"),
                    "not a version this flowaudit reads",
                )
                .with_help(help),
            )
        }
    }
}

/// Discovers, reads, parses, version-checks and schema-validates every flow document.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let (files, mut diagnostics) = discover(paths);
    let mut loaded = Loaded::default();
    for path in files {
        let file = match read_source(&path) {
            Ok(f) => f,
            Err(d) => {
                diagnostics.push(d);
                continue;
            }
        };
        match parse_source(&file) {
            Ok(parsed) => {
                let doc = Document { file, parsed };
                if let Some(d) = check_version(&doc) {
                    // Without a known version the other keys mean nothing: skip the document.
                    diagnostics.push(d);
                    loaded.unparsed.push(doc.file);
                } else {
                    diagnostics.extend(schema::validate(&doc));
                    loaded.documents.push(doc);
                }
            }
            Err(d) => {
                diagnostics.push(d);
                loaded.unparsed.push(file);
            }
        }
    }
    loaded.diagnostics = diagnostics;
    loaded
}
