//! The fields each subject kind defines: the flow schema's properties plus the derived facts of
//! `schemas/facts.schema.json`. Used to answer field reads ([`super::node`]) and to check the paths
//! a rule names when it is loaded.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::node::{Field, Shape};
use crate::embedded;
use crate::loading::schema::flow_schema;

/// The derived-facts schema as shipped.
pub fn facts_schema() -> &'static Value {
    static FACTS: OnceLock<Value> = OnceLock::new();
    FACTS.get_or_init(|| {
        serde_json::from_str(embedded::get("schemas/facts.schema.json").unwrap_or("{}"))
            .expect("the embedded facts schema is valid JSON")
    })
}

/// Every shape by name: the element kinds (`flow`, `party`, ..., `transfer`) and the top-level
/// sections (`notice`, `rights`, `security`, `records`).
pub struct Shapes {
    pub by_name: BTreeMap<&'static str, Arc<Shape>>,
}

impl Shapes {
    pub fn get() -> &'static Shapes {
        static SHAPES: OnceLock<Shapes> = OnceLock::new();
        SHAPES.get_or_init(build)
    }

    pub fn of(&self, name: &str) -> Arc<Shape> {
        self.by_name.get(name).cloned().unwrap_or_default()
    }
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut node = node;
    for _ in 0..8 {
        match node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(ptr) => match root.pointer(ptr) {
                Some(target) => node = target,
                None => break,
            },
            None => break,
        }
    }
    node
}

fn has_type(node: &Value, t: &str) -> bool {
    match node.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(t)),
        _ => false,
    }
}

/// The values a field can take, when few: a boolean, or an enum (with `null` if allowed).
fn domain_of(prop: &Value) -> super::node::Domain {
    let mut values: Vec<Value> = if let Some(Value::Array(e)) = prop.get("enum") {
        e.clone()
    } else if has_type(prop, "boolean") {
        vec![Value::Bool(true), Value::Bool(false)]
    } else {
        return None;
    };
    if has_type(prop, "null") && !values.contains(&Value::Null) {
        values.push(Value::Null);
    }
    Some(Arc::new(values))
}

/// The shape of a schema object node.
fn shape_of(root: &Value, node: &Value) -> Shape {
    let node = resolve(root, node);
    let mut shape = Shape::default();
    if let Some(Value::Object(props)) = node.get("properties") {
        for (name, prop) in props {
            let prop = resolve(root, prop);
            let mut field = Field {
                default: prop.get("default").cloned(),
                domain: domain_of(prop),
                ..Field::default()
            };
            if has_type(prop, "object") && prop.get("properties").is_some() {
                field.nested = Some(Arc::new(shape_of(root, prop)));
            }
            if has_type(prop, "array")
                && let Some(items) = prop.get("items")
            {
                let items = resolve(root, items);
                if items.get("properties").is_some() {
                    field.items = Some(Arc::new(shape_of(root, items)));
                }
            }
            shape.fields.insert(name.clone(), field);
        }
    }
    shape
}

/// Marks `path` (dotted) in a shape with `f`.
fn mark(shape: &mut Shape, path: &str, f: &dyn Fn(&mut Field)) {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let Some(field) = shape.fields.get_mut(head) else {
        return;
    };
    match rest {
        None => f(field),
        Some(rest) => {
            if let Some(nested) = field.nested.as_mut() {
                mark(Arc::make_mut(nested), rest, f);
            }
        }
    }
}

