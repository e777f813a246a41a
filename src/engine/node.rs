//! The objects rule expressions see: schema-aware views of elements and their derived facts.
//!
//! A [`Node`] wraps one element (or a block inside it) together with the list of fields the flow
//! schema and the derived facts define for it ([`Shape`]). Reading a field:
//! - that is stated gives its value;
//! - that is defined but not stated gives `none` and, unless it sits in an absent *feature block*
//!   (CHECKPOINTS §1.2: an absent `human_review` means no human review) or is a one-way key, is
//!   recorded as a missing fact — which is how a rule's result becomes *unknown* and names what to
//!   supply;
//! - that is not defined at all is undefined, an error under minijinja's strict mode, so a typo in
//!   a rule fails loudly instead of silently reading `none`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use serde::Serialize;
use serde_json::Value as Json;

use crate::model::Kind;

/// A fact a rule needed that the workspace does not state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Missing {
    /// Kind of the element the fact belongs to (`transfer` for a leg).
    pub kind: String,
    /// Its id.
    pub id: String,
    /// The field path inside the element (`contract.clauses`).
    pub path: String,
}

/// The values a missing fact could take, when there are few (a boolean, an enum): the engine then
/// tries each to see whether the rule's outcome depends on the fact at all.
pub type Domain = Option<Arc<Vec<Json>>>;

/// Missing facts read during one evaluation, with their domains.
pub type Recorded = BTreeMap<Missing, Domain>;

thread_local! {
    static RECORDER: RefCell<Option<Recorded>> = const { RefCell::new(None) };
    /// What stands behind each `derived:` fact recorded: the stated facts that would decide it.
    static UNDECIDED: RefCell<BTreeMap<Missing, Vec<Missing>>> = const { RefCell::new(BTreeMap::new()) };
    /// Values assumed for missing facts while probing (see [`super::eval`]).
    static ASSUMED: RefCell<Option<BTreeMap<Missing, Json>>> = const { RefCell::new(None) };
}

/// Notes a missing fact without a known domain, if a rule evaluation is recording.
pub fn record(m: Missing) {
    record_with(m, None);
}

/// Notes a missing fact and the values it could take.
pub fn record_with(m: Missing, domain: Domain) {
    RECORDER.with(|r| {
        if let Some(set) = r.borrow_mut().as_mut() {
            set.entry(m).or_insert(domain);
        }
    });
}

/// The value assumed for a missing fact, while probing.
pub fn assumed(m: &Missing) -> Option<Json> {
    ASSUMED.with(|a| a.borrow().as_ref().and_then(|a| a.get(m).cloned()))
}

/// Runs `f` while recording missing facts; returns its result and the facts read but not stated.
pub fn recording<T>(f: impl FnOnce() -> T) -> (T, Recorded) {
    RECORDER.with(|r| *r.borrow_mut() = Some(BTreeMap::new()));
    let out = f();
    let missing = RECORDER.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (out, missing)
}

/// Runs `f` with values assumed for missing facts (they are then neither missing nor recorded).
pub fn assuming<T>(values: BTreeMap<Missing, Json>, f: impl FnOnce() -> T) -> T {
    ASSUMED.with(|a| *a.borrow_mut() = Some(values));
    let out = f();
    ASSUMED.with(|a| *a.borrow_mut() = None);
    out
}

/// What a field of a shape holds.
#[derive(Debug, Default, Clone)]
pub struct Field {
    /// A mapping with known fields.
    pub nested: Option<Arc<Shape>>,
    /// A list of mappings with known fields.
    pub items: Option<Arc<Shape>>,
    /// An absent block means "the feature is not present", not "unknown" (CHECKPOINTS §1.2).
    pub feature: bool,
    /// Absence excuses nothing and faults nothing: never recorded as missing.
    pub one_way: bool,
    /// The value an absent key stands for (the schema's `default`, e.g. `access: copy`).
    pub default: Option<Json>,
    /// The values the field can take, when few: booleans and enums.
    pub domain: Domain,
}

/// The fields an element kind (or a block) defines.
#[derive(Debug, Default, Clone)]
pub struct Shape {
    pub fields: BTreeMap<String, Field>,
}

impl Shape {
    pub fn has(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }
}

