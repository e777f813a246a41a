//! Cross-document checks and the merge into a typed [`Workspace`].
//!
//! These run on the raw values of every document that passed the version check, even when the
//! schema found problems, so that a user sees every problem in one run. They read defensively:
//! a value of the wrong shape was already reported by the schema and is skipped here.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Element, Kind, Location, NodeRef, Section, Workspace};
use crate::diagnostics::{Code, Diagnostic, Label};
use crate::loading::Document;
use crate::loading::schema::field_path;
use crate::reference::{Category, Reference};
use crate::suggest;

/// List sections holding elements with ids, and the kind of those elements.
const LIST_SECTIONS: &[(&str, Kind)] = &[
    ("parties", Kind::Party),
    ("systems", Kind::System),
    ("data_subjects", Kind::DataSubject),
    ("consents", Kind::Consent),
    ("activities", Kind::Activity),
    ("flows", Kind::Flow),
    ("breaches", Kind::Breach),
    ("orders", Kind::Order),
];

/// Sections a workspace may hold only once.
const SINGLE_SECTIONS: &[&str] = &["controller", "notice", "rights", "security", "records"];

/// Every id-typed field: section, field, whether it holds a list, the kinds it may name.
const REF_FIELDS: &[(&str, &str, bool, &[Kind])] = &[
    ("parties", "engaged_by", false, &[Kind::Party]),
    (
        "systems",
        "operated_by",
        false,
        &[Kind::Controller, Kind::Party],
    ),
    ("consents", "subjects", true, &[Kind::DataSubject]),
    ("consents", "purposes", true, &[Kind::Activity]),
    ("consents", "recipients", true, &[Kind::Party]),
    (
        "consents",
        "collected_by",
        false,
        &[Kind::Controller, Kind::Party],
    ),
    ("activities", "consent", false, &[Kind::Consent]),
    ("flows", "activity", false, &[Kind::Activity]),
    (
        "flows",
        "from",
        false,
        &[Kind::DataSubject, Kind::System, Kind::Party],
    ),
    ("flows", "to", false, &[Kind::System, Kind::Party]),
    ("flows", "subjects", true, &[Kind::DataSubject]),
];

/// An element found in a document, before typing.
struct Found<'a> {
    kind: Kind,
    id: &'a str,
    doc: usize,
    pointer: String,
    raw: &'a Map<String, Value>,
}

struct Ctx<'a> {
    docs: &'a [Document],
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn file(&self, doc: usize) -> String {
        self.docs[doc].file.display_path()
    }

    fn location(&self, doc: usize, pointer: &str) -> Location {
        Location {
            file: self.file(doc),
            range: self.docs[doc].parsed.locate(pointer).value,
            pointer: pointer.to_string(),
        }
    }
}

fn items<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = (usize, &'a Map<String, Value>)> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, v)| v.as_object().map(|m| (i, m)))
}

fn kinds_phrase(kinds: &[Kind]) -> String {
    let names: Vec<String> = kinds.iter().map(|k| k.with_article()).collect();
    match names.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    }
}

