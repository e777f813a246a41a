//! Reports: one result model ([`CheckReport`]) built from an evaluation, and one renderer per
//! format. The JSON rendering is the model itself (documented in `docs/results.md`).

pub mod baseline;
pub mod html;
pub mod markdown;
pub mod overview;
pub mod records;
pub mod sarif;
pub mod svg;
pub mod text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::engine::eval::{Evaluation, WaiverState};
use crate::engine::node::Missing;
use crate::engine::{Rule, Severity, Status, dates};
use crate::model::{Kind, Workspace};

/// Version of the JSON result model; bumped only on an incompatible change.
pub const RESULT_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub articles: Vec<String>,
    pub severity: Severity,
    pub subject: String,
    pub tags: Vec<String>,
    pub remediation: String,
    pub references: Vec<crate::engine::rules::RuleReference>,
    /// `builtin` or the rule file's path.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissingFact {
    /// The element the fact belongs to (`section` for `notice`, `rights`, `security`, `records`).
    pub kind: String,
    pub id: String,
    /// The field to state, inside that element.
    pub field: String,
    /// Where the element is written, when it is.
    pub location: Option<Place>,
}

#[derive(Debug, Serialize)]
pub struct WaiverRef {
    pub reason: String,
    pub approved_by: String,
    pub expires: serde_json::Value,
    pub location: Place,
}

#[derive(Debug, Serialize)]
pub struct Subject {
    pub kind: String,
    pub id: String,
}

/// The status of one rule on one subject.
#[derive(Debug, Serialize)]
pub struct Finding {
    // Shared with every other result of the same rule: a large workspace has hundreds of
    // thousands of results, and copying these per result was a third of the model's memory.
    pub rule: Arc<str>,
    pub title: Arc<str>,
    pub articles: Arc<[String]>,
    /// The rule's severity, raised by its `escalate` conditions for this subject.
    pub severity: Severity,
    pub tags: Arc<[String]>,
    pub status: Status,
    pub subject: Subject,
    pub location: Place,
    /// The rendered message, for gaps, unknowns and waived gaps.
    pub message: Option<String>,
    /// Facts to state for an unknown result.
    pub missing: Vec<MissingFact>,
    pub waiver: Option<Box<WaiverRef>>,
    /// The baseline entry hiding this gap (`check --baseline`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::BaselineRef>,
}

#[derive(Debug, Serialize)]
pub struct WaiverReport {
    pub rule: String,
    pub subject: String,
    pub state: WaiverState,
    pub reason: String,
    pub approved_by: String,
    pub expires: serde_json::Value,
    pub location: Place,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    /// Results by status.
    pub statuses: BTreeMap<&'static str, usize>,
    /// GDPR gaps by severity (AI Act overlay findings are counted apart).
    pub gaps: BTreeMap<&'static str, usize>,
    /// Gaps of rules tagged `ai-act`, by severity: EU AI Act findings, not GDPR gaps.
    pub ai_act: BTreeMap<&'static str, usize>,
    /// Gaps hidden by an unexpired baseline entry (only with `--baseline`); they are not in
    /// `gaps`, `ai_act` or `failing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baselined: Option<usize>,
    /// Gaps at or above `fail_on`.
    pub failing: usize,
    /// `blocked` when `failing > 0`, else `ready`.
    pub verdict: &'static str,
}

/// The result of `flowaudit check`, the model every report format renders.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub format_version: u32,
    pub tool: Tool,
    /// The report date (`SOURCE_DATE_EPOCH`, else today).
    pub date: String,
    /// `critical` ... `info`, or `never`.
    pub fail_on: String,
    pub summary: Summary,
    pub rules: Vec<RuleInfo>,
    /// Every status of every reported rule on every subject of its kind, sorted by rule, then
    /// file and position.
    pub results: Vec<Finding>,
    pub waivers: Vec<WaiverReport>,
    /// What the baseline did (only with `--baseline`): its stale and expired entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::BaselineReport>,
    /// The checkpoint matrix, DPIA screening, transfers, fine ceilings, penalties and the
    /// data-flow graph.
    pub overview: overview::Overview,
    /// Every rule loaded, reported or not (not serialized): a baseline entry of a rule not
    /// reported is left alone, one of a rule that does not exist is stale.
    #[serde(skip)]
    pub loaded_rules: Vec<String>,
}

fn place(loc: &crate::model::Location) -> Place {
    Place {
        file: loc.file.clone(),
        line: loc.range.start.line,
        column: loc.range.start.col,
    }
}

