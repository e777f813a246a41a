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

/// Where the lines of a text start, and the byte offset of every [`TextIndex::STRIDE`]-th
/// character, so that the lines around a label are found without walking the text from its start.
struct TextIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// None when the text is ASCII (a character index is then a byte offset).
    checkpoints: Option<Vec<usize>>,
}

impl<'a> TextIndex<'a> {
    const STRIDE: usize = 256;

    fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let checkpoints = (!text.is_ascii()).then(|| {
            text.char_indices()
                .step_by(Self::STRIDE)
                .map(|(b, _)| b)
                .collect()
        });
        TextIndex {
            text,
            line_starts,
            checkpoints,
        }
    }

    /// Byte offset of a character index (the end of the text past it).
    fn byte(&self, char_index: usize) -> usize {
        let Some(cp) = &self.checkpoints else {
            return char_index.min(self.text.len());
        };
        let Some(&from) = cp.get(char_index / Self::STRIDE) else {
            return self.text.len();
        };
        self.text[from..]
            .char_indices()
            .nth(char_index % Self::STRIDE)
            .map_or(self.text.len(), |(b, _)| from + b)
    }

    /// 0-based line of a byte offset.
    fn line_of(&self, byte: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= byte) - 1
    }

    /// Byte range of a line, its line feed included.
    fn line(&self, line: usize) -> std::ops::Range<usize> {
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.line_starts[line]..end
    }
}

/// Labels further apart than this many lines get a snippet each.
const SNIPPET_GAP_LINES: usize = 50;
/// A line longer than this is cut around a lone label ...
const LONG_LINE_BYTES: usize = 4096;
/// ... keeping this much of it on each side (more than a terminal shows).
const LONG_LINE_MARGIN: usize = 512;

/// One snippet to render: a window of a file and the labels in it (byte ranges in the file).
struct Window<'l> {
    bytes: std::ops::Range<usize>,
    first_line: usize,
    labels: Vec<(&'l Label, std::ops::Range<usize>)>,
    /// The window cuts its line on the left: the column annotate-snippets shows for the label
    /// must be put right (`path:line:shown` becomes `path:line:true`).
    column_fix: Option<(String, String)>,
}

/// A label placed in its file: its byte range, first and last line (0-based).
type Placed<'l> = (&'l Label, std::ops::Range<usize>, usize, usize);

/// The windows of one file for a diagnostic's labels in it. Only the lines around the labels are
/// handed to annotate-snippets (which reads its whole source for every diagnostic): without this,
/// rendering is quadratic, and a hostile file with 100,000 problems would take hours.
fn windows<'l>(file: &str, index: &TextIndex<'_>, labels: Vec<&'l Label>) -> Vec<Window<'l>> {
    let text = index.text;
    let mut spans: Vec<Placed<'l>> = labels
        .into_iter()
        .map(|l| {
            let start = index.byte(l.range.start.index);
            let end = index.byte(l.range.end.index.max(l.range.start.index));
            (l, start..end, index.line_of(start), index.line_of(end))
        })
        .collect();
    // Group by lines (the primary label comes first and keeps its group first).
    let primary = spans.first().map(|s| s.0 as *const Label);
    spans.sort_by_key(|s| (s.2, s.1.start));
    let mut groups: Vec<Vec<Placed<'l>>> = Vec::new();
    for s in spans {
        match groups.last_mut() {
            Some(g) if s.2 <= g.iter().map(|x| x.3).max().unwrap_or(0) + SNIPPET_GAP_LINES => {
                g.push(s)
            }
            _ => groups.push(vec![s]),
        }
    }
    if let Some(i) = groups
        .iter()
        .position(|g| g.iter().any(|s| Some(s.0 as *const Label) == primary))
    {
        let g = groups.remove(i);
        groups.insert(0, g);
    }
    groups
        .into_iter()
        .map(|g| {
            let first = g.iter().map(|s| s.2).min().unwrap_or(0);
            let last = g.iter().map(|s| s.3).max().unwrap_or(0);
            let mut bytes = index.line(first).start..index.line(last).end;
            let mut column_fix = None;
            if let [(_, span, line, _)] = g.as_slice()
                && first == last
                && bytes.len() > LONG_LINE_BYTES
            {
                let floor = |mut b: usize| {
                    while !text.is_char_boundary(b) {
                        b -= 1;
                    }
                    b
                };
                let ceil = |mut b: usize| {
                    while !text.is_char_boundary(b) {
                        b += 1;
                    }
                    b
                };
                let from = floor(span.start.saturating_sub(LONG_LINE_MARGIN).max(bytes.start));
                let to = ceil((span.end + LONG_LINE_MARGIN).min(bytes.end));
                if from > bytes.start {
                    let shown = text[from..span.start].chars().count() + 1;
                    let real = text[bytes.start..span.start].chars().count() + 1;
                    let at = |c| format!("{file}:{}:{c}", line + 1);
                    column_fix = Some((at(shown), at(real)));
                }
                bytes = from..to;
            }
            Window {
                first_line: first + 1,
                labels: g
                    .into_iter()
                    .map(|(l, span, _, _)| (l, span.start - bytes.start..span.end - bytes.start))
                    .collect(),
                bytes,
                column_fix,
            }
        })
        .collect()
}

