//! The terminal rendering of `check`: gaps grouped by severity, then the facts to supply, the
//! waivers, and a one-line summary.

use std::fmt::Write as _;

use super::{CheckReport, Finding, Place, is_ai_act, is_open_gap};
use crate::engine::eval::WaiverState;
use crate::engine::{Severity, Status};

fn at(p: &Place) -> String {
    format!("{}:{}:{}", p.file, p.line, p.column)
}

fn subject(f: &Finding) -> String {
    format!("{} `{}`", f.subject.kind.replace('_', " "), f.subject.id)
}

/// Renders the report for a terminal (no colour: the text is the same on a terminal and in CI).
pub fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    let remediation = |rule: &str| {
        report
            .rules
            .iter()
            .find(|r| r.id == rule)
            .map(|r| r.remediation.trim().replace('\n', " "))
            .unwrap_or_default()
    };
    let finding = |out: &mut String, f: &Finding| {
        let _ = writeln!(out, "  {}  {}", f.rule, f.articles.join(", "));
        let _ = writeln!(out, "  {} at {}", subject(f), at(&f.location));
        if let Some(m) = &f.message {
            let _ = writeln!(out, "  {m}");
        }
        let _ = writeln!(out, "  fix: {}\n", remediation(&f.rule));
    };
    for sev in Severity::ALL {
        let gaps: Vec<&Finding> = report
            .results
            .iter()
            .filter(|f| is_open_gap(f) && f.severity == sev && !is_ai_act(f))
            .collect();
        if gaps.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{} ({})\n", sev.as_str(), gaps.len());
        for f in gaps {
            finding(&mut out, f);
        }
    }
    // The EU AI Act overlay: its own section, not GDPR gaps.
    let mut overlay: Vec<&Finding> = report
        .results
        .iter()
        .filter(|f| is_open_gap(f) && is_ai_act(f))
        .collect();
    overlay.sort_by_key(|f| f.severity);
    if !overlay.is_empty() {
        let _ = writeln!(out, "EU AI Act overlay ({})\n", overlay.len());
        for f in overlay {
            let _ = writeln!(out, "  [{}]", f.severity.as_str());
            finding(&mut out, f);
        }
    }
    let unknown: Vec<&Finding> = report
        .results
        .iter()
        .filter(|f| f.status == Status::Unknown)
        .collect();
    if !unknown.is_empty() {
        let _ = writeln!(
            out,
            "facts to supply ({} unknown result{})\n",
            unknown.len(),
            if unknown.len() == 1 { "" } else { "s" }
        );
        for f in unknown {
            let _ = writeln!(out, "  {} on {} at {}", f.rule, subject(f), at(&f.location));
            for m in &f.missing {
                let owner = if m.kind == "section" {
                    String::new()
                } else {
                    format!("{} `{}`: ", m.kind.replace('_', " "), m.id)
                };
                let loc = m
                    .location
                    .as_ref()
                    .map(|p| format!("  ({})", at(p)))
                    .unwrap_or_default();
                let _ = writeln!(out, "    - {owner}{}{loc}", m.field);
            }
            out.push('\n');
        }
    }
    if !report.waivers.is_empty() {
        let _ = writeln!(out, "waivers\n");
        for w in &report.waivers {
            let state = match w.state {
                WaiverState::Applied => "applied  ",
                WaiverState::Expired => "EXPIRED  ",
                WaiverState::Unmatched => "unmatched",
            };
            let expires = match &w.expires {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(
                out,
                "  {state} {} on `{}` (expires {expires}, approved by {}) at {}",
                w.rule,
                w.subject,
                w.approved_by,
                at(&w.location)
            );
            if w.state == WaiverState::Unmatched {
                let _ = writeln!(
                    out,
                    "            no gap of this rule on this subject: remove the waiver or fix its `rule` or `subject`"
                );
            }
        }
        out.push('\n');
    }
    if let Some(b) = &report.baseline {
        let hidden = report.summary.baselined.unwrap_or(0);
        let _ = writeln!(
            out,
            "baseline {}{}\n",
            b.file,
            b.created
                .as_ref()
                .map(|c| format!(" (created {c})"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "  {hidden} gap{} hidden by {} of {} entr{}",
            if hidden == 1 { "" } else { "s" },
            b.applied,
            b.entries,
            if b.entries == 1 { "y" } else { "ies" }
        );
        for e in &b.stale {
            let _ = writeln!(
                out,
                "  stale    {} on {} `{}` at {}",
                e.rule,
                e.kind.replace('_', " "),
                e.subject,
                at(&e.location)
            );
            let _ = writeln!(
                out,
                "           no gap of this rule on this subject any more: remove the entry (re-running `flowaudit baseline` does)"
            );
        }
        for e in &b.expired {
            let _ = writeln!(
                out,
                "  EXPIRED  {} on {} `{}` (expired {}) at {}",
                e.rule,
                e.kind.replace('_', " "),
                e.subject,
                e.expires,
                at(&e.location)
            );
            let _ = writeln!(
                out,
                "           the gap counts again: fix it, or extend `expires` with a reason"
            );
        }
        out.push('\n');
    }
    let s = &report.summary;
    let gap_total: usize = s.gaps.values().sum();
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|sev| {
            let n = s.gaps.get(sev.as_str()).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {}", sev.as_str()))
        })
        .collect();
    let count = |st: Status| s.statuses.get(st.as_str()).copied().unwrap_or(0);
    let verdict = if report.fail_on == "never" {
        "ready (--fail-on never)".to_string()
    } else if s.failing > 0 {
        format!(
            "blocked: {} gap{} at or above {}",
            s.failing,
            if s.failing == 1 { "" } else { "s" },
            report.fail_on
        )
    } else {
        format!("ready: no gap at or above {}", report.fail_on)
    };
    let ai_total: usize = s.ai_act.values().sum();
    let ai = if ai_total > 0 {
        format!(
            ", {ai_total} AI Act finding{}",
            if ai_total == 1 { "" } else { "s" }
        )
    } else {
        String::new()
    };
    let baselined = s
        .baselined
        .map(|n| format!(", {n} baselined"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "summary: {gap_total} gap{}{}{ai}{baselined}, {} unknown, {} waived, {} pass, {} n/a — {verdict}",
        if gap_total == 1 { "" } else { "s" },
        if by_sev.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_sev.join(", "))
        },
        count(Status::Unknown),
        count(Status::Waived),
        count(Status::Pass),
        count(Status::NotApplicable),
    );
    out
}