fn missing_fact(m: &Missing, ws: &Workspace) -> MissingFact {
    let location = match m.kind.as_str() {
        "section" => match m.id.as_str() {
            "notice" => ws.notice.as_ref().map(|s| place(&s.location)),
            "rights" => ws.rights.as_ref().map(|s| place(&s.location)),
            "security" => ws.security.as_ref().map(|s| place(&s.location)),
            "records" => ws.records.as_ref().map(|s| place(&s.location)),
            _ => None,
        },
        "transfer" => ws
            .lookup(m.id.split('/').next().unwrap_or_default())
            .and_then(|r| ws.location(r))
            .map(place),
        _ => ws.lookup(&m.id).and_then(|r| ws.location(r)).map(place),
    };
    let (kind, id, field) = if m.kind == "section" {
        (
            "section".to_string(),
            m.id.clone(),
            format!("{}.{}", m.id, m.path),
        )
    } else {
        (m.kind.clone(), m.id.clone(), m.path.clone())
    };
    MissingFact {
        kind,
        id,
        field,
        location,
    }
}

/// Builds the report model.
pub fn build(
    ev: &Evaluation,
    rules: &[Rule],
    reported: &[bool],
    ws: &Workspace,
    fail_on: Option<Severity>,
) -> CheckReport {
    let waiver_ref = |wi: usize| {
        let w = &ws.waivers[wi];
        WaiverRef {
            reason: w.data.reason.clone(),
            approved_by: w.data.approved_by.clone(),
            expires: w.data.expires.clone(),
            location: place(&w.location),
        }
    };
    type Shared = (Arc<str>, Arc<str>, Arc<[String]>, Arc<[String]>);
    let shared: Vec<Shared> = rules
        .iter()
        .map(|r| {
            (
                Arc::from(r.id.as_str()),
                Arc::from(r.title.as_str()),
                Arc::from(r.articles.as_slice()),
                Arc::from(r.tags.as_slice()),
            )
        })
        .collect();
    let mut results: Vec<Finding> = ev
        .outcomes
        .iter()
        .map(|o| {
            let (rule, title, articles, tags) = &shared[o.rule];
            let mut missing: Vec<MissingFact> =
                o.missing.iter().map(|m| missing_fact(m, ws)).collect();
            missing.sort_by(|a, b| (&a.kind, &a.id, &a.field).cmp(&(&b.kind, &b.id, &b.field)));
            Finding {
                rule: rule.clone(),
                title: title.clone(),
                articles: articles.clone(),
                severity: o.severity,
                tags: tags.clone(),
                status: o.status,
                subject: Subject {
                    kind: o.subject_kind.to_string(),
                    id: o.subject_id.clone(),
                },
                location: place(&o.location),
                message: o.message.clone(),
                missing,
                waiver: o.waiver.map(|w| Box::new(waiver_ref(w))),
                baseline: None,
            }
        })
        .collect();
    // One result per rule and subject, so the key is unique and an unstable sort is
    // deterministic; it also needs no scratch copy of the results (60 MB at 10k flows).
    results.sort_unstable_by(|a, b| {
        (&a.rule, &a.location, &a.subject.id, &a.subject.kind).cmp(&(
            &b.rule,
            &b.location,
            &b.subject.id,
            &b.subject.kind,
        ))
    });

    let summary = summarize(&results, fail_on);
    let mut waivers: Vec<WaiverReport> = ev
        .waivers
        .iter()
        .map(|u| {
            let w = &ws.waivers[u.waiver];
            WaiverReport {
                rule: w.data.rule.clone(),
                subject: w.data.subject.clone(),
                state: u.state.clone(),
                reason: w.data.reason.clone(),
                approved_by: w.data.approved_by.clone(),
                expires: w.data.expires.clone(),
                location: place(&w.location),
            }
        })
        .collect();
    waivers.sort_by(|a, b| a.location.cmp(&b.location));
    let mut infos: Vec<RuleInfo> = rules
        .iter()
        .zip(reported)
        .filter(|(_, rep)| **rep)
        .map(|(r, _)| RuleInfo {
            id: r.id.clone(),
            title: r.title.clone(),
            articles: r.articles.clone(),
            severity: r.severity,
            subject: r.subject.clone(),
            tags: r.tags.clone(),
            remediation: r.remediation.clone(),
            references: r.references.clone(),
            source: if r.origin.builtin {
                "builtin".into()
            } else {
                r.origin.file.clone()
            },
        })
        .collect();
    infos.sort_by(|a, b| a.id.cmp(&b.id));
    CheckReport {
        format_version: RESULT_FORMAT_VERSION,
        tool: Tool {
            name: "flowaudit",
            version: env!("CARGO_PKG_VERSION"),
        },
        date: dates::format_day(ev.today),
        fail_on: fail_on
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "never".into()),
        summary,
        overview: overview::build(ws, &ev.facts, &results, crate::reference::Reference::get()),
        rules: infos,
        results,
        waivers,
        baseline: None,
        loaded_rules: rules.iter().map(|r| r.id.clone()).collect(),
    }
}