/// The checks, then (when `type_model`) the typed workspace. `Ok(None)`: the checks passed and no
/// model was asked for.
pub(super) fn build(
    docs: &[Document],
    rule_ids: &[String],
    reference: &Reference,
    type_model: bool,
) -> Result<Option<Workspace>, Vec<Diagnostic>> {
    let mut ctx = Ctx {
        docs,
        diags: Vec::new(),
    };

    // 1. Every element with an id, in load order.
    let mut found: Vec<Found<'_>> = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        let v = &doc.parsed.value;
        if let Some(c) = v.get("controller").and_then(Value::as_object)
            && let Some(id) = c.get("id").and_then(Value::as_str)
        {
            found.push(Found {
                kind: Kind::Controller,
                id,
                doc: d,
                pointer: "/controller".into(),
                raw: c,
            });
        }
        for (section, kind) in LIST_SECTIONS {
            for (i, m) in items(v, section) {
                if let Some(id) = m.get("id").and_then(Value::as_str) {
                    found.push(Found {
                        kind: *kind,
                        id,
                        doc: d,
                        pointer: format!("/{section}/{i}"),
                        raw: m,
                    });
                }
            }
        }
        if let Some(rights) = v.get("rights") {
            for (i, m) in items(rights, "requests") {
                if let Some(id) = m.get("id").and_then(Value::as_str) {
                    found.push(Found {
                        kind: Kind::Request,
                        id,
                        doc: d,
                        pointer: format!("/rights/requests/{i}"),
                        raw: m,
                    });
                }
            }
        }
    }

    // 2. Unique ids across the workspace and across kinds.
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, f) in found.iter().enumerate() {
        if let Some(&first) = ids.get(f.id) {
            let first = &found[first];
            let here = ctx.docs[f.doc].parsed.locate(&format!("{}/id", f.pointer));
            let there = ctx.docs[first.doc]
                .parsed
                .locate(&format!("{}/id", first.pointer));
            let d = Diagnostic::at(
                Code::DuplicateId,
                ctx.file(f.doc),
                here.value,
                format!("duplicate id `{}`", f.id),
                format!("{} defined again here", f.kind.with_article()),
            )
            .with_secondary(Label {
                file: ctx.file(first.doc),
                range: there.value,
                text: format!("first defined here, as {}", first.kind.with_article()),
            })
            .with_help(
                "ids are unique across the whole workspace and across kinds; rename one of them",
            );
            ctx.diags.push(d);
        } else {
            ids.insert(f.id, n);
        }
    }

    // 3. Sections that may appear once.
    for section in SINGLE_SECTIONS {
        let mut first: Option<usize> = None;
        for (d, doc) in docs.iter().enumerate() {
            if doc.parsed.value.get(section).is_none() {
                continue;
            }
            match first {
                None => first = Some(d),
                Some(f) => {
                    let here = doc.parsed.locate(&format!("/{section}"));
                    let there = docs[f].parsed.locate(&format!("/{section}"));
                    let what = if *section == "controller" {
                        "a workspace has at most one controller".to_string()
                    } else {
                        format!("`{section}` may be written in one document of the workspace only")
                    };
                    ctx.diags.push(
                        Diagnostic::at(
                            Code::DuplicateSection,
                            ctx.file(d),
                            here.key.unwrap_or(here.value),
                            format!("second `{section}` section in the workspace"),
                            "written again here",
                        )
                        .with_secondary(Label {
                            file: ctx.file(f),
                            range: there.key.unwrap_or(there.value),
                            text: "first written here".into(),
                        })
                        .with_help(format!("{what}; merge the two")),
                    );
                }
            }
        }
    }

    let kind_of = |id: &str| ids.get(id).map(|&n| found[n].kind);

    // 4. References resolve, to the right kind.
    for (d, doc) in docs.iter().enumerate() {
        for (section, field, many, kinds) in REF_FIELDS {
            for (i, m) in items(&doc.parsed.value, section) {
                let values: Vec<(String, &str)> = match (m.get(*field), many) {
                    (Some(Value::String(s)), false) => {
                        vec![(format!("/{section}/{i}/{field}"), s.as_str())]
                    }
                    (Some(Value::Array(a)), true) => a
                        .iter()
                        .enumerate()
                        .filter_map(|(j, v)| {
                            v.as_str()
                                .map(|s| (format!("/{section}/{i}/{field}/{j}"), s))
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                for (pointer, target) in values {
                    check_reference(
                        &mut ctx, d, &pointer, field, target, kinds, &kind_of, &found, &ids,
                    );
                }
            }
        }
    }

    // 5. The taxonomy: built-in categories overlaid by the workspace's additions.
    let mut taxonomy: BTreeMap<String, Category> = reference
        .categories
        .iter()
        .map(|c| (c.id.clone(), c.clone()))
        .collect();
    let mut added: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut pending_parents: Vec<(usize, String, String)> = Vec::new();
    for (d, doc) in docs.iter().enumerate() {
        for (i, m) in items(&doc.parsed.value, "taxonomy") {
            let Ok(mut cat) = serde_json::from_value::<Category>(Value::Object(m.clone())) else {
                continue; // wrong shape: reported by the schema
            };
            cat.origin = "workspace".into();
            let pointer = format!("/taxonomy/{i}");
            if let Some((fd, fp)) = added.get(&cat.id) {
                let here = doc.parsed.locate(&format!("{pointer}/id"));
                let there = docs[*fd].parsed.locate(&format!("{fp}/id"));
                ctx.diags.push(
                    Diagnostic::at(
                        Code::DuplicateCategory,
                        ctx.file(d),
                        here.value,
                        format!(
                            "data category `{}` is defined twice in the workspace",
                            cat.id
                        ),
                        "defined again here",
                    )
                    .with_secondary(Label {
                        file: ctx.file(*fd),
                        range: there.value,
                        text: "first defined here".into(),
                    }),
                );
                continue;
            }
            if let Some(p) = &cat.parent {
                pending_parents.push((d, format!("{pointer}/parent"), p.clone()));
            }
            added.insert(cat.id.clone(), (d, pointer));
            taxonomy.insert(cat.id.clone(), cat);
        }
    }
    let category_ids: Vec<&str> = taxonomy.keys().map(String::as_str).collect();
    let unknown_category = |ctx: &mut Ctx<'_>, d: usize, pointer: &str, id: &str, what: &str| {
        let loc = ctx.docs[d].parsed.locate(pointer);
        let mut diag = Diagnostic::at(
            Code::UnknownCategory,
            ctx.file(d),
            loc.value,
            format!("unknown data category `{id}`{what}"),
            "not in the taxonomy",
        );
        diag = match suggest::did_you_mean(id, category_ids.iter().copied()) {
            Some(h) => diag.with_help(h),
            None => diag.with_help(
                "use a category of the built-in taxonomy (`flowaudit schema` lists the format; docs/taxonomy.md the categories), or add one under `taxonomy:`",
            ),
        };
        ctx.diags.push(diag);
    };
    for (d, pointer, parent) in &pending_parents {
        if !taxonomy.contains_key(parent) {
            unknown_category(&mut ctx, *d, pointer, parent, " (as a parent)");
        }
    }
    for (d, doc) in docs.iter().enumerate() {
        for (i, m) in items(&doc.parsed.value, "flows") {
            for (j, v) in m
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(id) = v.as_str()
                    && !taxonomy.contains_key(id)
                {
                    unknown_category(&mut ctx, d, &format!("/flows/{i}/data/{j}"), id, "");
                }
            }
        }
    }

    // 6. No cycle of `engaged_by`.
    let engaged_by: BTreeMap<&str, (&str, usize, String)> = found
        .iter()
        .filter(|f| f.kind == Kind::Party)
        .filter_map(|f| {
            f.raw
                .get("engaged_by")
                .and_then(Value::as_str)
                .map(|e| (f.id, (e, f.doc, f.pointer.clone())))
        })
        .collect();
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for &start in engaged_by.keys() {
        let mut path = vec![start];
        let mut cur = start;
        while let Some((next, _, _)) = engaged_by.get(cur) {
            if let Some(pos) = path.iter().position(|p| p == next) {
                let cycle: Vec<&str> = path[pos..].to_vec();
                // Report each cycle once, at its smallest id.
                let least = cycle.iter().min().copied().unwrap_or(start);
                if reported.insert(least) {
                    let (_, d, pointer) = &engaged_by[least];
                    let loc = docs[*d].parsed.locate(&format!("{pointer}/engaged_by"));
                    let mut ring: Vec<&str> = cycle.clone();
                    let rot = ring.iter().position(|p| *p == least).unwrap_or(0);
                    ring.rotate_left(rot);
                    ring.push(least);
                    ctx.diags.push(
                        Diagnostic::at(
                            Code::EngagementCycle,
                            ctx.file(*d),
                            loc.value,
                            format!("`engaged_by` forms a cycle: {}", ring.join(" engaged by ")),
                            "the chain comes back here",
                        )
                        .with_help("a processor chain starts at a party engaged by the controller; remove `engaged_by` from that party"),
                    );
                }
                break;
            }
            path.push(next);
            cur = next;
        }
    }

    // 7. Waivers name a known rule and an existing subject.
    for (d, doc) in docs.iter().enumerate() {
        for (i, m) in items(&doc.parsed.value, "waivers") {
            // A rule id of the wrong form was reported by the schema already.
            if let Some(rule) = m.get("rule").and_then(Value::as_str)
                && is_rule_id(rule)
                && !rule_ids.iter().any(|r| r == rule)
            {
                let loc = doc.parsed.locate(&format!("/waivers/{i}/rule"));
                let mut diag = Diagnostic::at(
                    Code::UnknownRule,
                    ctx.file(d),
                    loc.value,
                    format!("waiver names unknown rule `{rule}`"),
                    "no rule has this id",
                );
                diag = match suggest::did_you_mean(rule, rule_ids.iter().map(String::as_str)) {
                    Some(h) => diag.with_help(h),
                    None if rule_ids.is_empty() => diag.with_note("no rules are loaded"),
                    None => diag.with_help("`flowaudit rules list` shows the rule ids"),
                };
                ctx.diags.push(diag);
            }
            if let Some(subject) = m.get("subject").and_then(Value::as_str) {
                let pointer = format!("/waivers/{i}/subject");
                match subject.split_once('/') {
                    // A transfer leg implied by a processor chain: `<flow id>/<importer id>`.
                    Some((flow, importer)) => {
                        check_reference(
                            &mut ctx,
                            d,
                            &pointer,
                            "subject",
                            flow,
                            &[Kind::Flow],
                            &kind_of,
                            &found,
                            &ids,
                        );
                        check_reference(
                            &mut ctx,
                            d,
                            &pointer,
                            "subject",
                            importer,
                            &[Kind::Party],
                            &kind_of,
                            &found,
                            &ids,
                        );
                    }
                    None => {
                        check_reference(
                            &mut ctx, d, &pointer, "subject", subject, ALL_KINDS, &kind_of, &found,
                            &ids,
                        );
                    }
                }
            }
        }
    }

    if !ctx.diags.is_empty() {
        return Err(ctx.diags);
    }
    if !type_model {
        return Ok(None);
    }

    // 8. Type the merged workspace. The caller guarantees the schema passed and the checks above
    //    did, so deserialising cannot fail; if it does, it is reported rather than unwrapped.
    let mut ws = Workspace {
        taxonomy,
        ..Workspace::default()
    };
    for f in &found {
        let location = ctx.location(f.doc, &f.pointer);
        let index = match f.kind {
            Kind::Controller => {
                ws.controller = Some(typed(&mut ctx, f, location));
                0
            }
            Kind::Party => push(&mut ws.parties, typed(&mut ctx, f, location)),
            Kind::System => push(&mut ws.systems, typed(&mut ctx, f, location)),
            Kind::DataSubject => push(&mut ws.data_subjects, typed(&mut ctx, f, location)),
            Kind::Consent => push(&mut ws.consents, typed(&mut ctx, f, location)),
            Kind::Activity => push(&mut ws.activities, typed(&mut ctx, f, location)),
            Kind::Flow => push(&mut ws.flows, typed(&mut ctx, f, location)),
            Kind::Breach => push(&mut ws.breaches, typed(&mut ctx, f, location)),
            Kind::Order => push(&mut ws.orders, typed(&mut ctx, f, location)),
            Kind::Request => push(&mut ws.requests, typed(&mut ctx, f, location)),
        };
        ws.ids.insert(
            f.id.to_string(),
            NodeRef {
                kind: f.kind,
                index,
            },
        );
    }
    for (d, doc) in docs.iter().enumerate() {
        for (i, m) in items(&doc.parsed.value, "waivers") {
            let pointer = format!("/waivers/{i}");
            let f = Found {
                kind: Kind::Flow,
                id: "",
                doc: d,
                pointer: pointer.clone(),
                raw: m,
            };
            let location = ctx.location(d, &pointer);
            let w = typed(&mut ctx, &f, location);
            ws.waivers.push(w);
        }
        for (name, slot) in [
            ("notice", &mut ws.notice),
            ("rights", &mut ws.rights),
            ("security", &mut ws.security),
            ("records", &mut ws.records),
        ] {
            if let Some(m) = doc.parsed.value.get(name).and_then(Value::as_object) {
                *slot = Some(Section {
                    raw: m.clone(),
                    location: ctx.location(d, &format!("/{name}")),
                });
            }
        }
    }
    resolve(&mut ws);
    if ctx.diags.is_empty() {
        Ok(Some(ws))
    } else {
        Err(ctx.diags)
    }
}

