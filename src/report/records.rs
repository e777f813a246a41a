//! The Art. 30(1) record of processing activities (`flowaudit records`, CHECKPOINTS §4.7,
//! `rules/reference/art30_fields.yaml`): one entry per activity with the fields r1a-r1g drawn
//! from the workspace and its derived facts, the mandatory fields that are missing or unknown,
//! and three renderings (GitHub-flavoured Markdown, RFC 4180 CSV, JSON; `docs/records.md`).
//!
//! Missing fields are content, not errors: the record says what it could not fill in, so that
//! "silence is never compliance" holds for the record too.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::value::Value;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::Place;
use crate::engine::dates;
use crate::engine::facts::{self, FactBase};
use crate::engine::node::{Derived, Missing, Node};
use crate::engine::tri::Tri;
use crate::model::{Kind, NodeRef, Workspace};
use crate::reference::Reference;

/// Version of the JSON record; bumped only on an incompatible change.
pub const RECORDS_FORMAT_VERSION: u32 = 1;

/// The Art. 30(1) record of a workspace.
#[derive(Debug, Clone, Serialize)]
pub struct Records {
    pub format_version: u32,
    /// The report date (`SOURCE_DATE_EPOCH`, else today).
    pub date: String,
    /// The flow files the workspace was read from, sorted.
    pub sources: Vec<String>,
    pub controller: ControllerRecord,
    /// One entry per activity, sorted by id.
    pub activities: Vec<ActivityRecord>,
}

