//! "Did you mean": the closest known name to a misspelt one.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
///
/// Case-insensitive Damerau-Levenshtein distance, accepting up to a third of the word's length
/// (at least 1, at most 3 edits), or a candidate that differs only by separators (`-`, `_`, `.`).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let squashed = squash(&lower);
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let cl = c.to_lowercase();
        let d = if squash(&cl) == squashed {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &cl)
        };
        if d <= limit && best.is_none_or(|(bd, bc)| (d, c) < (bd, bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
        .collect()
}

/// `did you mean `x`?` for a help line, or None.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_separator_variants() {
        let keys = ["mechanism", "derogation", "systematic", "tia"];
        assert_eq!(closest("mechanisms", keys), Some("mechanism"));
        assert_eq!(closest("Mechanism", keys), Some("mechanism"));
        assert_eq!(closest("tai", keys), Some("tia"));
        assert_eq!(closest("colour", keys), None);
        assert_eq!(
            closest("remote-access", ["remote_access", "copy"]),
            Some("remote_access")
        );
        assert_eq!(
            closest("labeller", ["labeler-inc", "labeller-vendor"]),
            None
        );
        assert_eq!(
            closest("labeler-vendor", ["labeller-vendor"]),
            Some("labeller-vendor")
        );
    }
}
