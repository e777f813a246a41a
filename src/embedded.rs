//! Files shipped inside the binary: schemas, rules, reference data and report templates.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The contents of an embedded file, by its path relative to the crate root.
pub fn get(path: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

/// Embedded files under a directory (`rules/gdpr/`), sorted by path.
pub fn under(dir: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    FILES
        .iter()
        .copied()
        .filter(move |(p, _)| p.starts_with(dir))
}
