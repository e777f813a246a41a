//! Property tests over the fuzzing entry points ([`flowaudit::fuzzing`]), with bounded case
//! counts so that they run in CI: the loader on structured-but-hostile files (mutated repository
//! files, YAML token soup, deep nesting, alias bombs), and the rule loader and evaluator on
//! Jinja expressions and templates (grammar-built, token soup, corrupted). The entry points panic
//! on any broken invariant (a panic inside, a diagnostic outside its file), which fails the test.
//!
//! The fuzz targets in `fuzz/` call the same functions; `regressions` keeps what they found.

use std::path::Path;
use std::sync::OnceLock;

use flowaudit::fuzzing::{fuzz_expression, fuzz_load};
use proptest::prelude::*;
use proptest::sample::Index;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Shrinking a failure in a debug build can take long; what matters is the first report.
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

/// Loads the bytes as `.yaml` and as `.json`.
fn load_both(bytes: &[u8]) {
    fuzz_load(bytes, "yaml");
    fuzz_load(bytes, "json");
}

// ---------------------------------------------------------------------------------------------
// Loader inputs.

/// Flow files of the repository (examples and command-test inputs), the starting points for
/// mutations.
fn repo_files() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for dir in ["examples", "tests/cmd"] {
            for e in walkdir::WalkDir::new(root.join(dir)).sort_by_file_name() {
                let Ok(e) = e else { continue };
                let p = e.path();
                let name = p.to_string_lossy();
                let input = dir == "examples" || name.contains(".in/");
                if e.file_type().is_file()
                    && input
                    && (name.ends_with(".yaml")
                        || name.ends_with(".yml")
                        || name.ends_with(".json"))
                    && let Ok(b) = std::fs::read(p)
                {
                    out.push(b);
                }
            }
        }
        assert!(out.len() > 20, "the repository's flow files are missing");
        out
    })
}

/// Short pieces of YAML that break things: anchors, aliases, tags, indicators, odd characters.
#[rustfmt::skip]
const YAML_SNIPPETS: &[&str] = &[
    "&a ", "*a", "*nowhere", "''", "\"\"", "<<: *a\n", "[", "]", "{", "}", "\"", "'", "\t", ": ",
    ":", "- ", "-", "---\n", "...\n", "? ", "#", "\u{feff}", "\r", "\r\n", "\n", "\0", ".inf",
    "-.inf", ".nan",
    "!!int ", "!!str ", "!!float x ", "!!null ", "!!bool yes ", "!!map ", "!local ", "|", "|-\n",
    ">+\n", "|2\n", "%YAML 1.2\n", "%TAG ! tag:x:\n", "99999999999999999999", "1e999", "0x", "0o8",
    "é", "\u{2028}", "\u{85}", "😀", "\\", "\\u", "\\U0011FFFF", "flowaudit: 2\n",
    "flowaudit: '1'\n", "id: ", "id: x\n", "engaged_by: ", "from: ", "data: [", "country: EEA",
    "country: us", "role: processer", "expires: 2024-02-30", "retention: P", "parent: ", "rule: ",
    "~", "null", "        ",
];

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    Truncate(Index),
    DuplicateLine(Index, u8),
    DeleteLine(Index),
    SwapLines(Index, Index),
    Insert(Index, &'static str),
    Indent(Index, i8),
    Nest(Index, u8, bool),
    /// The value after the first `: ` of a line, replaced.
    ReplaceValue(Index, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), 1u8..40).prop_map(|(i, n)| Mutation::DuplicateLine(i, n)),
        any::<Index>().prop_map(Mutation::DeleteLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<Index>(), prop::sample::select(YAML_SNIPPETS))
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
        (any::<Index>(), -4i8..5).prop_map(|(i, n)| Mutation::Indent(i, n)),
        (any::<Index>(), 1u8..100, any::<bool>()).prop_map(|(i, n, f)| Mutation::Nest(i, n, f)),
        (any::<Index>(), prop::sample::select(YAML_VALUES))
            .prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
    ]
}

