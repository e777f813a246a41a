//! Derived facts (`schemas/facts.schema.json`, CHECKPOINTS §2): computed once per workspace, in
//! time linear in its size, and exposed to rules as [`Node`]s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use minijinja::value::Value;
use serde_json::{Map, Value as Json};

use super::dates;
use super::node::{Derived, Missing, Node, Owner};
use super::shapes::Shapes;
use super::tri::Tri;
use crate::model::{Kind, Location, NodeRef, Workspace};
use crate::reference::Reference;

/// Data categories that are images, video or audio of people (CHECKPOINTS §2.1), with their
/// subcategories.
const MEDIA: &[&str] = &[
    "user.content.image",
    "user.content.video",
    "user.content.audio",
    "user.content.self_image",
    "user.sensor.home",
    "user.biometric.face",
    "user.biometric.voice",
];

/// `biometric_use` values under which biometric categories are Art. 9 data (Art. 4(14)).
const BIOMETRIC_PROCESSING: &[&str] = &["identification", "authentication", "categorisation"];

/// A subject the rules evaluate: its kind, id, where it is written, and its node.
#[derive(Debug, Clone)]
pub struct Subject {
    pub kind: &'static str,
    pub id: String,
    pub location: Arc<Location>,
    pub node: Arc<Node>,
    /// For flows and legs: the activity, for `activity`, `notice` and `consent` in the context.
    pub activity: Option<usize>,
}

/// Every subject with its facts, and the context shared by all rules.
pub struct FactBase {
    pub subjects: BTreeMap<&'static str, Vec<Subject>>,
    pub controller: Value,
    /// The top-level sections (absent ones are empty nodes).
    pub sections: BTreeMap<&'static str, Value>,
    /// Per activity: its effective notice, and its consent node (or none).
    pub activity_notice: Vec<Value>,
    pub activity_consent: Vec<Value>,
    /// Every element node by id, for `lookup(id)`.
    pub by_id: HashMap<String, Value>,
    /// The report date, days since 1970-01-01.
    pub today: i64,
    /// Every subject by kind (`workspace.flow`, `workspace.party`, ...), for rules that look across.
    pub workspace: Value,
}

fn miss(kind: &str, id: &str, path: &str) -> Missing {
    Missing {
        kind: kind.to_string(),
        id: id.to_string(),
        path: path.to_string(),
    }
}

fn get<'a>(raw: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let mut cur: Option<&Json> = None;
    let mut map = raw;
    for (i, seg) in path.split('.').enumerate() {
        if i > 0 {
            map = cur?.as_object()?;
        }
        cur = map.get(seg);
    }
    cur
}

fn get_bool(raw: &Map<String, Json>, path: &str) -> Option<bool> {
    get(raw, path).and_then(Json::as_bool)
}

fn get_str<'a>(raw: &'a Map<String, Json>, path: &str) -> Option<&'a str> {
    get(raw, path).and_then(Json::as_str)
}

/// A stated boolean as a three-valued fact; absent is unknown.
fn tri_bool(raw: &Map<String, Json>, path: &str, kind: &str, id: &str) -> Tri {
    match get_bool(raw, path) {
        Some(b) => Tri::from_bool(b),
        None => Tri::unknown(miss(kind, id, path)),
    }
}

fn derived_tri(t: Tri) -> Derived {
    match t {
        Tri::True => Derived::known(true),
        Tri::False => Derived::known(false),
        Tri::Unknown(m) => Derived::undecided(m),
    }
}

/// Key-by-key overlay of `over` on `base` (lists replaced whole).
fn overlay(base: Option<&Json>, over: Option<&Json>) -> Json {
    let mut out = base.and_then(Json::as_object).cloned().unwrap_or_default();
    if let Some(o) = over.and_then(Json::as_object) {
        for (k, v) in o {
            out.insert(k.clone(), v.clone());
        }
    }
    Json::Object(out)
}

fn ids(list: impl IntoIterator<Item = impl Into<String>>) -> Value {
    Value::from(
        list.into_iter()
            .map(|s| Value::from(s.into()))
            .collect::<Vec<_>>(),
    )
}

/// Which organisation an id stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Org {
    Controller,
    Party(usize),
}

struct Ctx<'a> {
    ws: &'a Workspace,
    reference: &'a Reference,
    today: i64,
    controller_id: String,
    /// Categories that are images, video or audio of people (`tunables.media_categories`).
    media: Vec<String>,
}

impl Ctx<'_> {
    fn org_of(&self, r: NodeRef) -> Option<Org> {
        match r.kind {
            Kind::Controller => Some(Org::Controller),
            Kind::Party => Some(Org::Party(r.index)),
            Kind::System => {
                let op = self.ws.systems[r.index].data.operator?;
                self.org_of(op)
            }
            _ => None,
        }
    }

    fn org_id(&self, o: Org) -> String {
        match o {
            Org::Controller => self.controller_id.clone(),
            Org::Party(i) => self.ws.parties[i].id.clone(),
        }
    }

    fn org_country(&self, o: Org) -> Result<String, Missing> {
        match o {
            Org::Controller => self
                .ws
                .controller
                .as_ref()
                .and_then(|c| c.data.country.clone())
                .ok_or_else(|| miss("controller", &self.controller_id, "country")),
            Org::Party(i) => {
                let p = &self.ws.parties[i];
                p.data
                    .country
                    .clone()
                    .ok_or_else(|| miss("party", &p.id, "country"))
            }
        }
    }

    /// Whether the GDPR applies to the controller's processing (Art. 3).
    fn gdpr_applies(&self) -> Tri {
        let Some(c) = &self.ws.controller else {
            return Tri::unknown(miss("controller", "controller", "eea_establishment"));
        };
        let est = tri_bool(&c.raw, "eea_establishment", "controller", &c.id);
        let targets = tri_bool(&c.raw, "targets_eea", "controller", &c.id);
        est.or(targets)
    }

    /// Whether biometric categories processed for `use` are Art. 9 data: identification and
    /// categorisation always; authentication as most EU authorities hold, unless the tunable
    /// `biometric_authentication_is_special` says otherwise (CHECKPOINTS §2.1).
    fn biometric_special(&self, biometric_use: &str) -> bool {
        match biometric_use {
            "authentication" => self
                .reference
                .tables
                .get("tunables")
                .and_then(|t| t.get("biometric_authentication_is_special"))
                .and_then(Json::as_bool)
                .unwrap_or(true),
            u => BIOMETRIC_PROCESSING.contains(&u),
        }
    }

    fn is_eea(&self, country: &str) -> bool {
        self.reference.is_eea(country)
    }

    /// Adequacy of `country` for a recipient party (CHECKPOINTS §2.2).
    fn adequacy(&self, country: Option<&str>, importer: Option<usize>, hr: &Tri) -> (Json, Tri) {
        let Some(country) = country else {
            return (
                serde_json::json!({"listed": null, "decision": null, "scope": null, "in_scope": null}),
                Tri::Unknown(Vec::new()),
            );
        };
        let decision = self.reference.adequacy.iter().find(|d| {
            d.country == country
                && d.status == "in_force"
                && d.adopted
                    .as_deref()
                    .and_then(|a| dates::day_range(&Json::String(a.to_string())))
                    .is_none_or(|(start, _)| start <= self.today)
                && d.expires
                    .as_deref()
                    .and_then(|e| dates::day_range(&Json::String(e.to_string())))
                    .is_none_or(|(_, end)| end >= self.today)
        });
        let in_scope = match decision {
            None => Tri::False,
            Some(d) => match d.scope.as_str() {
                "dpf_certified" => match importer {
                    None => Tri::False,
                    // Public bodies cannot join the DPF.
                    Some(i)
                        if self.ws.parties[i].data.role.as_deref() == Some("public_authority") =>
                    {
                        Tri::False
                    }
                    Some(i) => {
                        let p = &self.ws.parties[i];
                        let cert = tri_bool(&p.raw, "dpf_certified", "party", &p.id);
                        let scope = match (p.data.dpf_scope.as_deref(), hr) {
                            (Some("both"), _) => Tri::True,
                            (Some(s), Tri::True) => Tri::from_bool(s == "hr"),
                            (Some(s), Tri::False) => Tri::from_bool(s == "non_hr"),
                            (Some(_), Tri::Unknown(m)) => Tri::Unknown(m.clone()),
                            (None, _) => Tri::unknown(miss("party", &p.id, "dpf_scope")),
                        };
                        cert.and(scope)
                    }
                },
                "commercial" | "private_sector_supplementary_rules" => match importer {
                    None => Tri::True,
                    Some(i) => {
                        let p = &self.ws.parties[i];
                        match p.data.role.as_deref() {
                            Some(r) => Tri::from_bool(r != "public_authority"),
                            None => Tri::unknown(miss("party", &p.id, "role")),
                        }
                    }
                },
                _ => Tri::True,
            },
        };
        let json = serde_json::json!({
            "listed": decision.is_some(),
            "decision": decision.and_then(|d| d.decision.clone()),
            "scope": decision.map(|d| d.scope.clone()),
            "in_scope": in_scope.decided(),
        });
        (json, in_scope)
    }

    /// Art. 9 kinds, criminal, highly personal, media, location, children over data categories.
    fn classify(&self, data: &[String], biometric_use: Option<&str>, activity_id: &str) -> Classes {
        let mut c = Classes::default();
        let mut special = BTreeSet::new();
        let mut biometric_pending = false;
        for cat in data {
            if let Some(flags) = self.ws.category_flags(cat) {
                if let Some(s) = flags.special {
                    if s == "biometric" {
                        match biometric_use {
                            Some(u) if self.biometric_special(u) => {
                                special.insert(s);
                            }
                            Some(_) => {}
                            None => biometric_pending = true,
                        }
                    } else {
                        special.insert(s);
                    }
                }
                c.criminal |= flags.art10;
                c.highly_personal |= flags.highly_personal;
            }
            c.media |= self
                .media
                .iter()
                .any(|m| cat == m || cat.starts_with(&format!("{m}.")));
            c.location |= cat == "user.location" || cat.starts_with("user.location.");
            c.children |= cat == "user.childrens" || cat.starts_with("user.childrens.");
        }
        c.special = special.into_iter().collect();
        if biometric_pending {
            c.special_missing = vec![miss("activity", activity_id, "biometric_use")];
        }
        c
    }
}

#[derive(Default, Clone)]
struct Classes {
    special: Vec<String>,
    /// Non-empty when biometric categories are carried but `biometric_use` is not stated.
    special_missing: Vec<Missing>,
    criminal: bool,
    highly_personal: bool,
    media: bool,
    location: bool,
    children: bool,
}

/// Plain facts of a flow, before nodes are built.
struct FlowFacts {
    exporter: Option<Org>,
    recipient: Result<Option<usize>, Missing>,
    country: Result<String, Vec<Missing>>,
    classes: Classes,
    subject_ids: Result<Vec<String>, Missing>,
    hr: Tri,
    chain: Vec<usize>,
    transfer: Json,
}

/// A candidate hop: id, exporter, importer, destination, tool, whether it is the flow's own.
type Hop = (String, Org, usize, Result<String, Vec<Missing>>, Json, bool);

