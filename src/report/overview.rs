//! The parts of a gap report beyond the findings (DESIGN §7): the checkpoint matrix, the DPIA
//! screening per activity, the transfers table, the statutory fine ceilings, penalty payments on
//! overdue orders, and the data-flow graph with the gaps on its edges.

use std::collections::BTreeMap;

use minijinja::value::Value;
use serde::Serialize;

use super::Finding;
use crate::engine::facts::FactBase;
use crate::engine::{Severity, Status};
use crate::model::Workspace;
use crate::reference::Reference;

/// One rule's statuses over its subjects.
#[derive(Debug, Serialize)]
pub struct MatrixRow {
    pub rule: String,
    pub title: String,
    pub articles: Vec<String>,
    pub severity: Severity,
    pub tags: Vec<String>,
    pub gap: usize,
    pub unknown: usize,
    pub waived: usize,
    pub pass: usize,
    pub not_applicable: usize,
}

#[derive(Debug, Serialize)]
pub struct DpiaRow {
    pub activity: String,
    pub name: Option<String>,
    /// WP248 criteria met.
    pub criteria_met: Vec<String>,
    /// WP248 criteria undecided for want of facts.
    pub criteria_undecided: Vec<String>,
    pub art35_3: Vec<String>,
    pub national_list: Vec<String>,
    /// `true`, `false`, or `null` when undecided.
    pub required: Option<bool>,
    /// `dpia.status` as stated.
    pub status: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TransferRow {
    pub id: String,
    pub flow: String,
    pub activity: String,
    pub exporter: String,
    pub importer: String,
    pub country: Option<String>,
    pub leg: Option<String>,
    pub access: String,
    pub adequacy: bool,
    /// Adequacy covers this importer: `null` when undecided.
    pub adequacy_in_scope: Option<bool>,
    pub mechanism: Option<String>,
    pub tia: Option<bool>,
    /// Rules with a gap on this leg.
    pub gaps: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FineTier {
    /// `83(4)`, `83(5)`, `83(6)`.
    pub tier: String,
    pub fixed_eur: f64,
    pub turnover_percent: f64,
    /// max(fixed, percent × turnover); the fixed amount when the turnover is not stated.
    pub ceiling_eur: f64,
    /// True when the turnover is not stated: the ceiling is "at least" the fixed amount.
    pub at_least: bool,
    /// Rules with gaps whose primary article falls in this tier.
    pub rules: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Fines {
    pub annual_turnover_eur: Option<f64>,
    pub tiers: Vec<FineTier>,
    /// Gaps whose primary article is not in the Art. 83 map (e.g. ePrivacy, AI Act, Art. 10).
    pub unmapped: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Penalty {
    pub order: String,
    pub authority: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub deadline: Option<serde_json::Value>,
    pub days_past_deadline: Option<i64>,
    pub penalty_per_day_eur: Option<f64>,
    pub accrued_eur: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct GraphNode {
    pub id: String,
    pub label: String,
    /// `data_subject`, `system`, `party`, `controller`.
    pub kind: String,
    /// Country, when stated (systems: where they run; parties: where they are).
    pub country: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct GraphEdge {
    /// The flow's id.
    pub id: String,
    pub from: String,
    pub to: String,
    pub activity: String,
    pub access: String,
    /// The worst severity of the gaps on the flow and its legs, if any.
    pub worst: Option<Severity>,
    /// Rules with gaps on the flow or its legs.
    pub gaps: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// Everything the report shows beside the findings.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub controller: Option<String>,
    pub matrix: Vec<MatrixRow>,
    pub dpia: Vec<DpiaRow>,
    pub transfers: Vec<TransferRow>,
    pub fines: Fines,
    pub penalties: Vec<Penalty>,
    pub graph: Graph,
}

fn derived(node: &crate::engine::node::Node, key: &str) -> Value {
    node.derived
        .get(key)
        .map(|d| d.value.clone())
        .unwrap_or(Value::from(()))
}

fn strings(v: &Value) -> Vec<String> {
    v.try_iter()
        .map(|it| it.map(|x| x.to_string()).collect())
        .unwrap_or_default()
}

fn opt_string(v: &Value) -> Option<String> {
    (!v.is_none() && !v.is_undefined()).then(|| v.to_string())
}

fn opt_bool(v: &Value) -> Option<bool> {
    (!v.is_none() && !v.is_undefined()).then(|| v.is_true())
}

/// The article number of a citation (`Art. 28(3)` -> `28`), for the Art. 83 map.
fn article_number(citation: &str) -> Option<String> {
    let rest = citation.strip_prefix("Art. ")?;
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!n.is_empty()).then_some(n)
}

pub fn build(
    ws: &Workspace,
    fb: &FactBase,
    results: &[Finding],
    reference: &Reference,
) -> Overview {
    // Checkpoint matrix.
    let mut matrix: BTreeMap<&str, MatrixRow> = BTreeMap::new();
    for f in results {
        let row = matrix.entry(&f.rule).or_insert_with(|| MatrixRow {
            rule: f.rule.to_string(),
            title: f.title.to_string(),
            articles: f.articles.to_vec(),
            severity: f.severity,
            tags: f.tags.to_vec(),
            gap: 0,
            unknown: 0,
            waived: 0,
            pass: 0,
            not_applicable: 0,
        });
        // The row shows the rule's own severity, the worst escalation aside.
        row.severity = row.severity.min(f.severity);
        match f.status {
            Status::Gap => row.gap += 1,
            Status::Unknown => row.unknown += 1,
            Status::Waived => row.waived += 1,
            Status::Pass => row.pass += 1,
            Status::NotApplicable => row.not_applicable += 1,
        }
    }

    // DPIA screening.
    let empty = Vec::new();
    let dpia = fb
        .subjects
        .get("activity")
        .unwrap_or(&empty)
        .iter()
        .map(|s| {
            let n = &s.node;
            let criteria = derived(n, "dpia_criteria");
            let undecided = criteria
                .try_iter()
                .map(|keys| {
                    keys.filter(|k| criteria.get_item(k).is_ok_and(|v| v.is_none()))
                        .map(|k| k.to_string())
                        .collect()
                })
                .unwrap_or_default();
            let raw = n.root.as_object();
            DpiaRow {
                activity: s.id.clone(),
                name: raw
                    .and_then(|r| r.get("name"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                criteria_met: strings(&derived(n, "dpia_criteria_met")),
                criteria_undecided: undecided,
                art35_3: strings(&derived(n, "art35_3")),
                national_list: strings(&derived(n, "national_list")),
                required: opt_bool(&derived(n, "dpia_required")),
                status: raw
                    .and_then(|r| r.get("dpia"))
                    .and_then(|d| d.get("status"))
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
            }
        })
        .collect();

    // Gaps by subject, for the transfers table and the graph.
    let mut gaps_on: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    for f in results.iter().filter(|f| f.status == Status::Gap) {
        gaps_on
            .entry((&f.subject.kind, &f.subject.id))
            .or_default()
            .push(f);
    }
    let rule_ids = |fs: Option<&Vec<&Finding>>| -> Vec<String> {
        let mut v: Vec<String> = fs
            .into_iter()
            .flatten()
            .map(|f| f.rule.to_string())
            .collect();
        v.sort();
        v.dedup();
        v
    };

    let transfers = fb
        .subjects
        .get("transfer")
        .unwrap_or(&empty)
        .iter()
        .map(|s| {
            let n = &s.node;
            let adequacy = derived(n, "adequacy");
            TransferRow {
                id: s.id.clone(),
                flow: derived(n, "flow").to_string(),
                activity: derived(n, "activity").to_string(),
                exporter: derived(n, "exporter").to_string(),
                importer: derived(n, "importer").to_string(),
                country: opt_string(&derived(n, "country")),
                leg: opt_string(&derived(n, "leg")),
                access: derived(n, "access").to_string(),
                adequacy: adequacy.get_attr("listed").is_ok_and(|v| v.is_true()),
                adequacy_in_scope: adequacy
                    .get_attr("in_scope")
                    .ok()
                    .and_then(|v| opt_bool(&v)),
                mechanism: opt_string(&derived(n, "mechanism")),
                tia: opt_bool(&derived(n, "tia")),
                gaps: rule_ids(gaps_on.get(&("transfer", s.id.as_str()))),
            }
        })
        .collect();

    // Fine ceilings (Art. 83), from the tiers in `rules/reference/fine_tiers.yaml`.
    let turnover = ws
        .controller
        .as_ref()
        .and_then(|c| c.data.annual_turnover_eur);
    let table = reference.tables.get("fine_tiers");
    let article_tier: BTreeMap<String, String> = table
        .and_then(|t| t.get("articles"))
        .and_then(|a| a.as_array())
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let art = a.get("article")?.as_str()?;
            let tier = a.get("tier")?.as_str()?;
            Some((art.to_string(), tier.to_string()))
        })
        .collect();
    let mut by_tier: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unmapped = Vec::new();
    for f in results
        .iter()
        .filter(|f| f.status == Status::Gap && !super::is_ai_act(f))
    {
        let tier = f
            .articles
            .first()
            .and_then(|a| article_number(a))
            .and_then(|n| article_tier.get(&n).cloned());
        match tier {
            Some(t) => by_tier.entry(t).or_default().push(f.rule.to_string()),
            None => unmapped.push(f.rule.to_string()),
        }
    }
    // Orders ignored (Art. 58(2)) also fall under 83(6).
    for f in results
        .iter()
        .filter(|f| f.status == Status::Gap && f.subject.kind == "order")
    {
        by_tier
            .entry("83(6)".into())
            .or_default()
            .push(f.rule.to_string());
    }
    unmapped.sort();
    unmapped.dedup();
    let tiers = table
        .and_then(|t| t.get("tiers"))
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let id = t.get("id")?.as_str()?.to_string();
            let fixed = t.get("fixed_eur")?.as_f64()?;
            let pct = t.get("turnover_percent")?.as_f64()?;
            let mut rules = by_tier.get(&id).cloned().unwrap_or_default();
            rules.sort();
            rules.dedup();
            Some(FineTier {
                ceiling_eur: turnover.map_or(fixed, |tv| fixed.max(tv * pct / 100.0)),
                at_least: turnover.is_none(),
                tier: id,
                fixed_eur: fixed,
                turnover_percent: pct,
                rules,
            })
        })
        .collect();

    // Penalty payments on orders.
    let penalties = fb
        .subjects
        .get("order")
        .unwrap_or(&empty)
        .iter()
        .map(|s| {
            let n = &s.node;
            let raw = n.root.as_object();
            let get = |k: &str| raw.and_then(|r| r.get(k));
            let days = derived(n, "days_past_deadline");
            let accrued = derived(n, "penalty_accrued_eur");
            Penalty {
                order: s.id.clone(),
                authority: get("authority")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                kind: get("kind").and_then(|v| v.as_str()).map(str::to_string),
                status: get("status").and_then(|v| v.as_str()).map(str::to_string),
                deadline: get("deadline").cloned(),
                days_past_deadline: i64::try_from(days.clone()).ok().filter(|_| !days.is_none()),
                penalty_per_day_eur: get("penalty_per_day_eur").and_then(|v| v.as_f64()),
                accrued_eur: f64::try_from(accrued.clone())
                    .ok()
                    .filter(|_| !accrued.is_none()),
            }
        })
        .collect();

    // The data-flow graph.
    let mut nodes = Vec::new();
    if let Some(c) = &ws.controller {
        nodes.push(GraphNode {
            id: c.id.clone(),
            label: c.data.name.clone().unwrap_or_else(|| c.id.clone()),
            kind: "controller".into(),
            country: c.data.country.clone(),
        });
    }
    for s in &ws.data_subjects {
        nodes.push(GraphNode {
            id: s.id.clone(),
            label: s.data.name.clone().unwrap_or_else(|| s.id.clone()),
            kind: "data_subject".into(),
            country: None,
        });
    }
    for s in &ws.systems {
        nodes.push(GraphNode {
            id: s.id.clone(),
            label: s.data.name.clone().unwrap_or_else(|| s.id.clone()),
            kind: "system".into(),
            country: s.data.country.clone(),
        });
    }
    for p in &ws.parties {
        nodes.push(GraphNode {
            id: p.id.clone(),
            label: p.data.name.clone().unwrap_or_else(|| p.id.clone()),
            kind: "party".into(),
            country: p.data.country.clone(),
        });
    }
    // Gaps on a flow: its own, and those on the legs it yields.
    let mut flow_gaps: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for ((kind, id), fs) in &gaps_on {
        if *kind == "flow" {
            flow_gaps.entry(id).or_default().extend(fs.iter().copied());
        }
    }
    for s in fb.subjects.get("transfer").unwrap_or(&empty) {
        if let Some(fs) = gaps_on.get(&("transfer", s.id.as_str())) {
            let flow = s.id.split('/').next().unwrap_or(&s.id);
            flow_gaps
                .entry(flow)
                .or_default()
                .extend(fs.iter().copied());
        }
    }
    let mut edges = Vec::new();
    for f in &ws.flows {
        let on = flow_gaps.get(f.id.as_str());
        edges.push(GraphEdge {
            id: f.id.clone(),
            from: f.data.from.clone(),
            to: f.data.to.clone(),
            activity: f.data.activity.clone(),
            access: f.data.access.clone(),
            worst: on.into_iter().flatten().map(|f| f.severity).min(),
            gaps: rule_ids(on),
        });
    }
    Overview {
        controller: ws
            .controller
            .as_ref()
            .map(|c| c.data.name.clone().unwrap_or_else(|| c.id.clone())),
        matrix: matrix.into_values().collect(),
        dpia,
        transfers,
        fines: Fines {
            annual_turnover_eur: turnover,
            tiers,
            unmapped,
        },
        penalties,
        graph: Graph { nodes, edges },
    }
}
