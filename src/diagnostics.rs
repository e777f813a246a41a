//! Diagnostics: one model for every problem found in the input, rendered rustc-style for people
//! and as JSON for tools.
//!
//! Codes are stable: scripts and editor integrations match on them. A code is never reused for a
//! different problem; new problems get new codes. `docs/diagnostics.md` explains each one.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use serde::Serialize;

use crate::source::{Range, SourceFile};

/// Every diagnostic code the tool emits, with a one-line summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// A path given on the command line, or a file found, cannot be read.
    CannotRead,
    /// A file is not valid UTF-8.
    NotUtf8,
    /// A file is larger than the size limit.
    TooLarge,
    /// A directory holds no flow files, or the paths hold no workspace at all.
    NoFlowFiles,
    /// The directory walk failed (a symbolic-link loop, a permission problem).
    WalkError,
    /// YAML or JSON syntax error.
    Syntax,
    /// The file holds no document.
    Empty,
    /// More than one YAML document in a file.
    MultipleDocuments,
    /// Nesting deeper than the limit.
    TooDeep,
    /// Aliases expand beyond the limit.
    AliasBudget,
    /// The same key twice in one mapping.
    DuplicateKey,
    /// A mapping key that is not plain text.
    ComplexKey,
    /// A value JSON cannot hold, or a tag that does not fit.
    Unrepresentable,
    /// `flowaudit:` missing or an unknown format version.
    FormatVersion,
    /// A key the format does not define.
    UnknownKey,
    /// A value outside the field's list of allowed values.
    InvalidEnum,
    /// A value of the wrong type.
    WrongType,
    /// A required key is missing.
    MissingKey,
    /// A value breaks another constraint (pattern, range, uniqueness).
    InvalidValue,
    /// Not a date (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`).
    BadDate,
    /// Not an ISO 8601 duration or `indefinite`.
    BadDuration,
    /// Not an ISO 3166-1 alpha-2 country code.
    BadCountry,
    /// The same id defined twice in the workspace.
    DuplicateId,
    /// A reference to an id that does not exist.
    UnknownReference,
    /// A reference to an id of the wrong kind.
    WrongKindReference,
    /// An unknown data-category id.
    UnknownCategory,
    /// A section that may appear once in a workspace (`controller`, `notice`, `rights`, `security`, `records`) appears twice.
    DuplicateSection,
    /// `engaged_by` forms a cycle.
    EngagementCycle,
    /// A data category defined twice in the workspace taxonomy.
    DuplicateCategory,
    /// A waiver names a rule that does not exist.
    UnknownRule,
    /// A rule file cannot be read as a rule.
    RuleInvalid,
    /// A rule expression or message template does not compile.
    RuleExpression,
    /// A rule reads a field that neither the flow schema nor the derived facts define.
    RuleUnknownField,
    /// Two rules with the same id.
    RuleDuplicateId,
    /// `depends_on` names an unknown rule, or forms a cycle.
    RuleDependency,
    /// A rule failed while evaluating a subject.
    RuleEvaluation,
    /// A rule's self-test gave another status than expected.
    RuleTestFailed,
}

