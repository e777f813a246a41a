//! Baselines (DESIGN §6): the gaps accepted when flowaudit is adopted on an existing repository.
//!
//! `flowaudit baseline --out FILE` records every gap as an entry keyed on rule id, subject kind
//! and subject id (never a line number, so editing a file does not break the match), each with a
//! reason to write and an expiry date. `check --baseline FILE` then hides the gaps an unexpired
//! entry names, and reports the entries whose gap is gone (stale) and the expired ones, whose gaps
//! count again. This is a layer over the result model: the engine's statuses are unchanged (a
//! hidden gap keeps status `gap` and carries `baseline`), only the totals, the exit code and the
//! gap lists leave it out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::{CheckReport, Place, summarize};
use crate::diagnostics::{Code, Diagnostic, Label};
use crate::engine::{Severity, Status, dates};
use crate::loading::{self, Document, schema};
use crate::source::SourceFile;

/// The version written as `flowaudit_baseline:`.
pub const FORMAT_VERSION: i64 = 1;

/// The reason a new entry gets: to be replaced by a real one.
pub const REASON_PLACEHOLDER: &str = "TODO: why this gap is accepted for now";

/// Days a new entry lasts when `--expires` is not given.
pub const DEFAULT_DAYS: i64 = 90;

/// One accepted gap, as read from a baseline file.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub rule: String,
    pub kind: String,
    pub subject: String,
    /// The severity when it was recorded (informative: matching ignores it).
    pub severity: Option<String>,
    pub reason: String,
    pub expires: String,
    /// Where the entry is written in the baseline file.
    pub location: Place,
}

impl Entry {
    fn key(&self) -> (&str, &str, &str) {
        (&self.rule, &self.kind, &self.subject)
    }

    /// Whether the entry still hides its gap on `today`: only before its `expires` day.
    pub fn valid_on(&self, today: i64) -> bool {
        dates::day_range(&Value::String(self.expires.clone()))
            .is_some_and(|(start, _)| today < start)
    }
}

/// A baseline file, validated.
#[derive(Debug)]
pub struct Baseline {
    /// The file's path as shown.
    pub file: String,
    pub created: Option<String>,
    pub entries: Vec<Entry>,
}

/// Why a baseline file cannot be used: its diagnostics, and its text for their snippets.
#[derive(Debug)]
pub struct LoadError {
    pub diagnostics: Vec<Diagnostic>,
    pub source: Option<SourceFile>,
}

/// The entry hiding a gap, on the finding (`results[].baseline`).
#[derive(Debug, Serialize)]
pub struct BaselineRef {
    pub reason: String,
    pub expires: String,
    /// Where the entry is written in the baseline file.
    pub location: Place,
}

/// What a baseline did to a report (`baseline` in the result model).
#[derive(Debug, Serialize)]
pub struct BaselineReport {
    /// The baseline file.
    pub file: String,
    pub created: Option<String>,
    /// Entries in the file.
    pub entries: usize,
    /// Entries hiding at least one gap.
    pub applied: usize,
    /// Entries whose gap is gone (fixed, waived, or its subject renamed or removed): remove them.
    pub stale: Vec<Entry>,
    /// Entries matching a gap whose `expires` day has come: the gap counts again.
    pub expired: Vec<Entry>,
}

