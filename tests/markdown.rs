//! `check --format markdown`: the gap report for a pull-request comment (DESIGN §7).
//!
//! Golden files for the examples (regenerate with `FLOWAUDIT_BLESS=1 cargo test --test markdown`
//! and read the diff before accepting it), the size limit of a GitHub comment, determinism, the
//! shape of every table and of the Mermaid diagram, and hostile text rendered inert.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// GitHub's limit for a comment, in characters.
const COMMENT_LIMIT: usize = 65_536;

const EXAMPLES: [(&str, i32); 3] = [
    ("robot-vacuum", 1),
    ("face-search", 1),
    ("robot-vacuum-remediated", 0),
];

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("flowaudit")
        .expect("binary built")
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env("NO_COLOR", "1")
        .arg("check")
        .args(args)
        .args(["--format", "markdown"])
        .output()
        .expect("runs")
}

fn markdown(dir: &Path, args: &[&str], code: i32) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str, code: i32) -> String {
    markdown(&root(), &[&format!("examples/{name}")], code)
}

#[test]
fn examples_match_their_golden_files() {
    let bless = std::env::var_os("FLOWAUDIT_BLESS").is_some();
    for (name, code) in EXAMPLES {
        let got = example(name, code);
        let path = root().join(format!("tests/golden/{name}.md"));
        if bless {
            std::fs::create_dir_all(path.parent().expect("parent")).expect("golden dir");
            std::fs::write(&path, &got).expect("write golden file");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .map_or_else(
                    || got.lines().count().min(want.lines().count()) + 1,
                    |i| i + 1,
                );
            panic!(
                "tests/golden/{name}.md differs from the output at line {line}: \
                 run `FLOWAUDIT_BLESS=1 cargo test --test markdown` and review the diff"
            );
        }
    }
}

#[test]
fn examples_fit_a_pull_request_comment() {
    for (name, code) in EXAMPLES {
        let md = example(name, code);
        assert!(
            md.len() < COMMENT_LIMIT && md.chars().count() < COMMENT_LIMIT,
            "{name}: {} bytes",
            md.len()
        );
        assert!(md.starts_with("### flowaudit gap report"), "{name}");
        check_tables(&md);
        check_mermaid(&md);
        check_html(&md);
    }
}

#[test]
fn output_is_deterministic() {
    for (name, code) in EXAMPLES {
        assert_eq!(example(name, code), example(name, code), "{name}");
    }
}

/// Counts the `|` that delimit cells: those not escaped by an odd number of backslashes.
fn cell_pipes(row: &str) -> usize {
    let mut n = 0;
    let mut backslashes = 0;
    for c in row.chars() {
        match c {
            '\\' => backslashes += 1,
            '|' => {
                if backslashes % 2 == 0 {
                    n += 1;
                }
                backslashes = 0;
            }
            _ => backslashes = 0,
        }
    }
    n
}

/// Where `pat` occurs not escaped: its first character is not preceded by an odd number of
/// backslashes (`\\](` is text, `](` may end a link text).
fn unescaped<'a>(text: &'a str, pat: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(pat)
        .map(|(i, _)| i)
        .filter(move |&i| text[..i].chars().rev().take_while(|c| *c == '\\').count() % 2 == 0)
}

/// Every row of every table has as many cells as its header.
fn check_tables(md: &str) {
    let lines: Vec<&str> = md.lines().collect();
    let mut tables = 0;
    let mut i = 0;
    while i + 1 < lines.len() {
        let is_delimiter = lines[i + 1].starts_with("|---")
            && lines[i + 1].chars().all(|c| matches!(c, '|' | '-' | ':'));
        if lines[i].starts_with('|') && is_delimiter {
            tables += 1;
            let columns = cell_pipes(lines[i]);
            assert_eq!(cell_pipes(lines[i + 1]), columns, "{}", lines[i + 1]);
            let mut j = i + 2;
            while j < lines.len() && lines[j].starts_with('|') {
                assert_eq!(
                    cell_pipes(lines[j]),
                    columns,
                    "a row with a different number of cells than its header `{}`:\n{}",
                    lines[i],
                    lines[j]
                );
                assert!(lines[j].ends_with(" |"), "{}", lines[j]);
                j += 1;
            }
            i = j;
        } else {
            assert!(
                !(i > 0 && lines[i].starts_with('|') && !lines[i - 1].starts_with('|')),
                "a table row outside a table: {}",
                lines[i]
            );
            i += 1;
        }
    }
    assert!(tables >= 3, "the summary tables and the matrix at least");
}