impl Code {
    pub const ALL: &'static [Code] = &[
        Code::CannotRead,
        Code::NotUtf8,
        Code::TooLarge,
        Code::NoFlowFiles,
        Code::WalkError,
        Code::Syntax,
        Code::Empty,
        Code::MultipleDocuments,
        Code::TooDeep,
        Code::AliasBudget,
        Code::DuplicateKey,
        Code::ComplexKey,
        Code::Unrepresentable,
        Code::FormatVersion,
        Code::UnknownKey,
        Code::InvalidEnum,
        Code::WrongType,
        Code::MissingKey,
        Code::InvalidValue,
        Code::BadDate,
        Code::BadDuration,
        Code::BadCountry,
        Code::DuplicateId,
        Code::UnknownReference,
        Code::WrongKindReference,
        Code::UnknownCategory,
        Code::DuplicateSection,
        Code::EngagementCycle,
        Code::DuplicateCategory,
        Code::UnknownRule,
        Code::RuleInvalid,
        Code::RuleExpression,
        Code::RuleUnknownField,
        Code::RuleDuplicateId,
        Code::RuleDependency,
        Code::RuleEvaluation,
        Code::RuleTestFailed,
    ];

    /// The stable code printed in diagnostics.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::CannotRead => "E001",
            Code::NotUtf8 => "E002",
            Code::TooLarge => "E003",
            Code::NoFlowFiles => "E004",
            Code::WalkError => "E005",
            Code::Syntax => "E010",
            Code::Empty => "E011",
            Code::MultipleDocuments => "E012",
            Code::TooDeep => "E013",
            Code::AliasBudget => "E014",
            Code::DuplicateKey => "E015",
            Code::ComplexKey => "E016",
            Code::Unrepresentable => "E017",
            Code::FormatVersion => "E020",
            Code::UnknownKey => "E021",
            Code::InvalidEnum => "E022",
            Code::WrongType => "E023",
            Code::MissingKey => "E024",
            Code::InvalidValue => "E025",
            Code::BadDate => "E026",
            Code::BadDuration => "E027",
            Code::BadCountry => "E028",
            Code::DuplicateId => "E030",
            Code::UnknownReference => "E031",
            Code::WrongKindReference => "E032",
            Code::UnknownCategory => "E033",
            Code::DuplicateSection => "E034",
            Code::EngagementCycle => "E035",
            Code::DuplicateCategory => "E036",
            Code::UnknownRule => "E037",
            Code::RuleInvalid => "E040",
            Code::RuleExpression => "E041",
            Code::RuleUnknownField => "E042",
            Code::RuleDuplicateId => "E043",
            Code::RuleDependency => "E044",
            Code::RuleEvaluation => "E045",
            Code::RuleTestFailed => "E046",
        }
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A labelled range in a file.
#[derive(Clone, Debug)]
pub struct Label {
    /// Display path of the file (as in [`SourceFile::display_path`]).
    pub file: String,
    pub range: Range,
    pub text: String,
}

/// One problem in the input.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    /// The file the problem is in, when there is one.
    pub file: Option<String>,
    /// Where exactly, when known; its file is `file`.
    pub primary: Option<Label>,
    /// Related places (the first definition of a duplicate id), possibly in other files.
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    /// What to do, including a "did you mean".
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem with a whole file or path, not a place inside it.
    pub fn file(code: Code, file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            file: Some(file.into()),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// A problem at a place in a file.
    pub fn at(
        code: Code,
        file: impl Into<String>,
        range: Range,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        let file = file.into();
        Diagnostic {
            code,
            message: message.into(),
            file: Some(file.clone()),
            primary: Some(Label {
                file,
                range,
                text: label.into(),
            }),
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_secondary(mut self, label: Label) -> Self {
        self.secondary.push(label);
        self
    }

    /// Sort key: file, position, code, message. Diagnostics print in this order.
    fn sort_key(&self) -> (Option<&str>, usize, usize, Code, &str) {
        let (line, col) = self
            .primary
            .as_ref()
            .map(|l| (l.range.start.line, l.range.start.col))
            .unwrap_or((0, 0));
        (self.file.as_deref(), line, col, self.code, &self.message)
    }
}

/// Sorts diagnostics into their printing order and drops exact repeats.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup_by(|a, b| a.sort_key() == b.sort_key());
}

/// The texts of the files diagnostics point into, by display path.
#[derive(Default)]
pub struct Sources<'a> {
    files: BTreeMap<String, &'a SourceFile>,
}

impl<'a> Sources<'a> {
    pub fn new(files: impl IntoIterator<Item = &'a SourceFile>) -> Self {
        Sources {
            files: files.into_iter().map(|f| (f.display_path(), f)).collect(),
        }
    }
}