/// Reads and validates a baseline file: schema (with positions), then no entry twice.
pub fn load(path: &Path) -> Result<Baseline, LoadError> {
    let file = loading::read_source(path).map_err(|d| LoadError {
        diagnostics: vec![d],
        source: None,
    })?;
    let parsed = match loading::parse_source(&file) {
        Ok(p) => p,
        Err(mut d) => {
            if d.code == Code::Empty {
                d.help = Some("a baseline file starts with `flowaudit_baseline: 1`; `flowaudit baseline --out FILE` writes one".into());
            }
            return Err(LoadError {
                diagnostics: vec![d],
                source: Some(file),
            });
        }
    };
    let doc = Document { file, parsed };
    let mut diags = schema::validate_baseline(&doc);
    let shown = doc.file.display_path();
    let place = |pointer: &str| {
        let start = doc.parsed.locate(pointer).value.start;
        Place {
            file: shown.clone(),
            line: start.line,
            column: start.col,
        }
    };
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let mut entries = Vec::new();
    if diags.is_empty() {
        let items = doc
            .parsed
            .value
            .get("entries")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
        for (i, v) in items.iter().enumerate() {
            let entry = Entry {
                rule: text(v, "rule").unwrap_or_default(),
                kind: text(v, "kind").unwrap_or_default(),
                subject: text(v, "subject").unwrap_or_default(),
                severity: text(v, "severity"),
                reason: text(v, "reason").unwrap_or_default(),
                expires: text(v, "expires").unwrap_or_default(),
                location: place(&format!("/entries/{i}")),
            };
            let key = (
                entry.rule.clone(),
                entry.kind.clone(),
                entry.subject.clone(),
            );
            if let Some(&first) = seen.get(&key) {
                diags.push(
                    Diagnostic::at(
                        Code::InvalidValue,
                        &shown,
                        doc.parsed.head(&format!("/entries/{i}")),
                        format!(
                            "`entries[{i}]` repeats `entries[{first}]`: {} on {} `{}`",
                            key.0, key.1, key.2
                        ),
                        "listed again here",
                    )
                    .with_secondary(Label {
                        file: shown.clone(),
                        range: doc.parsed.head(&format!("/entries/{first}")),
                        text: "first listed here".into(),
                    })
                    .with_help("remove one of them: an entry is keyed on rule, kind and subject"),
                );
                continue;
            }
            seen.insert(key, i);
            entries.push(entry);
        }
    }
    if !diags.is_empty() {
        crate::diagnostics::sort(&mut diags);
        return Err(LoadError {
            diagnostics: diags,
            source: Some(doc.file),
        });
    }
    Ok(Baseline {
        file: shown,
        created: text(&doc.parsed.value, "created"),
        entries,
    })
}

fn threshold(report: &CheckReport) -> Option<Severity> {
    Severity::ALL
        .iter()
        .copied()
        .find(|s| s.as_str() == report.fail_on)
}

fn report_day(report: &CheckReport) -> i64 {
    dates::day_range(&Value::String(report.date.clone())).map_or_else(dates::today, |(d, _)| d)
}

/// Hides the gaps that unexpired entries name, and records the stale and expired entries.
/// Entries of rules that exist but are not reported (`--select`, `--ignore`) are left alone;
/// entries of rules that do not exist match nothing, so they are stale.
pub fn apply(report: &mut CheckReport, baseline: &Baseline) {
    let today = report_day(report);
    let reported: BTreeSet<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    let mut gaps: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (i, f) in report.results.iter().enumerate() {
        if f.status == Status::Gap {
            gaps.entry((
                f.rule.to_string(),
                f.subject.kind.clone(),
                f.subject.id.clone(),
            ))
            .or_default()
            .push(i);
        }
    }
    let (mut applied, mut hidden) = (0, 0);
    let (mut stale, mut expired) = (Vec::new(), Vec::new());
    for e in &baseline.entries {
        if !reported.contains(e.rule.as_str()) && report.loaded_rules.contains(&e.rule) {
            continue; // not evaluated in this run
        }
        let key = (e.rule.clone(), e.kind.clone(), e.subject.clone());
        let Some(hits) = gaps.get(&key) else {
            stale.push(e.clone());
            continue;
        };
        if !e.valid_on(today) {
            expired.push(e.clone());
            continue;
        }
        applied += 1;
        for &i in hits {
            hidden += 1;
            report.results[i].baseline = Some(BaselineRef {
                reason: e.reason.clone(),
                expires: e.expires.clone(),
                location: e.location.clone(),
            });
        }
    }
    let mut summary = summarize(&report.results, threshold(report));
    summary.baselined = Some(hidden);
    report.summary = summary;
    report.baseline = Some(BaselineReport {
        file: baseline.file.clone(),
        created: baseline.created.clone(),
        entries: baseline.entries.len(),
        applied,
        stale,
        expired,
    });
}

