//! The HTML rendering (DESIGN §7): one self-contained file — inline CSS, an inline SVG data-flow
//! diagram, no scripts, nothing loaded from elsewhere — readable on a phone and printed.
//!
//! The layout is the template `reports/report.html.j2` (embedded). This module turns a
//! [`CheckReport`] into the template's context: findings grouped by primary article, the facts
//! to supply, counts, and the diagram from [`super::svg`]. The template's name ends in `.html.j2`,
//! so minijinja escapes every value it prints; nothing from the workspace or a rule file is marked
//! safe. The one safe value is the diagram, whose text [`super::svg`] escapes itself. Reference
//! links are made only for built-in rules with an `http(s)` address; a rule file's references are
//! shown as text.

use std::collections::BTreeMap;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde::Serialize;

use super::{CheckReport, Finding, Place, RuleInfo, is_ai_act};
use crate::engine::{Severity, Status};

/// The template, under `reports/` (embedded).
const TEMPLATE: &str = "reports/report.html.j2";

/// An amount in euros with thousands separators: `EUR 23,000,000` (cents when there are any).
pub fn eur(x: f64) -> String {
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

/// A number without a needless `.0` (`2` for 2.0, `2.5` for 2.5).
fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn at(p: &Place) -> String {
    format!("{}:{}", p.file, p.line)
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `Art. 13(1)(e)` -> (0, 13, `Art. 13`); other citations up to their first `(`, after.
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

/// An anchor id from any text: lower-case ASCII letters and digits, the rest as `-`.
fn anchor(prefix: &str, s: &str) -> String {
    let mut out = String::from(prefix);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[derive(Serialize)]
struct Reference {
    title: String,
    /// The link, for built-in rules with an `http(s)` address; else empty.
    url: String,
    /// The address shown as text when it is not linked.
    text_url: String,
}

#[derive(Serialize)]
struct Item {
    severity: &'static str,
    status: &'static str,
    subject_kind: String,
    subject_id: String,
    place: String,
    message: String,
    /// `applied` or `expired`, with the waiver's expiry date.
    waiver_state: String,
    waiver_expires: String,
}

#[derive(Serialize)]
struct RuleBlock {
    id: String,
    anchor: String,
    title: String,
    articles: String,
    /// The worst severity of the findings shown.
    severity: &'static str,
    tags: Vec<String>,
    source: String,
    remediation: String,
    references: Vec<Reference>,
    items: Vec<Item>,
}

#[derive(Serialize)]
struct Group {
    title: String,
    anchor: String,
    count: usize,
    rules: Vec<RuleBlock>,
}

#[derive(Serialize)]
struct Fact {
    kind: String,
    id: String,
    field: String,
    place: String,
    /// `RULE on kind id` for every unknown result waiting for this fact.
    needed_by: Vec<String>,
}

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
struct Verdict {
    blocked: bool,
    headline: String,
    detail: String,
}

#[derive(Serialize)]
struct Context<'a> {
    report: &'a CheckReport,
    title: String,
    verdict: Verdict,
    severities: Vec<SevCount>,
    statuses: Vec<StatusCount>,
    gap_total: usize,
    ai_total: usize,
    groups: Vec<Group>,
    ai_act: Vec<RuleBlock>,
    facts: Vec<Fact>,
    unknown_results: usize,
    /// Rule id -> anchor of its block, for rules with findings shown.
    anchors: BTreeMap<String, String>,
    diagram: Value,
}

fn references(rule: Option<&RuleInfo>) -> Vec<Reference> {
    let Some(r) = rule else { return Vec::new() };
    r.references
        .iter()
        .map(|x| {
            let url = x.url.trim();
            let lower = url.to_ascii_lowercase();
            let web = lower.starts_with("https://") || lower.starts_with("http://");
            let linked = web && r.source == "builtin";
            Reference {
                title: x.title.clone(),
                url: if linked {
                    url.to_string()
                } else {
                    String::new()
                },
                text_url: if linked {
                    String::new()
                } else {
                    url.to_string()
                },
            }
        })
        .collect()
}

fn sev_rank(s: &str) -> usize {
    Severity::ALL
        .iter()
        .position(|x| x.as_str() == s)
        .unwrap_or(Severity::ALL.len())
}

/// Rule blocks for findings, one per rule, the worst first.
fn blocks(findings: &[&Finding], rules: &BTreeMap<&str, &RuleInfo>) -> Vec<RuleBlock> {
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_rule.entry(&f.rule).or_default().push(f);
    }
    let mut out: Vec<RuleBlock> = by_rule
        .into_iter()
        .map(|(id, mut fs)| {
            fs.sort_by_key(|f| (f.severity, &f.location, &f.subject.id));
            let first = fs[0];
            let rule = rules.get(id).copied();
            RuleBlock {
                id: id.to_string(),
                anchor: anchor("rule-", id),
                title: first.title.to_string(),
                articles: first.articles.join(", "),
                severity: fs
                    .iter()
                    .map(|f| f.severity)
                    .min()
                    .unwrap_or(first.severity)
                    .as_str(),
                tags: first.tags.to_vec(),
                source: rule.map(|r| r.source.clone()).unwrap_or_default(),
                remediation: rule
                    .map(|r| r.remediation.trim().to_string())
                    .unwrap_or_default(),
                references: references(rule),
                items: fs
                    .iter()
                    .map(|f| Item {
                        severity: f.severity.as_str(),
                        status: f.status.as_str(),
                        subject_kind: f.subject.kind.replace('_', " "),
                        subject_id: f.subject.id.clone(),
                        place: at(&f.location),
                        message: f.message.clone().unwrap_or_default(),
                        waiver_state: f
                            .waiver
                            .as_ref()
                            .map(|_| {
                                if f.status == Status::Waived {
                                    "applied"
                                } else {
                                    "expired"
                                }
                            })
                            .unwrap_or_default()
                            .to_string(),
                        waiver_expires: f
                            .waiver
                            .as_ref()
                            .map(|w| json_text(&w.expires))
                            .unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| (sev_rank(a.severity), &a.id).cmp(&(sev_rank(b.severity), &b.id)));
    out
}

fn verdict(report: &CheckReport, gap_total: usize, ai_total: usize) -> Verdict {
    let mut v = verdict_without_baseline(report, gap_total, ai_total);
    if let Some(note) = super::baseline::note(report, |f| f.to_string()) {
        v.detail = format!("{} {note}.", v.detail);
    }
    v
}

fn verdict_without_baseline(report: &CheckReport, gap_total: usize, ai_total: usize) -> Verdict {
    let s = &report.summary;
    let all = gap_total + ai_total;
    let gaps = |n: usize| format!("{n} gap{}", if n == 1 { "" } else { "s" });
    if report.fail_on == "never" {
        Verdict {
            blocked: false,
            headline: "Ready for launch at threshold “never”".into(),
            detail: format!(
                "With --fail-on never no gap blocks a launch; {} found.",
                gaps(all)
            ),
        }
    } else if s.failing > 0 {
        Verdict {
            blocked: true,
            headline: "Blocked".into(),
            detail: format!(
                "{} at or above {} severity (the --fail-on threshold) must be fixed or waived.",
                gaps(s.failing),
                report.fail_on
            ),
        }
    } else {
        let below = all - s.failing;
        Verdict {
            blocked: false,
            headline: format!("Ready for launch at threshold “{}”", report.fail_on),
            detail: if below > 0 {
                format!(
                    "No gap at or above {} severity; {} below it remain.",
                    report.fail_on,
                    gaps(below)
                )
            } else {
                format!("No gap at or above {} severity.", report.fail_on)
            },
        }
    }
}

fn context(report: &CheckReport) -> Context<'_> {
    let rules: BTreeMap<&str, &RuleInfo> =
        report.rules.iter().map(|r| (r.id.as_str(), r)).collect();

    // Findings by primary article (gaps and waived gaps; the AI Act overlay apart).
    let mut by_article: BTreeMap<(u32, u32, String), Vec<&Finding>> = BTreeMap::new();
    let mut overlay: Vec<&Finding> = Vec::new();
    for f in &report.results {
        if !matches!(f.status, Status::Gap | Status::Waived) || f.baseline.is_some() {
            continue;
        }
        if is_ai_act(f) {
            overlay.push(f);
        } else {
            by_article
                .entry(article_group(f.articles.first()))
                .or_default()
                .push(f);
        }
    }
    let groups: Vec<Group> = by_article
        .into_iter()
        .map(|((_, _, title), fs)| Group {
            anchor: anchor("art-", &title),
            count: fs.len(),
            rules: blocks(&fs, &rules),
            title,
        })
        .collect();
    let ai_act = blocks(&overlay, &rules);
    let mut anchors = BTreeMap::new();
    for b in groups.iter().flat_map(|g| &g.rules).chain(&ai_act) {
        anchors.insert(b.id.clone(), b.anchor.clone());
    }

    // Facts to supply: each missing fact once, with the results waiting for it.
    let mut facts: BTreeMap<(String, String, String), Fact> = BTreeMap::new();
    let mut unknown_results = 0;
    for f in report
        .results
        .iter()
        .filter(|f| f.status == Status::Unknown)
    {
        unknown_results += 1;
        for m in &f.missing {
            let fact = facts
                .entry((m.kind.clone(), m.id.clone(), m.field.clone()))
                .or_insert_with(|| Fact {
                    kind: m.kind.replace('_', " "),
                    id: m.id.clone(),
                    field: m.field.clone(),
                    place: m.location.as_ref().map(at).unwrap_or_default(),
                    needed_by: Vec::new(),
                });
            let by = format!(
                "{} on {} {}",
                f.rule,
                f.subject.kind.replace('_', " "),
                f.subject.id
            );
            if !fact.needed_by.contains(&by) {
                fact.needed_by.push(by);
            }
        }
    }

    let s = &report.summary;
    let severities = Severity::ALL
        .iter()
        .map(|sev| SevCount {
            name: sev.as_str(),
            gaps: s.gaps.get(sev.as_str()).copied().unwrap_or(0),
            ai_act: s.ai_act.get(sev.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let statuses = Status::ALL
        .iter()
        .map(|st| StatusCount {
            name: st.as_str(),
            count: s.statuses.get(st.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let gap_total = s.gaps.values().sum();
    let ai_total = s.ai_act.values().sum();
    let title = match &report.overview.controller {
        Some(c) => format!("GDPR gap report: {c}"),
        None => "GDPR gap report".into(),
    };
    Context {
        report,
        title,
        verdict: verdict(report, gap_total, ai_total),
        severities,
        statuses,
        gap_total,
        ai_total,
        groups,
        ai_act,
        facts: facts.into_values().collect(),
        unknown_results,
        anchors,
        diagram: Value::from_safe_string(super::svg::render(&report.overview.graph)),
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    // Escapes `& < > " '` (the default formatter also escapes `/`, which only makes paths and
    // addresses harder to read in the source).
    env.set_formatter(|out, state, value| {
        if *state.auto_escape() == AutoEscape::Html
            && !value.is_safe()
            && let Some(s) = value.as_str()
        {
            out.write_str(&super::svg::escape(s))?;
            return Ok(());
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_filter("eur", eur);
    env.add_filter("num", num);
    env.add_filter(
        "plural",
        |n: usize, one: String, many: String| {
            if n == 1 { one } else { many }
        },
    );
    env.add_filter("text", |v: Value| -> String {
        if v.is_none() || v.is_undefined() {
            String::new()
        } else {
            v.to_string()
        }
    });
    env
}

/// Renders the report as one self-contained HTML document.
pub fn render(report: &CheckReport) -> String {
    let mut env = environment();
    let source = crate::embedded::get(TEMPLATE).unwrap_or_default();
    let rendered = env
        .add_template(TEMPLATE, source)
        .and_then(|()| env.get_template(TEMPLATE))
        .and_then(|t| t.render(Value::from(minijinja::value::Serde(&context(report)))));
    match rendered {
        Ok(mut s) => {
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        // The template is part of the binary and tested; this is a bug, shown rather than hidden.
        Err(e) => format!(
            "<!doctype html>\n<html lang=\"en\"><meta charset=\"utf-8\"><title>flowaudit report \
             error</title><h1>The report could not be rendered</h1><pre>{}</pre></html>\n",
            super::svg::escape(&format!("{e:#}"))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_grouped() {
        assert_eq!(eur(46_000_000.0), "EUR 46,000,000");
        assert_eq!(eur(999.5), "EUR 999.50");
        assert_eq!(eur(0.0), "EUR 0");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(2.5), "2.5");
    }

    #[test]
    fn articles_group_by_number() {
        assert_eq!(
            article_group(Some(&"Art. 13(1)(e)".to_string())),
            (0, 13, "Art. 13".into())
        );
        assert_eq!(
            article_group(Some(&"AI Act Art. 5(1)(e)".to_string())),
            (1, 0, "AI Act Art. 5".into())
        );
        assert_eq!(anchor("art-", "AI Act Art. 5"), "art-ai-act-art-5");
    }

    #[test]
    fn the_template_is_embedded() {
        assert!(crate::embedded::get(TEMPLATE).is_some());
    }
}
