//! The model: every document of a workspace merged into one typed [`Workspace`], with each
//! reference resolved to the element it names and each element keeping its source location.
//!
//! [`build`] first runs the cross-document checks (duplicate ids and sections, dangling and
//! wrong-kind references, unknown data categories, subprocessor cycles, waivers) on the raw
//! values, so that every problem is reported at once; only a workspace with none is typed.

mod check;
mod types;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use types::*;

use crate::diagnostics::Diagnostic;
use crate::loading::Document;
use crate::reference::{Category, Reference};
use crate::source::Range;

/// The kinds of element an id can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Controller,
    Party,
    System,
    DataSubject,
    Consent,
    Activity,
    Flow,
    Breach,
    Order,
    Request,
}

impl Kind {
    /// The noun used in messages and in rule `subject:`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Controller => "controller",
            Kind::Party => "party",
            Kind::System => "system",
            Kind::DataSubject => "data_subject",
            Kind::Consent => "consent",
            Kind::Activity => "activity",
            Kind::Flow => "flow",
            Kind::Breach => "breach",
            Kind::Order => "order",
            Kind::Request => "request",
        }
    }

    /// "a party", "an activity".
    pub fn with_article(self) -> String {
        let n = self.name().replace('_', " ");
        if n.starts_with(['a', 'e', 'i', 'o', 'u']) {
            format!("an {n}")
        } else {
            format!("a {n}")
        }
    }
}

/// Where an element is defined.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Display path of the file.
    pub file: String,
    /// The element's mapping (line and column of its first key).
    pub range: Range,
    /// JSON pointer of the element inside its document (`/flows/3`).
    pub pointer: String,
}

/// One element of the workspace: typed fields, the raw mapping (which keeps the difference
/// between an absent key and an explicit `null`), and where it was written.
#[derive(Clone, Debug)]
pub struct Element<T> {
    pub id: String,
    pub data: T,
    pub raw: Map<String, Value>,
    pub location: Location,
}

/// A section that appears at most once in a workspace (`notice`, `rights`, `security`, `records`).
#[derive(Clone, Debug)]
pub struct Section {
    pub raw: Map<String, Value>,
    pub location: Location,
}

/// A resolved reference: the kind and the index into that kind's list (0 for the controller).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeRef {
    pub kind: Kind,
    pub index: usize,
}

/// The merged, validated workspace the rule engine reads.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    pub controller: Option<Element<Controller>>,
    pub parties: Vec<Element<Party>>,
    pub systems: Vec<Element<System>>,
    pub data_subjects: Vec<Element<DataSubject>>,
    pub consents: Vec<Element<Consent>>,
    pub activities: Vec<Element<Activity>>,
    pub flows: Vec<Element<Flow>>,
    pub breaches: Vec<Element<Breach>>,
    pub orders: Vec<Element<Order>>,
    pub requests: Vec<Element<Request>>,
    pub waivers: Vec<Element<Waiver>>,
    pub notice: Option<Section>,
    pub rights: Option<Section>,
    pub security: Option<Section>,
    pub records: Option<Section>,
    /// Built-in categories overlaid by the workspace's `taxonomy:` entries, by id.
    pub taxonomy: BTreeMap<String, Category>,
    /// Every id, to what it names.
    pub ids: BTreeMap<String, NodeRef>,
}

impl Workspace {
    /// The element an id names.
    pub fn lookup(&self, id: &str) -> Option<NodeRef> {
        self.ids.get(id).copied()
    }

    /// The location of the element a reference names.
    pub fn location(&self, r: NodeRef) -> Option<&Location> {
        Some(match r.kind {
            Kind::Controller => &self.controller.as_ref()?.location,
            Kind::Party => &self.parties.get(r.index)?.location,
            Kind::System => &self.systems.get(r.index)?.location,
            Kind::DataSubject => &self.data_subjects.get(r.index)?.location,
            Kind::Consent => &self.consents.get(r.index)?.location,
            Kind::Activity => &self.activities.get(r.index)?.location,
            Kind::Flow => &self.flows.get(r.index)?.location,
            Kind::Breach => &self.breaches.get(r.index)?.location,
            Kind::Order => &self.orders.get(r.index)?.location,
            Kind::Request => &self.requests.get(r.index)?.location,
        })
    }

    /// The party a reference names, if it names a party.
    pub fn party(&self, id: &str) -> Option<&Element<Party>> {
        match self.lookup(id)? {
            NodeRef {
                kind: Kind::Party,
                index,
            } => self.parties.get(index),
            _ => None,
        }
    }

    /// The processor chain ending at a party: `[P1, ..., Pn]` where `Pk-1` engaged `Pk`
    /// (DESIGN §5 `chain`). Validation guarantees there is no cycle.
    pub fn chain(&self, party_id: &str) -> Vec<&Element<Party>> {
        let mut chain = Vec::new();
        let mut next = self.party(party_id);
        while let Some(p) = next {
            if chain.iter().any(|c: &&Element<Party>| c.id == p.id) {
                break;
            }
            chain.push(p);
            next = p.data.engaged_by.as_deref().and_then(|e| self.party(e));
        }
        chain.reverse();
        chain
    }

    /// The category and its effective flags, inherited from the nearest ancestor that sets them.
    pub fn category_flags(&self, id: &str) -> Option<CategoryFlags> {
        let mut flags = CategoryFlags::default();
        let (mut special, mut art10, mut hp) = (None, None, None);
        let mut cur = self.taxonomy.get(id);
        let start = cur?;
        flags.name = start.name.clone();
        while let Some(c) = cur {
            special = special.or_else(|| c.special.clone());
            art10 = art10.or(c.art10);
            hp = hp.or(c.highly_personal);
            cur = c.parent.as_deref().and_then(|p| self.taxonomy.get(p));
        }
        flags.special = special.filter(|s| s != "none");
        flags.art10 = art10.unwrap_or(false);
        flags.highly_personal = hp.unwrap_or(false);
        Some(flags)
    }
}