/// Art. 30(1)(a): the controller, its DPO and representative, the joint controllers.
#[derive(Debug, Clone, Serialize)]
pub struct ControllerRecord {
    pub id: Option<String>,
    pub name: Option<String>,
    pub country: Option<String>,
    pub dpo: Dpo,
    pub eu_representative: Representative,
    /// Every party with role `joint_controller`, by id.
    pub joint_controllers: Vec<PartyRef>,
    /// The r1a fields missing or unknown (also listed in every activity's `missing`).
    pub missing: Vec<MissingField>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dpo {
    /// `dpo.designated` (null: not stated).
    pub designated: Option<bool>,
    /// `dpo.contact_published` (null: not stated).
    pub contact_published: Option<bool>,
    /// Whether Art. 37(1) requires one (`controller.dpo_required`; null: undecided).
    pub required: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Representative {
    /// true: one is named; false: `eu_representative: null` states there is none; null: not stated.
    pub designated: Option<bool>,
    pub name: Option<String>,
    pub country: Option<String>,
    /// Whether Art. 27 requires one (no EEA establishment, targets the EEA, not a public
    /// authority; null: undecided).
    pub required: Option<bool>,
}

/// A party as the record names it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartyRef {
    pub id: String,
    pub name: Option<String>,
    pub role: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubjectRef {
    pub id: String,
    pub name: Option<String>,
    pub category: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataCategory {
    pub id: String,
    /// The taxonomy name.
    pub name: Option<String>,
    /// The Art. 9(1) kind when the category is special-category data in this activity
    /// (biometric categories only under biometric identification, authentication or
    /// categorisation).
    pub special: Option<String>,
    /// Art. 10 data (criminal convictions and offences).
    pub criminal: bool,
}

/// Art. 30(1)(e): one leg where the data leave the EEA (or move on from a third country).
#[derive(Debug, Clone, Serialize)]
pub struct TransferRecord {
    /// The flow's id for its own hop, `<flow id>/<importer id>` for a hop implied by a chain.
    pub id: String,
    pub flow: String,
    pub exporter: String,
    pub importer: String,
    pub importer_name: Option<String>,
    pub country: String,
    /// `initial` or `onward` (null: undecided).
    pub leg: Option<String>,
    /// The effective Chapter V tool (null: not stated).
    pub mechanism: Option<String>,
    /// The Art. 49(1) derogation relied on, if any.
    pub derogation: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Retention {
    pub period: Option<String>,
    pub justification: Option<String>,
}

/// Art. 30(1)(g): the effective security of one system of the activity.
#[derive(Debug, Clone, Serialize)]
pub struct SystemSecurity {
    pub system: String,
    pub name: Option<String>,
    pub operated_by: Option<String>,
    /// Measures stated in place (`no_shared_accounts` for `shared_accounts: false`).
    pub measures: Vec<String>,
    /// Measures stated not in place.
    pub lacking: Vec<String>,
}

/// A mandatory field the record could not fill in.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingField {
    /// The Art. 30(1) item: `r1a` ... `r1g`.
    pub item: &'static str,
    /// What to state: a path in the activity (`retention.period`), or in another element
    /// (`controller.dpo.designated`, `parties[taskhive-ve].country`).
    pub field: String,
    /// Why: `not stated`, or what is wrong with what is stated.
    pub reason: String,
}

/// One entry of the record: an activity.
#[derive(Debug, Clone, Serialize)]
pub struct ActivityRecord {
    pub id: String,
    pub name: Option<String>,
    pub location: Place,
    /// r1a: joint controllers taking part in its flows (the controller is the record's).
    pub joint_controllers: Vec<PartyRef>,
    /// r1b.
    pub purpose: Option<String>,
    pub purpose_category: Option<String>,
    pub legal_basis: Option<String>,
    /// r1c.
    pub data_subjects: Vec<SubjectRef>,
    pub data_categories: Vec<DataCategory>,
    /// Art. 9(1) kinds over its flows.
    pub special_categories: Vec<String>,
    /// Any Art. 10 data.
    pub criminal_data: bool,
    /// r1d: the parties in its flows' processor chains.
    pub recipients: Vec<PartyRef>,
    /// r1e.
    pub transfers: Vec<TransferRecord>,
    /// r1f.
    pub retention: Retention,
    /// r1g: per system at either end of its flows.
    pub security: Vec<SystemSecurity>,
    /// Mandatory fields missing or unknown, by item then field.
    pub missing: Vec<MissingField>,
}

/// Security keys in schema order, with the value that means the measure is in place and the
/// measure's name.
const SECURITY: &[(&str, bool, &str)] = &[
    ("encryption_at_rest", true, "encryption_at_rest"),
    ("encryption_in_transit", true, "encryption_in_transit"),
    ("access_logging", true, "access_logging"),
    ("mfa_staff", true, "mfa_staff"),
    ("mfa_users", true, "mfa_users"),
    ("least_privilege", true, "least_privilege"),
    ("shared_accounts", false, "no_shared_accounts"),
    ("export_controls", true, "export_controls"),
    ("staff_training", true, "staff_training"),
];

const NOT_STATED: &str = "not stated";

/// Builds the record: derives the facts for `today` and reads them.
pub fn from_workspace(
    ws: &Workspace,
    reference: &Reference,
    today: i64,
    sources: Vec<String>,
) -> Records {
    let fb = facts::derive(ws, reference, today);
    build(ws, &fb, sources)
}

/// Builds the record from a workspace and its derived facts.
pub fn build(ws: &Workspace, fb: &FactBase, sources: Vec<String>) -> Records {
    let mut sources = sources;
    sources.sort();
    sources.dedup();
    let controller = controller_record(ws, fb);
    let nodes: BTreeMap<&str, &Node> = fb
        .subjects
        .get("activity")
        .map(|list| {
            list.iter()
                .map(|s| (s.id.as_str(), s.node.as_ref()))
                .collect()
        })
        .unwrap_or_default();
    let mut activities: Vec<ActivityRecord> = ws
        .activities
        .iter()
        .enumerate()
        .map(|(ai, a)| activity_record(ws, ai, nodes.get(a.id.as_str()).copied(), &controller))
        .collect();
    activities.sort_by(|a, b| a.id.cmp(&b.id));
    Records {
        format_version: RECORDS_FORMAT_VERSION,
        date: dates::format_day(fb.today),
        sources,
        controller,
        activities,
    }
}

fn str_at<'a>(raw: &'a Map<String, Json>, path: &str) -> Option<&'a str> {
    let mut cur: Option<&Json> = None;
    let mut map = raw;
    for (i, seg) in path.split('.').enumerate() {
        if i > 0 {
            map = cur?.as_object()?;
        }
        cur = map.get(seg);
    }
    cur.and_then(Json::as_str)
}

fn bool_at(raw: &Map<String, Json>, block: &str, key: &str) -> Option<bool> {
    raw.get(block)?.as_object()?.get(key)?.as_bool()
}

/// A derived yes/no fact: None while undecided.
fn derived_bool(d: Option<&Derived>) -> Option<bool> {
    let d = d?;
    if !d.missing.is_empty() || d.value.is_none() || d.value.is_undefined() {
        return None;
    }
    Some(d.value.is_true())
}

fn tri_option(t: &Tri) -> Option<bool> {
    match t {
        Tri::True => Some(true),
        Tri::False => Some(false),
        Tri::Unknown(_) => None,
    }
}

fn items(v: &Value) -> Vec<Value> {
    v.try_iter().map(|i| i.collect()).unwrap_or_default()
}

fn value_str(v: &Value) -> Option<String> {
    if v.is_none() || v.is_undefined() {
        return None;
    }
    match v.as_str() {
        Some(s) => Some(s.to_string()),
        None => Some(v.to_string()),
    }
}

/// The id of an element a derived fact holds (a party node), or the text of a plain value.
fn element_id(v: &Value) -> Option<String> {
    match v.downcast_object_ref::<Node>() {
        Some(n) => Some(n.owner.id.clone()),
        None => value_str(v),
    }
}

/// Where a missing fact is to be stated, as a path relative to the activity's entry.
fn field_path(m: &Missing, activity_id: &str) -> String {
    let elem = |plural: &str| format!("{plural}[{}].{}", m.id, m.path);
    match m.kind.as_str() {
        "activity" if m.id == activity_id => m.path.clone(),
        "activity" => elem("activities"),
        "controller" => format!("controller.{}", m.path),
        "party" => elem("parties"),
        "system" => elem("systems"),
        "data_subject" => elem("data_subjects"),
        "consent" => elem("consents"),
        "flow" => elem("flows"),
        "transfer" => elem("transfers"),
        "section" => format!("{}.{}", m.id, m.path),
        other => format!("{other}[{}].{}", m.id, m.path),
    }
}

fn missing(
    item: &'static str,
    field: impl Into<String>,
    reason: impl Into<String>,
) -> MissingField {
    MissingField {
        item,
        field: field.into(),
        reason: reason.into(),
    }
}

fn party_ref(ws: &Workspace, index: usize) -> PartyRef {
    let p = &ws.parties[index];
    PartyRef {
        id: p.id.clone(),
        name: p.data.name.clone(),
        role: p.data.role.clone(),
        country: p.data.country.clone(),
    }
}

fn controller_record(ws: &Workspace, fb: &FactBase) -> ControllerRecord {
    let joint_controllers: Vec<PartyRef> = {
        let mut v: Vec<PartyRef> = (0..ws.parties.len())
            .filter(|&i| ws.parties[i].data.role.as_deref() == Some("joint_controller"))
            .map(|i| party_ref(ws, i))
            .collect();
        v.sort();
        v
    };
    let Some(c) = &ws.controller else {
        return ControllerRecord {
            id: None,
            name: None,
            country: None,
            dpo: Dpo {
                designated: None,
                contact_published: None,
                required: None,
            },
            eu_representative: Representative {
                designated: None,
                name: None,
                country: None,
                required: None,
            },
            joint_controllers,
            missing: vec![missing("r1a", "controller", NOT_STATED)],
        };
    };
    let derived = fb
        .subjects
        .get("controller")
        .and_then(|l| l.first())
        .map(|s| s.node.derived.clone());
    let mut miss = Vec::new();
    if c.data.name.is_none() {
        miss.push(missing("r1a", "controller.name", NOT_STATED));
    }
    if c.data.country.is_none() {
        miss.push(missing("r1a", "controller.country", NOT_STATED));
    }

    // The DPO, where Art. 37(1) requires one (or may).
    let dpo = Dpo {
        designated: bool_at(&c.raw, "dpo", "designated"),
        contact_published: bool_at(&c.raw, "dpo", "contact_published"),
        required: derived_bool(derived.as_ref().and_then(|d| d.get("dpo_required"))),
    };
    match (dpo.designated, dpo.required) {
        (Some(true), _) | (None | Some(false), Some(false)) => {}
        (None, _) => miss.push(missing("r1a", "controller.dpo.designated", NOT_STATED)),
        (Some(false), Some(true)) => miss.push(missing(
            "r1a",
            "controller.dpo",
            "none designated, but Art. 37(1) requires one",
        )),
        (Some(false), None) => miss.push(missing(
            "r1a",
            "controller.dpo",
            "none designated, and whether Art. 37(1) requires one is undecided",
        )),
    }

    // The representative, where Art. 27 requires one (as GDPR-ART27-NO-EU-REPRESENTATIVE).
    let tri = |key: &str| match c.raw.get(key).and_then(Json::as_bool) {
        Some(b) => Tri::from_bool(b),
        None => Tri::unknown(Missing {
            kind: "controller".into(),
            id: c.id.clone(),
            path: key.into(),
        }),
    };
    let required = tri("eea_establishment")
        .negate()
        .and(tri("targets_eea"))
        .and(tri("public_authority").negate());
    let rep_raw = c.raw.get("eu_representative");
    let rep_obj = rep_raw.and_then(Json::as_object);
    let eu_representative = Representative {
        designated: match rep_raw {
            None => None,
            Some(Json::Null) => Some(false),
            Some(_) => Some(true),
        },
        name: rep_obj
            .and_then(|o| o.get("name"))
            .and_then(Json::as_str)
            .map(str::to_string),
        country: rep_obj
            .and_then(|o| o.get("country"))
            .and_then(Json::as_str)
            .map(str::to_string),
        required: tri_option(&required),
    };
    match (eu_representative.designated, &required) {
        (_, Tri::False) => {}
        (Some(true), _) => {
            if eu_representative.name.is_none() {
                miss.push(missing(
                    "r1a",
                    "controller.eu_representative.name",
                    NOT_STATED,
                ));
            }
            if eu_representative.country.is_none() {
                miss.push(missing(
                    "r1a",
                    "controller.eu_representative.country",
                    NOT_STATED,
                ));
            }
        }
        (Some(false), Tri::True) => miss.push(missing(
            "r1a",
            "controller.eu_representative",
            "none designated, but Art. 27 requires one",
        )),
        (Some(false), _) => miss.push(missing(
            "r1a",
            "controller.eu_representative",
            "none designated, and whether Art. 27 requires one is undecided",
        )),
        (None, _) => miss.push(missing("r1a", "controller.eu_representative", NOT_STATED)),
    }
    ControllerRecord {
        id: Some(c.id.clone()),
        name: c.data.name.clone(),
        country: c.data.country.clone(),
        dpo,
        eu_representative,
        joint_controllers,
        missing: miss,
    }
}

fn activity_record(
    ws: &Workspace,
    ai: usize,
    node: Option<&Node>,
    controller: &ControllerRecord,
) -> ActivityRecord {
    let a = &ws.activities[ai];
    let id = a.id.as_str();
    let derived = |key: &str| node.and_then(|n| n.derived.get(key));
    let mut miss: Vec<MissingField> = controller.missing.clone();
    let flows: Vec<usize> = (0..ws.flows.len())
        .filter(|&fi| ws.flows[fi].data.activity_ref.map(|r| r.index) == Some(ai))
        .collect();

    // r1b: purposes (and the legal basis, which every record template asks for).
    for (key, value) in [
        ("purpose", &a.data.purpose),
        ("purpose_category", &a.data.purpose_category),
        ("legal_basis", &a.data.legal_basis),
    ] {
        if value.is_none() {
            miss.push(missing("r1b", key, NOT_STATED));
        }
    }

    // r1c: data subjects and data categories.
    if flows.is_empty() {
        miss.push(missing(
            "r1c",
            "flows",
            "no flow of this activity: its data subjects, data and recipients are unknown",
        ));
    }
    let mut subject_ids: BTreeSet<String> = BTreeSet::new();
    let mut category_ids: BTreeSet<String> = BTreeSet::new();
    let mut parties_in_flows: BTreeSet<usize> = BTreeSet::new();
    let mut systems: BTreeSet<usize> = BTreeSet::new();
    for &fi in &flows {
        let f = &ws.flows[fi];
        subject_ids.extend(f.data.subjects.iter().cloned());
        let mut from_subject = false;
        for r in [f.data.from_ref, f.data.to_ref].into_iter().flatten() {
            match r {
                NodeRef {
                    kind: Kind::DataSubject,
                    index,
                } => {
                    from_subject = true;
                    subject_ids.insert(ws.data_subjects[index].id.clone());
                }
                NodeRef {
                    kind: Kind::Party,
                    index,
                } => {
                    parties_in_flows.insert(index);
                }
                NodeRef {
                    kind: Kind::System,
                    index,
                } => {
                    systems.insert(index);
                }
                _ => {}
            }
        }
        // `subjects: []` states that nobody's data travel; only an absent list is unknown.
        if f.data.subjects.is_empty() && !from_subject && !f.raw.contains_key("subjects") {
            miss.push(missing(
                "r1c",
                format!("flows[{}].subjects", f.id),
                NOT_STATED,
            ));
        }
        if f.data.data.is_empty() {
            miss.push(missing("r1c", format!("flows[{}].data", f.id), NOT_STATED));
        }
        category_ids.extend(f.data.data.iter().cloned());
    }
    let data_subjects: Vec<SubjectRef> = subject_ids
        .iter()
        .map(|sid| {
            let ds = ws
                .lookup(sid)
                .filter(|r| r.kind == Kind::DataSubject)
                .map(|r| &ws.data_subjects[r.index]);
            let category = ds.and_then(|d| d.data.category.clone());
            if category.is_none() {
                miss.push(missing(
                    "r1c",
                    format!("data_subjects[{sid}].category"),
                    NOT_STATED,
                ));
            }
            SubjectRef {
                id: sid.clone(),
                name: ds.and_then(|d| d.data.name.clone()),
                category,
            }
        })
        .collect();
    let special_fact = derived("special");
    let special_categories: Vec<String> = special_fact
        .map(|d| items(&d.value).iter().filter_map(value_str).collect())
        .unwrap_or_default();
    if let Some(d) = special_fact {
        for m in &d.missing {
            miss.push(missing(
                "r1c",
                field_path(m, id),
                "not stated: it decides whether the biometric categories are Art. 9 data",
            ));
        }
    }
    let data_categories: Vec<DataCategory> = category_ids
        .iter()
        .map(|cid| {
            let flags = ws.category_flags(cid);
            DataCategory {
                id: cid.clone(),
                name: flags
                    .as_ref()
                    .map(|f| f.name.clone())
                    .filter(|n| !n.is_empty()),
                special: flags
                    .as_ref()
                    .and_then(|f| f.special.clone())
                    .filter(|s| special_categories.contains(s)),
                criminal: flags.as_ref().is_some_and(|f| f.art10),
            }
        })
        .collect();
    let criminal_data = derived_bool(derived("criminal")).unwrap_or(false)
        || data_categories.iter().any(|c| c.criminal);

    // r1d: recipients, the parties in its flows' processor chains.
    let mut recipients: Vec<PartyRef> = Vec::new();
    if let Some(d) = derived("recipients") {
        for v in items(&d.value) {
            if let Some(pid) = value_str(&v)
                && let Some(r) = ws.lookup(&pid).filter(|r| r.kind == Kind::Party)
            {
                recipients.push(party_ref(ws, r.index));
            }
        }
        for m in &d.missing {
            miss.push(missing(
                "r1d",
                field_path(m, id),
                "not stated: who receives the data is unknown",
            ));
        }
    }
    recipients.sort();
    for p in &recipients {
        if p.role.is_none() {
            miss.push(missing(
                "r1d",
                format!("parties[{}].role", p.id),
                NOT_STATED,
            ));
        }
        if p.country.is_none() {
            miss.push(missing(
                "r1d",
                format!("parties[{}].country", p.id),
                NOT_STATED,
            ));
        }
    }

    // r1a: joint controllers taking part in its flows.
    let mut joint_controllers: Vec<PartyRef> = parties_in_flows
        .iter()
        .map(|&i| party_ref(ws, i))
        .chain(recipients.iter().cloned())
        .filter(|p| p.role.as_deref() == Some("joint_controller"))
        .collect();
    joint_controllers.sort();
    joint_controllers.dedup();

    // r1e: transfers, the activity's legs.
    let mut transfers: Vec<TransferRecord> = Vec::new();
    if let Some(d) = derived("transfers") {
        for v in items(&d.value) {
            let Some(leg) = v.downcast_object_ref::<Node>() else {
                continue;
            };
            let fact = |key: &str| leg.derived.get(key);
            let text = |key: &str| fact(key).and_then(|d| value_str(&d.value));
            let importer = fact("importer")
                .and_then(|d| element_id(&d.value))
                .unwrap_or_default();
            let t = TransferRecord {
                id: text("id").unwrap_or_else(|| leg.owner.id.clone()),
                flow: text("flow").unwrap_or_default(),
                exporter: fact("exporter")
                    .and_then(|d| element_id(&d.value))
                    .unwrap_or_default(),
                importer_name: ws.party(&importer).and_then(|p| p.data.name.clone()),
                importer,
                country: text("country").unwrap_or_default(),
                leg: text("leg"),
                mechanism: text("mechanism"),
                derogation: text("derogation"),
            };
            if t.mechanism.is_none() {
                for m in fact("mechanism")
                    .map(|d| d.missing.as_slice())
                    .unwrap_or_default()
                {
                    miss.push(missing("r1e", field_path(m, id), NOT_STATED));
                }
            }
            if t.mechanism.as_deref() == Some("derogation") && t.derogation.is_none() {
                for m in fact("derogation")
                    .map(|d| d.missing.as_slice())
                    .unwrap_or_default()
                {
                    miss.push(missing("r1e", field_path(m, id), NOT_STATED));
                }
            }
            transfers.push(t);
        }
        for m in &d.missing {
            miss.push(missing(
                "r1e",
                field_path(m, id),
                "not stated: whether data leave the EEA is undecided",
            ));
        }
    }
    transfers.sort_by(|a, b| a.id.cmp(&b.id));

    // r1f: retention.
    let retention = Retention {
        period: str_at(&a.raw, "retention.period").map(str::to_string),
        justification: str_at(&a.raw, "retention.justification").map(str::to_string),
    };
    match retention.period.as_deref() {
        None => miss.push(missing("r1f", "retention.period", NOT_STATED)),
        Some("indefinite") => miss.push(missing(
            "r1f",
            "retention.period",
            "indefinite: no time limit for erasure is envisaged",
        )),
        Some(_) => {}
    }

    // r1g: the effective security of the systems at either end of its flows.
    let top = ws.security.as_ref().map(|s| &s.raw);
    let mut security: Vec<SystemSecurity> = systems
        .iter()
        .map(|&si| {
            let s = &ws.systems[si];
            let own = s.raw.get("security").and_then(Json::as_object);
            let value = |key: &str| {
                own.and_then(|o| o.get(key))
                    .or_else(|| top.and_then(|t| t.get(key)))
                    .and_then(Json::as_bool)
            };
            let (mut measures, mut lacking) = (Vec::new(), Vec::new());
            for (key, good, name) in SECURITY {
                match value(key) {
                    Some(v) if v == *good => measures.push(name.to_string()),
                    Some(_) => lacking.push(name.to_string()),
                    None => {}
                }
            }
            SystemSecurity {
                system: s.id.clone(),
                name: s.data.name.clone(),
                operated_by: s.data.operated_by.clone(),
                measures,
                lacking,
            }
        })
        .collect();
    security.sort_by(|a, b| a.system.cmp(&b.system));
    for s in &security {
        if s.measures.is_empty() && s.lacking.is_empty() {
            miss.push(missing(
                "r1g",
                format!("systems[{}].security", s.system),
                "no measure stated, neither in the top-level `security` nor in the system's",
            ));
        }
    }
    if security.is_empty() && !flows.is_empty() {
        miss.push(missing(
            "r1g",
            "security",
            "no system at either end of its flows: no measure can be described",
        ));
    }

    // One entry per field, in item order.
    let mut seen = BTreeSet::new();
    miss.retain(|m| seen.insert(m.field.clone()));
    miss.sort();

    ActivityRecord {
        id: a.id.clone(),
        name: a.data.name.clone(),
        location: Place {
            file: a.location.file.clone(),
            line: a.location.range.start.line,
            column: a.location.range.start.col,
        },
        joint_controllers,
        purpose: a.data.purpose.clone(),
        purpose_category: a.data.purpose_category.clone(),
        legal_basis: a.data.legal_basis.clone(),
        data_subjects,
        data_categories,
        special_categories,
        criminal_data,
        recipients,
        transfers,
        retention,
        security,
        missing: miss,
    }
}

// ---------------------------------------------------------------------------------------------
// Renderings.

/// The JSON rendering: the model itself (`docs/records.md`).
pub fn json(records: &Records) -> String {
    let mut s = serde_json::to_string_pretty(records).unwrap_or_default();
    s.push('\n');
    s
}

/// How user text and ids are written in one rendering.
struct Style {
    text: fn(&str) -> String,
    id: fn(&str) -> String,
}

const PLAIN: Style = Style {
    text: plain,
    id: plain,
};

const MARKDOWN: Style = Style {
    text: md_escape,
    id: md_code,
};

fn plain(s: &str) -> String {
    s.to_string()
}

/// User text in GitHub-flavoured Markdown (also inside table cells): no HTML, no cell breaks,
/// one line.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = false;
    for c in s.chars() {
        let ws = c == '\n' || c == '\r' || c == '\t';
        if ws {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
            continue;
        }
        last_space = c == ' ';
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

/// An id as a code span (ids are validated; a stray backtick or bar cannot break out).
fn md_code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace('|', "\\|"))
}

