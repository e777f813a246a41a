//! YAML 1.2 (and JSON, which is YAML 1.2) to `serde_json::Value`, keeping a position for every node.
//!
//! Built on `saphyr-parser`'s event stream rather than a tree loader so that limits (nesting depth,
//! alias expansion, number of documents) are enforced before anything large or deep is built, and
//! so that deep input can never overflow the stack: the builder is iterative.
//!
//! Beside the JSON value we build a *shadow tree* of spans. A JSON pointer (as reported by schema
//! validation) is resolved to a position only when a diagnostic needs it, so the hot path builds no
//! pointer strings.

use saphyr::{Scalar, ScalarStyle};
use saphyr_parser::{Event, Marker, Parser, Span};
use serde_json::{Map, Number, Value};

use crate::source::{Pos, Range};

/// Bounds on what one file may contain.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Nodes that aliases may expand to, in total, per file.
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_alias_nodes: 10_000,
        }
    }
}

/// Where each node of a parsed document is.
#[derive(Clone, Debug, PartialEq)]
pub enum SpanNode {
    /// A scalar, or a subtree that came from an alias (positions inside it are not tracked).
    Leaf(Range),
    Seq(Range, Vec<SpanNode>),
    /// Entries in document order: key text, the key's range, the value's spans.
    Map(Range, Entries),
}

/// One entry of a mapping: key text, the key's range, the value's spans.
pub type Entry = (String, Range, SpanNode);

/// The entries of a mapping in document order (it dereferences to the list), with an index by key
/// when the mapping is large, so that locating a key is not a linear search: a hostile file with
/// 100,000 keys and a problem at each stays fast.
#[derive(Clone, Debug, Default)]
pub struct Entries {
    list: Vec<Entry>,
    // Boxed: most mappings have no index, and every span node is as large as its largest variant
    // (an inline map would add 40 bytes to every node of every position tree).
    #[allow(clippy::box_collection)]
    index: Option<Box<std::collections::HashMap<String, usize>>>,
}

impl Entries {
    /// Mappings with more entries than this get an index.
    const INDEXED: usize = 16;

    /// The entry with this key.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.index {
            Some(index) => index.get(key).map(|&i| &self.list[i]),
            None => self.list.iter().find(|(k, _, _)| k == key),
        }
    }
}

impl From<Vec<Entry>> for Entries {
    fn from(list: Vec<Entry>) -> Self {
        let index = (list.len() > Self::INDEXED).then(|| {
            Box::new(
                list.iter()
                    .enumerate()
                    .map(|(i, (k, _, _))| (k.clone(), i))
                    .collect(),
            )
        });
        Entries { list, index }
    }
}

impl std::ops::Deref for Entries {
    type Target = Vec<Entry>;
    fn deref(&self) -> &Vec<Entry> {
        &self.list
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl SpanNode {
    pub fn range(&self) -> Range {
        match self {
            SpanNode::Leaf(r) | SpanNode::Seq(r, _) | SpanNode::Map(r, _) => *r,
        }
    }
}

/// A parsed document: the value and its positions.
#[derive(Clone, Debug)]
pub struct ParsedDoc {
    pub value: Value,
    pub spans: SpanNode,
}

/// The position a JSON pointer resolves to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Located {
    /// The range of the value at the pointer (or of the nearest ancestor, when not `exact`).
    pub value: Range,
    /// The range of the mapping key naming the value, when the value is a mapping entry.
    pub key: Option<Range>,
    /// False when the pointer leads into an aliased subtree or past the end of the document and
    /// the nearest known ancestor is returned instead.
    pub exact: bool,
}

impl ParsedDoc {
    /// Resolves a JSON pointer (`/flows/2/to`) to a position.
    pub fn locate(&self, pointer: &str) -> Located {
        locate(&self.spans, pointer)
    }
}

impl ParsedDoc {
    /// The part of the document at `pointer`, as a document of its own with the same positions
    /// (an inline workspace inside a rule's self-test, say).
    pub fn subdoc(&self, pointer: &str) -> Option<ParsedDoc> {
        let value = self.value.pointer(pointer)?.clone();
        let mut node = &self.spans;
        for raw in pointer
            .strip_prefix('/')
            .unwrap_or(pointer)
            .split('/')
            .filter(|s| !s.is_empty())
        {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            node = match node {
                SpanNode::Map(_, e) => &e.get(&seg)?.2,
                SpanNode::Seq(_, items) => items.get(seg.parse::<usize>().ok()?)?,
                SpanNode::Leaf(_) => return None,
            };
        }
        Some(ParsedDoc {
            value,
            spans: node.clone(),
        })
    }

