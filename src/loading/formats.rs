//! Value formats the JSON Schema names with `format` and the tool checks: partial dates, ISO 8601
//! durations, ISO 3166-1 alpha-2 country codes.

use crate::reference::Reference;

/// `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, each a real calendar date.
pub fn is_partial_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize| -> Option<u32> {
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y] => num(y, 4).is_some_and(|y| y >= 1000),
        [y, m] => {
            num(y, 4).is_some_and(|y| y >= 1000) && num(m, 2).is_some_and(|m| (1..=12).contains(&m))
        }
        [y, m, d] => match (num(y, 4), num(m, 2), num(d, 2)) {
            (Some(y), Some(m), Some(d)) if y >= 1000 && (1..=12).contains(&m) => {
                d >= 1 && d <= days_in_month(y, m)
            }
            _ => false,
        },
        _ => false,
    }
}

pub fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        _ => 28,
    }
}

/// ISO 8601 duration (`P30D`, `P2Y6M`, `PT12H`, `P1W`) or the word `indefinite`.
pub fn is_duration(s: &str) -> bool {
    if s == "indefinite" {
        return true;
    }
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let components = |part: &str, units: &str| -> Option<usize> {
        // Digits followed by a unit, units in order, each at most once.
        let mut count = 0;
        let mut allowed = units;
        let mut digits = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                digits += 1;
            } else {
                let at = allowed.find(c)?;
                if digits == 0 {
                    return None;
                }
                allowed = &allowed[at + 1..];
                digits = 0;
                count += 1;
            }
        }
        (digits == 0).then_some(count)
    };
    let Some(date_count) = components(date, "YMWD") else {
        return false;
    };
    match time {
        None => date_count > 0,
        Some(t) => components(t, "HMS").is_some_and(|n| n > 0),
    }
}

/// An officially assigned ISO 3166-1 alpha-2 code.
pub fn is_country(s: &str) -> bool {
    Reference::get().is_country(s)
}

/// A country code or `EEA` (people known only to be somewhere in the EEA).
pub fn is_country_or_eea(s: &str) -> bool {
    s == "EEA" || is_country(s)
}

/// A hint for a value that is not a country code: the ISO code meant by a common alias, the
/// upper-case spelling, or the code whose name was written out. `eea_allowed`: the field takes
/// `EEA` too (`data_subjects[].countries`).
pub fn country_hint(s: &str, eea_allowed: bool) -> Option<String> {
    let r = Reference::get();
    let upper = s.to_uppercase();
    if upper == "EEA" || upper == "EU" {
        return Some(if eea_allowed {
            "write `EEA` (upper case) where people are only known to be somewhere in the EEA"
                .to_string()
        } else {
            "`EEA` is accepted only in `data_subjects[].countries`; here give the country where the organisation or system is".to_string()
        });
    }
    if let Some(code) = r.country_aliases.get(&upper) {
        return Some(format!(
            "`{s}` is not an ISO 3166-1 code; {} is `{code}`",
            r.countries
                .get(code)
                .map(String::as_str)
                .unwrap_or("the country")
        ));
    }
    if r.is_country(&upper) {
        return Some(format!("country codes are upper case: `{upper}`"));
    }
    if let Some((code, name)) = r
        .countries
        .iter()
        .find(|(_, name)| name.eq_ignore_ascii_case(s))
    {
        return Some(format!("use the code: {name} is `{code}`"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        for ok in ["2024-02-29", "2023-12-31", "2024-01", "2024"] {
            assert!(is_partial_date(ok), "{ok}");
        }
        for bad in [
            "2023-02-29",
            "2024-13",
            "2024-1-5",
            "24-01-01",
            "2024/01/01",
            "",
            "2024-00",
            "2024-04-31",
            "0999",
        ] {
            assert!(!is_partial_date(bad), "{bad}");
        }
    }

    #[test]
    fn durations() {
        for ok in [
            "P30D",
            "P2Y",
            "P2Y6M",
            "P1W",
            "PT12H",
            "P1DT2H30M",
            "indefinite",
        ] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in [
            "30 days", "P", "PT", "P2", "PD", "P1M2Y", "p30d", "P1Y1Y", "forever", "P1DT",
        ] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn countries() {
        assert!(is_country("FR") && is_country("VE") && !is_country("UK") && !is_country("fr"));
        assert!(is_country_or_eea("EEA") && !is_country("EEA"));
        assert!(country_hint("UK", false).is_some_and(|h| h.contains("`GB`")));
        assert!(country_hint("fr", false).is_some_and(|h| h.contains("`FR`")));
        assert!(country_hint("france", false).is_some_and(|h| h.contains("`FR`")));
        assert_eq!(country_hint("ZZ", false), None);
        assert!(country_hint("eea", true).is_some_and(|h| h.contains("`EEA`")));
        assert!(country_hint("EEA", false).is_some_and(|h| h.contains("only in")));
    }
}