fn or_not_stated(v: &Option<String>, st: &Style) -> String {
    v.as_deref()
        .map(st.text)
        .unwrap_or_else(|| NOT_STATED.into())
}

/// `Name (id)`, or the id alone.
fn named(name: &Option<String>, id: &str, st: &Style) -> String {
    match name {
        Some(n) => format!("{} ({})", (st.text)(n), (st.id)(id)),
        None => (st.id)(id),
    }
}

fn party_text(p: &PartyRef, st: &Style) -> String {
    let role = p.role.as_deref().unwrap_or("role not stated");
    let country = p
        .country
        .as_deref()
        .map(st.text)
        .unwrap_or_else(|| "country not stated".into());
    match &p.name {
        Some(n) => format!("{} ({}, {role}, {country})", (st.text)(n), (st.id)(&p.id)),
        None => format!("{} ({role}, {country})", (st.id)(&p.id)),
    }
}

fn controller_text(c: &ControllerRecord, st: &Style) -> String {
    match (&c.id, &c.name) {
        (None, _) => NOT_STATED.into(),
        (Some(id), name) => {
            let mut s = named(name, id, st);
            let country = c.country.as_deref().map(st.text);
            s.push_str(&format!(
                ", {}",
                country.unwrap_or_else(|| "country not stated".into())
            ));
            s
        }
    }
}