/// Renders diagnostics rustc-style, followed by a one-line summary.
pub fn render_text(diags: &[Diagnostic], sources: &Sources<'_>, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    let mut indexes: BTreeMap<&str, TextIndex<'_>> = BTreeMap::new();
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
        let mut column_fixes = Vec::new();
        for file in &files {
            let Some((path, src)) = sources.files.get_key_value(*file) else {
                continue;
            };
            let index = indexes
                .entry(path.as_str())
                .or_insert_with(|| TextIndex::new(src.text.as_str()));
            let in_file = labels.clone().filter(|l| l.file == *file).collect();
            for w in windows(file, index, in_file) {
                let mut snippet = Snippet::source(&src.text[w.bytes.clone()])
                    .line_start(w.first_line)
                    .path(*file)
                    .fold(true);
                for (l, span) in w.labels {
                    let kind =
                        if std::ptr::eq(l, d.primary.as_ref().map_or(std::ptr::null(), |p| p)) {
                            AnnotationKind::Primary
                        } else {
                            AnnotationKind::Context
                        };
                    snippet = snippet.annotation(kind.span(span).label(&l.text));
                }
                column_fixes.extend(w.column_fix);
                group = group.element(snippet);
                elements += 1;
            }
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
        let mut rendered = renderer.render(&report);
        for (shown, real) in column_fixes {
            // The location line of a snippet cut on the left: `--> file:line:col` (or `:::`).
            let at = [format!("{shown}\n"), format!("{shown}\u{1b}")]
                .iter()
                .filter_map(|pat| rendered.find(pat.as_str()))
                .min();
            if let Some(at) = at {
                rendered.replace_range(at..at + shown.len(), &real);
            }
        }
        out.push_str(&rendered);
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

    fn file(text: &str) -> SourceFile {
        SourceFile {
            path: "a.flow.yaml".into(),
            text: text.to_string(),
        }
    }

    /// A label on the `n`-th occurrence of `needle`.
    fn label(src: &SourceFile, needle: &str, n: usize, text: &str) -> Label {
        let byte = src.text.match_indices(needle).nth(n).expect("needle").0;
        let pos = |b: usize| {
            let before = &src.text[..b];
            crate::source::Pos {
                line: before.matches('\n').count() + 1,
                col: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
                index: before.chars().count(),
            }
        };
        Label {
            file: "a.flow.yaml".into(),
            range: Range {
                start: pos(byte),
                end: pos(byte + needle.len()),
            },
            text: text.into(),
        }
    }

    fn at(src: &SourceFile, needle: &str, n: usize) -> Diagnostic {
        Diagnostic::at(
            Code::Syntax,
            "a.flow.yaml",
            label(src, needle, n, "").range,
            "m",
            "here",
        )
    }

    /// The rendering of the whole file as one snippet (what `render_text` did before it cut
    /// windows): the windows must not change a thing.
    fn whole(d: &Diagnostic, src: &SourceFile) -> String {
        let mut snippet = Snippet::source(src.text.as_str())
            .path("a.flow.yaml")
            .fold(true);
        for l in d.primary.iter().chain(&d.secondary) {
            let kind = if d.primary.as_ref().is_some_and(|p| std::ptr::eq(p, l)) {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            snippet = snippet.annotation(kind.span(src.byte_range(l.range)).label(&l.text));
        }
        let group = Group::with_title(
            Level::ERROR
                .primary_title(d.message.as_str())
                .id(d.code.as_str()),
        )
        .element(snippet);
        format!("{}\n\n", Renderer::plain().render(&[group]))
    }

    #[test]
    fn windows_render_as_the_whole_file_does() {
        let mut text =
            String::from("flowaudit: 1\r\nparties:\n  - id: vendor\n    name: \"Grüß Gott €\"\n");
        for i in 0..40 {
            text.push_str(&format!(
                "  - {{id: p{i}, role: processer, name: \"été\"}}\n"
            ));
        }
        text.push_str("    role: last");
        let src = file(&text);
        let cases = [
            at(&src, "vendor", 0),
            at(&src, "processer", 7).with_secondary(label(&src, "Gott", 0, "first")),
            at(&src, "p39", 0)
                .with_secondary(label(&src, "p3", 0, "first"))
                .with_secondary(label(&src, "p12", 0, "second")),
            at(&src, "last", 0),
            at(&src, "  - id: vendor\n    name", 0),
            at(&src, "1\r\n", 0),
        ];
        for d in cases {
            let windowed = render_text(std::slice::from_ref(&d), &Sources::new([&src]), false);
            let expected = whole(&d, &src);
            assert_eq!(
                windowed.strip_suffix("error: 1 problem in 1 file; fix it and run again\n"),
                Some(expected.as_str())
            );
        }
    }

    #[test]
    fn far_apart_labels_and_long_lines_stay_right() {
        // Labels 200 lines apart: a snippet each, both lines shown.
        let mut text = String::from("a: 1\n");
        text.push_str(&"b: 2\n".repeat(200));
        text.push_str("a: 3\n");
        let src = file(&text);
        let d = at(&src, "a", 1).with_secondary(label(&src, "a", 0, "first"));
        let out = render_text(&[d], &Sources::new([&src]), false);
        assert!(out.contains("--> a.flow.yaml:202:1"), "{out}");
        assert!(out.contains("::: a.flow.yaml:1:1"), "{out}");
        assert!(
            out.contains("202 | a: 3") && out.contains("  1 | a: 1"),
            "{out}"
        );
        // A label deep into a long line of non-ASCII text: the column counts characters.
        let line = "éx".repeat(300_000) + "needle" + &"é".repeat(300_000);
        let src = file(&format!("k: 1\n{line}\n"));
        let out = render_text(&[at(&src, "needle", 0)], &Sources::new([&src]), false);
        assert!(out.contains(" --> a.flow.yaml:2:600001\n"), "{out}");
        assert!(out.contains("needle"), "{out}");
    }
}
