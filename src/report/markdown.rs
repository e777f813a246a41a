//! The Markdown rendering (DESIGN §7): GitHub-flavoured, short enough for a pull-request comment.
//!
//! The layout is the template `reports/report.md.j2`; this module turns a [`CheckReport`] into
//! the template's context (findings grouped by article, counts, formatted amounts, the Mermaid
//! graph) and registers the filters that escape user text: `md` for Markdown text and table
//! cells, `mermaid` for diagram labels, `url` for the rules' reference links. Markdown is not
//! auto-escaped, so the template applies `md` to every string that comes from the workspace or a
//! rule file.
//!
//! When the document would not fit a comment ([`BUDGET`]), the summary tables stay and the
//! details are shortened step by step (messages, references, rows), with a note saying so.

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::{CheckReport, Finding, Place, is_ai_act};
use crate::engine::eval::WaiverState;
use crate::engine::{Severity, Status};

/// The template, under `reports/` (embedded).
const TEMPLATE: &str = "reports/report.md.j2";

/// The largest document, in bytes, before details are shortened: GitHub's comment limit is
/// 65,536 characters; the rest is headroom for a bot's own header.
pub const BUDGET: usize = 60_000;

/// Escapes user text for Markdown: inline text and table cells. Every character that could start
/// markup (emphasis, code, links, HTML, math, strikethrough, a heading) is escaped; newlines
/// become spaces so that a table row stays one line.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut at_start = true;
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' | '*' | '_' | '[' | ']' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '#' if at_start => out.push_str("\\#"),
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
        if !c.is_whitespace() {
            at_start = false;
        }
    }
    // No autolinks from user text: GitHub links `https://...` and `www....` in plain text.
    let out = out.replace("://", ":\\/\\/");
    let lower = out.to_ascii_lowercase();
    if !lower.contains("www.") {
        return out;
    }
    let mut linked = String::with_capacity(out.len() + 4);
    let mut last = 0;
    for (i, _) in lower.match_indices("www.") {
        linked.push_str(&out[last..i + 3]);
        linked.push_str("\\.");
        last = i + 4;
    }
    linked.push_str(&out[last..]);
    linked
}

/// Escapes a label for a quoted Mermaid string (`n_x["..."]`) with Mermaid's entity codes.
pub fn mermaid(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '$' => out.push_str("#36;"),
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Makes a URL safe as a Markdown link destination: characters that would end it or break out of
/// it are percent-encoded. Anything but `http(s)://` gives an empty string (no link).
pub fn url(s: &str) -> String {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return String::new();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            ' ' => out.push_str("%20"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '"' => out.push_str("%22"),
            '\\' => out.push_str("%5C"),
            '|' => out.push_str("%7C"),
            '`' => out.push_str("%60"),
            '[' => out.push_str("%5B"),
            ']' => out.push_str("%5D"),
            c if c.is_control() => {}
            _ => out.push(c),
        }
    }
    out
}

/// A Mermaid node id from an element id: `n_` and the id with anything but `[a-z0-9]` as `_`.
fn node_id(id: &str) -> String {
    let mut out = String::from("n_");
    out.extend(id.chars().map(|c| {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '_'
        }
    }));
    out
}