/// The summary of results: statuses, gaps by severity and those at or above `fail_on`. A gap
/// hidden by a baseline entry keeps its status but counts in no gap total.
pub fn summarize(results: &[Finding], fail_on: Option<Severity>) -> Summary {
    let mut statuses: BTreeMap<&'static str, usize> =
        Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut gaps: BTreeMap<&'static str, usize> =
        Severity::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut ai_act: BTreeMap<&'static str, usize> =
        Severity::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut failing = 0;
    for f in results {
        *statuses.entry(f.status.as_str()).or_default() += 1;
        if f.status == Status::Gap && f.baseline.is_none() {
            let bucket = if is_ai_act(f) { &mut ai_act } else { &mut gaps };
            *bucket.entry(f.severity.as_str()).or_default() += 1;
            if fail_on.is_some_and(|t| f.severity.at_least(t)) {
                failing += 1;
            }
        }
    }
    Summary {
        statuses,
        gaps,
        ai_act,
        baselined: None,
        failing,
        verdict: if failing > 0 { "blocked" } else { "ready" },
    }
}

/// A gap to report: status `gap` and not hidden by a baseline entry.
pub fn is_open_gap(f: &Finding) -> bool {
    f.status == Status::Gap && f.baseline.is_none()
}

/// A finding of the EU AI Act overlay (a rule tagged `ai-act`).
pub fn is_ai_act(f: &Finding) -> bool {
    f.tags.iter().any(|t| t == "ai-act")
}

/// The JSON rendering.
pub fn json(report: &CheckReport) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}

/// Writes a report file atomically: a temporary file beside it, then a rename, so that a reader
/// never sees half a report and a failure never destroys the previous one.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    write_all_atomically(&[(path, contents)])
}

/// Writes several files (the HTML, Markdown and JSON of one report) all or nothing, as far as a
/// file system allows: each is written to a temporary file beside it and flushed to disk, and only
/// once every one is written are they renamed over the old files. A failure while writing (a full
/// disk, a file size limit, a directory in the way) leaves every previous file as it was and
/// removes the temporary files; only a failing rename (after all were written) can leave some files
/// new and others old. A process killed while writing leaves a hidden `.NAME.PID.N.tmp` file
/// beside the report, never a half-written report.
pub fn write_all_atomically(files: &[(&Path, &str)]) -> std::io::Result<()> {
    // A directory in the place of a file would make its rename fail after others were done.
    for (path, _) in files {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                format!("`{}` is a directory", crate::source::display_path(path)),
            ));
        }
    }
    let mut written: Vec<(PathBuf, &Path)> = Vec::new();
    let cleanup = |temps: &[(PathBuf, &Path)]| {
        for (tmp, _) in temps {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (path, contents) in files {
        match write_temporary(path, contents) {
            Ok(tmp) => written.push((tmp, path)),
            Err(e) => {
                cleanup(&written);
                return Err(e);
            }
        }
    }
    for (i, (tmp, path)) in written.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            cleanup(&written[i..]);
            return Err(e);
        }
    }
    // Make the renames durable too (best effort: not every platform opens directories).
    if let Some((_, path)) = written.first()
        && let Ok(dir) = std::fs::File::open(parent_dir(path))
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes `contents` to a new temporary file beside `path` (created afresh, never through an
/// existing file or link) and flushes it to disk; removes it again if that fails.
fn write_temporary(path: &Path, contents: &str) -> std::io::Result<PathBuf> {
    use std::io::Write as _;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "report".into());
    let mut n = 0;
    let (tmp, mut file) = loop {
        let tmp = parent_dir(path).join(format!(".{name}.{}.{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    };
    match file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
    {
        Ok(()) => Ok(tmp),
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// The kind name used in reports for a model kind.
pub fn kind_name(k: Kind) -> &'static str {
    k.name()
}
