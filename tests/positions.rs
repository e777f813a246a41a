//! Property test of the position mapping: any JSON value, written as YAML (block style) or JSON
//! (pretty and compact), parses back to the same value, and every JSON pointer locates the exact
//! text of its value.

use flowaudit::loading::yaml::{self, Limits, SpanNode};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Number(i.into())),
        "[a-zA-Z0-9 _.:#-]{0,12}".prop_map(Value::String),
        "\\PC{0,8}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z][a-z0-9_]{0,8}", inner, 1..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Block-style YAML; every string double-quoted (JSON escapes are valid YAML escapes).
fn to_yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                out.push_str(&format!("{pad}{k}:"));
                block_child(child, indent, out);
            }
        }
        Value::Array(a) => {
            for child in a {
                out.push_str(&format!("{pad}-"));
                block_child(child, indent, out);
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", scalar)),
    }
}

fn block_child(child: &Value, indent: usize, out: &mut String) {
    match child {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            to_yaml(child, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            to_yaml(child, indent + 2, out);
        }
        scalar => out.push_str(&format!(" {}\n", scalar)),
    }
}

fn pointers(v: &Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            pointers(
                c,
                format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
                out,
            )
        }),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| pointers(c, format!("{here}/{i}"), out)),
        _ => {}
    }
}

fn check(src: &str, expected: &Value) -> Result<(), TestCaseError> {
    let doc = yaml::parse(src, Limits::default())
        .map_err(|e| TestCaseError::fail(format!("{e:?}\n{src}")))?;
    prop_assert_eq!(&doc.value, expected);
    let chars: Vec<char> = src.chars().collect();
    let mut ptrs = Vec::new();
    pointers(expected, String::new(), &mut ptrs);
    for ptr in ptrs {
        let loc = doc.locate(&ptr);
        prop_assert!(loc.exact, "{} not exact", ptr);
        let target = expected.pointer(&ptr).unwrap_or(&Value::Null);
        let r = loc.value;
        let text: String = chars[r.start.index..r.end.index].iter().collect();
        // Line and column agree with the character index.
        let before: String = chars[..r.start.index].iter().collect();
        prop_assert_eq!(r.start.line, before.matches('\n').count() + 1);
        prop_assert_eq!(
            r.start.col,
            before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1
        );
        match target {
            Value::Object(_) | Value::Array(_) => {}
            scalar => {
                // The located text, parsed on its own, is the scalar.
                let alone = yaml::parse(&format!("v: {text}\n"), Limits::default())
                    .map_err(|e| TestCaseError::fail(format!("{ptr}: `{text}`: {e:?}")))?;
                prop_assert_eq!(&alone.value["v"], scalar, "{} located `{}`", ptr, text);
            }
        }
        if let Some(k) = loc.key {
            let key: String = chars[k.start.index..k.end.index].iter().collect();
            let last = ptr
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .replace("~1", "/")
                .replace("~0", "~");
            prop_assert_eq!(key.trim_matches('"'), last);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn block_yaml_positions(m in prop::collection::btree_map("[a-z][a-z0-9_]{0,8}", value(), 1..6)) {
        let v = Value::Object(m.into_iter().collect());
        let mut src = String::new();
        to_yaml(&v, 0, &mut src);
        check(&src, &v)?;
    }

    #[test]
    fn json_positions(m in prop::collection::btree_map("[a-z][a-z0-9_]{0,8}", value(), 1..6)) {
        let v = Value::Object(m.into_iter().collect());
        check(&serde_json::to_string_pretty(&v).unwrap_or_default(), &v)?;
        check(&serde_json::to_string(&v).unwrap_or_default(), &v)?;
    }
}

#[test]
fn span_tree_shape_follows_value() {
    let doc = yaml::parse("a:\n  - 1\n  - {b: 2}\n", Limits::default()).expect("parses");
    match &doc.spans {
        SpanNode::Map(_, entries) => {
            assert_eq!(entries[0].0, "a");
            assert!(matches!(entries[0].2, SpanNode::Seq(_, ref items) if items.len() == 2));
        }
        other => panic!("{other:?}"),
    }
}