/// A baseline written by `flowaudit baseline`, with what changed against the previous file.
#[derive(Debug)]
pub struct Written {
    pub text: String,
    pub entries: usize,
    /// Gaps not in the previous file: entries with the reason placeholder and `--expires`.
    pub added: usize,
    /// Entries of the previous file that still match a gap, or whose rule was not evaluated:
    /// kept with their reason and expiry.
    pub kept: usize,
    /// Entries of the previous file whose gap is gone.
    pub removed: usize,
}

/// The baseline of a report's gaps (not the waived ones: a waiver already covers them). With a
/// previous baseline, entries still matching keep their reason and expiry (an expired one stays
/// expired), entries of rules not evaluated in this run are kept as they are, and the others are
/// dropped; new gaps get the reason placeholder and `expires`.
pub fn update(report: &CheckReport, previous: Option<&Baseline>, expires: &str) -> Written {
    let reported: BTreeSet<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    // The gaps, by key, with the worst severity when one key has several results.
    let mut gaps: BTreeMap<(String, String, String), Severity> = BTreeMap::new();
    for f in report.results.iter().filter(|f| f.status == Status::Gap) {
        let key = (
            f.rule.to_string(),
            f.subject.kind.clone(),
            f.subject.id.clone(),
        );
        let sev = gaps.entry(key).or_insert(f.severity);
        if f.severity.at_least(*sev) {
            *sev = f.severity;
        }
    }
    let old: HashMap<(&str, &str, &str), &Entry> = previous
        .map(|b| b.entries.iter().map(|e| (e.key(), e)).collect())
        .unwrap_or_default();
    let (mut added, mut kept) = (0, 0);
    let mut out: Vec<Row> = Vec::new();
    for ((rule, kind, subject), sev) in &gaps {
        let (reason, until) = match old.get(&(rule.as_str(), kind.as_str(), subject.as_str())) {
            Some(e) => {
                kept += 1;
                (e.reason.clone(), e.expires.clone())
            }
            None => {
                added += 1;
                (REASON_PLACEHOLDER.to_string(), expires.to_string())
            }
        };
        out.push(Row {
            rule: rule.clone(),
            kind: kind.clone(),
            subject: subject.clone(),
            severity: Some(sev.as_str().to_string()),
            reason,
            expires: until,
        });
    }
    let mut removed = 0;
    for e in previous.map(|b| b.entries.as_slice()).unwrap_or_default() {
        let evaluated =
            reported.contains(e.rule.as_str()) || !report.loaded_rules.contains(&e.rule);
        if !evaluated {
            kept += 1;
            out.push(Row {
                rule: e.rule.clone(),
                kind: e.kind.clone(),
                subject: e.subject.clone(),
                severity: e.severity.clone(),
                reason: e.reason.clone(),
                expires: e.expires.clone(),
            });
        } else if !gaps.contains_key(&(e.rule.clone(), e.kind.clone(), e.subject.clone())) {
            removed += 1;
        }
    }
    out.sort_by(|a, b| (&a.rule, &a.subject, &a.kind).cmp(&(&b.rule, &b.subject, &b.kind)));
    let created = previous
        .and_then(|b| b.created.clone())
        .unwrap_or_else(|| report.date.clone());
    Written {
        text: render(&created, &out),
        entries: out.len(),
        added,
        kept,
        removed,
    }
}

struct Row {
    rule: String,
    kind: String,
    subject: String,
    severity: Option<String>,
    reason: String,
    expires: String,
}

const HEADER: &str = "\
# flowaudit baseline: gaps accepted for now, so that `flowaudit check --baseline <this file>`
# reports only the gaps not listed here. It also reports the entries whose gap is gone (stale:
# remove them) and the expired ones (from their `expires` day their gaps count again).
#
# Entries are keyed on rule id, subject kind and subject id, never on line numbers. Replace each
# TODO with the reason the gap is accepted, and fix the gap before it expires. Re-running
# `flowaudit baseline --out <this file>` adds new gaps, drops fixed ones and keeps the reason and
# expiry of the others.
";