    /// A short range standing for the node at `pointer`: the key naming it when it is a mapping
    /// entry, else a mapping's first key, else the node itself. Used where a whole block is at
    /// fault (a required key missing) and underlining all of it would drown the message.
    pub fn head(&self, pointer: &str) -> Range {
        let loc = self.locate(pointer);
        if let Some(k) = loc.key {
            return k;
        }
        let mut node = &self.spans;
        for raw in pointer
            .strip_prefix('/')
            .unwrap_or(pointer)
            .split('/')
            .filter(|s| !s.is_empty())
        {
            let seg = raw.replace("~1", "/").replace("~0", "~");
            node = match node {
                SpanNode::Map(_, e) => match e.get(&seg) {
                    Some((_, _, c)) => c,
                    None => break,
                },
                SpanNode::Seq(_, items) => {
                    match seg.parse::<usize>().ok().and_then(|i| items.get(i)) {
                        Some(c) => c,
                        None => break,
                    }
                }
                SpanNode::Leaf(_) => break,
            };
        }
        match node {
            SpanNode::Map(_, entries) if !entries.is_empty() => entries[0].1,
            other => other.range(),
        }
    }
}

/// Walks the shadow tree along a JSON pointer.
pub fn locate(root: &SpanNode, pointer: &str) -> Located {
    let mut node = root;
    let mut key = None;
    if pointer.is_empty() {
        return Located {
            value: node.range(),
            key,
            exact: true,
        };
    }
    for raw in pointer.strip_prefix('/').unwrap_or(pointer).split('/') {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let next = match node {
            SpanNode::Map(_, entries) => entries
                .get(&segment)
                .map(|(_, key_range, child)| (Some(*key_range), child)),
            SpanNode::Seq(_, items) => segment
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|child| (None, child)),
            SpanNode::Leaf(_) => None,
        };
        match next {
            Some((k, child)) => {
                key = k;
                node = child;
            }
            None => {
                return Located {
                    value: node.range(),
                    key,
                    exact: false,
                };
            }
        }
    }
    Located {
        value: node.range(),
        key,
        exact: true,
    }
}

/// What went wrong while reading YAML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum YamlErrorKind {
    /// The text is not well-formed YAML (or JSON).
    Syntax,
    /// The file holds no document, or only an empty one.
    Empty,
    /// More than one document (`---`) in one file.
    MultipleDocuments,
    /// Nesting deeper than the limit.
    TooDeep,
    /// Aliases expand to more nodes than the limit.
    AliasBudget,
    /// The same key twice in one mapping.
    DuplicateKey { first: Range },
    /// A key that is not a plain scalar (a sequence, a mapping, or an alias used as a key).
    ComplexKey,
    /// A value JSON cannot hold (`.inf`, `.nan`) or a core-schema tag that does not fit its text.
    Unrepresentable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub message: String,
    pub range: Range,
    /// A related place, such as the `[` of a flow sequence left open before a syntax error.
    pub related: Option<(Range, String)>,
}

fn pos(m: &Marker) -> Pos {
    Pos {
        line: m.line(),
        col: m.col() + 1,
        index: m.index(),
    }
}

fn range(s: &Span) -> Range {
    Range {
        start: pos(&s.start),
        end: pos(&s.end),
    }
}

enum Frame {
    Seq {
        start: Range,
        anchor: usize,
        items: Vec<Value>,
        spans: Vec<SpanNode>,
    },
    Map {
        start: Range,
        anchor: usize,
        map: Map<String, Value>,
        spans: Vec<Entry>,
        pending_key: Option<(String, Range)>,
    },
}