fn mermaid_block(md: &str) -> Option<&str> {
    let start = md.find("```mermaid\n")? + "```mermaid\n".len();
    let len = md[start..].find("\n```\n")?;
    Some(&md[start..start + len])
}

fn is_node_id(s: &str) -> bool {
    s.len() > 2
        && s.starts_with("n_")
        && s[2..]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A label between quotes: no quote, no angle bracket, no backtick, no newline.
fn is_label(s: &str) -> bool {
    !s.chars().any(|c| matches!(c, '"' | '<' | '>' | '`' | '\n'))
}

fn is_style(s: &str) -> bool {
    !s.is_empty()
        && s.split(',').all(|kv| {
            kv.split_once(':').is_some_and(|(k, v)| {
                !k.is_empty()
                    && k.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && !v.is_empty()
                    && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '#')
            })
        })
}

/// The diagram is `flowchart LR` and lines that are each a node, an edge, a `classDef`, a `class`
/// or a `linkStyle`, referring only to nodes and edges defined.
fn check_mermaid(md: &str) {
    let block = mermaid_block(md).expect("a ```mermaid block");
    let mut lines = block.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    let mut nodes: Vec<String> = Vec::new();
    let mut edges = 0;
    let mut classes: Vec<String> = Vec::new();
    for line in lines {
        let l = line
            .strip_prefix("  ")
            .unwrap_or_else(|| panic!("indented: {line:?}"));
        let words: Vec<&str> = l.split(' ').collect();
        if let Some(rest) = l.strip_prefix("classDef ") {
            let (name, style) = rest.split_once(' ').expect("classDef name style");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{l}"
            );
            assert!(is_style(style), "{l}");
            classes.push(name.to_string());
        } else if l.starts_with("class ") {
            assert_eq!(words.len(), 3, "{l}");
            for id in words[1].split(',') {
                assert!(
                    nodes.iter().any(|n| n == id),
                    "class of an unknown node: {l}"
                );
            }
            assert!(classes.iter().any(|c| c == words[2]), "{l}");
        } else if l.starts_with("linkStyle ") {
            assert_eq!(words.len(), 3, "{l}");
            for i in words[1].split(',') {
                let i: usize = i.parse().unwrap_or_else(|_| panic!("{l}"));
                assert!(i < edges, "linkStyle of an unknown edge: {l}");
            }
            assert!(is_style(words[2]), "{l}");
        } else if l
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .is_some_and(|i| l[i..].starts_with(' '))
        {
            let (from, rest) = l.split_once(" -->").expect("an edge");
            let (label, to) = match rest.strip_prefix("|\"") {
                Some(r) => {
                    let (label, to) = r.split_once("\"| ").expect("closed edge label");
                    (Some(label), to)
                }
                None => (None, rest.strip_prefix(' ').expect("space before target")),
            };
            assert!(label.is_none_or(is_label), "{l}");
            for id in [from, to] {
                assert!(
                    nodes.iter().any(|n| n == id),
                    "edge to an unknown node: {l}"
                );
            }
            edges += 1;
        } else {
            let id_end = l.find(['[', '(', '{']).expect("a node shape");
            let (id, shape) = l.split_at(id_end);
            assert!(is_node_id(id), "{l}");
            let label = [
                ("{{\"", "\"}}"),
                ("([\"", "\"])"),
                ("[[\"", "\"]]"),
                ("[\"", "\"]"),
            ]
            .iter()
            .find_map(|(open, close)| shape.strip_prefix(open)?.strip_suffix(close))
            .unwrap_or_else(|| panic!("not a node definition: {l}"));
            assert!(is_label(label), "{l}");
            assert!(!nodes.iter().any(|n| n == id), "node defined twice: {l}");
            nodes.push(id.to_string());
        }
    }
    assert!(!nodes.is_empty());
}