/// Renders diagnostics rustc-style, followed by a one-line summary.
pub fn render_text(diags: &[Diagnostic], sources: &Sources<'_>, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for d in diags {
        let mut group = Group::with_title(
            Level::ERROR
                .primary_title(d.message.as_str())
                .id(d.code.as_str()),
        );
        let labels = d.primary.iter().chain(d.secondary.iter());
        // One snippet per file, in the order the labels name them, primary first.
        let mut files: Vec<&str> = Vec::new();
        for l in labels.clone() {
            if !files.contains(&l.file.as_str()) {
                files.push(&l.file);
            }
        }
        let mut elements = 0;
        for file in &files {
            let Some(src) = sources.files.get(*file) else {
                continue;
            };
            let mut snippet = Snippet::source(src.text.as_str()).path(*file).fold(true);
            for l in labels.clone().filter(|l| l.file == *file) {
                let kind = if std::ptr::eq(l, d.primary.as_ref().map_or(std::ptr::null(), |p| p)) {
                    AnnotationKind::Primary
                } else {
                    AnnotationKind::Context
                };
                snippet = snippet.annotation(kind.span(src.byte_range(l.range)).label(&l.text));
            }
            group = group.element(snippet);
            elements += 1;
        }
        if elements == 0
            && let Some(file) = &d.file
        {
            let mut origin = Origin::path(file.as_str());
            if let Some(p) = &d.primary {
                origin = origin
                    .line(p.range.start.line)
                    .char_column(p.range.start.col);
            }
            group = group.element(origin);
        }
        for n in &d.notes {
            group = group.element(Level::NOTE.message(n.as_str()));
        }
        if let Some(h) = &d.help {
            group = group.element(Level::HELP.message(h.as_str()));
        }
        let report = [group];
        out.push_str(&renderer.render(&report));
        out.push_str("\n\n");
    }
    if !diags.is_empty() {
        // Files with a problem inside them (a missing path or an empty directory is not a file).
        let files: std::collections::BTreeSet<&str> = diags
            .iter()
            .filter(|d| d.primary.is_some())
            .filter_map(|d| d.file.as_deref())
            .collect();
        let place = match files.len() {
            0 => String::new(),
            1 => " in 1 file".to_string(),
            n => format!(" in {n} files"),
        };
        let _ = writeln!(
            out,
            "error: {} problem{}{place}; fix {} and run again",
            diags.len(),
            if diags.len() == 1 { "" } else { "s" },
            if diags.len() == 1 { "it" } else { "them" },
        );
    }
    out
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    label: &'a str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: Code,
    severity: &'static str,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    primary: Option<JsonLabel<'a>>,
    secondary: Vec<JsonLabel<'a>>,
    notes: &'a [String],
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    valid: bool,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

fn json_label(l: &Label) -> JsonLabel<'_> {
    JsonLabel {
        file: &l.file,
        line: l.range.start.line,
        column: l.range.start.col,
        end_line: l.range.end.line,
        end_column: l.range.end.col,
        label: &l.text,
    }
}

/// Renders diagnostics as a JSON document (documented in `docs/diagnostics.md`).
pub fn render_json(diags: &[Diagnostic]) -> String {
    let report = JsonReport {
        version: 1,
        valid: diags.is_empty(),
        diagnostics: diags
            .iter()
            .map(|d| JsonDiagnostic {
                code: d.code,
                severity: "error",
                message: &d.message,
                file: d.file.as_deref(),
                line: d.primary.as_ref().map(|p| p.range.start.line),
                column: d.primary.as_ref().map(|p| p.range.start.col),
                primary: d.primary.as_ref().map(json_label),
                secondary: d.secondary.iter().map(json_label).collect(),
                notes: &d.notes,
                help: d.help.as_deref(),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented() {
        let doc = include_str!("../docs/diagnostics.md");
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{} reused", code.as_str());
            assert!(
                doc.contains(&format!("| {} |", code.as_str())),
                "{} is not documented in docs/diagnostics.md",
                code.as_str()
            );
        }
    }
}