/// A derived fact: its value, and the missing facts that leave it (partly) undecided.
#[derive(Debug, Clone)]
pub struct Derived {
    pub value: Value,
    pub missing: Vec<Missing>,
    /// For a fact that is one stated field under another name (a leg's `tia`): the values that
    /// field can take, so that the engine can try them.
    pub domain: Domain,
    /// A yes/no fact: when undecided, the engine tries it both ways.
    pub two_valued: bool,
}

impl Derived {
    pub fn known(value: impl Into<Value>) -> Self {
        Derived {
            value: value.into(),
            missing: Vec::new(),
            domain: None,
            two_valued: false,
        }
    }

    /// Undecided: reads as `none` and records what to supply.
    pub fn unknown(missing: Vec<Missing>) -> Self {
        Derived {
            value: Value::from(()),
            missing,
            domain: None,
            two_valued: false,
        }
    }

    /// An undecided yes/no fact.
    pub fn undecided(missing: Vec<Missing>) -> Self {
        Derived {
            two_valued: true,
            ..Derived::unknown(missing)
        }
    }

    /// Undecided, standing for one stated field with few possible values.
    pub fn unstated(missing: Missing, domain: Domain) -> Self {
        Derived {
            value: Value::from(()),
            missing: vec![missing],
            domain,
            two_valued: false,
        }
    }
}

/// Who a node belongs to, for naming missing facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub kind: Kind,
    /// `transfer` subjects are not model kinds; their kind name is given here.
    pub kind_name: &'static str,
    pub id: String,
}

/// A schema-aware view of an element or a block of it.
#[derive(Debug, Clone)]
pub struct Node {
    pub owner: Arc<Owner>,
    /// Dotted path of this block inside the element (`""` for the element itself).
    pub path: String,
    pub shape: Arc<Shape>,
    /// The element's raw mapping.
    pub root: Arc<Json>,
    /// JSON pointer of this block inside `root`.
    pub pointer: String,
    /// Derived facts (element roots only).
    pub derived: Arc<BTreeMap<String, Derived>>,
    /// Whether absent fields are recorded as missing (false inside an absent feature block).
    pub record: bool,
}

impl Node {
    pub fn element(
        owner: Owner,
        shape: Arc<Shape>,
        root: Json,
        derived: BTreeMap<String, Derived>,
    ) -> Node {
        Node {
            owner: Arc::new(owner),
            path: String::new(),
            shape,
            root: Arc::new(root),
            pointer: String::new(),
            derived: Arc::new(derived),
            record: true,
        }
    }