/// Outside the diagram, the only HTML is the report's own: `details`, `summary` and `b`.
fn check_html(md: &str) {
    let text = match mermaid_block(md) {
        Some(block) => md.replace(block, ""),
        None => md.to_string(),
    };
    let allowed = [
        "<details>",
        "</details>",
        "<summary>",
        "</summary>",
        "<b>",
        "</b>",
    ];
    for (i, _) in text.match_indices('<') {
        assert!(
            allowed.iter().any(|t| text[i..].starts_with(t)),
            "raw HTML: {}",
            &text[i..(i + 40).min(text.len())]
        );
    }
    for i in unescaped(&text, "](") {
        assert!(
            text[i + 2..].starts_with("https://") || text[i + 2..].starts_with("http://"),
            "a link to something other than a reference: {}",
            &text[i..(i + 60).min(text.len())]
        );
    }
    for line in text.lines().filter(|l| l.starts_with('#')) {
        assert!(
            line.starts_with("### flowaudit gap report")
                || line == "#### GDPR gaps by article"
                || line == "#### Details",
            "a heading from user text: {line}"
        );
    }
}

const HOSTILE_WORKSPACE: &str = r##"flowaudit: 1
controller: {id: acme, name: "<script>alert(1)</script> | col | *bold*", country: "DE", eea_establishment: true}
parties:
  - {id: vendor, name: "\"><img src=x onerror=alert(1)> `code`", role: processor, country: "US", contract: {type: none}, transfer: {mechanism: none}}
data_subjects:
  - {id: people, name: "# heading [x](javascript:alert(1))", category: customer, countries: ["DE"]}
systems:
  - {id: app, name: "| col | `code` _u_ ~~s~~ $$x$$ https://evil.example", country: "DE"}
activities:
  - id: act
    name: "[x](javascript:alert(1)) <script>alert(1)</script>"
    purpose: "# heading | col | *bold* `code` [x](javascript:alert(1)) <script>alert(1)</script>\nsecond line"
    legal_basis: consent
flows:
  - {id: collect, activity: act, from: people, to: app, data: [user.name]}
  - {id: to-vendor, activity: act, from: app, to: vendor, data: [user.content.image]}
waivers:
  - {rule: ACME-HOSTILE, subject: to-vendor, reason: "<script>alert(1)</script> | col | [x](javascript:alert(1))", approved_by: "\"><img src=x onerror=alert(1)> *bold* # heading", expires: "2027-03-01"}
  - {rule: ACME-HOSTILE, subject: collect, reason: "# heading `code`", approved_by: "| col |", expires: "2025-03-01"}
  - {rule: GDPR-ART44-TRANSFER-WITHOUT-TOOL, subject: to-vendor, reason: "<img src=x onerror=alert(1)>", approved_by: "[x](javascript:alert(1))", expires: "2025-01-01"}
"##;

const HOSTILE_RULE: &str = r##"id: ACME-HOSTILE
title: "Hostile <script>alert(1)</script> | col | *bold*"
articles: ["Art. 32(4) <img src=x onerror=alert(1)>"]
severity: high
subject: flow
when: "true"
require: "false"
message: "<script>alert(1)</script> | col | [x](javascript:alert(1)) on {{ flow }} `code` # heading"
remediation: "Fix it | col | <img src=x onerror=alert(1)> [x](javascript:alert(1))"
references:
  - {title: "Evil ] ref [x](javascript:alert(1))", url: "https://example.com/a)[x](javascript:alert(1))"}
"##;

const PURPOSE_RULE: &str = r##"id: ACME-PURPOSE
title: Purpose shown
articles: ["Art. 5(1)(b)"]
severity: medium
subject: activity
when: "true"
require: "false"
message: "# {{ activity.purpose }} of {{ activity.name }}"
remediation: State it.
"##;