fn dpo_text(d: &Dpo) -> String {
    let required = match d.required {
        Some(true) => "required by Art. 37(1)",
        Some(false) => "not required by Art. 37(1)",
        None => "whether Art. 37(1) requires one is undecided",
    };
    match d.designated {
        Some(true) => match d.contact_published {
            Some(true) => "designated, contact details published".into(),
            Some(false) => "designated, contact details not published".into(),
            None => "designated, publication of contact details not stated".into(),
        },
        Some(false) => format!("none designated ({required})"),
        None => format!("not stated ({required})"),
    }
}

fn representative_text(r: &Representative, st: &Style) -> String {
    let required = match r.required {
        Some(true) => "required by Art. 27",
        Some(false) => "not required by Art. 27",
        None => "whether Art. 27 requires one is undecided",
    };
    match r.designated {
        Some(true) => format!(
            "{} ({})",
            or_not_stated(&r.name, st),
            r.country
                .as_deref()
                .map(st.text)
                .unwrap_or_else(|| "country not stated".into())
        ),
        Some(false) => format!("none designated ({required})"),
        None if r.required == Some(false) => "not required by Art. 27".into(),
        None => format!("not stated ({required})"),
    }
}

fn subject_text(s: &SubjectRef, st: &Style) -> String {
    let category = s.category.as_deref().unwrap_or("category not stated");
    match &s.name {
        Some(n) => format!("{} ({}, {category})", (st.text)(n), (st.id)(&s.id)),
        None => format!("{} ({category})", (st.id)(&s.id)),
    }
}