/// An anchored node, kept so that aliases can be expanded.
struct Anchored {
    value: Value,
    nodes: usize,
}

fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(count_nodes).sum::<usize>(),
        Value::Object(o) => 1 + o.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

/// Parses one YAML document with positions.
pub fn parse(src: &str, limits: Limits) -> Result<ParsedDoc, YamlError> {
    let mut parser = Parser::new_from_str(src);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: std::collections::HashMap<usize, Anchored> = Default::default();
    let mut alias_nodes = 0usize;
    let mut documents = 0usize;
    let mut root: Option<(Value, SpanNode)> = None;
    let mut last = Range::default();

    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            let p = pos(e.marker());
            // The scanner counts open flow collections (`[`, `{`) in a byte and gives up past
            // 255, ahead of the events that would reach the depth limit: that is nesting too.
            if e.info() == "recursion limit exceeded" {
                return YamlError {
                    kind: YamlErrorKind::TooDeep,
                    message: format!("nesting deeper than {} levels", limits.max_depth),
                    range: Range::point(p),
                    related: None,
                };
            }
            YamlError {
                kind: YamlErrorKind::Syntax,
                message: e.info().to_string(),
                range: Range::point(p),
                related: unclosed_flow(src, &stack, p.line),
            }
        })?;
        let here = range(&span);
        last = here;
        // A completed node to attach to its parent: (value, spans, anchor id).
        let completed: Option<(Value, SpanNode, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError {
                        kind: YamlErrorKind::MultipleDocuments,
                        message: "a flow file holds one YAML document; this is a second one"
                            .to_string(),
                        range: here,
                        related: None,
                    });
                }
                None
            }
            Event::Scalar(text, style, anchor, tag) => {
                if let Some(Frame::Map {
                    pending_key: pending @ None,
                    map,
                    spans,
                    ..
                }) = stack.last_mut()
                {
                    // A mapping key: keep its text as written. (The map finds a repeat at once;
                    // only then is the first occurrence looked for.)
                    if let Some((_, first, _)) = map
                        .contains_key(text.as_ref())
                        .then(|| spans.iter().find(|(k, _, _)| *k == *text))
                        .flatten()
                    {
                        return Err(YamlError {
                            kind: YamlErrorKind::DuplicateKey { first: *first },
                            message: format!("duplicate key `{text}` in this mapping"),
                            range: here,
                            related: None,
                        });
                    }
                    *pending = Some((text.into_owned(), here));
                    None
                } else {
                    let value = scalar_value(text, style, tag.as_ref(), here)?;
                    Some((value, SpanNode::Leaf(here), anchor))
                }
            }
            Event::Alias(id) => {
                if matches!(
                    stack.last(),
                    Some(Frame::Map {
                        pending_key: None,
                        ..
                    })
                ) {
                    return Err(YamlError {
                        kind: YamlErrorKind::ComplexKey,
                        message: "an alias cannot be used as a mapping key".to_string(),
                        range: here,
                        related: None,
                    });
                }
                let anchored = anchors.get(&id).ok_or_else(|| YamlError {
                    kind: YamlErrorKind::Syntax,
                    message: "alias to an unknown anchor".to_string(),
                    range: here,
                    related: None,
                })?;
                alias_nodes += anchored.nodes;
                if alias_nodes > limits.max_alias_nodes {
                    return Err(YamlError {
                        kind: YamlErrorKind::AliasBudget,
                        message: format!(
                            "aliases expand to more than {} nodes in this file",
                            limits.max_alias_nodes
                        ),
                        range: here,
                        related: None,
                    });
                }
                Some((anchored.value.clone(), SpanNode::Leaf(here), 0))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if let Some(Frame::Map {
                    pending_key: None, ..
                }) = stack.last()
                {
                    return Err(YamlError {
                        kind: YamlErrorKind::ComplexKey,
                        message: "mapping keys must be plain text, not a sequence or a mapping"
                            .to_string(),
                        range: here,
                        related: None,
                    });
                }
                if stack.len() >= limits.max_depth {
                    return Err(YamlError {
                        kind: YamlErrorKind::TooDeep,
                        message: format!("nesting deeper than {} levels", limits.max_depth),
                        range: here,
                        related: None,
                    });
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq {
                        start: here,
                        anchor,
                        items: Vec::new(),
                        spans: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        start: here,
                        anchor,
                        map: Map::new(),
                        spans: Vec::new(),
                        pending_key: None,
                    }
                });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    start,
                    anchor,
                    items,
                    spans,
                }) => {
                    let r = Range {
                        start: start.start,
                        end: here.end.max(start.end),
                    };
                    Some((Value::Array(items), SpanNode::Seq(r, spans), anchor))
                }
                Some(Frame::Map {
                    start,
                    anchor,
                    map,
                    spans,
                    ..
                }) => {
                    let r = Range {
                        start: start.start,
                        end: here.end.max(start.end),
                    };
                    Some((Value::Object(map), SpanNode::Map(r, spans.into()), anchor))
                }
                None => None,
            },
        };

        let Some((value, spans, anchor)) = completed else {
            continue;
        };
        if anchor != 0 {
            let nodes = count_nodes(&value);
            anchors.insert(
                anchor,
                Anchored {
                    value: value.clone(),
                    nodes,
                },
            );
        }
        match stack.last_mut() {
            None => root = Some((value, spans)),
            Some(Frame::Seq {
                items, spans: s, ..
            }) => {
                items.push(value);
                s.push(spans);
            }
            Some(Frame::Map {
                map,
                spans: s,
                pending_key,
                ..
            }) => {
                if let Some((k, key_range)) = pending_key.take() {
                    map.insert(k.clone(), value);
                    s.push((k, key_range, spans));
                }
            }
        }
    }

    match root {
        Some((Value::Null, _)) | None => Err(YamlError {
            kind: YamlErrorKind::Empty,
            message: "the file holds no YAML document".to_string(),
            range: Range::point(last.end),
            related: None,
        }),
        Some((value, spans)) => Ok(ParsedDoc { value, spans }),
    }
}