fn build() -> Shapes {
    let flow = flow_schema();
    let facts = facts_schema();
    let props = |p: &str| flow.pointer(p).cloned().unwrap_or(Value::Null);
    let mut by_name: BTreeMap<&'static str, Arc<Shape>> = BTreeMap::new();

    let base: [(&'static str, Value); 13] = [
        ("controller", props("/properties/controller")),
        ("party", props("/properties/parties/items")),
        ("system", props("/properties/systems/items")),
        ("data_subject", props("/properties/data_subjects/items")),
        ("consent", props("/properties/consents/items")),
        ("activity", props("/properties/activities/items")),
        ("flow", props("/properties/flows/items")),
        ("order", props("/properties/orders/items")),
        ("breach", props("/properties/breaches/items")),
        (
            "request",
            props("/properties/rights/properties/requests/items"),
        ),
        ("notice", props("/properties/notice")),
        ("rights", props("/properties/rights")),
        ("security", props("/properties/security")),
    ];
    let mut shapes: BTreeMap<&'static str, Shape> = base
        .iter()
        .map(|(name, node)| (*name, shape_of(flow, node)))
        .collect();
    shapes.insert("records", shape_of(flow, &props("/properties/records")));
    shapes.insert("transfer_block", shape_of(flow, &props("/$defs/transfer")));
    shapes.insert("transfer", Shape::default());

    // Absent means none: feature blocks and one-way keys.
    let none = facts.get("x-absent-means-none");
    for (kind, blocks) in none
        .and_then(|n| n.get("feature_blocks"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(shape) = shapes.get_mut(kind.as_str()) {
            for b in blocks
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                mark(shape, b, &|f| f.feature = true);
            }
        }
    }
    for (kind, keys) in none
        .and_then(|n| n.get("one_way_keys"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let targets: Vec<&'static str> = if kind == "section" {
            vec!["notice", "activity"]
        } else {
            shapes
                .keys()
                .copied()
                .filter(|k| *k == kind.as_str())
                .collect()
        };
        for target in targets {
            if let Some(shape) = shapes.get_mut(target) {
                for k in keys
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    let k = if target == "notice" {
                        k.strip_prefix("notice.").unwrap_or(k)
                    } else {
                        k
                    };
                    mark(shape, k, &|f| f.one_way = true);
                }
            }
        }
    }

    // Derived facts, in an order where each element a fact points to is complete first.
    let order = [
        "controller",
        "party",
        "system",
        "data_subject",
        "consent",
        "order",
        "breach",
        "request",
        "notice",
        "flow",
        "transfer",
        "activity",
    ];
    for kind in order {
        let mut shape = shapes.remove(kind).unwrap_or_default();
        let defs = facts.pointer(&format!("/$defs/{kind}/properties"));
        for (name, fact) in defs.and_then(Value::as_object).into_iter().flatten() {
            let fact_r = resolve(facts, fact);
            let mut field = Field::default();
            if let Some(el) = fact_r.get("x-element").and_then(Value::as_str) {
                field.nested = by_name.get(el).cloned();
            } else if let Some(el) = fact_r.get("x-items-element").and_then(Value::as_str) {
                field.items = by_name.get(el).cloned();
            } else if let Some(block) = fact_r.get("x-block").and_then(Value::as_str) {
                let name = if block == "transfer" {
                    "transfer_block"
                } else {
                    block
                };
                field.nested = shapes
                    .get(name)
                    .cloned()
                    .or_else(|| by_name.get(name).map(|s| (**s).clone()))
                    .map(Arc::new);
            } else if fact_r.get("properties").is_some() {
                field.nested = Some(Arc::new(shape_of(facts, fact_r)));
            }
            shape.fields.insert(name.clone(), field);
        }
        // `failed` is on every element (rules name what they read in `depends_on`).
        if kind != "notice" {
            shape.fields.entry("failed".to_string()).or_default();
        }
        by_name.insert(kind, Arc::new(shape));
    }
    for (name, shape) in shapes {
        by_name.entry(name).or_insert_with(|| Arc::new(shape));
    }
    Shapes { by_name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_join_schema_and_facts() {
        let s = Shapes::get();
        let flow = s.of("flow");
        assert!(flow.has("to") && flow.has("third_country") && flow.has("consent_gaps"));
        let recipient = flow.fields["recipient"]
            .nested
            .as_ref()
            .expect("party shape");
        assert!(recipient.has("dpf_certified") && recipient.has("receives"));
        let transfer = flow.fields["transfer"].nested.as_ref().expect("block");
        assert!(transfer.has("mechanism") && transfer.has("tia"));
        let activity = s.of("activity");
        assert!(activity.fields["human_review"].feature);
        assert!(
            activity.fields["transfers"]
                .items
                .as_ref()
                .is_some_and(|t| t.has("leg"))
        );
        let collection = activity.fields["collection"]
            .nested
            .as_ref()
            .expect("collection");
        assert!(collection.fields["event_triggered"].one_way);
        assert!(!collection.fields["continuous"].one_way);
        assert!(
            s.of("system").fields["effective_security"]
                .nested
                .as_ref()
                .is_some_and(|n| n.has("mfa_staff"))
        );
        assert!(s.of("notice").fields["deficient_items"].one_way);
    }
}

/// `docs/facts.md`, generated from `schemas/facts.schema.json` (a test keeps the file current).
pub fn facts_markdown() -> String {
    let facts = facts_schema();
    let mut out = String::from(
        "# Derived facts\n\n<!-- Generated from schemas/facts.schema.json by `FLOWAUDIT_BLESS=1 cargo test facts_doc`; do not edit. -->\n\n",
    );
    if let Some(d) = facts.get("description").and_then(Value::as_str) {
        out.push_str(d);
        out.push_str("\n\n");
    }
    let kinds = [
        "controller",
        "party",
        "system",
        "data_subject",
        "consent",
        "activity",
        "flow",
        "transfer",
        "notice",
        "order",
        "breach",
        "request",
    ];
    for kind in kinds {
        let Some(props) = facts
            .pointer(&format!("/$defs/{kind}/properties"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        if props.is_empty() {
            continue;
        }
        out.push_str(&format!("## `{kind}`\n\n"));
        if let Some(d) = facts
            .pointer(&format!("/$defs/{kind}/description"))
            .and_then(Value::as_str)
        {
            out.push_str(d);
            out.push_str("\n\n");
        }
        out.push_str("| fact | description |\n|---|---|\n");
        for (name, p) in props {
            let p = resolve(facts, p);
            let mut desc = p
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(el) = p.get("x-element").and_then(Value::as_str) {
                desc.push_str(&format!(" (a `{el}` element)"));
            }
            if let Some(el) = p.get("x-items-element").and_then(Value::as_str) {
                desc.push_str(&format!(" (a list of `{el}` elements)"));
            }
            if let Some(Value::Object(sub)) = p.get("properties") {
                let names: Vec<String> = sub.keys().map(|k| format!("`{k}`")).collect();
                desc.push_str(&format!(" Fields: {}.", names.join(", ")));
            }
            out.push_str(&format!(
                "| `{kind}.{name}` | {} |\n",
                desc.replace('|', "\\|")
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn facts_doc() {
        let generated = super::facts_markdown();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/facts.md");
        if std::env::var_os("FLOWAUDIT_BLESS").is_some() {
            std::fs::write(path, &generated).expect("write docs/facts.md");
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/facts.md is out of date: run FLOWAUDIT_BLESS=1 cargo test facts_doc"
        );
    }
}