fn lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split_inclusive(|c| *c == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn apply(mut b: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
    match m {
        Mutation::FlipBit(i, bit) if !b.is_empty() => {
            let k = i.index(b.len());
            b[k] ^= 1 << bit;
        }
        Mutation::SetByte(i, v) if !b.is_empty() => {
            let k = i.index(b.len());
            b[k] = *v;
        }
        Mutation::Truncate(i) => b.truncate(at(i, b.len())),
        Mutation::Insert(i, s) => {
            let k = at(i, b.len());
            b.splice(k..k, s.bytes());
        }
        Mutation::Nest(i, n, flow_map) => {
            let k = at(i, b.len());
            let open = if *flow_map { "{a: " } else { "[" };
            b.splice(k..k, open.repeat(*n as usize).into_bytes());
        }
        Mutation::ReplaceValue(i, v) => {
            let mut ls = lines(&b);
            if ls.is_empty() {
                return b;
            }
            let k = i.index(ls.len());
            let line = &mut ls[k];
            if let Some(at) = line.windows(2).position(|w| w == b": ") {
                let end = if line.ends_with(b"\n") {
                    line.len() - 1
                } else {
                    line.len()
                };
                line.splice(at + 2..end, v.bytes());
            }
            b = ls.concat();
        }
        Mutation::DuplicateLine(..)
        | Mutation::DeleteLine(..)
        | Mutation::SwapLines(..)
        | Mutation::Indent(..) => {
            let mut ls = lines(&b);
            if ls.is_empty() {
                return b;
            }
            let n = ls.len();
            match m {
                Mutation::DuplicateLine(i, times) => {
                    let k = i.index(n);
                    let line = ls[k].clone();
                    for _ in 0..*times {
                        ls.insert(k, line.clone());
                    }
                }
                Mutation::DeleteLine(i) => {
                    ls.remove(i.index(n));
                }
                Mutation::SwapLines(a, c) => ls.swap(a.index(n), c.index(n)),
                Mutation::Indent(i, by) => {
                    let k = i.index(n);
                    if *by >= 0 {
                        ls[k].splice(0..0, std::iter::repeat_n(b' ', *by as usize));
                    } else {
                        let strip = ls[k]
                            .iter()
                            .take((-by) as usize)
                            .take_while(|c| **c == b' ')
                            .count();
                        ls[k].drain(..strip);
                    }
                }
                _ => unreachable!(),
            }
            b = ls.concat();
        }
        _ => {}
    }
    b
}

/// A repository flow file with a few mutations.
fn mutated_file() -> impl Strategy<Value = Vec<u8>> {
    let n = repo_files().len();
    (0..n, prop::collection::vec(mutation(), 1..6))
        .prop_map(|(f, ms)| ms.iter().fold(repo_files()[f].clone(), apply))
}

/// Tokens of YAML-ish soup: keys, values, indicators, breaks and indentation.
#[rustfmt::skip]
const YAML_TOKENS: &[&str] = &[
    "flowaudit: 1\n", "flowaudit", "controller", "parties", "systems", "flows", "activities",
    "data_subjects", "taxonomy", "waivers", "notice", "rights", "id", "role", "processor",
    "country", "\"US\"", "DE", "engaged_by", "to", "from", "data", "user.content.image",
    "legal_basis", "consent", "a", "b", "1", "-1", "0.5", "true", "no", "null", "~", ":", ": ",
    "- ", "-", ",", "[", "]", "{", "}", "\n", "\n  ", "\n    ", "  ", " ", "\t", "#c", "&x ", "*x",
    "!!str ", "? ", "''", "\"\"", "'it''s'", "|\n", ">\n", "\"", "'", "---", "...", "\r\n", "\r",
    "é", "\\",
];

/// Scalars and small nodes for value positions: empty, quoted, tagged, anchored, aliased, huge,
/// of the wrong type.
#[rustfmt::skip]
const YAML_VALUES: &[&str] = &[
    "", "''", "\"\"", "'it''s'", "\"\\u00e9\\t\"", "\"\\x\"", "~", "null", "true", "yes", "0", "-1",
    "1.5", "0x1F", "0o17", "1e400", ".inf", ".nan", "99999999999999999999", "!!str 1", "!!int x",
    "!!float", "!!null x", "!!binary aGk=", "!custom x", "&a x", "&a [x, y]", "*a", "*zz", "[]",
    "{}", "[a, b, a]", "{a: 1, a: 2}", "[[[[[[x]]]]]]", "{? [a]: 1}", "|\n  text", ">-\n  a\n   b",
    "|9\n x", "\"unterminated", "'unterminated", "[unclosed", "{unclosed: 1", "x # comment",
    "a: b", "- a", "\t", "é😀", "\u{feff}", "2024-02-30", "2025-13", "P", "P1Y2M3DT4H", "EEA",
    "us", "XX", "processer", "GDPR-NOT-A-RULE", "user.nothing.here", "Clinic_GmbH",
];

/// Sections and fields of the flow format, for documents shaped like real ones.
#[rustfmt::skip]
const SECTIONS: &[&str] = &[
    "controller", "parties", "systems", "data_subjects", "consents", "activities", "flows",
    "breaches", "orders", "waivers", "taxonomy", "notice", "rights", "security", "records",
    "unknown_section",
];

#[rustfmt::skip]
const FIELDS: &[&str] = &[
    "id", "name", "role", "country", "countries", "engaged_by", "operated_by", "kind", "from", "to",
    "activity", "data", "legal_basis", "retention", "purpose", "transfer", "contract", "mechanism",
    "category", "children", "parent", "special", "rule", "subject", "reason", "approved_by",
    "expires", "access", "frequency", "dpia", "human_review", "items", "requests", "typo_field",
];

/// A document shaped like a flow file: `flowaudit: 1`, sections holding lists of mappings, each
/// field with a hostile value (or the next field's mapping nested under it).
fn yaml_document() -> impl Strategy<Value = Vec<u8>> {
    let field = (
        prop::sample::select(FIELDS),
        prop::sample::select(YAML_VALUES),
        any::<bool>(),
    );
    let item = prop::collection::vec(field, 1..6);
    let section = (
        prop::sample::select(SECTIONS),
        prop::collection::vec(item, 0..4),
        any::<bool>(),
    );
    (any::<bool>(), prop::collection::vec(section, 1..5)).prop_map(|(version, sections)| {
        let mut s = String::from(if version {
            "flowaudit: 1\n"
        } else {
            "flowaudit: x\n"
        });
        for (name, items, flow_style) in sections {
            s += name;
            s += ":\n";
            for fields in items {
                if flow_style {
                    let inner: Vec<String> =
                        fields.iter().map(|(k, v, _)| format!("{k}: {v}")).collect();
                    s += &format!("  - {{{}}}\n", inner.join(", "));
                    continue;
                }
                let mut indent = 4;
                for (i, (k, v, nest)) in fields.iter().enumerate() {
                    s += &if i == 0 {
                        "  - ".to_string()
                    } else {
                        " ".repeat(indent)
                    };
                    if *nest {
                        s += &format!("{k}:\n");
                        indent += 2;
                        s += &" ".repeat(indent);
                    }
                    s += &format!("{k}: {v}\n");
                }
            }
        }
        s.into_bytes()
    })
}

fn yaml_soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(YAML_TOKENS), 0..80)
        .prop_map(|ts| ts.concat().into_bytes())
}