/// The innermost flow collection (`[` or `{`) still open, for a syntax error inside it.
/// Only a collection opened on an earlier line than the error counts: an error on the line of the
/// `[` is more likely a mistake inside it than a missing `]`.
fn unclosed_flow(src: &str, stack: &[Frame], error_line: usize) -> Option<(Range, String)> {
    stack.iter().rev().find_map(|f| {
        let start = match f {
            Frame::Seq { start, .. } | Frame::Map { start, .. } => start.start,
        };
        if start.line >= error_line {
            return None;
        }
        let c = src.chars().nth(start.index)?;
        matches!(c, '[' | '{').then(|| {
            let close = if c == '[' { ']' } else { '}' };
            (
                Range {
                    start,
                    end: Pos {
                        index: start.index + 1,
                        col: start.col + 1,
                        ..start
                    },
                },
                format!("this `{c}` is not closed by a `{close}`"),
            )
        })
    })
}

fn scalar_value(
    text: std::borrow::Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&std::borrow::Cow<'_, saphyr_parser::Tag>>,
    here: Range,
) -> Result<Value, YamlError> {
    let shown = text.to_string();
    let scalar =
        Scalar::parse_from_cow_and_metadata(text, style, tag).ok_or_else(|| YamlError {
            kind: YamlErrorKind::Unrepresentable,
            message: format!("`{shown}` does not match its tag"),
            range: here,
            related: None,
        })?;
    Ok(match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(i.into()),
        Scalar::FloatingPoint(f) => match Number::from_f64(f.into_inner()) {
            Some(n) => Value::Number(n),
            None => {
                return Err(YamlError {
                    kind: YamlErrorKind::Unrepresentable,
                    message: format!("`{shown}` is not a finite number"),
                    range: here,
                    related: None,
                });
            }
        },
        Scalar::String(s) => Value::String(s.into_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(src: &str) -> ParsedDoc {
        parse(src, Limits::default()).expect("parses")
    }

    fn at(doc: &ParsedDoc, ptr: &str) -> (usize, usize) {
        let l = doc.locate(ptr);
        assert!(l.exact, "{ptr} should be exact");
        (l.value.start.line, l.value.start.col)
    }

    #[test]
    fn yaml_1_2_core_schema_keeps_norway() {
        let d = p("country: NO\nanswer: yes\nflag: on\nn: 0755\nf: 1.10\nt: true\nz: ~\nq: '12'\n");
        assert_eq!(
            d.value,
            json!({"country": "NO", "answer": "yes", "flag": "on", "n": 755, "f": 1.1, "t": true, "z": null, "q": "12"})
        );
    }

    #[test]
    fn locates_values_and_keys() {
        let src =
            "flowaudit: 1\nflows:\n  - id: a\n    to: cloud\n  - id: b\n    data: [x, \"y\"]\n";
        let d = p(src);
        assert_eq!(at(&d, "/flowaudit"), (1, 12));
        assert_eq!(at(&d, "/flows/0/to"), (4, 9));
        assert_eq!(at(&d, "/flows/1/data/1"), (6, 15));
        let l = d.locate("/flows/0/to");
        assert_eq!(l.key.map(|k| (k.start.line, k.start.col)), Some((4, 5)));
        // Past the end: nearest ancestor, not exact.
        let l = d.locate("/flows/1/missing");
        assert!(!l.exact);
        assert_eq!((l.value.start.line, l.value.start.col), (5, 5));
    }

    #[test]
    fn json_escaped_pointer_segments() {
        let d = p("{\"a/b\": {\"c~d\": 1}}");
        assert_eq!(at(&d, "/a~1b/c~0d"), (1, 17));
    }

    #[test]
    fn json_input_gets_positions() {
        let d = p("{\n  \"flowaudit\": 1,\n  \"name\": \"caf\\u00e9\"\n}\n");
        assert_eq!(d.value, json!({"flowaudit": 1, "name": "café"}));
        assert_eq!(at(&d, "/name"), (3, 11));
    }

    #[test]
    fn columns_count_characters() {
        let d = p("name: \"é€\"\nnext: 1\nthird: ö\n");
        assert_eq!(at(&d, "/third"), (3, 8));
    }

    #[test]
    fn duplicate_keys_are_errors_pointing_at_both() {
        let e = parse("a: 1\nb: 2\na: 3\n", Limits::default()).unwrap_err();
        assert_eq!((e.range.start.line, e.range.start.col), (3, 1));
        match e.kind {
            YamlErrorKind::DuplicateKey { first } => assert_eq!(first.start.line, 1),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_are_enforced() {
        let deep = "[".repeat(100) + &"]".repeat(100);
        let e = parse(&deep, Limits::default()).unwrap_err();
        assert!(matches!(
            e.kind,
            YamlErrorKind::TooDeep | YamlErrorKind::Syntax
        ));
        // Block nesting far deeper than any stack would take.
        let mut block = String::new();
        for i in 0..20_000 {
            block.push_str(&" ".repeat(i));
            block.push_str("a:\n");
        }
        let e = parse(&block, Limits::default()).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::TooDeep);
        let laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
        let e = parse(laughs, Limits::default()).unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::AliasBudget);
        assert_eq!(e.range.start.line, 5);
    }

    #[test]
    fn small_aliases_expand() {
        let d = p("base: &c {type: dpa}\nother: *c\n");
        assert_eq!(d.value["other"], json!({"type": "dpa"}));
    }

    #[test]
    fn rejects_what_json_cannot_hold() {
        for (src, kind) in [
            ("a: .inf\n", YamlErrorKind::Unrepresentable),
            ("? [a]\n: 1\n", YamlErrorKind::ComplexKey),
            ("a: 1\n---\nb: 2\n", YamlErrorKind::MultipleDocuments),
            ("", YamlErrorKind::Empty),
            ("# only a comment\n", YamlErrorKind::Empty),
            ("a: [1, 2\n", YamlErrorKind::Syntax),
        ] {
            let e = parse(src, Limits::default()).unwrap_err();
            assert_eq!(e.kind, kind, "{src:?}: {e:?}");
        }
    }
}