fn category_text(c: &DataCategory, st: &Style) -> String {
    let mut flags = Vec::new();
    if let Some(s) = &c.special {
        flags.push(format!("special: {s}"));
    }
    if c.criminal {
        flags.push("criminal (Art. 10)".to_string());
    }
    let base = named(&c.name, &c.id, st);
    if flags.is_empty() {
        base
    } else {
        // `Name (id)` becomes `Name (id; special: biometric)`.
        match base.strip_suffix(')') {
            Some(b) if c.name.is_some() => format!("{b}; {})", flags.join("; ")),
            _ => format!("{base} ({})", flags.join("; ")),
        }
    }
}

fn transfer_text(t: &TransferRecord, st: &Style) -> String {
    let importer = named(&t.importer_name, &t.importer, st);
    let leg = t.leg.as_deref().unwrap_or("undecided");
    let tool = match (t.mechanism.as_deref(), t.derogation.as_deref()) {
        (None, _) => "mechanism not stated".to_string(),
        (Some("derogation"), Some(d)) => format!("mechanism derogation ({d})"),
        (Some("derogation"), None) => "mechanism derogation (which one not stated)".to_string(),
        (Some(m), _) => format!("mechanism {m}"),
    };
    format!(
        "{} to {importer} in {}, {leg} leg from {}, {tool}",
        (st.id)(&t.id),
        (st.text)(&t.country),
        (st.id)(&t.exporter),
    )
}