fn render(created: &str, rows: &[Row]) -> String {
    let mut s = String::from(HEADER);
    s.push_str(&format!("flowaudit_baseline: {FORMAT_VERSION}\n"));
    s.push_str(&format!("created: {}\n", scalar(created)));
    if rows.is_empty() {
        s.push_str("entries: []\n");
        return s;
    }
    s.push_str("entries:\n");
    for r in rows {
        s.push_str(&format!("  - rule: {}\n", scalar(&r.rule)));
        s.push_str(&format!("    kind: {}\n", scalar(&r.kind)));
        s.push_str(&format!("    subject: {}\n", scalar(&r.subject)));
        if let Some(sev) = &r.severity {
            s.push_str(&format!("    severity: {}\n", scalar(sev)));
        }
        s.push_str(&format!("    reason: {}\n", quoted(&r.reason)));
        s.push_str(&format!("    expires: {}\n", scalar(&r.expires)));
    }
    s
}

/// A double-quoted YAML scalar (a JSON string is one).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A plain scalar where YAML 1.2 reads it back as the same text, else a quoted one.
fn scalar(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && s.parse::<f64>().is_err()
        && !s.starts_with("0x")
        && !s.starts_with("0o")
        && !matches!(s.to_ascii_lowercase().as_str(), "true" | "false" | "null");
    if plain { s.to_string() } else { quoted(s) }
}

/// One sentence on what the baseline hid, for the verdicts of the Markdown and HTML reports; the
/// file name goes through `name` (escaping).
pub fn note(report: &CheckReport, name: impl Fn(&str) -> String) -> Option<String> {
    let b = report.baseline.as_ref()?;
    let hidden = report.summary.baselined.unwrap_or(0);
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    Some(format!(
        "{} hidden by the baseline {} ({}, {})",
        count(hidden, "gap", "gaps"),
        name(&b.file),
        count(b.stale.len(), "stale entry", "stale entries"),
        count(b.expired.len(), "expired entry", "expired entries"),
    ))
}

/// `YYYY-MM-DD` of `today` plus the default lifetime of an entry.
pub fn default_expiry(today: i64) -> String {
    dates::format_day(today + DEFAULT_DAYS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_round_trip_as_text() {
        assert_eq!(
            scalar("GDPR-ART6-NO-LAWFUL-BASIS"),
            "GDPR-ART6-NO-LAWFUL-BASIS"
        );
        assert_eq!(scalar("flow-a/party-b"), "flow-a/party-b");
        assert_eq!(scalar("2026-04-01"), "2026-04-01");
        assert_eq!(scalar("2026"), "\"2026\"");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(
            quoted(REASON_PLACEHOLDER),
            format!("\"{REASON_PLACEHOLDER}\"")
        );
    }

    #[test]
    fn rendered_file_parses_and_validates() {
        let rows = vec![Row {
            rule: "GDPR-ART6-NO-LAWFUL-BASIS".into(),
            kind: "activity".into(),
            subject: "face-collection".into(),
            severity: Some("critical".into()),
            reason: "a \"quoted\" reason: with # and\nnewline".into(),
            expires: "2026-04-01".into(),
        }];
        let text = render("2026-01-01", &rows);
        let file = SourceFile {
            path: "b.yaml".into(),
            text,
        };
        let parsed = loading::parse_source(&file).expect("parses");
        assert_eq!(
            parsed
                .value
                .pointer("/entries/0/reason")
                .and_then(Value::as_str),
            Some("a \"quoted\" reason: with # and\nnewline")
        );
        let doc = Document { file, parsed };
        assert!(schema::validate_baseline(&doc).is_empty());
        assert!(render("2026-01-01", &[]).contains("entries: []\n"));
    }
}