/// A leg (transfer subject) before its node is built.
struct Leg {
    id: String,
    flow: usize,
    exporter: Org,
    importer: usize,
    country: String,
    onward: Tri,
    access: String,
    tool: Json,
    adequacy: Json,
    in_scope: Tri,
}

/// Computes every fact of the workspace.
pub fn derive(ws: &Workspace, reference: &Reference, today: i64) -> FactBase {
    let shapes = Shapes::get();
    let controller_id = ws
        .controller
        .as_ref()
        .map(|c| c.id.clone())
        .unwrap_or_else(|| "controller".to_string());
    let media: Vec<String> = reference
        .tables
        .get("tunables")
        .and_then(|t| t.get("media_categories"))
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_else(|| MEDIA.iter().map(|s| s.to_string()).collect());
    let cx = Ctx {
        ws,
        reference,
        today,
        controller_id: controller_id.clone(),
        media,
    };
    let mut fb = FactBase {
        subjects: BTreeMap::new(),
        // No controller stated: an empty, falsy controller whose fields are missing facts.
        controller: absent_element(Kind::Controller, "controller", "controller", true),
        sections: BTreeMap::new(),
        activity_notice: Vec::new(),
        activity_consent: Vec::new(),
        by_id: HashMap::new(),
        today,
        workspace: Value::from(()),
    };

    // Sections.
    let section_node = |name: &'static str, raw: Option<&Map<String, Json>>| -> Value {
        let derived = if name == "notice" {
            notice_facts(raw, "section", "notice", "")
        } else {
            BTreeMap::new()
        };
        let mut node = Node::element(
            Owner {
                kind: Kind::Controller,
                kind_name: "section",
                id: name.to_string(),
            },
            shapes.of(name),
            raw.map(|m| Json::Object(m.clone())).unwrap_or(Json::Null),
            derived,
        );
        if raw.is_none() {
            // Reads inside an absent section are missing facts; the section itself is falsy.
            node.pointer = "/absent".to_string();
        }
        Value::from_object(node)
    };
    for (name, sec) in [
        ("notice", &ws.notice),
        ("rights", &ws.rights),
        ("security", &ws.security),
        ("records", &ws.records),
    ] {
        fb.sections
            .insert(name, section_node(name, sec.as_ref().map(|s| &s.raw)));
    }

    // Who receives what, and each system's flows (one pass over the flows).
    let mut party_receives: Vec<Vec<String>> = vec![Vec::new(); ws.parties.len()];
    let mut system_flows: Vec<Vec<String>> = vec![Vec::new(); ws.systems.len()];
    let mut flow_facts: Vec<FlowFacts> = Vec::with_capacity(ws.flows.len());
    for f in &ws.flows {
        let act = f.data.activity_ref.map(|r| &ws.activities[r.index]);
        let act_id = act.map(|a| a.id.as_str()).unwrap_or("");
        let from = f.data.from_ref;
        let to = f.data.to_ref;
        for r in [from, to].into_iter().flatten() {
            if r.kind == Kind::System {
                system_flows[r.index].push(f.id.clone());
            }
        }
        let recipient: Result<Option<usize>, Missing> = match to {
            Some(NodeRef {
                kind: Kind::Party,
                index,
            }) => Ok(Some(index)),
            Some(NodeRef {
                kind: Kind::System,
                index,
            }) => {
                let sys = &ws.systems[index];
                match sys.data.operator {
                    Some(op) => Ok(match cx.org_of(op) {
                        Some(Org::Party(p)) => Some(p),
                        _ => None,
                    }),
                    None => Err(miss("system", &sys.id, "operated_by")),
                }
            }
            _ => Ok(None),
        };
        if let Ok(Some(p)) = recipient {
            party_receives[p].push(f.id.clone());
        }
        let exporter = match from {
            Some(NodeRef {
                kind: Kind::DataSubject,
                ..
            }) => Some(Org::Controller),
            Some(r) => cx.org_of(r),
            None => None,
        };
        let receiving_org: Result<Org, Missing> = match &recipient {
            Ok(Some(p)) => Ok(Org::Party(*p)),
            Ok(None) => Ok(Org::Controller),
            Err(m) => Err(m.clone()),
        };
        let system_country = match to {
            Some(NodeRef {
                kind: Kind::System,
                index,
            }) => ws.systems[index].data.country.clone(),
            _ => None,
        };
        let country = if f.data.access == "copy" && system_country.is_some() {
            Ok(system_country.unwrap_or_default())
        } else {
            match &receiving_org {
                Ok(o) => cx.org_country(*o).map_err(|m| {
                    let mut ms = vec![m];
                    if let (
                        Some(NodeRef {
                            kind: Kind::System,
                            index,
                        }),
                        "copy",
                    ) = (to, f.data.access.as_str())
                    {
                        ms.push(miss("system", &ws.systems[index].id, "country"));
                    }
                    ms
                }),
                Err(m) => Err(vec![m.clone()]),
            }
        };
        let classes = cx.classify(
            &f.data.data,
            act.and_then(|a| a.data.biometric_use.as_deref()),
            act_id,
        );
        let mut subject_ids = f.data.subjects.clone();
        if let Some(NodeRef {
            kind: Kind::DataSubject,
            index,
        }) = from
        {
            let id = ws.data_subjects[index].id.clone();
            if !subject_ids.contains(&id) {
                subject_ids.push(id);
            }
        }
        // `subjects: []` states that nobody's data travel; only an absent list is undecided.
        let subject_ids = if subject_ids.is_empty() && !f.raw.contains_key("subjects") {
            Err(miss("flow", &f.id, "subjects"))
        } else {
            Ok(subject_ids)
        };
        let hr = match &subject_ids {
            Ok(list) => Tri::any(list.iter().filter_map(|s| ws.lookup(s)).map(|r| {
                let ds = &ws.data_subjects[r.index];
                match ds.data.category.as_deref() {
                    Some(c) => Tri::from_bool(matches!(c, "employee" | "worker")),
                    None => Tri::unknown(miss("data_subject", &ds.id, "category")),
                }
            })),
            Err(m) => Tri::unknown(m.clone()),
        };
        let chain = match recipient {
            Ok(Some(p)) => ws
                .chain(&ws.parties[p].id)
                .iter()
                .filter_map(|e| ws.lookup(&e.id).map(|r| r.index))
                .collect(),
            _ => Vec::new(),
        };
        let party_transfer = match recipient {
            Ok(Some(p)) => ws.parties[p].raw.get("transfer"),
            _ => None,
        };
        let transfer = overlay(party_transfer, f.raw.get("transfer"));
        flow_facts.push(FlowFacts {
            exporter,
            recipient,
            country,
            classes,
            subject_ids,
            hr,
            chain,
            transfer,
        });
    }

    // Indexes over the flows, so that rules ask "who writes to this system", "who reviews for
    // this activity" of their own subject instead of scanning every flow of the workspace (which
    // made them quadratic: 2,000 flows took seconds and ran out of fuel).
    let mut written_by: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); ws.systems.len()];
    let mut read_by: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); ws.systems.len()];
    let mut upstream: Vec<BTreeSet<String>> = vec![BTreeSet::new(); ws.systems.len()];
    let mut reviewers: Vec<BTreeSet<String>> = vec![BTreeSet::new(); ws.activities.len()];
    let mut reviews_for: Vec<BTreeSet<String>> = vec![BTreeSet::new(); ws.parties.len()];
    for (f, ff) in ws.flows.iter().zip(&flow_facts) {
        let act = f.data.activity_ref.map(|r| r.index);
        if let Some(NodeRef {
            kind: Kind::System,
            index: to,
        }) = f.data.to_ref
        {
            written_by[to].extend(act);
            if let Some(NodeRef {
                kind: Kind::System,
                index: from,
            }) = f.data.from_ref
            {
                upstream[to].insert(ws.systems[from].id.clone());
            }
        }
        if let Some(NodeRef {
            kind: Kind::System,
            index: from,
        }) = f.data.from_ref
        {
            read_by[from].extend(act);
        }
        if f.data.access == "human_review"
            && let (Some(a), Ok(Some(_))) = (act, &ff.recipient)
        {
            if let Some(&r) = ff.chain.last() {
                reviewers[a].insert(ws.parties[r].id.clone());
            }
            for &p in &ff.chain {
                reviews_for[p].insert(ws.activities[a].id.clone());
            }
        }
    }
    // The sensors of the devices each organisation operates (keyed by the stated `operated_by`);
    // a device with `sensors: []` counts as a camera, the worst case for a home robot.
    let mut operator_sensors: HashMap<Option<&str>, (BTreeSet<String>, Vec<Missing>)> =
        HashMap::new();
    let mut operator_capture: HashMap<Option<&str>, Vec<String>> = HashMap::new();
    for s in &ws.systems {
        if s.data.kind.as_deref() != Some("device") {
            continue;
        }
        let operator = s.raw.get("operated_by").and_then(Json::as_str);
        let capture = match s.raw.get("sensors").and_then(Json::as_array) {
            Some(list) if !list.is_empty() => list
                .iter()
                .any(|x| matches!(x.as_str(), Some("camera" | "microphone"))),
            _ => true,
        };
        if capture {
            operator_capture
                .entry(operator)
                .or_default()
                .push(s.id.clone());
        }
        let (sensors, missing) = operator_sensors.entry(operator).or_default();
        match s.raw.get("sensors").and_then(Json::as_array) {
            // `sensors: []` too: the rules read the list with `default(['camera'], true)`.
            Some(list) if !list.is_empty() => {
                sensors.extend(list.iter().filter_map(Json::as_str).map(str::to_string))
            }
            stated => {
                if stated.is_none() {
                    missing.push(miss("system", &s.id, "sensors"));
                }
                sensors.insert("camera".to_string());
            }
        }
    }

    // Legs: each flow's own hop and the hops its processor chain implies (CHECKPOINTS §2.3).
    let gdpr = cx.gdpr_applies();
    let mut legs: Vec<Leg> = Vec::new();
    let mut flow_legs: Vec<Vec<usize>> = vec![Vec::new(); ws.flows.len()];
    let mut undecided_legs: Vec<Vec<Missing>> = vec![Vec::new(); ws.flows.len()];
    let mut flow_is_transfer: Vec<Tri> = Vec::with_capacity(ws.flows.len());
    // Hops stated by flows themselves: (activity, exporter, importer).
    let mut own_hops: BTreeSet<(usize, String, usize)> = BTreeSet::new();
    for (i, f) in ws.flows.iter().enumerate() {
        let ff = &flow_facts[i];
        if let (Some(exp), Ok(Some(imp)), Some(a)) =
            (ff.exporter, &ff.recipient, f.data.activity_ref)
        {
            own_hops.insert((a.index, cx.org_id(exp), *imp));
        }
    }
    for (i, f) in ws.flows.iter().enumerate() {
        let ff = &flow_facts[i];
        let act = f.data.activity_ref.map(|r| r.index).unwrap_or(0);
        let mut hops: Vec<Hop> = Vec::new();
        if let (Some(exp), Ok(Some(imp))) = (ff.exporter, &ff.recipient)
            && Org::Party(*imp) != exp
        {
            hops.push((
                f.id.clone(),
                exp,
                *imp,
                ff.country.clone(),
                ff.transfer.clone(),
                true,
            ));
        }
        // Implied hops along the chain: controller -> P1, Pk-1 -> Pk.
        for (k, &p) in ff.chain.iter().enumerate() {
            let exp = if k == 0 {
                Org::Controller
            } else {
                Org::Party(ff.chain[k - 1])
            };
            let dup_own = hops.iter().any(|h| h.1 == exp && h.2 == p);
            let dup_other = own_hops.contains(&(act, cx.org_id(exp), p));
            // Only processors are handed data along a chain; an independent recipient (a
            // controller, a source, an authority) receives only what a flow sends it.
            let independent = matches!(
                ws.parties[p].data.role.as_deref(),
                Some("controller" | "joint_controller" | "public_authority" | "source")
            );
            if dup_own || dup_other || independent {
                continue;
            }
            let party = &ws.parties[p];
            let country = party
                .data
                .country
                .clone()
                .ok_or_else(|| vec![miss("party", &party.id, "country")]);
            let tool = party
                .raw
                .get("transfer")
                .cloned()
                .unwrap_or(Json::Object(Map::new()));
            hops.push((
                format!("{}/{}", f.id, party.id),
                exp,
                p,
                country,
                tool,
                false,
            ));
        }
        let mut flow_transfer = Tri::False;
        for (id, exp, imp, country, tool, own) in hops {
            let third = match &country {
                Ok(c) => Tri::from_bool(!cx.is_eea(c)),
                Err(m) => Tri::Unknown(m.clone()),
            };
            let is_leg = third.and(gdpr.clone());
            if own {
                flow_transfer = is_leg.clone();
            }
            if let Tri::Unknown(m) = &is_leg {
                // Possibly a leg: the activity's transfers are then known only in part.
                undecided_legs[i].extend(m.iter().cloned());
            }
            if !is_leg.is_true() {
                continue;
            }
            // Onward when the exporter is a party in a third country: its country, or for the
            // flow's own hop the country of the system it sends from.
            let exporter_country = match exp {
                Org::Party(p) => ws.parties[p].data.country.clone().or_else(|| {
                    if !own {
                        return None;
                    }
                    match f.data.from_ref {
                        Some(NodeRef {
                            kind: Kind::System,
                            index,
                        }) => ws.systems[index].data.country.clone(),
                        _ => None,
                    }
                }),
                Org::Controller => None,
            };
            let onward = match (exp, exporter_country.as_deref()) {
                (Org::Party(_), Some(c)) => Tri::from_bool(!cx.is_eea(c)),
                (Org::Party(p), None) => Tri::unknown(miss("party", &ws.parties[p].id, "country")),
                (Org::Controller, _) => Tri::False,
            };
            let country = country.unwrap_or_default();
            let (adequacy, in_scope) = cx.adequacy(Some(&country), Some(imp), &ff.hr);
            flow_legs[i].push(legs.len());
            legs.push(Leg {
                id,
                flow: i,
                exporter: exp,
                importer: imp,
                country,
                onward,
                access: f.data.access.clone(),
                tool,
                adequacy,
                in_scope,
            });
        }
        // A flow to nobody else (the controller's own system) is no transfer.
        if !matches!(ff.recipient, Ok(Some(_))) {
            flow_transfer = match &ff.recipient {
                Err(m) => Tri::unknown(m.clone()),
                _ => Tri::False,
            };
        }
        flow_is_transfer.push(flow_transfer);
    }

    // Controller.
    let mut controller_derived: BTreeMap<String, Derived> = BTreeMap::new();
    let mut eea_countries: BTreeSet<String> = BTreeSet::new();
    for ds in &ws.data_subjects {
        for c in &ds.data.countries {
            if c == "EEA" {
                eea_countries.extend(reference.eea_codes.iter().cloned());
            } else if reference.is_eea(c) {
                eea_countries.insert(c.clone());
            }
        }
    }
    if let Some(c) = &ws.controller {
        let mut d = BTreeMap::new();
        d.insert(
            "eea_subject_countries".into(),
            Derived::known(ids(eea_countries.iter().cloned())),
        );
        let no_est = tri_bool(&c.raw, "eea_establishment", "controller", &c.id).negate();
        let targets = tri_bool(&c.raw, "targets_eea", "controller", &c.id);
        // People in the EEA: named countries decide; groups without countries leave it open.
        let in_eea = if !eea_countries.is_empty() {
            Tri::True
        } else {
            let mut unstated: Vec<Missing> = ws
                .data_subjects
                .iter()
                .filter(|s| s.data.countries.is_empty())
                .map(|s| miss("data_subject", &s.id, "countries"))
                .collect();
            if ws.data_subjects.is_empty() {
                // Nobody declared: where the people are is not stated at all.
                unstated.push(miss("controller", &c.id, "data_subjects[].countries"));
            }
            if unstated.is_empty() {
                Tri::False
            } else {
                Tri::Unknown(unstated)
            }
        };
        d.insert(
            "art3_2".into(),
            derived_tri(no_est.and(targets).and(in_eea)),
        );
        d.insert("gdpr_applies".into(), derived_tri(gdpr.clone()));
        // The node is built after the activities (`dpo_required` looks across them).
        controller_derived = d;
    }

    // Parties.
    let mut party_nodes: Vec<Value> = Vec::with_capacity(ws.parties.len());
    for (i, p) in ws.parties.iter().enumerate() {
        let mut d = BTreeMap::new();
        d.insert(
            "receives".into(),
            Derived::known(ids(party_receives[i].iter().cloned())),
        );
        d.insert(
            "chain".into(),
            Derived::known(ids(ws.chain(&p.id).iter().map(|e| e.id.clone()))),
        );
        d.insert(
            "reviews_for".into(),
            Derived::known(ids(std::mem::take(&mut reviews_for[i]))),
        );
        let node = Node::element(
            Owner {
                kind: Kind::Party,
                kind_name: "party",
                id: p.id.clone(),
            },
            shapes.of("party"),
            Json::Object(p.raw.clone()),
            d,
        );
        let v = Value::from_object(node.clone());
        party_nodes.push(v.clone());
        fb.by_id.insert(p.id.clone(), v);
        push(&mut fb, "party", &p.id, &p.location, node, None);
    }

    // Systems. Lineage (for datasets and models): the activities whose flows end at the system or
    // at a system upstream of it, walking the flows backwards once per dataset or model.
    let mut into: Vec<Vec<usize>> = vec![Vec::new(); ws.systems.len()];
    for (fi, f) in ws.flows.iter().enumerate() {
        if let Some(NodeRef {
            kind: Kind::System,
            index,
        }) = f.data.to_ref
        {
            into[index].push(fi);
        }
    }
    let lineage = |start: usize| -> Vec<String> {
        let mut seen = vec![false; ws.systems.len()];
        let mut stack = vec![start];
        let mut acts: BTreeSet<String> = BTreeSet::new();
        let is_model = ws.systems[start].data.kind.as_deref() == Some("model");
        while let Some(sy) = stack.pop() {
            if std::mem::replace(&mut seen[sy], true) {
                continue;
            }
            for &fi in &into[sy] {
                let f = &ws.flows[fi];
                if let Some(a) = f.data.activity_ref.map(|r| &ws.activities[r.index]) {
                    let training = matches!(
                        a.data.purpose_category.as_deref(),
                        Some("ai_training" | "product_improvement" | "research")
                    );
                    // Into a model, only training flows build it (queries at inference do not);
                    // upstream of those, every activity that produced the data counts.
                    if is_model && sy == start && !training {
                        continue;
                    }
                    acts.insert(a.id.clone());
                }
                if let Some(NodeRef {
                    kind: Kind::System,
                    index,
                }) = f.data.from_ref
                {
                    stack.push(index);
                }
            }
        }
        acts.into_iter().collect()
    };
    let top_security = ws.security.as_ref().map(|s| Json::Object(s.raw.clone()));
    let mut system_nodes: Vec<Value> = Vec::with_capacity(ws.systems.len());
    for (i, s) in ws.systems.iter().enumerate() {
        let mut d = BTreeMap::new();
        let lineage = if matches!(s.data.kind.as_deref(), Some("model" | "dataset")) {
            lineage(i)
        } else {
            Vec::new()
        };
        d.insert("lineage".into(), Derived::known(ids(lineage)));
        d.insert(
            "flows".into(),
            Derived::known(ids(system_flows[i].iter().cloned())),
        );
        let activity_ids =
            |set: &BTreeSet<usize>| ids(set.iter().map(|&a| ws.activities[a].id.clone()));
        d.insert(
            "written_by".into(),
            Derived::known(activity_ids(&written_by[i])),
        );
        d.insert("read_by".into(), Derived::known(activity_ids(&read_by[i])));
        d.insert(
            "upstream".into(),
            Derived::known(ids(std::mem::take(&mut upstream[i]))),
        );
        // Whether an AI-training activity takes data from this system: true as soon as one
        // reader is `ai_training`; undecided while a reader's purpose category is not stated.
        let feeds_training = Tri::any(read_by[i].iter().map(|&a| {
            let act = &ws.activities[a];
            match act.data.purpose_category.as_deref() {
                Some(c) => Tri::from_bool(c == "ai_training"),
                None => Tri::unknown(miss("activity", &act.id, "purpose_category")),
            }
        }));
        d.insert("feeds_training".into(), derived_tri(feeds_training));
        d.insert(
            "operator_capture_devices".into(),
            Derived::known(ids(operator_capture
                .get(&s.raw.get("operated_by").and_then(Json::as_str))
                .into_iter()
                .flatten()
                .cloned())),
        );
        let (sensors, missing) = operator_sensors
            .get(&s.raw.get("operated_by").and_then(Json::as_str))
            .cloned()
            .unwrap_or_default();
        // A device whose sensors are not stated leaves the whole list undecided (a list cannot be
        // tried value by value); rules read it as `['camera']` then.
        d.insert(
            "operator_device_sensors".into(),
            if missing.is_empty() {
                Derived::known(ids(sensors))
            } else {
                Derived::unknown(missing)
            },
        );
        let eff = overlay(top_security.as_ref(), s.raw.get("security"));
        let sec_node = Node::element(
            Owner {
                kind: Kind::System,
                kind_name: "system",
                id: s.id.clone(),
            },
            shapes.of("security"),
            eff,
            BTreeMap::new(),
        );
        let mut sec_node = sec_node;
        sec_node.path = "security".to_string();
        d.insert(
            "effective_security".into(),
            Derived::known(Value::from_object(sec_node)),
        );
        let node = Node::element(
            Owner {
                kind: Kind::System,
                kind_name: "system",
                id: s.id.clone(),
            },
            shapes.of("system"),
            Json::Object(s.raw.clone()),
            d,
        );
        let v = Value::from_object(node.clone());
        system_nodes.push(v.clone());
        fb.by_id.insert(s.id.clone(), v);
        push(&mut fb, "system", &s.id, &s.location, node, None);
    }

    // Data subjects, breaches.
    for s in &ws.data_subjects {
        let node = plain(Kind::DataSubject, "data_subject", &s.id, &s.raw);
        fb.by_id
            .insert(s.id.clone(), Value::from_object(node.clone()));
        push(&mut fb, "data_subject", &s.id, &s.location, node, None);
    }
    let notify_hours = reference.tunable("breach_notification_hours", 72.0);
    for b in &ws.breaches {
        // Art. 33(1): notified within 72 hours of awareness; `null` states "not notified".
        let mut d = BTreeMap::new();
        let (notified, late) = match b.raw.get("authority_notified_hours") {
            Some(Json::Null) => (Derived::known(false), Derived::known(false)),
            Some(h) => (
                Derived::known(true),
                Derived::known(h.as_f64().is_some_and(|h| h > notify_hours)),
            ),
            None => {
                let m = vec![miss("breach", &b.id, "authority_notified_hours")];
                (Derived::unknown(m.clone()), Derived::unknown(m))
            }
        };
        d.insert("notified".into(), notified);
        d.insert("late".into(), late);
        let node = Node::element(
            Owner {
                kind: Kind::Breach,
                kind_name: "breach",
                id: b.id.clone(),
            },
            shapes.of("breach"),
            Json::Object(b.raw.clone()),
            d,
        );
        fb.by_id
            .insert(b.id.clone(), Value::from_object(node.clone()));
        push(&mut fb, "breach", &b.id, &b.location, node, None);
    }

    // Consents.
    let mut consent_used_by: Vec<Vec<String>> = vec![Vec::new(); ws.consents.len()];
    for a in &ws.activities {
        if let Some(r) = a.data.consent_ref {
            consent_used_by[r.index].push(a.id.clone());
        }
    }
    let mut consent_nodes: Vec<Value> = Vec::with_capacity(ws.consents.len());
    for (i, c) in ws.consents.iter().enumerate() {
        let mut d = BTreeMap::new();
        d.insert(
            "used_by".into(),
            Derived::known(ids(consent_used_by[i].iter().cloned())),
        );
        let node = Node::element(
            Owner {
                kind: Kind::Consent,
                kind_name: "consent",
                id: c.id.clone(),
            },
            shapes.of("consent"),
            Json::Object(c.raw.clone()),
            d,
        );
        let v = Value::from_object(node.clone());
        consent_nodes.push(v.clone());
        fb.by_id.insert(c.id.clone(), v);
        push(&mut fb, "consent", &c.id, &c.location, node, None);
    }

    // Orders and requests (dates against the report date).
    for o in &ws.orders {
        let mut d = BTreeMap::new();
        let open = match o.data.status.as_deref() {
            Some(s) => Tri::from_bool(matches!(s, "open" | "contested")),
            None => Tri::unknown(miss("order", &o.id, "status")),
        };
        let deadline = o.raw.get("deadline").and_then(dates::day_range);
        let past = match deadline {
            Some(range) => match dates::before(range, (today, today)) {
                Some(b) => Tri::from_bool(b),
                None => Tri::unknown(miss("order", &o.id, "deadline")),
            },
            None => Tri::unknown(miss("order", &o.id, "deadline")),
        };
        let overdue = open.and(past.clone());
        let days = match (&overdue, deadline) {
            (Tri::True, Some((_, end))) => Some(today - end),
            _ => None,
        };
        d.insert(
            "days_overdue".into(),
            Derived::known(days.map(Value::from).unwrap_or(Value::from(()))),
        );
        let days_past = match (&past, deadline) {
            (Tri::True, Some((_, end))) => Some(today - end),
            _ => None,
        };
        d.insert("deadline_passed".into(), derived_tri(past));
        d.insert(
            "days_past_deadline".into(),
            Derived::known(days_past.map(Value::from).unwrap_or(Value::from(()))),
        );
        // Penalty payments run until an order is complied with: an answer is not compliance.
        let accruing = match o.data.status.as_deref() {
            Some("complied") => None,
            _ if o.data.kind.as_deref() == Some("order") => days_past,
            _ => days,
        };
        let penalty = match (accruing, o.data.penalty_per_day_eur) {
            (Some(n), Some(p)) => Value::from(n as f64 * p),
            (Some(_), None) => Value::from(()),
            _ => Value::from(0.0),
        };
        d.insert("penalty_accrued_eur".into(), Derived::known(penalty));
        d.insert("overdue".into(), derived_tri(overdue));
        let node = Node::element(
            Owner {
                kind: Kind::Order,
                kind_name: "order",
                id: o.id.clone(),
            },
            shapes.of("order"),
            Json::Object(o.raw.clone()),
            d,
        );
        fb.by_id
            .insert(o.id.clone(), Value::from_object(node.clone()));
        push(&mut fb, "order", &o.id, &o.location, node, None);
    }
    for r in &ws.requests {
        let mut d = BTreeMap::new();
        let received = r.raw.get("received").and_then(dates::day_range);
        let answered = r.raw.get("answered");
        match received {
            Some((first, last)) => {
                let (dl_first, dl_last) =
                    (dates::one_month_after(first), dates::one_month_after(last));
                d.insert(
                    "deadline".into(),
                    if dl_first == dl_last {
                        Derived::known(dates::format_day(dl_first))
                    } else {
                        Derived::unknown(vec![miss("request", &r.id, "received")])
                    },
                );
                let end = match answered {
                    Some(Json::Null) => Some((today, today)),
                    Some(v) => dates::day_range(v),
                    None => None,
                };
                let late = match end {
                    Some(e) => match dates::before((dl_first, dl_last), e) {
                        Some(b) => Tri::from_bool(b),
                        // Undecided for want of a day: of the receipt, or of the answer.
                        None if dl_first != dl_last => {
                            Tri::unknown(miss("request", &r.id, "received"))
                        }
                        None => Tri::unknown(miss("request", &r.id, "answered")),
                    },
                    None if today <= dl_first => Tri::False,
                    None => Tri::unknown(miss("request", &r.id, "answered")),
                };
                let days_late = match (&late, end) {
                    (Tri::True, Some((_, e))) => Value::from(e - dl_last),
                    _ => Value::from(()),
                };
                d.insert("late".into(), derived_tri(late));
                d.insert("days_late".into(), Derived::known(days_late));
                d.insert(
                    "age_days".into(),
                    match end {
                        Some((_, e)) if first == last => Derived::known(e - first),
                        _ => Derived::unknown(vec![miss("request", &r.id, "received")]),
                    },
                );
            }
            None => {
                let m = vec![miss("request", &r.id, "received")];
                d.insert("deadline".into(), Derived::unknown(m.clone()));
                d.insert("late".into(), Derived::unknown(m));
                d.insert("days_late".into(), Derived::known(()));
                d.insert("age_days".into(), Derived::known(()));
            }
        }
        let node = Node::element(
            Owner {
                kind: Kind::Request,
                kind_name: "request",
                id: r.id.clone(),
            },
            shapes.of("request"),
            Json::Object(r.raw.clone()),
            d,
        );
        fb.by_id
            .insert(r.id.clone(), Value::from_object(node.clone()));
        push(&mut fb, "request", &r.id, &r.location, node, None);
    }

    // Per activity: the consent relied on and the effective notice.
    let top_notice = ws.notice.as_ref().map(|n| Json::Object(n.raw.clone()));
    for a in &ws.activities {
        fb.activity_consent.push(match a.data.consent_ref {
            Some(r) => consent_nodes[r.index].clone(),
            // No consent named: an empty, falsy consent; reading it notes `consent` as missing.
            None => {
                let mut n = Node::element(
                    Owner {
                        kind: Kind::Activity,
                        kind_name: "activity",
                        id: a.id.clone(),
                    },
                    shapes.of("consent"),
                    Json::Null,
                    BTreeMap::new(),
                );
                n.path = "consent".to_string();
                n.pointer = "/absent".to_string();
                n.record = relies_on_consent(a);
                Value::from_object(n)
            }
        });
        let eff = overlay(top_notice.as_ref(), a.raw.get("notice"));
        let stated = top_notice.is_some() || a.raw.get("notice").is_some();
        let given = notice_facts(
            eff.as_object().filter(|_| stated),
            "activity",
            &a.id,
            "notice.",
        );
        let mut n = Node::element(
            Owner {
                kind: Kind::Activity,
                kind_name: "activity",
                id: a.id.clone(),
            },
            shapes.of("notice"),
            if stated { eff } else { Json::Null },
            given,
        );
        n.path = "notice".to_string();
        if !stated {
            n.pointer = "/absent".to_string();
        }
        fb.activity_notice.push(Value::from_object(n));
    }

    // Subjects per activity, for the bystander markers (one pass).
    let mut act_subjects: Vec<BTreeSet<String>> = vec![BTreeSet::new(); ws.activities.len()];
    for (i, f) in ws.flows.iter().enumerate() {
        if let (Some(a), Ok(list)) = (f.data.activity_ref, &flow_facts[i].subject_ids) {
            act_subjects[a.index].extend(list.iter().cloned());
        }
    }

    // Flows.
    let mut flow_nodes: Vec<Value> = Vec::with_capacity(ws.flows.len());
    let mut activity_flows: Vec<Vec<usize>> = vec![Vec::new(); ws.activities.len()];
    for (i, f) in ws.flows.iter().enumerate() {
        let ff = &flow_facts[i];
        let a_idx = f.data.activity_ref.map(|r| r.index);
        if let Some(a) = a_idx {
            activity_flows[a].push(i);
        }
        let act = a_idx.map(|a| &ws.activities[a]);
        let mut d = BTreeMap::new();
        let (src_kind, src_org) = match f.data.from_ref {
            Some(r) => (r.kind.name(), cx.org_of(r).map(|o| cx.org_id(o))),
            None => ("", None),
        };
        d.insert(
            "source".into(),
            Derived::known(Value::from(minijinja::value::Serde(serde_json::json!({
                "kind": src_kind, "id": f.data.from, "org": src_org
            })))),
        );
        d.insert(
            "recipient".into(),
            match &ff.recipient {
                Ok(Some(p)) => Derived::known(party_nodes[*p].clone()),
                // The controller's own side: no recipient (an empty, falsy party).
                Ok(None) => Derived::known(absent_element(Kind::Party, "party", "", false)),
                Err(m) => Derived {
                    value: absent_element(Kind::Party, "party", "", false),
                    missing: vec![m.clone()],
                    domain: None,
                    two_valued: false,
                },
            },
        );
        d.insert(
            "exporter".into(),
            Derived::known(
                ff.exporter
                    .map(|o| Value::from(cx.org_id(o)))
                    .unwrap_or(Value::from(())),
            ),
        );
        let (country, third) = match &ff.country {
            Ok(c) => (Derived::known(c.as_str()), Derived::known(!cx.is_eea(c))),
            Err(m) => (Derived::unknown(m.clone()), Derived::unknown(m.clone())),
        };
        d.insert("country".into(), country);
        d.insert("third_country".into(), third);
        d.insert(
            "is_transfer".into(),
            derived_tri(flow_is_transfer[i].clone()),
        );
        let importer = match ff.recipient {
            Ok(Some(p)) => Some(p),
            _ => None,
        };
        let (adequacy, in_scope) = cx.adequacy(
            ff.country.as_ref().ok().map(String::as_str),
            importer,
            &ff.hr,
        );
        d.insert(
            "adequacy".into(),
            Derived {
                value: Value::from(minijinja::value::Serde(&adequacy)),
                missing: in_scope.missing().to_vec(),
                domain: None,
                two_valued: false,
            },
        );
        let mut tnode = Node::element(
            Owner {
                kind: Kind::Flow,
                kind_name: "flow",
                id: f.id.clone(),
            },
            Arc::new(
                shapes.of("flow").fields["transfer"]
                    .nested
                    .as_deref()
                    .cloned()
                    .unwrap_or_default(),
            ),
            ff.transfer.clone(),
            BTreeMap::new(),
        );
        tnode.path = "transfer".to_string();
        d.insert("transfer".into(), Derived::known(Value::from_object(tnode)));
        d.insert(
            "special".into(),
            Derived {
                value: ids(ff.classes.special.iter().cloned()),
                missing: ff.classes.special_missing.clone(),
                domain: None,
                two_valued: false,
            },
        );
        d.insert("criminal".into(), Derived::known(ff.classes.criminal));
        d.insert(
            "highly_personal".into(),
            Derived::known(ff.classes.highly_personal),
        );
        d.insert("media".into(), Derived::known(ff.classes.media));
        d.insert("location_data".into(), Derived::known(ff.classes.location));
        d.insert("children_data".into(), Derived::known(ff.classes.children));
        d.insert(
            "chain".into(),
            Derived::known(Value::from(
                ff.chain
                    .iter()
                    .map(|p| party_nodes[*p].clone())
                    .collect::<Vec<_>>(),
            )),
        );
        d.insert(
            "subject_ids".into(),
            match &ff.subject_ids {
                Ok(list) => Derived::known(ids(list.iter().cloned())),
                Err(m) => Derived::unknown(vec![m.clone()]),
            },
        );
        d.insert("hr_data".into(), derived_tri(ff.hr.clone()));
        d.insert(
            "legs".into(),
            Derived::known(ids(flow_legs[i].iter().map(|l| legs[*l].id.clone()))),
        );
        if let Some(a) = act {
            let (gaps, gaps_missing) = consent_gaps(&cx, f, ff, a, !flow_legs[i].is_empty());
            d.insert(
                "consent_gaps".into(),
                Derived {
                    value: ids(gaps),
                    missing: gaps_missing,
                    domain: None,
                    two_valued: false,
                },
            );
            let (by, by_missing) = bystanders(&cx, ff, a, &act_subjects[a_idx.unwrap_or(0)]);
            d.insert(
                "bystanders".into(),
                Derived {
                    value: ids(by),
                    missing: by_missing,
                    domain: None,
                    two_valued: false,
                },
            );
        }
        let node = Node::element(
            Owner {
                kind: Kind::Flow,
                kind_name: "flow",
                id: f.id.clone(),
            },
            shapes.of("flow"),
            Json::Object(f.raw.clone()),
            d,
        );
        let v = Value::from_object(node.clone());
        flow_nodes.push(v.clone());
        fb.by_id.insert(f.id.clone(), v);
        push(&mut fb, "flow", &f.id, &f.location, node, a_idx);
    }

    // Legs.
    let mut leg_nodes: Vec<Value> = Vec::with_capacity(legs.len());
    let mut activity_legs: Vec<Vec<usize>> = vec![Vec::new(); ws.activities.len()];
    for (li, leg) in legs.iter().enumerate() {
        let f = &ws.flows[leg.flow];
        let ff = &flow_facts[leg.flow];
        let a_idx = f.data.activity_ref.map(|r| r.index);
        if let Some(a) = a_idx {
            activity_legs[a].push(li);
        }
        let mut d = BTreeMap::new();
        d.insert("id".into(), Derived::known(leg.id.as_str()));
        d.insert("flow".into(), Derived::known(f.id.as_str()));
        d.insert("activity".into(), Derived::known(f.data.activity.as_str()));
        let exporter = match leg.exporter {
            Org::Party(p) => party_nodes[p].clone(),
            Org::Controller => {
                // The controller in a party's shape: party-only keys read as none, not missing.
                let raw = ws
                    .controller
                    .as_ref()
                    .map(|c| Json::Object(c.raw.clone()))
                    .unwrap_or(Json::Object(Map::new()));
                let mut n = Node::element(
                    Owner {
                        kind: Kind::Controller,
                        kind_name: "controller",
                        id: controller_id.clone(),
                    },
                    shapes.of("party"),
                    raw,
                    BTreeMap::new(),
                );
                n.record = false;
                Value::from_object(n)
            }
        };
        d.insert("exporter".into(), Derived::known(exporter));
        d.insert(
            "importer".into(),
            Derived::known(party_nodes[leg.importer].clone()),
        );
        d.insert("country".into(), Derived::known(leg.country.as_str()));
        d.insert(
            "leg".into(),
            match &leg.onward {
                Tri::True => Derived::known("onward"),
                Tri::False => Derived::known("initial"),
                Tri::Unknown(m) => Derived::unknown(m.clone()),
            },
        );
        d.insert("access".into(), Derived::known(leg.access.as_str()));
        d.insert(
            "data".into(),
            Derived::known(ids(f.data.data.iter().cloned())),
        );
        d.insert(
            "subject_ids".into(),
            match &ff.subject_ids {
                Ok(list) => Derived::known(ids(list.iter().cloned())),
                Err(m) => Derived::unknown(vec![m.clone()]),
            },
        );
        d.insert(
            "special".into(),
            Derived {
                value: ids(ff.classes.special.iter().cloned()),
                missing: ff.classes.special_missing.clone(),
                domain: None,
                two_valued: false,
            },
        );
        d.insert("hr_data".into(), derived_tri(ff.hr.clone()));
        d.insert(
            "adequacy".into(),
            Derived {
                value: Value::from(minijinja::value::Serde(&leg.adequacy)),
                missing: leg.in_scope.missing().to_vec(),
                domain: None,
                two_valued: false,
            },
        );
        let tool_shape = shapes.of("transfer_block");
        // The tool: stated keys as they are, absent ones missing on the flow (own hop) or the
        // importer (implied hop), where the user would state them.
        let (tool_kind, tool_id, prefix) = if leg.id == f.id {
            ("flow", f.id.clone(), "transfer")
        } else {
            ("party", ws.parties[leg.importer].id.clone(), "transfer")
        };
        for key in [
            "mechanism",
            "derogation",
            "systematic",
            "tia",
            "supplementary_measures",
            "importer_subject_to_access_law",
            "readable_by_importer",
        ] {
            let v = leg.tool.get(key);
            d.insert(
                key.into(),
                match v {
                    Some(v) => Derived::known(Value::from(minijinja::value::Serde(v))),
                    None if key == "supplementary_measures" => {
                        Derived::known(Value::from(Vec::<Value>::new()))
                    }
                    None => Derived::unstated(
                        miss(tool_kind, &tool_id, &format!("{prefix}.{key}")),
                        tool_shape.fields.get(key).and_then(|f| f.domain.clone()),
                    ),
                },
            );
        }
        let node = Node::element(
            Owner {
                kind: Kind::Flow,
                kind_name: "transfer",
                id: leg.id.clone(),
            },
            shapes.of("transfer"),
            Json::Object(Map::new()),
            d,
        );
        leg_nodes.push(Value::from_object(node.clone()));
        push(&mut fb, "transfer", &leg.id, &f.location, node, a_idx);
    }

    // Activities.
    let mut dpo_inputs: Vec<Tri> = Vec::new();
    for (ai, a) in ws.activities.iter().enumerate() {
        let d = activity_facts(
            &cx,
            ai,
            &activity_flows[ai],
            &activity_legs[ai],
            &flow_facts,
            &flow_nodes,
            &leg_nodes,
            &system_nodes,
            &undecided_legs,
        );
        let mut d = d;
        d.insert(
            "effective_notice".into(),
            Derived::known(fb.activity_notice[ai].clone()),
        );
        d.insert(
            "reviewers".into(),
            Derived::known(ids(std::mem::take(&mut reviewers[ai]))),
        );
        dpo_inputs.push(dpo_input(&d, &a.id));
        let node = Node::element(
            Owner {
                kind: Kind::Activity,
                kind_name: "activity",
                id: a.id.clone(),
            },
            shapes.of("activity"),
            Json::Object(a.raw.clone()),
            d,
        );
        fb.by_id
            .insert(a.id.clone(), Value::from_object(node.clone()));
        push(&mut fb, "activity", &a.id, &a.location, node, Some(ai));
    }
    // The controller, whose facts look across the activities.
    if let Some(c) = &ws.controller {
        controller_derived.insert(
            "dpo_required".into(),
            derived_tri(
                Tri::from_bool(c.data.public_authority == Some(true))
                    .or(if c.data.public_authority.is_none() {
                        Tri::unknown(miss("controller", &c.id, "public_authority"))
                    } else {
                        Tri::False
                    })
                    .or(Tri::any(dpo_inputs)),
            ),
        );
        let node = Node::element(
            Owner {
                kind: Kind::Controller,
                kind_name: "controller",
                id: c.id.clone(),
            },
            shapes.of("controller"),
            Json::Object(c.raw.clone()),
            std::mem::take(&mut controller_derived),
        );
        let v = Value::from_object(node.clone());
        fb.controller = v.clone();
        fb.by_id.insert(c.id.clone(), v);
        push(&mut fb, "controller", &c.id, &c.location, node, None);
    }
    let all: BTreeMap<&str, Vec<Value>> = fb
        .subjects
        .iter()
        .map(|(k, list)| (plural(k), list))
        .map(|(k, list)| {
            (
                k,
                list.iter()
                    .map(|s| Value::from_dyn_object(s.node.clone()))
                    .collect(),
            )
        })
        .collect();
    let mut all = all;
    for section in [
        "controller",
        "parties",
        "systems",
        "data_subjects",
        "consents",
        "activities",
        "flows",
        "transfers",
        "orders",
        "breaches",
        "requests",
    ] {
        all.entry(section).or_default();
    }
    fb.workspace = Value::from(all);
    fb
}