/// Fills in the resolved form of every reference. The checks above guarantee each id exists
/// and has an allowed kind.
fn resolve(ws: &mut Workspace) {
    let ids = std::mem::take(&mut ws.ids);
    let one = |id: &Option<String>| id.as_deref().and_then(|i| ids.get(i).copied());
    let many = |list: &[String]| {
        list.iter()
            .filter_map(|i| ids.get(i.as_str()).copied())
            .collect::<Vec<_>>()
    };
    for p in &mut ws.parties {
        p.data.engaged_by_ref = one(&p.data.engaged_by);
    }
    for s in &mut ws.systems {
        s.data.operator = one(&s.data.operated_by);
    }
    for c in &mut ws.consents {
        c.data.subject_refs = many(&c.data.subjects);
        c.data.purpose_refs = many(&c.data.purposes);
        c.data.recipient_refs = many(&c.data.recipients);
        c.data.collector = one(&c.data.collected_by);
    }
    for a in &mut ws.activities {
        a.data.consent_ref = one(&a.data.consent);
    }
    for f in &mut ws.flows {
        f.data.activity_ref = ids.get(f.data.activity.as_str()).copied();
        f.data.from_ref = ids.get(f.data.from.as_str()).copied();
        f.data.to_ref = ids.get(f.data.to.as_str()).copied();
        f.data.subject_refs = many(&f.data.subjects);
    }
    ws.ids = ids;
}