/// Nesting far deeper than the limit, in each style, closed or not.
fn deep_nesting() -> impl Strategy<Value = Vec<u8>> {
    (0u8..5, 1usize..300, any::<bool>()).prop_map(|(style, depth, close)| {
        let mut s = String::from("flowaudit: 1\nflows:\n");
        match style {
            0 => {
                s += &"[".repeat(depth);
                if close {
                    s += &"]".repeat(depth);
                }
            }
            1 => {
                s += &"{a: ".repeat(depth);
                if close {
                    s += &"}".repeat(depth);
                }
            }
            2 => {
                for i in 0..depth {
                    s += &" ".repeat(i + 1);
                    s += "a:\n";
                }
            }
            3 => {
                for i in 0..depth {
                    s += &"  ".repeat(i);
                    s += "- \n";
                }
            }
            _ => {
                for i in 0..depth {
                    s += &" ".repeat(i);
                    s += if i % 2 == 0 { "- [" } else { "{k: \n" };
                }
            }
        }
        s.into_bytes()
    })
}

/// Aliases of aliases ("billion laughs"), at every size around the expansion limit.
fn alias_bomb() -> impl Strategy<Value = Vec<u8>> {
    (1usize..8, 1usize..12, any::<bool>()).prop_map(|(levels, width, merge)| {
        let mut s = String::from("flowaudit: 1\nnotice:\n  l0: &l0 [x]\n");
        for l in 1..levels {
            let items = vec![format!("*l{}", l - 1); width].join(", ");
            s += &format!("  l{l}: &l{l} [{items}]\n");
        }
        if merge {
            s += &format!("  m: {{<<: *l{}}}\n", levels - 1);
        }
        s.into_bytes()
    })
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn mutated_repository_files_load_without_panics(bytes in mutated_file()) {
        load_both(&bytes);
    }

    #[test]
    fn yaml_token_soup_loads_without_panics(bytes in yaml_soup()) {
        load_both(&bytes);
    }

    #[test]
    fn documents_with_hostile_values_load_without_panics(bytes in yaml_document()) {
        load_both(&bytes);
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn deep_nesting_is_refused_without_panics(bytes in deep_nesting()) {
        load_both(&bytes);
    }

    #[test]
    fn alias_bombs_are_bounded(bytes in alias_bomb()) {
        load_both(&bytes);
    }

    #[test]
    fn arbitrary_bytes_load_without_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        load_both(&bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// Expression inputs.

/// Attribute chains rules read, real and misspelt.
#[rustfmt::skip]
const PATHS: &[&str] = &[
    "flow", "flow.id", "flow.recipient", "flow.recipient.role", "flow.recipient.contract.type",
    "flow.transfer.mechanism", "flow.third_country", "flow.data", "flow.media", "flow.from",
    "flow.recipient.chain", "flow.third_contry", "party", "party.role", "party.contract",
    "party.contract.clauses", "party.engaged_by", "activity", "activity.legal_basis",
    "activity.dpia.status", "activity.failed", "activity.data", "activity.human_review.performed",
    "controller.country", "controller.eea_establishment", "data_subject.children",
    "consent.covers.human_review", "system.kind", "transfer.leg", "notice.items",
    "rights.requests", "security", "records", "ref.eea", "ref.adequacy", "ref.tunables",
    "ref.consent_ages.ages.FR", "workspace.flows", "workspace.parties", "today", "x", "loop",
    "flow.has('transfer')", "lookup(flow.to)", "lookup(flow.to).country", "range(5)",
    "namespace(a=1)", "dict(a=[1, 2])", "lipsum(2)", "cycler(1, 2)", "joiner()", "debug()",
];

#[rustfmt::skip]
const LITERALS: &[&str] = &[
    "0", "1", "-1", "2", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
    "1e308", "-0.0", "0.5", "'a'", "''", "\"DE\"", "'%}'", "'{{'", "'é😀'", "none", "None", "true",
    "false", "[]", "[1, 2, 3]", "{}", "{'a': 1}", "(1,)", "'2025-01-01'", "'indefinite'",
];

#[rustfmt::skip]
const BINOPS: &[&str] = &[
    " and ", " or ", " == ", " != ", " < ", " <= ", " > ", " >= ", " in ", " not in ", " + ",
    " - ", " * ", " / ", " // ", " % ", " ** ", " ~ ",
];

#[rustfmt::skip]
const FILTERS: &[&str] = &[
    "length", "list", "first", "last", "sort", "unique", "sum", "abs", "upper", "lower", "string",
    "int", "float", "bool", "tojson", "items", "reverse", "join(',')", "map('string')",
    "map('lookup')", "map(attribute='id')", "select('odd')", "reject('none')",
    "selectattr('special')", "rejectattr('id')", "default('x')", "intersect(ref.eea)",
    "difference(['DE'])", "batch(2)", "slice(0)", "round(400)", "indent(3)", "center(40)",
    "replace('a', 'b')", "min", "max", "dictsort", "groupby('id')", "trim", "capitalize", "title",
    "wordcount", "urlencode", "safe", "escape", "pprint", "attr('id')", "lookup",
];

#[rustfmt::skip]
const TESTS: &[&str] = &[
    "defined", "undefined", "none", "string", "number", "sequence", "mapping", "odd", "even",
    "true", "false", "in([1])", "eq(1)", "divisibleby(0)", "startingwith('a')", "lower",
];

/// Expressions from a small Jinja grammar: literals, paths and calls, combined by operators,
/// filters, tests, conditionals, subscripts, slices and collections.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(PATHS).prop_map(str::to_string),
        prop::sample::select(LITERALS).prop_map(str::to_string),
        (
            -5i64..100_001,
            prop::option::of(-5i64..100_001),
            prop::option::of(-3i64..4)
        )
            .prop_map(|(a, b, c)| match (b, c) {
                (None, _) => format!("range({a})"),
                (Some(b), None) => format!("range({a}, {b})"),
                (Some(b), Some(c)) => format!("range({a}, {b}, {c})"),
            }),
        "[a-z_][a-z0-9_.]{0,12}",
    ];
    leaf.prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(BINOPS), inner.clone())
                .prop_map(|(a, op, b)| format!("({a}{op}{b})")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (inner.clone(), prop::sample::select(FILTERS))
                .prop_map(|(a, f)| format!("({a} | {f})")),
            (inner.clone(), any::<bool>(), prop::sample::select(TESTS))
                .prop_map(|(a, not, t)| format!("({a} is {}{t})", if not { "not " } else { "" })),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("({a} if {b} else {c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            (
                inner.clone(),
                prop::option::of(-3i64..4),
                prop::option::of(-3i64..4),
                -2i64..3
            )
                .prop_map(|(a, x, y, z)| {
                    let o = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                    format!("{a}[{}:{}:{z}]", o(x), o(y))
                }),
            (inner.clone(), "[a-z_]{1,8}").prop_map(|(a, f)| format!("{a}.{f}")),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| format!("{{{k}: {v}}}")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("days_between({a}, {b})")),
        ]
    })
}

