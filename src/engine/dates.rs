//! Calendar arithmetic for the facts rules read: partial dates as day ranges, day counts, the
//! Art. 12(3) one-month deadline, and the report date.
//!
//! Days are counted from 1970-01-01 (the civil-from-days algorithm of H. Hinnant); no time zones,
//! as every date in the format is a calendar day.

use serde_json::Value;

use crate::loading::formats::days_in_month;

/// Days since 1970-01-01 of a calendar day.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The calendar day of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The days a (possibly partial) date covers: `2024-03-05` one day, `2024-03` the month, `2024`
/// the year. None when the value is not a date.
pub fn day_range(v: &Value) -> Option<(i64, i64)> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_i64()?.to_string(),
        _ => return None,
    };
    let parts: Vec<&str> = text.split('-').collect();
    let num = |s: &str| s.parse::<i64>().ok();
    match parts.as_slice() {
        [y] => {
            let y = num(y)?;
            Some((days_from_civil(y, 1, 1), days_from_civil(y, 12, 31)))
        }
        [y, m] => {
            let (y, m) = (num(y)?, num(m)? as u32);
            let last = days_in_month(y as u32, m);
            Some((days_from_civil(y, m, 1), days_from_civil(y, m, last)))
        }
        [y, m, d] => {
            let day = days_from_civil(num(y)?, num(m)? as u32, num(d)? as u32);
            Some((day, day))
        }
        _ => None,
    }
}

/// The Art. 12(3) deadline for a request received on `day`: the same day of the next month, or
/// that month's last day if it has none; a Saturday or Sunday moves it to the Monday
/// (Regulation (EEC, Euratom) No 1182/71; public holidays are not known).
pub fn one_month_after(day: i64) -> i64 {
    let (y, m, d) = civil_from_days(day);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let nd = d.min(days_in_month(ny as u32, nm));
    let due = days_from_civil(ny, nm, nd);
    // 1970-01-01 was a Thursday: weekday 0 = Monday.
    match (due + 3).rem_euclid(7) {
        5 => due + 2,
        6 => due + 1,
        _ => due,
    }
}

/// The report date: `SOURCE_DATE_EPOCH` (seconds) when set, else the system clock.
pub fn today() -> i64 {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    secs.div_euclid(86_400)
}

/// Three-valued `a < b` over day ranges: decided only if it holds, or fails, for every day.
pub fn before(a: (i64, i64), b: (i64, i64)) -> Option<bool> {
    if a.1 < b.0 {
        Some(true)
    } else if a.0 >= b.1 {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_days() {
        for day in [-800_000, -1, 0, 1, 19_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(format_day(0), "1970-01-01");
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
    }

    #[test]
    fn partial_dates_cover_ranges() {
        let (a, b) = day_range(&json!("2024-02")).expect("month");
        assert_eq!(
            (format_day(a), format_day(b)),
            ("2024-02-01".into(), "2024-02-29".into())
        );
        let (a, b) = day_range(&json!(2023)).expect("year");
        assert_eq!(b - a, 364);
        assert_eq!(day_range(&json!("soon")), None);
    }

    #[test]
    fn art_12_deadline() {
        let d = |s: &str| day_range(&json!(s)).expect("date").0;
        // 31 January -> 29 February (leap year), a Thursday.
        assert_eq!(format_day(one_month_after(d("2024-01-31"))), "2024-02-29");
        // 5 October 2024 + 1 month = Tuesday 5 November.
        assert_eq!(format_day(one_month_after(d("2024-10-05"))), "2024-11-05");
        // 2 November 2024 + 1 month = Monday 2 December... 30 Nov 2024 was a Saturday:
        assert_eq!(format_day(one_month_after(d("2024-10-30"))), "2024-12-02");
        // Sunday 1 December 2024 -> Monday 2 December.
        assert_eq!(format_day(one_month_after(d("2024-11-01"))), "2024-12-02");
    }

    #[test]
    fn three_valued_before() {
        assert_eq!(before((1, 1), (2, 2)), Some(true));
        assert_eq!(before((2, 2), (2, 2)), Some(false));
        assert_eq!(before((1, 31), (15, 15)), None);
    }
}