/// `notice.given` (items stated and not deficient) and `notice.deficient` for a notice block.
fn notice_facts(
    raw: Option<&Map<String, Json>>,
    kind: &str,
    id: &str,
    prefix: &str,
) -> BTreeMap<String, Derived> {
    let mut d = BTreeMap::new();
    let Some(raw) = raw else {
        d.insert(
            "given".into(),
            Derived::unknown(vec![miss(kind, id, &format!("{prefix}items"))]),
        );
        return d;
    };
    let list = |key: &str| -> Option<Vec<String>> {
        raw.get(key).and_then(Json::as_array).map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_string)
                .collect()
        })
    };
    let deficient = list("deficient_items").unwrap_or_default();
    d.insert(
        "given".into(),
        match list("items") {
            Some(items) => {
                Derived::known(ids(items.into_iter().filter(|i| !deficient.contains(i))))
            }
            None => Derived::unknown(vec![miss(kind, id, &format!("{prefix}items"))]),
        },
    );
    d
}

/// An activity's share of `controller.dpo_required` (Art. 37(1)(b)/(c)): large-scale processing
/// that is systematic monitoring or of special or criminal data.
fn dpo_input(d: &BTreeMap<String, Derived>, activity_id: &str) -> Tri {
    let criterion = |name: &str, inputs: &[&str]| -> Tri {
        let v = d
            .get("dpia_criteria")
            .and_then(|c| c.value.get_attr(name).ok())
            .unwrap_or(Value::from(()));
        if v.is_none() || v.is_undefined() {
            // Undecided: name the criterion's own inputs (the screening's list may be empty
            // when other criteria decided it).
            Tri::Unknown(
                inputs
                    .iter()
                    .map(|p| miss("activity", activity_id, p))
                    .collect(),
            )
        } else {
            Tri::from_bool(v.is_true())
        }
    };
    let special = d
        .get("special")
        .is_some_and(|s| s.value.len().unwrap_or(0) > 0);
    let criminal = d.get("criminal").is_some_and(|c| c.value.is_true());
    criterion("large_scale", &["collection.large_scale"]).and(
        criterion(
            "systematic_monitoring",
            &["collection.continuous", "purpose_category"],
        )
        .or(Tri::from_bool(special || criminal)),
    )
}