fn retention_text(r: &Retention, st: &Style) -> String {
    match (&r.period, &r.justification) {
        (Some(p), Some(j)) => format!("{} ({})", (st.text)(p), (st.text)(j)),
        (Some(p), None) => format!("{} (justification not stated)", (st.text)(p)),
        (None, Some(j)) => format!("period not stated ({})", (st.text)(j)),
        (None, None) => NOT_STATED.into(),
    }
}

fn security_text(s: &SystemSecurity, st: &Style) -> String {
    let measures = if s.measures.is_empty() {
        "no measure stated".to_string()
    } else {
        s.measures.join(", ")
    };
    let mut out = format!("{}: {measures}", named(&s.name, &s.system, st));
    if !s.lacking.is_empty() {
        out.push_str(&format!(" (not in place: {})", s.lacking.join(", ")));
    }
    out
}

/// The Markdown rendering: a GitHub-flavoured document, one section per activity.
pub fn markdown(r: &Records) -> String {
    let st = &MARKDOWN;
    let mut out = String::new();
    let c = &r.controller;
    out.push_str("# Record of processing activities (GDPR Art. 30(1))\n\n");
    out.push_str("| | |\n|---|---|\n");
    out.push_str(&format!("| Controller | {} |\n", controller_text(c, st)));
    out.push_str(&format!("| Date | {} |\n", r.date));
    let sources: Vec<String> = r.sources.iter().map(|s| md_escape(s)).collect();
    out.push_str(&format!(
        "| Sources | {} |\n",
        if sources.is_empty() {
            "none".to_string()
        } else {
            sources.join("<br>")
        }
    ));
    let incomplete = r
        .activities
        .iter()
        .filter(|a| !a.missing.is_empty())
        .count();
    out.push_str(&format!(
        "| Activities | {}, {incomplete} with missing mandatory fields |\n\n",
        r.activities.len()
    ));

    out.push_str("## Controller\n\n| field | record |\n|---|---|\n");
    out.push_str(&format!("| Name | {} |\n", or_not_stated(&c.name, st)));
    if let Some(id) = &c.id {
        out.push_str(&format!("| Id | {} |\n", md_code(id)));
    }
    out.push_str(&format!(
        "| Country | {} |\n",
        or_not_stated(&c.country, st)
    ));
    out.push_str(&format!(
        "| Data protection officer | {} |\n",
        dpo_text(&c.dpo)
    ));
    out.push_str(&format!(
        "| EU representative | {} |\n",
        representative_text(&c.eu_representative, st)
    ));
    out.push_str(&format!(
        "| Joint controllers | {} |\n\n",
        list_cell(c.joint_controllers.iter().map(|p| party_text(p, st)))
    ));
    push_missing(&mut out, &c.missing, st);

    out.push_str("## Activities\n\n");
    if r.activities.is_empty() {
        out.push_str("The workspace describes no activity.\n\n");
    }
    for a in &r.activities {
        out.push_str(&format!("### {}\n\n", named(&a.name, &a.id, st)));
        out.push_str(&format!(
            "Defined in {}:{}:{}.\n\n",
            md_escape(&a.location.file),
            a.location.line,
            a.location.column
        ));
        out.push_str("| Art. 30(1) | field | record |\n|---|---|---|\n");
        let mut row = |item: &str, field: &str, value: String| {
            out.push_str(&format!("| {item} | {field} | {value} |\n"));
        };
        row("(a)", "Controller", controller_text(c, st));
        row("(a)", "Data protection officer", dpo_text(&c.dpo));
        row(
            "(a)",
            "EU representative",
            representative_text(&c.eu_representative, st),
        );
        row(
            "(a)",
            "Joint controllers",
            list_cell(a.joint_controllers.iter().map(|p| party_text(p, st))),
        );
        row("(b)", "Purpose", or_not_stated(&a.purpose, st));
        row(
            "(b)",
            "Purpose category",
            or_not_stated(&a.purpose_category, st),
        );
        row("(b)", "Legal basis", or_not_stated(&a.legal_basis, st));
        row(
            "(c)",
            "Data subjects",
            list_cell(a.data_subjects.iter().map(|s| subject_text(s, st))),
        );
        row(
            "(c)",
            "Personal data",
            list_cell(a.data_categories.iter().map(|d| category_text(d, st))),
        );
        row(
            "(c)",
            "Special categories (Art. 9)",
            if a.special_categories.is_empty() {
                "none".into()
            } else {
                a.special_categories.join(", ")
            },
        );
        row(
            "(c)",
            "Criminal data (Art. 10)",
            if a.criminal_data { "yes" } else { "no" }.into(),
        );
        row(
            "(d)",
            "Recipients",
            list_cell(a.recipients.iter().map(|p| party_text(p, st))),
        );
        row(
            "(e)",
            "Transfers to third countries",
            list_cell(a.transfers.iter().map(|t| transfer_text(t, st))),
        );
        row("(f)", "Retention", retention_text(&a.retention, st));
        row(
            "(g)",
            "Security measures",
            list_cell(a.security.iter().map(|s| security_text(s, st))),
        );
        out.push('\n');
        push_missing(&mut out, &a.missing, st);
    }
    out
}