/// A message template around grammar-built expressions: output, conditionals, loops, `set`,
/// macros, filters blocks, raw text with stray braces.
fn template() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        expression().prop_map(|e| format!("{{{{ {e} }}}}")),
        (expression(), "[a-z ]{0,6}", "[a-z ]{0,6}")
            .prop_map(|(e, a, b)| format!("{{% if {e} %}}{a}{{% else %}}{b}{{% endif %}}")),
        (expression(), expression()).prop_map(|(s, e)| format!(
            "{{% for x in {s} %}}{{{{ loop.index }}}}{{{{ {e} }}}}{{% endfor %}}"
        )),
        expression().prop_map(|e| format!("{{% set y = {e} %}}{{{{ y }}}}")),
        expression()
            .prop_map(|e| format!("{{% macro m(a) %}}{{{{ a }}}}{{% endmacro %}}{{{{ m({e}) }}}}")),
        expression().prop_map(|e| format!("{{% filter upper %}}{{{{ {e} }}}}{{% endfilter %}}")),
        "[a-z {}%#-]{0,12}",
        Just("{% raw %}{{ x }}{% endraw %}{# c #}".to_string()),
    ];
    prop::collection::vec(part, 1..4).prop_map(|v| v.concat())
}

/// Tokens of Jinja soup: delimiters, keywords, operators, names, literals.
#[rustfmt::skip]
const JINJA_TOKENS: &[&str] = &[
    "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-}}", "for", "in", "endfor", "if", "elif", "else",
    "endif", "set", "macro", "endmacro", "call", "filter", "endfilter", "raw", "endraw", "with",
    "and", "or", "not", "is", "(", ")", "[", "]", "{", "}", ",", ":", ".", "|", "~", "+", "-", "*",
    "/", "//", "%", "**", "==", "!=", "<", ">=", "=", "'", "\"", "'s'", "\"%}\"", "0", "7",
    "99999999999999999999", "1.5e308", "none", "true", "flow", "party", "activity", "recipient",
    "role", "ref", "eea", "workspace", "flows", "today", "loop", "x", "range", "lookup",
    "days_between", "length", "map", "join", "select", "attribute", "default", " ", "\n", "\t",
    "é", "\\", "\u{0}",
];

