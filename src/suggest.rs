//! "Did you mean": the closest known name to a misspelt one.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
///
/// Case-insensitive Damerau-Levenshtein distance, accepting up to a third of the word's length
/// (at least 1, at most 3 edits), or a candidate that differs only by separators (`-`, `_`, `.`).
///
/// Comparisons are bounded per thread (a run of the tool): see [`COMPARISONS`].
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let squashed = squash(&lower);
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        // Too long or too short to be within the limit, or equal up to separators (exact for
        // ASCII, where lower-casing keeps lengths): skipped without an allocation.
        if word.is_ascii()
            && c.is_ascii()
            && c.len().abs_diff(word.len()) > limit
            && squashed_len(c) != squashed.len()
        {
            continue;
        }
        if !BUDGET.with(|b| b.get().checked_sub(1).map(|left| b.set(left)).is_some()) {
            break;
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

/// Candidates compared at most per thread. A comparison costs about a microsecond, and a hostile
/// workspace with 50,000 unknown references among 50,000 ids would need 2.5 billion of them: past
/// this budget no more suggestions are made (every problem is still reported, without its "did
/// you mean"). A real workspace needs a small fraction of it.
pub const COMPARISONS: usize = 250_000;

thread_local! {
    static BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(COMPARISONS) };
}

fn squashed_len(s: &str) -> usize {
    s.bytes()
        .filter(|c| !matches!(c, b'-' | b'_' | b'.' | b' '))
        .count()
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
        assert_eq!(closest("a-b-c-d-e", ["abcde"]), Some("abcde"));
        assert_eq!(closest("abc", ["abcdefgh"]), None);
    }

    #[test]
    fn comparisons_are_bounded() {
        // Its own thread: the budget is per thread.
        std::thread::spawn(|| {
            let ids: Vec<String> = (0..1_000).map(|i| format!("{i:03}")).collect();
            let mut suggested = 0;
            for i in 0..1_000 {
                let typo = format!("{i:03}x");
                if closest(&typo, ids.iter().map(String::as_str)).is_some() {
                    suggested += 1;
                }
            }
            // 1,000 comparisons a call: the first calls get their suggestion, then none.
            assert_eq!(suggested, COMPARISONS / 1_000);
        })
        .join()
        .expect("thread");
    }
}