    fn raw(&self) -> Option<&serde_json::Map<String, Json>> {
        self.root.pointer(&self.pointer).and_then(Json::as_object)
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn missing(&self, key: &str) -> Missing {
        Missing {
            kind: self.owner.kind_name.to_string(),
            id: self.owner.id.clone(),
            path: self.child_path(key),
        }
    }

    fn child(&self, key: &str, shape: Arc<Shape>, pointer: String, record: bool) -> Node {
        Node {
            owner: self.owner.clone(),
            path: self.child_path(key),
            shape,
            root: self.root.clone(),
            pointer,
            derived: Arc::new(BTreeMap::new()),
            record,
        }
    }

    /// The value of a field, recording it as missing when it is defined but not stated.
    pub fn field(&self, key: &str) -> Option<Value> {
        if let Some(d) = self.derived.get(key) {
            if d.missing.is_empty() {
                return Some(d.value.clone());
            }
            // A list known only in part (some items undecided): a two-valued fact "more items",
            // which the engine tries both ways; it stands for the facts that would decide them.
            if d.two_valued {
                let fact = Missing {
                    kind: self.owner.kind_name.to_string(),
                    id: self.owner.id.clone(),
                    path: format!("derived:{}", self.child_path(key)),
                };
                return Some(match assumed(&fact) {
                    Some(v) => Value::from(minijinja::value::Serde(v)),
                    None => {
                        UNDECIDED.with(|u| u.borrow_mut().insert(fact.clone(), d.missing.clone()));
                        record_with(
                            fact,
                            Some(Arc::new(vec![Json::Bool(true), Json::Bool(false)])),
                        );
                        d.value.clone()
                    }
                });
            }
            if d.value.kind() == minijinja::value::ValueKind::Seq {
                let fact = Missing {
                    kind: self.owner.kind_name.to_string(),
                    id: self.owner.id.clone(),
                    path: format!("derived:{}", self.child_path(key)),
                };
                return Some(match assumed(&fact) {
                    Some(Json::Bool(true)) => {
                        let mut v: Vec<Value> =
                            d.value.try_iter().map(|i| i.collect()).unwrap_or_default();
                        v.push(Value::from("(undecided)"));
                        Value::from(v)
                    }
                    Some(_) => d.value.clone(),
                    None => {
                        UNDECIDED.with(|u| u.borrow_mut().insert(fact.clone(), d.missing.clone()));
                        record_with(
                            fact,
                            Some(Arc::new(vec![Json::Bool(true), Json::Bool(false)])),
                        );
                        d.value.clone()
                    }
                });
            }
            if let ([m], Some(_)) = (d.missing.as_slice(), &d.domain) {
                if let Some(v) = assumed(m) {
                    return Some(Value::from(minijinja::value::Serde(v)));
                }
                record_with(m.clone(), d.domain.clone());
                return Some(d.value.clone());
            }
            for m in &d.missing {
                record(m.clone());
            }
            return Some(d.value.clone());
        }
        if key == "failed" && self.path.is_empty() {
            return Some(super::eval::failed_on(&self.owner));
        }
        let field = self.shape.fields.get(key)?;
        // Built only when a child node needs it: most reads are of plain values.
        let pointer = || {
            format!(
                "{}/{}",
                self.pointer,
                key.replace('~', "~0").replace('/', "~1")
            )
        };
        let raw = self.raw().and_then(|m| m.get(key));
        match (raw, &field.nested, &field.items) {
            (Some(Json::Object(_)), Some(shape), _) => Some(Value::from_object(self.child(
                key,
                shape.clone(),
                pointer(),
                self.record,
            ))),
            (Some(Json::Array(list)), _, Some(shape)) => Some(Value::from(
                (0..list.len())
                    .map(|i| {
                        let mut n = self.child(
                            key,
                            shape.clone(),
                            format!("{}/{i}", pointer()),
                            self.record,
                        );
                        n.path = format!("{}[{i}]", n.path);
                        Value::from_object(n)
                    })
                    .collect::<Vec<_>>(),
            )),
            (Some(v), _, _) => Some(Value::from(minijinja::value::Serde(v))),
            (None, Some(shape), _) => {
                // An absent block reads as an empty, falsy block. Inside an absent feature block
                // nothing is missing: the feature is not there.
                let record = self.record && !field.feature;
                Some(Value::from_object(self.child(
                    key,
                    shape.clone(),
                    pointer(),
                    record,
                )))
            }
            (None, _, _) if field.default.is_some() => field
                .default
                .as_ref()
                .map(|d| Value::from(minijinja::value::Serde(d))),
            (None, _, _) => {
                if self.record && !field.one_way {
                    let m = self.missing(key);
                    if let Some(v) = assumed(&m) {
                        return Some(Value::from(minijinja::value::Serde(v)));
                    }
                    record_with(m, field.domain.clone());
                }
                Some(Value::from(()))
            }
        }
    }

    /// Whether the block is stated (an element root always is).
    pub fn present(&self) -> bool {
        self.pointer.is_empty() || self.raw().is_some()
    }
}

impl Object for Node {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.field(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = self
            .raw()
            .map(|m| m.keys().map(|k| Value::from(k.as_str())).collect())
            .unwrap_or_default();
        if self.path.is_empty() {
            keys.extend(self.derived.keys().map(|k| Value::from(k.as_str())));
        }
        Enumerator::Values(keys)
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.present()
    }

    /// `block.has('key')`: whether the key is stated, without counting it as a missing fact
    /// (for rules that treat a stated fault differently from silence).
    fn call_method(
        self: &Arc<Self>,
        _state: &mut minijinja::State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, minijinja::Error> {
        match (method, args) {
            ("has", [key]) => {
                let key = key.as_str().unwrap_or_default();
                let stated = self.raw().is_some_and(|m| m.contains_key(key))
                    || (self.path.is_empty() && self.derived.contains_key(key));
                Ok(Value::from(stated))
            }
            _ => Err(minijinja::Error::from(minijinja::ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // In messages an element renders as its id, a block as its path.
        if self.path.is_empty() {
            write!(f, "{}", self.owner.id)
        } else {
            write!(f, "{}", self.path)
        }
    }
}

/// The stated facts behind a `derived:` fact recorded by [`Node::field`].
pub fn undecided_sources(fact: &Missing) -> Vec<Missing> {
    UNDECIDED.with(|u| u.borrow().get(fact).cloned().unwrap_or_default())
}