fn jinja_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(JINJA_TOKENS), 0..40).prop_map(|ts| ts.join(" "))
}

/// Cuts a text at a character boundary and splices in a token: near-valid input.
fn corrupt(text: String, cut: Index, token: &str) -> String {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let at = bounds[cut.index(bounds.len())];
    format!("{}{token}{}", &text[..at], &text[at..])
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn grammar_expressions_compile_or_are_refused(e in expression()) {
        fuzz_expression(&e);
    }

    #[test]
    fn corrupted_expressions_are_refused_without_panics(
        e in expression(),
        cut in any::<Index>(),
        token in prop::sample::select(JINJA_TOKENS),
    ) {
        fuzz_expression(&corrupt(e, cut, token));
    }

    #[test]
    fn jinja_token_soup_is_refused_without_panics(e in jinja_soup()) {
        fuzz_expression(&e);
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn templates_render_or_are_refused(t in template()) {
        fuzz_expression(&t);
    }

    #[test]
    fn arbitrary_text_is_refused_without_panics(t in "\\PC{0,40}|[\\x00-\\x7f]{0,40}") {
        fuzz_expression(&t);
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: inputs the property tests and fuzzers found (see fuzz/README.md), kept forever.

#[test]
fn loader_regressions() {
    for bytes in [
        &b""[..],
        b"\xef\xbb\xbf",
        b"a: [1, 2",
        b"\r\r\r{",
        // Not UTF-8 after a lone CR: the position counted the CR as part of line 1 (fixed in
        // `loading::read_source`).
        b"\r\x80",
        b"a\r\nb\rc\xff",
        // A byte-order mark starting a line inside the document: the YAML parser does not count
        // it as a column (found by the loader fuzzer; the check accepts that convention).
        b"flowaudit: 1\ndata_sub{jects:\n\xef\xbb\xbf id:[\0\0\0\0\0\0\0waudit: 1\n\
          conorge, data: [user.content.image]}\n",
        b"a: 1\n\xef\xbb\xbfb: [\0",
        b"\xef\xbb\xbf\xef\xbb\xbfa: [\0",
        // Non-ASCII characters in a `%` directive: saphyr-parser 0.3.4 counts them in bytes, so
        // positions after the line are off, past the end here (found by the loader fuzzer;
        // upstream, not fixed: the check skips positions for such files).
        b"%YAMuser.biom\xc3\xa9etric.retir\r\n",
        b"%F\xc3\xa9\n",
        b"%FOO \xc3\xa9\xc3\xa9\n---\nflowaudit: 1\nx: [\0",
        // A valid workspace on which the built-in rule AI-SCRAPED-TRAINING-DATA failed (E045,
        // "undefined value" in its message) when `purpose_category` was not stated or not one of
        // the four its message names (found by the loader fuzzer; fixed in the rule's message).
        b"flowaudit: 1\nactivities:\n  - id: a\n    collection: {channel: scraping}\n",
        b"flowaudit: 1\nactivities:\n\
          - {id: a, purpose_category: security, collection: {channel: scraping}}\n",
        b"flowaudit: 1\nactivities:\n\
          - {id: a, purpose_category: other, collection: {channel: scraping}}\n",
    ] {
        load_both(bytes);
    }
}

#[test]
fn expression_regressions() {
    for text in [
        "", "'%}'", "{{",
        // A syntax error at a multi-byte character panicked while placing the caret (slicing
        // inside the character; fixed in `engine::rules::expr_range`).
        "\u{e9}", "1 \u{e9}", "\u{897}",
    ] {
        fuzz_expression(text);
    }
}