fn list_cell(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join("<br>")
    }
}

fn push_missing(out: &mut String, missing: &[MissingField], st: &Style) {
    if missing.is_empty() {
        out.push_str("Missing mandatory fields: none.\n\n");
        return;
    }
    out.push_str("Missing mandatory fields:\n\n");
    for m in missing {
        out.push_str(&format!(
            "- {} ({}): {}\n",
            (st.id)(&m.field),
            m.item,
            (st.text)(&m.reason)
        ));
    }
    out.push('\n');
}

/// The CSV columns, in order.
pub const CSV_HEADER: &[&str] = &[
    "activity_id",
    "activity_name",
    "controller",
    "controller_country",
    "dpo",
    "eu_representative",
    "joint_controllers",
    "purpose",
    "purpose_category",
    "legal_basis",
    "data_subjects",
    "data_categories",
    "special_categories",
    "criminal_data",
    "recipients",
    "transfers",
    "retention_period",
    "retention_justification",
    "security_measures",
    "missing",
];

/// One CSV field, quoted as RFC 4180 requires.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_row(fields: &[String], out: &mut String) {
    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

/// The CSV rendering: a header row, then one row per activity; multi-valued cells are joined
/// with `; `, and every line ends in CRLF (RFC 4180).
pub fn csv(r: &Records) -> String {
    let st = &PLAIN;
    let c = &r.controller;
    let mut out = String::new();
    csv_row(
        &CSV_HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    let join = |v: Vec<String>| v.join("; ");
    for a in &r.activities {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let controller = match (&c.name, &c.id) {
            (Some(n), _) => n.clone(),
            (None, Some(id)) => id.clone(),
            (None, None) => String::new(),
        };
        csv_row(
            &[
                a.id.clone(),
                opt(&a.name),
                controller,
                opt(&c.country),
                dpo_text(&c.dpo),
                representative_text(&c.eu_representative, st),
                join(
                    a.joint_controllers
                        .iter()
                        .map(|p| party_text(p, st))
                        .collect(),
                ),
                opt(&a.purpose),
                opt(&a.purpose_category),
                opt(&a.legal_basis),
                join(
                    a.data_subjects
                        .iter()
                        .map(|s| subject_text(s, st))
                        .collect(),
                ),
                join(
                    a.data_categories
                        .iter()
                        .map(|d| category_text(d, st))
                        .collect(),
                ),
                a.special_categories.join("; "),
                if a.criminal_data { "yes" } else { "no" }.to_string(),
                join(a.recipients.iter().map(|p| party_text(p, st)).collect()),
                join(a.transfers.iter().map(|t| transfer_text(t, st)).collect()),
                opt(&a.retention.period),
                opt(&a.retention.justification),
                join(a.security.iter().map(|s| security_text(s, st)).collect()),
                join(a.missing.iter().map(|m| m.field.clone()).collect()),
            ],
            &mut out,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_user_text() {
        assert_eq!(
            md_escape("a|b <script> & c\\d\nnext"),
            "a\\|b &lt;script&gt; &amp; c\\\\d next"
        );
        assert_eq!(md_code("x|y`z"), "`x\\|y'z`");
    }

    #[test]
    fn csv_quotes_as_rfc_4180() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