/// An element that is not there: falsy, every field `none`; with `record`, reading a field notes it
/// as a missing fact of that element.
fn absent_element(kind: Kind, kind_name: &'static str, id: &str, record: bool) -> Value {
    let mut n = Node::element(
        Owner {
            kind,
            kind_name,
            id: id.to_string(),
        },
        Shapes::get().of(kind_name),
        Json::Null,
        BTreeMap::new(),
    );
    n.pointer = "/absent".to_string();
    n.record = record;
    Value::from_object(n)
}

/// `workspace.<section>`: the section names of the format (`parties`, `flows`), `transfers` for
/// the legs.
fn plural(kind: &str) -> &'static str {
    match kind {
        "controller" => "controller",
        "party" => "parties",
        "system" => "systems",
        "data_subject" => "data_subjects",
        "consent" => "consents",
        "activity" => "activities",
        "flow" => "flows",
        "transfer" => "transfers",
        "order" => "orders",
        "breach" => "breaches",
        _ => "requests",
    }
}

fn plain(kind: Kind, name: &'static str, id: &str, raw: &Map<String, Json>) -> Node {
    Node::element(
        Owner {
            kind,
            kind_name: name,
            id: id.to_string(),
        },
        Shapes::get().of(name),
        Json::Object(raw.clone()),
        BTreeMap::new(),
    )
}