/// A category's effective classification.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CategoryFlags {
    pub name: String,
    /// Art. 9(1) kind, if any.
    pub special: Option<String>,
    pub art10: bool,
    pub highly_personal: bool,
}

/// Merges schema-valid documents into a workspace, or returns every problem found across them.
///
/// `rule_ids` are the rules a waiver may name.
pub fn build(
    documents: &[Document],
    rule_ids: &[String],
    reference: &Reference,
) -> Result<Workspace, Vec<Diagnostic>> {
    check::build(documents, rule_ids, reference, true).map(|ws| ws.unwrap_or_default())
}

/// Runs the cross-document checks only, on documents the schema found problems in: every
/// problem is reported in one run, but no typed model is built from invalid input.
pub fn check_only(
    documents: &[Document],
    rule_ids: &[String],
    reference: &Reference,
) -> Vec<Diagnostic> {
    check::build(documents, rule_ids, reference, false)
        .err()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loading::{self, Document};
    use crate::source::SourceFile;

    fn workspace(files: &[(&str, &str)]) -> Result<Workspace, Vec<Diagnostic>> {
        let docs: Vec<Document> = files
            .iter()
            .map(|(name, text)| {
                let file = SourceFile {
                    path: (*name).into(),
                    text: (*text).to_string(),
                };
                let parsed = loading::parse_source(&file).expect("parses");
                Document { file, parsed }
            })
            .collect();
        build(&docs, &[], Reference::get())
    }

    const CHAIN: &str = "flowaudit: 1
controller: {id: sweepwell, name: Sweepwell, country: \"DE\"}
parties:
  - {id: labelforge, role: processor, country: \"US\"}
  - {id: taskhive, role: subprocessor, country: \"VE\", engaged_by: labelforge}
systems:
  - {id: lake, operated_by: sweepwell, kind: database, country: \"DE\"}
taxonomy:
  - {id: user.sensor.thermal, parent: user.sensor, name: Thermal, highly_personal: true}
  - {id: user.biometric.face, parent: user.biometric, name: Face, special: none}
data_subjects:
  - {id: testers, category: tester}
activities:
  - {id: training, legal_basis: consent}
flows:
  - {id: capture, activity: training, from: testers, to: lake, data: [user.sensor.thermal]}
";

    #[test]
    fn resolves_references_and_chains() {
        let ws = workspace(&[("a.flow.yaml", CHAIN)]).expect("valid");
        assert_eq!(ws.lookup("taskhive").map(|r| r.kind), Some(Kind::Party));
        assert_eq!(
            ws.lookup("sweepwell").map(|r| r.kind),
            Some(Kind::Controller)
        );
        let chain: Vec<&str> = ws.chain("taskhive").iter().map(|p| p.id.as_str()).collect();
        assert_eq!(chain, ["labelforge", "taskhive"]);
        let lake = ws
            .lookup("lake")
            .and_then(|r| ws.location(r))
            .expect("located");
        assert_eq!(
            (
                lake.file.as_str(),
                lake.range.start.line,
                lake.pointer.as_str()
            ),
            ("a.flow.yaml", 7, "/systems/0")
        );
        assert_eq!(
            ws.systems[0].data.operator.map(|r| r.kind),
            Some(Kind::Controller)
        );
        assert_eq!(
            ws.parties[1].data.engaged_by_ref,
            Some(NodeRef {
                kind: Kind::Party,
                index: 0
            })
        );
    }

    #[test]
    fn flows_are_resolved() {
        let ws = workspace(&[("a.flow.yaml", CHAIN)]).expect("valid");
        let f = &ws.flows[0].data;
        assert_eq!(f.from_ref.map(|r| r.kind), Some(Kind::DataSubject));
        assert_eq!(f.to_ref.map(|r| r.kind), Some(Kind::System));
        assert_eq!(
            f.activity_ref,
            Some(NodeRef {
                kind: Kind::Activity,
                index: 0
            })
        );
        assert_eq!(f.access, "copy");
    }

    #[test]
    fn category_flags_inherit_and_workspace_overrides() {
        let ws = workspace(&[("a.flow.yaml", CHAIN)]).expect("valid");
        let genetic = ws
            .category_flags("user.health_and_medical.genetic")
            .expect("known");
        assert_eq!(genetic.special.as_deref(), Some("genetic"));
        let voice = ws.category_flags("user.biometric.voice").expect("known");
        assert_eq!(voice.special.as_deref(), Some("biometric"));
        let thermal = ws.category_flags("user.sensor.thermal").expect("added");
        assert!(thermal.highly_personal && thermal.special.is_none());
        // The workspace redefined a built-in category and cleared its Art. 9 flag.
        assert_eq!(
            ws.category_flags("user.biometric.face")
                .and_then(|f| f.special),
            None
        );
        assert!(
            ws.category_flags("user.criminal_history")
                .is_some_and(|f| f.art10)
        );
    }

    #[test]
    fn problems_across_files_are_all_reported() {
        let other = "flowaudit: 1\ncontroller: {id: other}\nparties:\n  - {id: labelforge, engaged_by: taskhive}\n";
        let diags =
            workspace(&[("a.flow.yaml", CHAIN), ("b.flow.yaml", other)]).expect_err("invalid");
        let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
        // Two controllers, a duplicate id, and a cycle labelforge <-> taskhive (through the copy).
        assert!(codes.contains(&"E034"), "{codes:?}");
        assert!(codes.contains(&"E030"), "{codes:?}");
        assert!(codes.contains(&"E035"), "{codes:?}");
    }
}
