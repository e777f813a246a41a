//! Source files and positions: what a diagnostic points at.
//!
//! Positions are 1-based lines and 1-based columns counted in characters (as editors and rustc
//! show them), plus the character index into the text, which is converted to a byte offset only
//! when a snippet is rendered.

use std::path::PathBuf;

/// A point in a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// 0-based character index into the text.
    pub index: usize,
}

/// A half-open range of characters in a source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Range {
    pub start: Pos,
    pub end: Pos,
}

impl Range {
    pub fn point(pos: Pos) -> Self {
        Range {
            start: pos,
            end: pos,
        }
    }
}

/// A loaded file: its path as shown to the user and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given or discovered (relative paths stay relative), used in every message.
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    /// The path with forward slashes, for messages and reports that must not depend on the OS.
    pub fn display_path(&self) -> String {
        display_path(&self.path)
    }

    /// Byte range of a character range, for snippet rendering.
    pub fn byte_range(&self, range: Range) -> std::ops::Range<usize> {
        let start = char_to_byte(&self.text, range.start.index);
        let end = char_to_byte(&self.text, range.end.index.max(range.start.index));
        start..end
    }
}

/// Forward-slash rendering of a path, stripping a leading `./`.
pub fn display_path(path: &std::path::Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn char_to_byte(text: &str, char_index: usize) -> usize {
    if text.is_ascii() {
        return char_index.min(text.len());
    }
    text.char_indices()
        .nth(char_index)
        .map(|(b, _)| b)
        .unwrap_or(text.len())
}