/// A fresh directory under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowaudit-md-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn hostile_text_renders_inert() {
    let dir = scratch("hostile");
    // The workspace's own directory name is hostile too (file names show in `file:line`).
    let ws = if cfg!(unix) { "ws |*_`[x]<i>#" } else { "ws" };
    std::fs::create_dir_all(dir.join(ws)).expect("workspace dir");
    std::fs::create_dir_all(dir.join("rules")).expect("rules dir");
    std::fs::write(dir.join(ws).join("hostile.flow.yaml"), HOSTILE_WORKSPACE).expect("write");
    std::fs::write(dir.join("rules/ACME-HOSTILE.yaml"), HOSTILE_RULE).expect("write");
    std::fs::write(dir.join("rules/ACME-PURPOSE.yaml"), PURPOSE_RULE).expect("write");
    let args = [ws, "--rules", "rules"];
    let md = markdown(&dir, &args, 1);
    assert_eq!(md, markdown(&dir, &args, 1), "byte-identical across runs");

    let diagram = mermaid_block(&md).expect("diagram");
    let lower = md.replace(diagram, "").to_lowercase();
    for bad in ["<script", "<img", "<i>", "https://evil"] {
        assert!(unescaped(&lower, bad).next().is_none(), "`{bad}` in\n{md}");
    }
    // A link needs an unescaped `](`: the `[x](javascript:...)` of user text stays text.
    assert!(unescaped(&lower, "](javascript:").next().is_none(), "{md}");
    assert!(lower.contains("\\[x\\](javascript:alert(1))"));
    check_tables(&md);
    check_mermaid(&md);
    check_html(&md);
    // The text is there, escaped: names, purpose, message, waiver reason and approver.
    for escaped in [
        "&lt;script&gt;alert(1)&lt;/script&gt; \\| col \\| \\*bold\\*",
        "\\[x\\](javascript:alert(1))",
        "\\`code\\`",
        "| \\# heading \\`code\\` |",
        "| \\| col \\| |",
        "\\# # heading \\| col \\| \\*bold\\*",
        "second line",
        "\"&gt;&lt;img src=x onerror=alert(1)&gt; \\*bold\\* # heading",
        "Fix it \\| col \\|",
        "(waiver expired)",
    ] {
        assert!(md.contains(escaped), "`{escaped}` missing in\n{md}");
    }
    // A rule file's reference is shown as text, not linked.
    assert!(md.contains("Evil \\] ref \\[x\\](javascript:alert(1)) (https:\\/\\/example.com/a)"));
    // Labels in the diagram use Mermaid's entity codes.
    assert!(diagram.contains("#lt;script#gt;alert(1)#lt;/script#gt;"));
    assert!(diagram.contains("#quot;#gt;#lt;img"));
    assert!(diagram.contains("#35; heading"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn many_findings_are_shortened_with_a_note() {
    let dir = scratch("many");
    let mut ws = String::from(
        "flowaudit: 1\ncontroller: {id: acme, name: Acme, country: \"DE\", eea_establishment: true}\n\
         data_subjects:\n  - {id: people, category: customer, countries: [\"DE\"]}\n\
         activities:\n  - {id: act, legal_basis: consent, purpose: Service}\nparties:\n",
    );
    for i in 0..150 {
        ws.push_str(&format!(
            "  - {{id: vendor-{i}, name: \"Vendor {i} | <b>\", role: processor, country: \"US\", \
             contract: {{type: none}}, transfer: {{mechanism: none}}, dpf_certified: false}}\n"
        ));
    }
    ws.push_str("flows:\n");
    for i in 0..150 {
        ws.push_str(&format!(
            "  - {{id: to-vendor-{i}, activity: act, from: people, to: vendor-{i}, data: [user.content.image]}}\n"
        ));
    }
    std::fs::write(dir.join("many.flow.yaml"), ws).expect("write");
    let md = markdown(&dir, &["."], 1);
    assert!(md.len() < COMMENT_LIMIT, "{} bytes", md.len());
    assert!(
        md.contains("> Shortened to fit a pull-request comment: "),
        "{md}"
    );
    assert!(md.contains("more findings not listed here."), "{md}");
    // The summary tables stay whole.
    assert!(md.contains("| GDPR | 150 | 150 | 0 | 0 | 0 |"), "{md}");
    assert!(md.contains("<summary>Checkpoint matrix: "), "{md}");
    check_tables(&md);
    check_html(&md);
    let _ = std::fs::remove_dir_all(&dir);
}