fn push(
    fb: &mut FactBase,
    kind: &'static str,
    id: &str,
    location: &Location,
    node: Node,
    activity: Option<usize>,
) {
    fb.subjects.entry(kind).or_default().push(Subject {
        kind,
        id: id.to_string(),
        location: Arc::new(location.clone()),
        node: Arc::new(node),
        activity,
    });
}

fn relies_on_consent(a: &crate::model::Element<crate::model::Activity>) -> bool {
    a.data.legal_basis.as_deref() == Some("consent")
        || a.data.art9_condition.as_deref() == Some("explicit_consent")
}

/// What the consent does not cover on this flow (CHECKPOINTS §2.2 `consent_gaps`).
fn consent_gaps(
    cx: &Ctx<'_>,
    f: &crate::model::Element<crate::model::Flow>,
    ff: &FlowFacts,
    a: &crate::model::Element<crate::model::Activity>,
    yields_leg: bool,
) -> (Vec<String>, Vec<Missing>) {
    let mut gaps = Vec::new();
    let mut missing = Vec::new();
    if !relies_on_consent(a) {
        return (gaps, missing);
    }
    let Some(cref) = a.data.consent_ref else {
        return (gaps, vec![miss("activity", &a.id, "consent")]);
    };
    let c = &cx.ws.consents[cref.index];
    let mut check = |item: String, applies: Tri, covered: Tri| match applies.and(covered.negate()) {
        Tri::True => gaps.push(item),
        Tri::False => {}
        Tri::Unknown(m) => missing.extend(m),
    };
    let list_has = |key: &str, id: &str| -> Tri {
        match c.raw.get(key).and_then(Json::as_array) {
            Some(l) => Tri::from_bool(l.iter().any(|v| v.as_str() == Some(id))),
            None => Tri::unknown(miss("consent", &c.id, key)),
        }
    };
    check("purpose".into(), Tri::True, list_has("purposes", &a.id));
    match &ff.recipient {
        Ok(Some(p)) => {
            let pid = &cx.ws.parties[*p].id;
            check(
                format!("recipient:{pid}"),
                Tri::True,
                list_has("recipients", pid),
            );
        }
        Ok(None) => {}
        // Who receives is undecided, so whether the consent names them is too.
        Err(m) => check("recipient".into(), Tri::unknown(m.clone()), Tri::False),
    }
    let covers = |key: &str| tri_bool(&c.raw, &format!("covers.{key}"), "consent", &c.id);
    let by_others = match (
        get_bool(&a.raw, "human_review.performed"),
        get_str(&a.raw, "human_review.by"),
    ) {
        (Some(true), Some(by)) => Tri::from_bool(by != "employee"),
        (Some(true), None) => Tri::unknown(miss("activity", &a.id, "human_review.by")),
        _ => Tri::False,
    };
    let reviewed = match &ff.recipient {
        Ok(Some(_)) => Tri::from_bool(f.data.access == "human_review"),
        Err(m) if f.data.access == "human_review" => Tri::unknown(m.clone()),
        _ => Tri::False,
    }
    .or(by_others);
    check("human_review".into(), reviewed, covers("human_review"));
    if a.data.purpose_category.as_deref() == Some("ai_training") {
        check("ai_training".into(), Tri::True, covers("ai_training"));
    }
    if yields_leg {
        check(
            "transfer".into(),
            Tri::True,
            covers("third_country_transfer"),
        );
    }
    let special = if ff.classes.special.is_empty() {
        if ff.classes.special_missing.is_empty() {
            Tri::False
        } else {
            Tri::Unknown(ff.classes.special_missing.clone())
        }
    } else {
        Tri::True
    };
    check(
        "special_categories".into(),
        special,
        covers("special_categories"),
    );
    if let Ok(subjects) = &ff.subject_ids {
        for s in subjects {
            check(format!("subject:{s}"), Tri::True, list_has("subjects", s));
        }
    }
    (gaps, missing)
}