const ALL_KINDS: &[Kind] = &[
    Kind::Controller,
    Kind::Party,
    Kind::System,
    Kind::DataSubject,
    Kind::Consent,
    Kind::Activity,
    Kind::Flow,
    Kind::Breach,
    Kind::Order,
    Kind::Request,
];

/// The form of a rule id (`GDPR-ART28-NO-CONTRACT`), as the schema's pattern.
fn is_rule_id(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
}

fn push<T>(list: &mut Vec<T>, item: T) -> usize {
    list.push(item);
    list.len() - 1
}

fn typed<T: DeserializeOwned + Default>(
    ctx: &mut Ctx<'_>,
    f: &Found<'_>,
    location: Location,
) -> Element<T> {
    let data = match serde_json::from_value::<T>(Value::Object(f.raw.clone())) {
        Ok(t) => t,
        Err(e) => {
            ctx.diags.push(Diagnostic::at(
                Code::InvalidValue,
                location.file.clone(),
                location.range,
                format!("cannot read this element: {e}"),
                "here",
            ));
            T::default()
        }
    };
    Element {
        id: f.id.to_string(),
        data,
        raw: f.raw.clone(),
        location,
    }
}

#[allow(clippy::too_many_arguments)]
fn check_reference(
    ctx: &mut Ctx<'_>,
    d: usize,
    pointer: &str,
    field: &str,
    target: &str,
    kinds: &[Kind],
    kind_of: &dyn Fn(&str) -> Option<Kind>,
    found: &[Found<'_>],
    ids: &BTreeMap<&str, usize>,
) {
    let loc = ctx.docs[d].parsed.locate(pointer);
    match kind_of(target) {
        Some(k) if kinds.contains(&k) => {}
        Some(k) => {
            let n = ids[target];
            let def = ctx.location(found[n].doc, &format!("{}/id", found[n].pointer));
            let mut diag = Diagnostic::at(
                Code::WrongKindReference,
                ctx.file(d),
                loc.value,
                format!(
                    "`{field}` must name {}, but `{target}` is {}",
                    kinds_phrase(kinds),
                    k.with_article()
                ),
                format!("{} here", k.with_article()),
            )
            .with_secondary(Label {
                file: def.file,
                range: def.range,
                text: format!("`{target}` is defined here"),
            });
            if let Some(h) = suggest::did_you_mean(
                target,
                found
                    .iter()
                    .filter(|f| kinds.contains(&f.kind))
                    .map(|f| f.id),
            ) {
                diag = diag.with_help(h);
            }
            ctx.diags.push(diag);
        }
        None => {
            let mut diag = Diagnostic::at(
                Code::UnknownReference,
                ctx.file(d),
                loc.value,
                format!(
                    "`{}` names `{target}`, which is not defined in the workspace",
                    field_path(pointer)
                ),
                "not defined anywhere in the workspace",
            );
            let same_kind = found
                .iter()
                .filter(|f| kinds.contains(&f.kind))
                .map(|f| f.id);
            diag = match suggest::did_you_mean(target, same_kind) {
                Some(h) => diag.with_help(h),
                None => diag.with_help(format!(
                    "define {} with `id: {target}`, or fix the reference",
                    kinds_phrase(kinds)
                )),
            };
            ctx.diags.push(diag);
        }
    }
}