/// An amount in euros with thousands separators: `EUR 23,000,000`.
fn eur(x: f64) -> String {
    if !x.is_finite() {
        return format!("EUR {x}");
    }
    let cents = (x.abs() * 100.0).round() as u128;
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(d);
    }
    let sign = if x < 0.0 { "-" } else { "" };
    if frac == 0 {
        format!("EUR {sign}{grouped}")
    } else {
        format!("EUR {sign}{grouped}.{frac:02}")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Cuts a text to `max` characters, ending it with `…`.
fn cut(s: &str, max: Option<usize>) -> String {
    let s = s.trim();
    match max {
        Some(m) if s.chars().count() > m => {
            let mut t: String = s.chars().take(m.saturating_sub(1)).collect();
            t.truncate(t.trim_end().len());
            t.push('…');
            t
        }
        _ => s.to_string(),
    }
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn at(p: &Place) -> String {
    format!("{}:{}", p.file, p.line)
}

/// `Art. 13(1)(e)` -> (`Art. 13`, its number); other citations up to their first `(`.
fn article_group(citation: Option<&String>) -> (u32, u32, String) {
    let Some(c) = citation else {
        return (2, 0, "No article".into());
    };
    if let Some(rest) = c.strip_prefix("Art. ") {
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(num) = n.parse::<u32>() {
            return (0, num, format!("Art. {n}"));
        }
    }
    let head = c.split('(').next().unwrap_or(c).trim().to_string();
    (1, 0, head)
}

/// How far details are shortened.
#[derive(Clone, Copy)]
struct Limits {
    /// Characters of a finding's message.
    message: Option<usize>,
    /// Finding rows per article group.
    rows: Option<usize>,
    /// References per rule.
    refs: Option<usize>,
    /// Characters of a remediation; `Some(0)` leaves it out.
    remediation: Option<usize>,
    /// Rows of the other tables (facts, DPIA, transfers, waivers).
    table_rows: Option<usize>,
    /// Whether to draw the data-flow diagram.
    diagram: bool,
}

const LEVELS: [Limits; 7] = [
    Limits {
        message: None,
        rows: None,
        refs: None,
        remediation: None,
        table_rows: None,
        diagram: true,
    },
    Limits {
        message: None,
        rows: None,
        refs: Some(1),
        remediation: None,
        table_rows: None,
        diagram: true,
    },
    Limits {
        message: Some(240),
        rows: None,
        refs: Some(1),
        remediation: None,
        table_rows: None,
        diagram: true,
    },
    Limits {
        message: Some(160),
        rows: Some(12),
        refs: Some(1),
        remediation: Some(400),
        table_rows: Some(40),
        diagram: true,
    },
    Limits {
        message: Some(120),
        rows: Some(6),
        refs: Some(1),
        remediation: Some(240),
        table_rows: Some(20),
        diagram: true,
    },
    Limits {
        message: Some(80),
        rows: Some(3),
        refs: Some(0),
        remediation: Some(160),
        table_rows: Some(10),
        diagram: false,
    },
    Limits {
        message: Some(60),
        rows: Some(0),
        refs: Some(0),
        remediation: Some(0),
        table_rows: Some(5),
        diagram: false,
    },
];

#[derive(Serialize)]
struct SevCount {
    name: &'static str,
    gaps: usize,
    ai_act: usize,
}

#[derive(Serialize)]
struct StatusCount {
    name: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct Row {
    rule: String,
    severity: &'static str,
    subject: String,
    place: String,
    message: String,
    /// The gap stands although a waiver names it (expired).
    expired_waiver: bool,
}

#[derive(Serialize)]
struct Reference {
    title: String,
    /// The link, for built-in rules only; empty when the reference is shown as text.
    url: String,
    /// The address as text, for a rule file's reference.
    text_url: String,
}

#[derive(Serialize)]
struct RuleNote {
    id: String,
    title: String,
    articles: String,
    remediation: String,
    references: Vec<Reference>,
    hidden_references: usize,
}

#[derive(Serialize)]
struct Group {
    title: String,
    count: usize,
    by_severity: String,
    rows: Vec<Row>,
    hidden_rows: usize,
    rules: Vec<RuleNote>,
}

#[derive(Serialize)]
struct MatrixRow {
    rule: String,
    article: String,
    severity: &'static str,
    ai_act: bool,
    gap: usize,
    unknown: usize,
    waived: usize,
    pass: usize,
    not_applicable: usize,
}

#[derive(Serialize)]
struct FactRow {
    element: String,
    place: String,
    field: String,
    rules: Vec<String>,
}

#[derive(Serialize)]
struct DpiaRow {
    activity: String,
    name: String,
    criteria_met: String,
    criteria_undecided: String,
    art35_3: String,
    national_list: String,
    required: &'static str,
    status: String,
}

#[derive(Serialize)]
struct TransferRow {
    id: String,
    leg: String,
    exporter: String,
    importer: String,
    country: String,
    access: String,
    adequacy: &'static str,
    mechanism: String,
    tia: &'static str,
    gaps: Vec<String>,
}

#[derive(Serialize)]
struct WaiverRow {
    state: &'static str,
    rule: String,
    subject: String,
    reason: String,
    approved_by: String,
    expires: String,
    place: String,
}

#[derive(Serialize)]
struct FineRow {
    tier: String,
    ceiling: String,
    basis: String,
    rules: Vec<String>,
}

#[derive(Serialize)]
struct PenaltyRow {
    order: String,
    authority: String,
    status: String,
    deadline: String,
    days_past: String,
    per_day: String,
    accrued: String,
}

#[derive(Serialize)]
struct Node {
    id: String,
    label: String,
    open: &'static str,
    close: &'static str,
}

#[derive(Serialize)]
struct Edge {
    from: String,
    to: String,
    label: String,
}

#[derive(Serialize)]
struct LinkStyle {
    indices: String,
    colour: &'static str,
}

#[derive(Serialize)]
struct ClassLine {
    class: &'static str,
    style: &'static str,
    nodes: String,
}

#[derive(Serialize)]
struct Diagram {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    link_styles: Vec<LinkStyle>,
    classes: Vec<ClassLine>,
    gap_edges: usize,
}

#[derive(Serialize)]
struct Context {
    controller: Option<String>,
    date: String,
    version: &'static str,
    fail_on: String,
    verdict: &'static str,
    verdict_text: String,
    results: usize,
    rules: usize,
    severities: Vec<SevCount>,
    statuses: Vec<StatusCount>,
    gap_total: usize,
    groups: Vec<Group>,
    ai_act: Option<Group>,
    matrix: Vec<MatrixRow>,
    facts: Vec<FactRow>,
    hidden_facts: usize,
    unknown_results: usize,
    dpia: Vec<DpiaRow>,
    hidden_dpia: usize,
    dpia_required: usize,
    transfers: Vec<TransferRow>,
    hidden_transfers: usize,
    transfers_with_gaps: usize,
    waivers: Vec<WaiverRow>,
    hidden_waivers: usize,
    waiver_counts: String,
    fines: Vec<FineRow>,
    fines_headline: String,
    unmapped: Vec<String>,
    penalties: Vec<PenaltyRow>,
    diagram: Option<Diagram>,
    /// Set when details were shortened to fit a comment.
    shortened: Option<String>,
}

fn severity_summary<'a>(fs: impl Iterator<Item = &'a Finding>) -> String {
    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in fs {
        *counts.entry(f.severity).or_default() += 1;
    }
    counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn subject(f: &Finding) -> String {
    format!("{} {}", f.subject.kind.replace('_', " "), f.subject.id)
}

fn take<T>(v: Vec<T>, max: Option<usize>) -> (Vec<T>, usize) {
    match max {
        Some(m) if v.len() > m => {
            let hidden = v.len() - m;
            (v.into_iter().take(m).collect(), hidden)
        }
        _ => (v, 0),
    }
}

fn group(report: &CheckReport, title: String, gaps: &[&Finding], lim: Limits) -> Group {
    let mut sorted: Vec<&Finding> = gaps.to_vec();
    sorted.sort_by(|a, b| {
        (a.severity, &a.rule, &a.location, &a.subject.id).cmp(&(
            b.severity,
            &b.rule,
            &b.location,
            &b.subject.id,
        ))
    });
    let rows: Vec<Row> = sorted
        .iter()
        .map(|f| Row {
            rule: f.rule.to_string(),
            severity: f.severity.as_str(),
            subject: subject(f),
            place: at(&f.location),
            message: cut(f.message.as_deref().unwrap_or(&f.title), lim.message),
            expired_waiver: f.waiver.is_some(),
        })
        .collect();
    let (rows, hidden_rows) = take(rows, lim.rows);
    // One note per rule, worst first as in the table.
    let mut seen: Vec<&str> = Vec::new();
    for f in &sorted {
        if !seen.contains(&&*f.rule) {
            seen.push(&f.rule);
        }
    }
    let rules = seen
        .iter()
        .filter_map(|id| report.rules.iter().find(|r| r.id == *id))
        .map(|r| {
            let builtin = r.source == "builtin";
            let refs: Vec<Reference> = r
                .references
                .iter()
                .map(|x| Reference {
                    title: x.title.clone(),
                    url: if builtin { url(&x.url) } else { String::new() },
                    text_url: if builtin {
                        String::new()
                    } else {
                        x.url.clone()
                    },
                })
                .collect();
            let (references, hidden_references) = take(refs, lim.refs);
            RuleNote {
                id: r.id.clone(),
                title: r.title.clone(),
                articles: r.articles.join(", "),
                remediation: if lim.remediation == Some(0) {
                    String::new()
                } else {
                    cut(&r.remediation, lim.remediation)
                },
                references,
                hidden_references,
            }
        })
        .collect();
    Group {
        title,
        count: gaps.len(),
        by_severity: severity_summary(gaps.iter().copied()),
        rows,
        hidden_rows,
        rules,
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not stated",
    }
}

fn words(v: &[String]) -> String {
    v.iter()
        .map(|s| s.replace('_', " "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b60205",
        Severity::High => "#d93f0b",
        Severity::Medium => "#b08800",
        Severity::Low => "#1d76db",
        Severity::Info => "#6a737d",
    }
}

fn diagram(report: &CheckReport) -> Option<Diagram> {
    let g = &report.overview.graph;
    if g.nodes.is_empty() && g.edges.is_empty() {
        return None;
    }
    let shape = |kind: &str| match kind {
        "controller" => ("{{", "}}"),
        "data_subject" => ("([", "])"),
        "party" => ("[[", "]]"),
        _ => ("[", "]"),
    };
    let nodes = g
        .nodes
        .iter()
        .map(|n| {
            let (open, close) = shape(&n.kind);
            let label = match &n.country {
                Some(c) => format!("{} · {c}", n.label),
                None => n.label.clone(),
            };
            Node {
                id: node_id(&n.id),
                label,
                open,
                close,
            }
        })
        .collect();
    let mut by_severity: BTreeMap<Severity, Vec<String>> = BTreeMap::new();
    let edges = g
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if let Some(w) = e.worst {
                by_severity.entry(w).or_default().push(i.to_string());
            }
            Edge {
                from: node_id(&e.from),
                to: node_id(&e.to),
                label: if e.gaps.is_empty() {
                    String::new()
                } else {
                    format!("{}: {}", e.id, plural(e.gaps.len(), "gap", "gaps"))
                },
            }
        })
        .collect();
    let link_styles = by_severity
        .into_iter()
        .map(|(s, ix)| LinkStyle {
            indices: ix.join(","),
            colour: severity_colour(s),
        })
        .collect();
    let class_styles: [(&str, &str); 4] = [
        ("controller", "fill:#dbeafe,stroke:#1e40af,color:#0b1f44"),
        ("data_subject", "fill:#fef3c7,stroke:#92400e,color:#3b1d00"),
        ("system", "fill:#eef2f5,stroke:#4b5563,color:#111827"),
        ("party", "fill:#ede9fe,stroke:#5b21b6,color:#2e1065"),
    ];
    let classes = class_styles
        .iter()
        .filter_map(|(class, style)| {
            let ids: Vec<String> = g
                .nodes
                .iter()
                .filter(|n| n.kind == *class)
                .map(|n| node_id(&n.id))
                .collect();
            (!ids.is_empty()).then(|| ClassLine {
                class,
                style,
                nodes: ids.join(","),
            })
        })
        .collect();
    Some(Diagram {
        nodes,
        edges,
        link_styles,
        classes,
        gap_edges: g.edges.iter().filter(|e| !e.gaps.is_empty()).count(),
    })
}

fn context(report: &CheckReport, lim: Limits) -> Context {
    let s = &report.summary;
    let count = |m: &BTreeMap<&'static str, usize>, k: &str| m.get(k).copied().unwrap_or(0);
    let gap_total: usize = s.gaps.values().sum();
    let verdict_text = if report.fail_on == "never" {
        "`--fail-on never`: no gap blocks".to_string()
    } else if s.failing > 0 {
        format!(
            "{} at or above {}",
            plural(s.failing, "gap", "gaps"),
            report.fail_on
        )
    } else {
        format!("no gap at or above {}", report.fail_on)
    };
    let verdict_text = match super::baseline::note(report, |f| format!("`{}`", f.replace('`', "'")))
    {
        Some(note) => format!("{verdict_text}; {note}"),
        None => verdict_text,
    };

    // Findings: GDPR gaps by primary article, the AI Act overlay apart.
    let gaps: Vec<&Finding> = report
        .results
        .iter()
        .filter(|f| super::is_open_gap(f))
        .collect();
    let mut by_article: BTreeMap<(u32, u32, String), Vec<&Finding>> = BTreeMap::new();
    let mut overlay = Vec::new();
    for f in &gaps {
        if is_ai_act(f) {
            overlay.push(*f);
        } else {
            by_article
                .entry(article_group(f.articles.first()))
                .or_default()
                .push(f);
        }
    }
    let groups: Vec<Group> = by_article
        .into_iter()
        .map(|((_, _, title), fs)| group(report, title, &fs, lim))
        .collect();
    let ai_act = (!overlay.is_empty()).then(|| group(report, "EU AI Act".into(), &overlay, lim));

    // Every reported rule, those with no subject too.
    let matrix = report
        .rules
        .iter()
        .map(|r| {
            let m = report.overview.matrix.iter().find(|m| m.rule == r.id);
            MatrixRow {
                rule: r.id.clone(),
                article: r.articles.first().cloned().unwrap_or_default(),
                severity: m.map_or(r.severity, |m| m.severity).as_str(),
                ai_act: r.tags.iter().any(|t| t == "ai-act"),
                gap: m.map_or(0, |m| m.gap),
                unknown: m.map_or(0, |m| m.unknown),
                waived: m.map_or(0, |m| m.waived),
                pass: m.map_or(0, |m| m.pass),
                not_applicable: m.map_or(0, |m| m.not_applicable),
            }
        })
        .collect();

    // Facts to supply: one row per fact, with the rules waiting for it.
    let mut facts: BTreeMap<(String, String, String), (String, Vec<String>)> = BTreeMap::new();
    let mut unknown_results = 0;
    for f in report
        .results
        .iter()
        .filter(|f| f.status == Status::Unknown)
    {
        unknown_results += 1;
        for m in &f.missing {
            let entry = facts
                .entry((m.kind.clone(), m.id.clone(), m.field.clone()))
                .or_insert_with(|| (m.location.as_ref().map(at).unwrap_or_default(), Vec::new()));
            if !entry.1.contains(&f.rule.to_string()) {
                entry.1.push(f.rule.to_string());
            }
        }
    }
    let facts: Vec<FactRow> = facts
        .into_iter()
        .map(|((kind, id, field), (place, rules))| FactRow {
            element: if kind == "section" {
                format!("section {id}")
            } else {
                format!("{} {id}", kind.replace('_', " "))
            },
            place,
            field,
            rules,
        })
        .collect();
    let (facts, hidden_facts) = take(facts, lim.table_rows);

    let ov = &report.overview;
    let dpia_required = ov.dpia.iter().filter(|d| d.required == Some(true)).count();
    let dpia: Vec<DpiaRow> = ov
        .dpia
        .iter()
        .map(|d| DpiaRow {
            activity: d.activity.clone(),
            name: d.name.clone().unwrap_or_default(),
            criteria_met: words(&d.criteria_met),
            criteria_undecided: words(&d.criteria_undecided),
            art35_3: d
                .art35_3
                .iter()
                .map(|p| format!("({p})"))
                .collect::<Vec<_>>()
                .join(", "),
            national_list: words(&d.national_list),
            required: match d.required {
                Some(true) => "required",
                Some(false) => "not required",
                None => "undecided",
            },
            status: d.status.clone().unwrap_or_default(),
        })
        .collect();
    let (dpia, hidden_dpia) = take(dpia, lim.table_rows);

    let transfers_with_gaps = ov.transfers.iter().filter(|t| !t.gaps.is_empty()).count();
    let transfers: Vec<TransferRow> = ov
        .transfers
        .iter()
        .map(|t| TransferRow {
            id: t.id.clone(),
            leg: t.leg.clone().unwrap_or_default(),
            exporter: t.exporter.clone(),
            importer: t.importer.clone(),
            country: t.country.clone().unwrap_or_default(),
            access: t.access.replace('_', " "),
            adequacy: match (t.adequacy, t.adequacy_in_scope) {
                (false, _) => "no",
                (true, Some(true)) => "yes",
                (true, Some(false)) => "listed, not in scope",
                (true, None) => "listed, scope not stated",
            },
            mechanism: t.mechanism.clone().unwrap_or_default(),
            tia: yes_no(t.tia),
            gaps: t.gaps.clone(),
        })
        .collect();
    let (transfers, hidden_transfers) = take(transfers, lim.table_rows);

    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    let waivers: Vec<WaiverRow> = report
        .waivers
        .iter()
        .map(|w| {
            let state = match w.state {
                WaiverState::Applied => "applied",
                WaiverState::Expired => "expired",
                WaiverState::Unmatched => "unmatched",
            };
            *states.entry(state).or_default() += 1;
            WaiverRow {
                state,
                rule: w.rule.clone(),
                subject: w.subject.clone(),
                reason: w.reason.clone(),
                approved_by: w.approved_by.clone(),
                expires: json_text(&w.expires),
                place: at(&w.location),
            }
        })
        .collect();
    let waiver_counts = ["applied", "expired", "unmatched"]
        .iter()
        .filter_map(|st| states.get(st).map(|n| format!("{n} {st}")))
        .collect::<Vec<_>>()
        .join(", ");
    let (waivers, hidden_waivers) = take(waivers, lim.table_rows);

    let fines: Vec<FineRow> = ov
        .fines
        .tiers
        .iter()
        .map(|t| FineRow {
            tier: t.tier.clone(),
            ceiling: if t.at_least {
                format!("at least {}", eur(t.ceiling_eur))
            } else {
                format!("up to {}", eur(t.ceiling_eur))
            },
            basis: match ov.fines.annual_turnover_eur {
                Some(tv) => format!(
                    "higher of {} and {} % of turnover {}",
                    eur(t.fixed_eur),
                    t.turnover_percent,
                    eur(tv)
                ),
                None => format!(
                    "{} or {} % of turnover, whichever is higher; turnover not stated",
                    eur(t.fixed_eur),
                    t.turnover_percent
                ),
            },
            rules: t.rules.clone(),
        })
        .collect();
    let worst_tier = ov
        .fines
        .tiers
        .iter()
        .filter(|t| !t.rules.is_empty())
        .max_by(|a, b| a.ceiling_eur.total_cmp(&b.ceiling_eur));
    let accrued: f64 = ov.penalties.iter().filter_map(|p| p.accrued_eur).sum();
    let mut headline = match worst_tier {
        Some(t) => format!(
            "{} {} (Art. {})",
            if t.at_least { "at least" } else { "up to" },
            eur(t.ceiling_eur),
            t.tier
        ),
        None => "no gap in an Art. 83 tier".into(),
    };
    if accrued > 0.0 {
        headline.push_str(&format!(", penalty payments accrued {}", eur(accrued)));
    }
    let penalties = ov
        .penalties
        .iter()
        .map(|p| PenaltyRow {
            order: p.order.clone(),
            authority: p.authority.clone().unwrap_or_default(),
            status: p.status.clone().unwrap_or_default(),
            deadline: p.deadline.as_ref().map(json_text).unwrap_or_default(),
            days_past: p
                .days_past_deadline
                .filter(|d| *d > 0)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            per_day: p.penalty_per_day_eur.map(eur).unwrap_or_default(),
            accrued: p.accrued_eur.map(eur).unwrap_or_default(),
        })
        .collect();

    Context {
        controller: ov.controller.clone(),
        date: report.date.clone(),
        version: report.tool.version,
        fail_on: report.fail_on.clone(),
        verdict: s.verdict,
        verdict_text,
        results: report.results.len(),
        rules: report.rules.len(),
        severities: Severity::ALL
            .iter()
            .map(|sev| SevCount {
                name: sev.as_str(),
                gaps: count(&s.gaps, sev.as_str()),
                ai_act: count(&s.ai_act, sev.as_str()),
            })
            .collect(),
        statuses: Status::ALL
            .iter()
            .map(|st| StatusCount {
                name: st.as_str(),
                count: count(&s.statuses, st.as_str()),
            })
            .collect(),
        gap_total,
        groups,
        ai_act,
        matrix,
        facts,
        hidden_facts,
        unknown_results,
        dpia,
        hidden_dpia,
        dpia_required,
        transfers,
        hidden_transfers,
        transfers_with_gaps,
        waivers,
        hidden_waivers,
        waiver_counts,
        fines,
        fines_headline: headline,
        unmapped: ov.fines.unmapped.clone(),
        penalties,
        diagram: if lim.diagram { diagram(report) } else { None },
        shortened: None,
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("default delimiters"),
    );
    env.add_filter("md", |s: String| md(&s));
    env.add_filter("mermaid", |s: String| mermaid(&s));
    env.add_filter("url", |s: String| url(&s));
    let source = crate::embedded::get(TEMPLATE).expect("reports/report.md.j2 is embedded");
    env.add_template(TEMPLATE, source)
        .expect("reports/report.md.j2 is a valid template");
    env
}

/// Renders the report as GitHub-flavoured Markdown, shortened to fit [`BUDGET`] if need be.
pub fn render(report: &CheckReport) -> String {
    let env = environment();
    let template = env.get_template(TEMPLATE).expect("template added");
    let shown_rows = |c: &Context| -> (usize, usize) {
        let all = c.groups.iter().chain(c.ai_act.as_ref());
        let shown = all.clone().map(|g| g.rows.len()).sum();
        let total = all.map(|g| g.count).sum();
        (shown, total)
    };
    let mut last = String::new();
    for (i, lim) in LEVELS.iter().enumerate() {
        let mut ctx = context(report, *lim);
        if i > 0 {
            let (shown, total) = shown_rows(&ctx);
            let mut what = Vec::new();
            if shown < total {
                what.push(format!("{shown} of {total} findings listed"));
            }
            if let Some(m) = lim.message {
                what.push(format!("messages cut at {m} characters"));
            }
            if let Some(r) = lim.refs {
                what.push(format!(
                    "at most {} per rule",
                    plural(r, "reference", "references")
                ));
            }
            if !lim.diagram {
                what.push("no diagram".into());
            }
            ctx.shortened = Some(what.join(", "));
        }
        last = template
            .render(minijinja::Value::from(minijinja::value::Serde(&ctx)))
            .expect("the Markdown template renders the report model");
        if last.len() <= BUDGET {
            return last;
        }
    }
    // Still too long (thousands of rules or transfers): cut at a line, and say so.
    let mut end = BUDGET - 400;
    while !last.is_char_boundary(end) {
        end -= 1;
    }
    let end = last[..end].rfind('\n').map_or(end, |i| i + 1);
    let mut out = last[..end].to_string();
    out.push_str(
        "\n</details>\n\n**The report was cut here to fit a pull-request comment.** \
         `flowaudit check --format text` or `--format json` shows everything.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md_escapes_markup() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("<script>"), "&lt;script&gt;");
        assert_eq!(md("# h"), "\\# h");
        assert_eq!(md("a # b"), "a # b");
        assert_eq!(md("[x](javascript:y)"), "\\[x\\](javascript:y)");
        assert_eq!(md("*b* _i_ `c`"), "\\*b\\* \\_i\\_ \\`c\\`");
        assert_eq!(md("a\nb"), "a b");
        assert_eq!(md("\\|"), "\\\\\\|");
        assert_eq!(md("see https://x.eu"), "see https:\\/\\/x.eu");
        assert_eq!(md("WWW.x.eu www."), "WWW\\.x.eu www\\.");
    }

    #[test]
    fn mermaid_escapes_labels() {
        assert_eq!(mermaid("a \"b\" <c>"), "a #quot;b#quot; #lt;c#gt;");
        assert_eq!(mermaid("#quot;"), "#35;quot;");
        assert_eq!(mermaid("`x` $$y$$"), "#96;x#96; #36;#36;y#36;#36;");
    }

    #[test]
    fn urls_are_http_only_and_closed() {
        assert_eq!(url("javascript:alert(1)"), "");
        assert_eq!(url("https://x/a_(b)"), "https://x/a_%28b%29");
    }

    #[test]
    fn amounts_and_ids() {
        assert_eq!(eur(23_000_000.0), "EUR 23,000,000");
        assert_eq!(eur(999.5), "EUR 999.50");
        assert_eq!(eur(100.0), "EUR 100");
        assert_eq!(node_id("crowd-annotation"), "n_crowd_annotation");
    }
}