/// People on the flow who neither consented nor were informed (CHECKPOINTS §2.2 `bystanders`).
fn bystanders(
    cx: &Ctx<'_>,
    ff: &FlowFacts,
    a: &crate::model::Element<crate::model::Activity>,
    activity_subjects: &BTreeSet<String>,
) -> (Vec<String>, Vec<Missing>) {
    let ws = cx.ws;
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let consent = if relies_on_consent(a) {
        a.data.consent_ref.map(|r| &ws.consents[r.index])
    } else {
        None
    };
    if relies_on_consent(a) && consent.is_none() {
        missing.push(miss("activity", &a.id, "consent"));
    }
    if let Ok(subjects) = &ff.subject_ids {
        for s in subjects {
            let Some(r) = ws.lookup(s) else { continue };
            let ds = &ws.data_subjects[r.index];
            let consented = match consent {
                Some(c) => match c.raw.get("subjects").and_then(Json::as_array) {
                    Some(l) => Tri::from_bool(l.iter().any(|v| v.as_str() == Some(s))),
                    None => Tri::unknown(miss("consent", &c.id, "subjects")),
                },
                None => Tri::False,
            };
            // CHECKPOINTS §2.2: not covered by the consent relied on, or stated not informed.
            // A consenting person was informed by the consent itself, so an unstated `informed`
            // leaves only people the consent does not cover undecided.
            let uninformed = match ds.data.informed {
                Some(i) => Tri::from_bool(!i),
                None if consent.is_some() => Tri::False,
                None => Tri::unknown(miss("data_subject", &ds.id, "informed")),
            };
            let by = if consent.is_some() {
                consented.negate().or(uninformed)
            } else {
                uninformed
            };
            match by {
                Tri::True => out.push(s.clone()),
                Tri::False => {}
                Tri::Unknown(m) => missing.extend(m),
            }
        }
    } else if let Err(m) = &ff.subject_ids {
        missing.push(m.clone());
    }
    if get_bool(&a.raw, "collection.captures_non_users") == Some(true) {
        let declared = activity_subjects.iter().any(|s| {
            ws.lookup(s)
                .map(|r| &ws.data_subjects[r.index])
                .and_then(|d| d.data.category.as_deref())
                .is_some_and(|c| matches!(c, "bystander" | "visitor" | "public"))
        });
        if !declared {
            out.push("undeclared-non-users".into());
        }
    }
    (out, missing)
}

#[allow(clippy::too_many_arguments)]
fn activity_facts(
    cx: &Ctx<'_>,
    ai: usize,
    flows: &[usize],
    legs: &[usize],
    flow_facts: &[FlowFacts],
    flow_nodes: &[Value],
    leg_nodes: &[Value],
    system_nodes: &[Value],
    undecided_legs: &[Vec<Missing>],
) -> BTreeMap<String, Derived> {
    let ws = cx.ws;
    let a = &ws.activities[ai];
    let raw = &a.raw;
    let id = a.id.as_str();
    let mut d = BTreeMap::new();
    let mut subjects: BTreeSet<String> = BTreeSet::new();
    let mut systems: BTreeSet<usize> = BTreeSet::new();
    let mut source_systems: BTreeSet<usize> = BTreeSet::new();
    let mut recipients: BTreeSet<String> = BTreeSet::new();
    let mut special: BTreeSet<String> = BTreeSet::new();
    let mut special_missing: Vec<Missing> = Vec::new();
    let (mut criminal, mut hp, mut media, mut location, mut children_data, mut hr_access) =
        (false, false, false, false, false, false);
    let mut from_subject = false;
    let mut from_indirect_party = false;
    let mut recipients_missing: Vec<Missing> = Vec::new();
    for &fi in flows {
        let f = &ws.flows[fi];
        let ff = &flow_facts[fi];
        if let Ok(list) = &ff.subject_ids {
            subjects.extend(list.iter().cloned());
        }
        for (r, is_source) in [(f.data.from_ref, true), (f.data.to_ref, false)] {
            match r {
                Some(NodeRef {
                    kind: Kind::System,
                    index,
                }) => {
                    systems.insert(index);
                    if is_source {
                        source_systems.insert(index);
                        if ws.systems[index].data.kind.as_deref() == Some("crawler") {
                            from_indirect_party = true;
                        }
                    }
                }
                Some(NodeRef {
                    kind: Kind::DataSubject,
                    ..
                }) if is_source => from_subject = true,
                Some(NodeRef {
                    kind: Kind::Party,
                    index,
                }) if is_source => {
                    if matches!(
                        ws.parties[index].data.role.as_deref(),
                        Some("source" | "controller" | "joint_controller" | "public_authority")
                    ) {
                        from_indirect_party = true;
                    }
                }
                _ => {}
            }
        }
        for &p in &ff.chain {
            recipients.insert(ws.parties[p].id.clone());
        }
        if let Err(m) = &ff.recipient {
            recipients_missing.push(m.clone());
        }
        special.extend(ff.classes.special.iter().cloned());
        special_missing.extend(ff.classes.special_missing.iter().cloned());
        criminal |= ff.classes.criminal;
        hp |= ff.classes.highly_personal;
        media |= ff.classes.media;
        location |= ff.classes.location;
        children_data |= ff.classes.children;
        hr_access |= f.data.access == "human_review";
    }
    special_missing.sort();
    special_missing.dedup();
    d.insert(
        "flows".into(),
        Derived::known(Value::from(
            flows
                .iter()
                .map(|i| flow_nodes[*i].clone())
                .collect::<Vec<_>>(),
        )),
    );
    d.insert(
        "subjects".into(),
        Derived::known(ids(subjects.iter().cloned())),
    );
    d.insert(
        "systems".into(),
        Derived::known(Value::from(
            systems
                .iter()
                .map(|i| system_nodes[*i].clone())
                .collect::<Vec<_>>(),
        )),
    );
    d.insert(
        "source_systems".into(),
        Derived::known(Value::from(
            source_systems
                .iter()
                .map(|i| system_nodes[*i].clone())
                .collect::<Vec<_>>(),
        )),
    );
    d.insert(
        "recipients".into(),
        Derived {
            value: ids(recipients.iter().cloned()),
            missing: recipients_missing,
            domain: None,
            two_valued: false,
        },
    );
    d.insert(
        "transfers".into(),
        Derived {
            value: Value::from(
                legs.iter()
                    .map(|i| leg_nodes[*i].clone())
                    .collect::<Vec<_>>(),
            ),
            // Hops that may be legs (a destination country not stated) leave the list open.
            missing: flows
                .iter()
                .flat_map(|&fi| undecided_legs[fi].iter().cloned())
                .collect(),
            domain: None,
            two_valued: false,
        },
    );
    d.insert(
        "special".into(),
        Derived {
            value: ids(special.iter().cloned()),
            missing: special_missing.clone(),
            domain: None,
            two_valued: false,
        },
    );
    d.insert("criminal".into(), Derived::known(criminal));
    d.insert("highly_personal".into(), Derived::known(hp));
    d.insert("media".into(), Derived::known(media));
    d.insert("location_data".into(), Derived::known(location));
    d.insert("human_review_access".into(), Derived::known(hr_access));
    // Whether the people concerned were informed (Art. 14): stated `false`s, and all stated `true`.
    let mut uninformed = Vec::new();
    let mut all_informed = Tri::True;
    for s in &subjects {
        let Some(r) = ws.lookup(s) else { continue };
        let ds = &ws.data_subjects[r.index];
        match ds.data.informed {
            Some(false) => {
                uninformed.push(ds.id.clone());
                all_informed = Tri::False;
            }
            Some(true) => {}
            None => {
                all_informed =
                    all_informed.and(Tri::unknown(miss("data_subject", &ds.id, "informed")))
            }
        }
    }
    d.insert(
        "uninformed_subjects".into(),
        Derived::known(ids(uninformed)),
    );
    d.insert("all_informed".into(), derived_tri(all_informed));

    // Children.
    let mut child_subject = Tri::False;
    for s in &subjects {
        let Some(r) = ws.lookup(s) else { continue };
        let ds = &ws.data_subjects[r.index];
        let is_child = match (ds.data.category.as_deref(), ds.data.min_age) {
            (Some("child"), _) => Tri::True,
            (_, Some(age)) if age < 18 => Tri::True,
            (Some("student"), Some(age)) => Tri::from_bool(age < 18),
            (Some("student"), None) => Tri::True,
            _ => Tri::False,
        };
        child_subject = child_subject.or(is_child);
    }
    let children_block = raw.get("children").and_then(Json::as_object);
    let flags = match children_block {
        None => Tri::False,
        Some(c) => {
            let directed = match c.get("directed_at_children").and_then(Json::as_bool) {
                Some(b) => Tri::from_bool(b),
                None => Tri::unknown(miss("activity", id, "children.directed_at_children")),
            };
            let likely = match c.get("likely_accessed").and_then(Json::as_bool) {
                Some(b) => Tri::from_bool(b),
                None => Tri::unknown(miss("activity", id, "children.likely_accessed")),
            };
            directed.or(likely)
        }
    };
    let children = child_subject.or(Tri::from_bool(children_data)).or(flags);
    d.insert("children_involved".into(), derived_tri(children.clone()));

    let channel = get_str(raw, "collection.channel");
    let direct = channel.is_some_and(|c| {
        matches!(
            c,
            "device" | "app" | "web" | "cctv" | "microphone" | "manual"
        )
    }) || from_subject;
    let captures = get_bool(raw, "collection.captures_non_users") == Some(true);
    let indirect = channel.is_some_and(|c| matches!(c, "scraping" | "partner"))
        || from_indirect_party
        || captures;
    d.insert("direct".into(), Derived::known(direct));
    d.insert("indirect".into(), Derived::known(indirect));

    // WP248 criteria.
    let t = |path: &str| tri_bool(raw, path, "activity", id);
    let purpose = a.data.purpose_category.as_deref();
    let purpose_tri = |values: &[&str]| match purpose {
        Some(p) => Tri::from_bool(values.contains(&p)),
        None => Tri::unknown(miss("activity", id, "purpose_category")),
    };
    let sensing = source_systems.iter().any(|&s| {
        ws.systems[s].data.sensors.iter().any(|x| {
            matches!(
                x.as_str(),
                "camera" | "microphone" | "location" | "lidar" | "biometric_scanner"
            )
        })
    });
    let special_tri = if !special.is_empty() {
        Tri::True
    } else if special_missing.is_empty() {
        Tri::False
    } else {
        Tri::Unknown(special_missing.clone())
    };
    let automated = if raw.get("automated_decision").is_some() {
        t("automated_decision.significant_effect")
    } else {
        Tri::False
    };
    let biometric = match a.data.biometric_use.as_deref() {
        Some(u) => Tri::from_bool(BIOMETRIC_PROCESSING.contains(&u)),
        None => Tri::unknown(miss("activity", id, "biometric_use")),
    };
    let home_device = source_systems.iter().any(|&s| {
        let sys = &ws.systems[s].data;
        sys.kind.as_deref() == Some("device")
            && sys.location.as_deref() == Some("home")
            && sys
                .sensors
                .iter()
                .any(|x| matches!(x.as_str(), "camera" | "microphone" | "lidar"))
    });
    let model = systems
        .iter()
        .any(|&s| ws.systems[s].data.kind.as_deref() == Some("model"));
    let vulnerable_subject = subjects.iter().filter_map(|s| ws.lookup(s)).any(|r| {
        let ds = &ws.data_subjects[r.index].data;
        ds.vulnerable == Some(true)
            || ds.category.as_deref().is_some_and(|c| {
                matches!(c, "child" | "student" | "employee" | "worker" | "patient")
            })
    });
    let monitoring = t("collection.continuous")
        .and(Tri::from_bool(sensing || location))
        .or(Tri::from_bool(channel == Some("cctv")))
        .or(purpose_tri(&["worker_monitoring"]));
    let large = t("collection.large_scale");
    let criteria: Vec<(&str, Tri)> = vec![
        ("evaluation_scoring", t("profiling")),
        ("automated_decision_significant", automated.clone()),
        ("systematic_monitoring", monitoring.clone()),
        (
            "sensitive_or_highly_personal",
            special_tri.clone().or(Tri::from_bool(criminal || hp)),
        ),
        ("large_scale", large.clone()),
        ("matching_combining", t("combines_datasets")),
        (
            "vulnerable_subjects",
            Tri::from_bool(vulnerable_subject).or(children.clone()),
        ),
        (
            "innovative_technology",
            biometric
                .clone()
                .or(purpose_tri(&["ai_training"]))
                .or(Tri::from_bool(
                    model || raw.get("ai_act").is_some() || home_device,
                )),
        ),
        ("prevents_right_or_service", Tri::False),
    ];
    let mut crit_json = Map::new();
    let mut met = Vec::new();
    let mut undecided = 0;
    let mut crit_missing = Vec::new();
    for (name, v) in &criteria {
        crit_json.insert(
            name.to_string(),
            v.decided().map(Json::Bool).unwrap_or(Json::Null),
        );
        match v {
            Tri::True => met.push(name.to_string()),
            Tri::Unknown(m) => {
                undecided += 1;
                crit_missing.extend(m.iter().cloned());
            }
            Tri::False => {}
        }
    }
    let public_source = source_systems
        .iter()
        .any(|&s| ws.systems[s].data.location.as_deref() == Some("public_space"));
    let case_a = t("profiling").and(automated);
    let case_b = large.clone().and(special_tri.or(Tri::from_bool(criminal)));
    let case_c = large.and(monitoring).and(Tri::from_bool(public_source));
    let mut cases = Vec::new();
    let mut case_unknown = Vec::new();
    for (name, c) in [("a", case_a), ("b", case_b), ("c", case_c)] {
        match c {
            Tri::True => cases.push(name.to_string()),
            Tri::Unknown(m) => case_unknown.extend(m),
            Tri::False => {}
        }
    }
    d.insert(
        "dpia_criteria".into(),
        Derived::known(Value::from(minijinja::value::Serde(&crit_json))),
    );
    d.insert(
        "dpia_criteria_met".into(),
        Derived::known(ids(met.iter().cloned())),
    );
    d.insert("art35_3".into(), Derived::known(ids(cases.iter().cloned())));
    // National Art. 35(4) list: the CNIL's, for a controller established in France (§4.9).
    let mut national = Vec::new();
    let mut national_unknown = Vec::new();
    let french = ws
        .controller
        .as_ref()
        .and_then(|c| c.data.country.as_deref())
        .is_some_and(|c| c == "FR");
    if french {
        let vulnerable = criteria[6].1.clone();
        let profiling = t("profiling");
        let patient = subjects
            .iter()
            .filter_map(|s| ws.lookup(s))
            .any(|r| ws.data_subjects[r.index].data.category.as_deref() == Some("patient"));
        let from_source = flows.iter().any(|&fi| {
            matches!(ws.flows[fi].data.from_ref, Some(NodeRef { kind: Kind::Party, index })
                if ws.parties[index].data.role.as_deref() == Some("source"))
        });
        let combines = t("combines_datasets").or(Tri::from_bool(
            from_source || matches!(channel, Some("partner" | "scraping")),
        ));
        let biometric_recognition = match a.data.biometric_use.as_deref() {
            Some(u) => Tri::from_bool(matches!(u, "identification" | "authentication")),
            None => Tri::unknown(miss("activity", id, "biometric_use")),
        };
        let items: Vec<(&str, Tri)> = vec![
            ("1", Tri::from_bool(special.contains("health") && patient)),
            (
                "2",
                Tri::from_bool(special.contains("genetic")).and(vulnerable.clone()),
            ),
            ("3", profiling.clone().and(purpose_tri(&["hr_management"]))),
            (
                "4",
                purpose_tri(&["worker_monitoring"]).and(t("collection.continuous")),
            ),
            // Numbering of the official list (Délibération 2018-327): 8 profiling that can end or
            // suspend a contract, 10 profiling with external data (CHECKPOINTS had them swapped).
            ("10", profiling.clone().and(combines)),
            (
                "8",
                profiling.and(if raw.get("automated_decision").is_some() {
                    t("automated_decision.significant_effect")
                } else {
                    Tri::False
                }),
            ),
            ("11", biometric_recognition.and(vulnerable)),
            (
                "14",
                t("collection.large_scale").and(Tri::from_bool(location)),
            ),
        ];
        for (n, v) in items {
            match v {
                Tri::True => national.push(format!("cnil-{n}")),
                Tri::Unknown(m) => national_unknown.extend(m),
                Tri::False => {}
            }
        }
    }
    d.insert(
        "national_list".into(),
        Derived::known(ids(national.iter().cloned())),
    );
    case_unknown.extend(national_unknown);
    let required = if met.len() >= 2 || !cases.is_empty() || !national.is_empty() {
        Derived::known(true)
    } else if met.len() + undecided < 2 && case_unknown.is_empty() {
        Derived::known(false)
    } else {
        let mut m = crit_missing;
        m.extend(case_unknown);
        m.sort();
        m.dedup();
        Derived::unknown(m)
    };
    d.insert("dpia_required".into(), required);

    // Age of digital consent (Art. 8(1)): the highest over the subjects' EEA countries.
    let mut age: Option<u64> = None;
    for s in &subjects {
        let Some(r) = ws.lookup(s) else { continue };
        for c in &ws.data_subjects[r.index].data.countries {
            let ages: Vec<u64> = if c == "EEA" {
                cx.reference
                    .eea_codes
                    .iter()
                    .map(|e| cx.reference.consent_age(e))
                    .collect()
            } else if cx.reference.is_eea(c) {
                vec![cx.reference.consent_age(c)]
            } else {
                Vec::new()
            };
            age = ages.into_iter().chain(age).max();
        }
    }
    d.insert(
        "consent_age".into(),
        Derived::known(age.unwrap_or_else(|| cx.reference.consent_age(""))),
    );

    // Further processing (Art. 6(4)): data collected for another purpose reused.
    let norm = |s: &str| s.trim().to_lowercase();
    let further = match (get_str(raw, "original_purpose"), a.data.purpose.as_deref()) {
        (Some(o), Some(p)) => Derived::known(norm(o) != norm(p)),
        (Some(o), None) => Derived::known(!o.trim().is_empty()),
        (None, _) => Derived::known(false),
    };
    d.insert("further_processing".into(), further);

    // Retention (Art. 5(1)(e)): a limit stated, `indefinite`, or not stated.
    d.insert(
        "retention_limited".into(),
        match get_str(raw, "retention.period") {
            Some("indefinite") => Derived::known(false),
            Some(_) => Derived::known(true),
            None => Derived::unknown(vec![miss("activity", id, "retention.period")]),
        },
    );

    // AI Act: prohibited practices (Art. 5) and Annex III areas (CHECKPOINTS §2.4).
    let mut practices: BTreeSet<String> = raw
        .get("ai_act")
        .and_then(|x| x.get("practices"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect();
    let identification = a.data.biometric_use.as_deref() == Some("identification");
    let faces = flows.iter().any(|&fi| {
        ws.flows[fi].data.data.iter().any(|c| {
            c == "user.biometric.face"
                || c.starts_with("user.biometric.face.")
                || c == "user.content.image"
        })
    });
    if channel == Some("scraping") && identification && faces {
        practices.insert("untargeted_face_scraping".into());
    }
    if identification
        && get_bool(raw, "collection.continuous") == Some(true)
        && public_source
        && purpose == Some("law_enforcement_support")
    {
        practices.insert("realtime_remote_biometric_id".into());
    }
    d.insert(
        "ai_practices".into(),
        Derived::known(ids(practices.iter().cloned())),
    );
    let mut annex: BTreeSet<String> = raw
        .get("ai_act")
        .and_then(|x| x.get("annex_iii"))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect();
    let uses_ai = raw.get("ai_act").is_some()
        || model
        || matches!(
            a.data.biometric_use.as_deref(),
            Some("identification" | "categorisation")
        );
    if uses_ai {
        if matches!(
            a.data.biometric_use.as_deref(),
            Some("identification" | "categorisation")
        ) {
            annex.insert("biometrics".into());
        }
        let decides = get_bool(raw, "profiling") == Some(true)
            || get_bool(raw, "automated_decision.solely_automated") == Some(true);
        if decides && matches!(purpose, Some("hr_management" | "worker_monitoring")) {
            annex.insert("employment".into());
        }
        let students = subjects
            .iter()
            .filter_map(|s| ws.lookup(s))
            .any(|r| ws.data_subjects[r.index].data.category.as_deref() == Some("student"));
        if decides && students {
            annex.insert("education".into());
        }
    }
    d.insert(
        "annex_iii".into(),
        Derived::known(ids(annex.iter().cloned())),
    );
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loading::{self, Document};
    use crate::source::SourceFile;

    fn base(yaml: &str) -> FactBase {
        let file = SourceFile {
            path: "t.flow.yaml".into(),
            text: yaml.to_string(),
        };
        let parsed = loading::parse_source(&file).expect("parses");
        let doc = Document { file, parsed };
        assert!(loading::schema::validate(&doc).is_empty(), "schema");
        let ws = crate::model::build(&[doc], &[], Reference::get()).expect("valid");
        let today = dates::day_range(&Json::String("2026-01-01".into()))
            .expect("date")
            .0;
        derive(&ws, Reference::get(), today)
    }

    fn fact(fb: &FactBase, kind: &str, id: &str, name: &str) -> (Value, Vec<Missing>) {
        let s = fb.subjects[kind]
            .iter()
            .find(|s| s.id == id)
            .expect("subject");
        let d = s.node.derived.get(name).expect("fact");
        (d.value.clone(), d.missing.clone())
    }

    const CHAIN: &str = r#"flowaudit: 1
controller: {id: sweepwell, country: "DE", eea_establishment: true}
parties:
  - {id: labelforge, role: processor, country: "US", dpf_certified: true, dpf_scope: non_hr, transfer: {mechanism: dpf}}
  - {id: taskhive, role: subprocessor, country: "VE", engaged_by: labelforge}
systems:
  - {id: lake, operated_by: sweepwell, kind: database, country: "DE"}
  - {id: workbench, operated_by: labelforge, kind: annotation_tool, country: "US"}
  - {id: robot, operated_by: sweepwell, kind: device, location: home, sensors: [camera, lidar]}
data_subjects:
  - {id: testers, category: tester, countries: ["DE"], informed: true}
  - {id: visitors, category: visitor, informed: false}
consents:
  - {id: tester-consent, subjects: [testers], purposes: [annotation], recipients: [labelforge], covers: {human_review: false, third_country_transfer: true, ai_training: true, special_categories: false}}
activities:
  - id: annotation
    legal_basis: consent
    consent: tester-consent
    purpose_category: ai_training
    biometric_use: none
    collection: {channel: device, continuous: true, large_scale: false}
    human_review: {performed: true, by: crowd}
flows:
  - {id: capture, activity: annotation, from: testers, to: robot, subjects: [testers, visitors], data: [user.content.image]}
  - {id: upload, activity: annotation, from: robot, to: lake, subjects: [testers, visitors], data: [user.content.image]}
  - {id: to-vendor, activity: annotation, from: lake, to: workbench, subjects: [testers, visitors], data: [user.content.image, user.biometric.face]}
  - {id: crowd, activity: annotation, from: workbench, to: taskhive, access: human_review, subjects: [testers, visitors], data: [user.content.image]}
"#;

    #[test]
    fn legs_follow_the_chain_and_remote_access() {
        let fb = base(CHAIN);
        let legs: Vec<&str> = fb.subjects["transfer"]
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        // DE -> US (copy to the vendor's tool) and US -> VE (crowd review, onward).
        assert_eq!(legs, ["to-vendor", "crowd"]);
        let (leg, _) = fact(&fb, "transfer", "crowd", "leg");
        assert_eq!(leg.as_str(), Some("onward"));
        let (country, _) = fact(&fb, "flow", "crowd", "country");
        assert_eq!(country.as_str(), Some("VE"));
        let (recipient, _) = fact(&fb, "flow", "to-vendor", "recipient");
        assert_eq!(recipient.to_string(), "labelforge");
        let (t, _) = fact(&fb, "flow", "upload", "is_transfer");
        assert!(!t.is_true(), "the controller's own system is no transfer");
    }

    #[test]
    fn dpf_adequacy_needs_certification_and_scope() {
        let fb = base(CHAIN);
        let (adequacy, missing) = fact(&fb, "transfer", "to-vendor", "adequacy");
        assert_eq!(
            adequacy.get_attr("in_scope").ok().map(|v| v.is_true()),
            Some(true)
        );
        assert!(missing.is_empty());
        let no_scope = CHAIN.replace("dpf_scope: non_hr, ", "");
        let fb = base(&no_scope);
        let (_, missing) = fact(&fb, "transfer", "to-vendor", "adequacy");
        assert_eq!(
            missing.iter().map(|m| m.path.as_str()).collect::<Vec<_>>(),
            ["dpf_scope"]
        );
    }

    #[test]
    fn consent_gaps_and_bystanders() {
        let fb = base(CHAIN);
        let (gaps, missing) = fact(&fb, "flow", "crowd", "consent_gaps");
        let gaps: Vec<String> = gaps
            .try_iter()
            .expect("list")
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            gaps,
            ["recipient:taskhive", "human_review", "subject:visitors"]
        );
        assert!(missing.is_empty());
        let (by, _) = fact(&fb, "flow", "capture", "bystanders");
        assert_eq!(
            by.try_iter()
                .expect("list")
                .map(|v| v.to_string())
                .collect::<Vec<_>>(),
            ["visitors"]
        );
        // Biometric categories count only when processed to identify: here `biometric_use: none`.
        let (special, missing) = fact(&fb, "flow", "to-vendor", "special");
        assert_eq!(special.len(), Some(0));
        assert!(missing.is_empty());
    }

    #[test]
    fn dpia_screening() {
        let fb = base(CHAIN);
        let (required, _) = fact(&fb, "activity", "annotation", "dpia_required");
        assert!(required.is_true());
        let (met, _) = fact(&fb, "activity", "annotation", "dpia_criteria_met");
        let met: Vec<String> = met
            .try_iter()
            .expect("list")
            .map(|v| v.to_string())
            .collect();
        assert!(
            met.contains(&"systematic_monitoring".to_string()),
            "{met:?}"
        );
        assert!(
            met.contains(&"innovative_technology".to_string()),
            "{met:?}"
        );
        assert!(
            met.contains(&"sensitive_or_highly_personal".to_string()),
            "{met:?}"
        );
    }

    #[test]
    fn cnil_list_for_french_controllers() {
        let ws = r#"flowaudit: 1
controller: {id: entrepot, country: "FR", eea_establishment: true}
data_subjects:
  - {id: staff, category: customer}
activities:
  - {id: shift-tracking, purpose_category: worker_monitoring, profiling: false, combines_datasets: false,
     biometric_use: none, collection: {channel: app, continuous: true, large_scale: false}}
flows:
  - {id: f, activity: shift-tracking, from: staff, to: entrepot-db, subjects: [staff], data: [user.name]}
systems:
  - {id: entrepot-db, operated_by: entrepot, kind: database, country: "FR"}
"#;
        let fb = base(ws);
        let (list, _) = fact(&fb, "activity", "shift-tracking", "national_list");
        assert_eq!(
            list.try_iter()
                .expect("list")
                .map(|v| v.to_string())
                .collect::<Vec<_>>(),
            ["cnil-4"]
        );
        let (required, _) = fact(&fb, "activity", "shift-tracking", "dpia_required");
        assert!(required.is_true());
        let de = ws.replace("\"FR\"", "\"DE\"");
        let fb = base(&de);
        let (list, _) = fact(&fb, "activity", "shift-tracking", "national_list");
        assert_eq!(list.len(), Some(0));
    }
}
