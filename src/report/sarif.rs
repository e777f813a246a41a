//! The SARIF 2.1.0 rendering of `check`, for code-scanning tools (GitHub code scanning and other
//! SARIF consumers): one run, every reported rule in `tool.driver.rules`, one result per gap and per
//! waived gap (the latter carrying an external suppression with the waiver's reason).
//!
//! Only the subset of SARIF that GitHub code scanning reads is written; the output validates against
//! the OASIS schema (`tests/sarif.rs`). Like every rendering it is deterministic: results come in the
//! order of `report.results`, rules in the order of `report.rules`.

use serde::Serialize;

use super::{CheckReport, Finding, RuleInfo};
use crate::engine::{Severity, Status};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const VERSION: &str = "2.1.0";
// Placeholder: the project has no public home yet; replace with the real one when it does.
const INFORMATION_URI: &str = "https://github.com/flowaudit/flowaudit";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    /// Columns are counted in characters (`source::Position::col`).
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule<'a>>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<&'a str>,
    help: Text,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    /// A string, as GitHub code scanning documents it ("a string representing a score … between
    /// 0.0 and 10.0"); it maps > 9.0 to critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
}

/// The result's fingerprint: `<rule>:<subject kind>:<subject id>`, which stays the same when lines
/// move (GitHub matches alerts across runs with it).
#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "flowauditSubject/v1")]
    subject: String,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    justification: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties<'a> {
    subject_kind: &'a str,
    subject_id: &'a str,
    articles: &'a [String],
    severity: Severity,
}

/// The SARIF `level` of a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` score of a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A CamelCase name from the words of `text` (`Transfer without a Chapter V tool` →
/// `TransferWithoutAChapterVTool`); `lower_rest` lower-cases all but each word's first letter
/// (for ids such as `GDPR-ART44-X`).
fn camel_case(text: &str, lower_rest: bool) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            if lower_rest {
                out.extend(chars.flat_map(char::to_lowercase));
            } else {
                out.extend(chars);
            }
        }
    }
    out
}

/// A relative (or absolute) URI reference for a report path: forward slashes, and every byte
/// outside the unreserved characters, `/` and the sub-delimiters percent-encoded (a `:` too, so
/// that a first segment is never read as a scheme). A Windows drive path becomes a `file:` URI.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    let (prefix, rest) = if bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && bytes[2] == b'/'
    {
        (format!("file:///{}:", &path[..1]), &path[2..])
    } else {
        (String::new(), path.as_str())
    };
    let mut out = prefix;
    for b in rest.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn rule(r: &RuleInfo) -> Rule<'_> {
    let remediation = r.remediation.trim().to_string();
    let full = if r.articles.is_empty() {
        remediation.clone()
    } else if remediation.is_empty() {
        r.articles.join(", ")
    } else {
        format!("{}: {}", r.articles.join(", "), remediation)
    };
    let mut tags: Vec<String> = Vec::new();
    for t in r
        .articles
        .iter()
        .map(String::as_str)
        .chain([r.severity.as_str()])
        .chain(r.tags.iter().map(String::as_str))
    {
        // SARIF tags are a set (`uniqueItems`).
        if !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }
    let name = match camel_case(&r.title, false) {
        n if n.is_empty() => camel_case(&r.id, true),
        n => n,
    };
    Rule {
        id: &r.id,
        name,
        short_description: Text {
            text: r.title.clone(),
        },
        full_description: Text { text: full },
        help_uri: r.references.first().map(|x| x.url.as_str()),
        help: Text { text: remediation },
        default_configuration: Configuration {
            level: level(r.severity),
        },
        properties: RuleProperties {
            tags,
            security_severity: security_severity(r.severity),
        },
    }
}

fn result<'a>(f: &'a Finding, rule_index: usize) -> SarifResult<'a> {
    let suppressions = match (&f.status, &f.waiver, &f.baseline) {
        (Status::Waived, Some(w), _) => vec![Suppression {
            kind: "external",
            justification: &w.reason,
        }],
        // A gap hidden by a baseline entry: accepted outside the source, as a waiver is.
        (Status::Gap, _, Some(b)) => vec![Suppression {
            kind: "external",
            justification: &b.reason,
        }],
        _ => Vec::new(),
    };
    SarifResult {
        rule_id: &f.rule,
        rule_index,
        level: level(f.severity),
        message: Text {
            text: f.message.clone().unwrap_or_else(|| f.title.to_string()),
        },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri(&f.location.file),
                },
                // SARIF lines and columns start at 1; so do ours. The guard keeps a position-less
                // subject (none today) valid.
                region: Region {
                    start_line: f.location.line.max(1),
                    start_column: f.location.column.max(1),
                },
            },
        }],
        partial_fingerprints: Fingerprints {
            subject: format!("{}:{}:{}", f.rule, f.subject.kind, f.subject.id),
        },
        suppressions,
        properties: ResultProperties {
            subject_kind: &f.subject.kind,
            subject_id: &f.subject.id,
            articles: &f.articles,
            severity: f.severity,
        },
    }
}

/// Renders the report as a SARIF 2.1.0 log.
pub fn render(report: &CheckReport) -> String {
    let index = |id: &str| report.rules.iter().position(|r| r.id == id);
    let results = report
        .results
        .iter()
        .filter(|f| matches!(f.status, Status::Gap | Status::Waived))
        .filter_map(|f| index(&f.rule).map(|i| result(f, i)))
        .collect();
    let log = Log {
        schema: SCHEMA,
        version: VERSION,
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: report.tool.name,
                    version: report.tool.version,
                    information_uri: INFORMATION_URI,
                    rules: report.rules.iter().map(rule).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(
            camel_case("Transfer without a Chapter V tool", false),
            "TransferWithoutAChapterVTool"
        );
        assert_eq!(camel_case("GDPR-ART44-X", true), "GdprArt44X");
        assert_eq!(
            uri("examples/a b/x.flow.yaml"),
            "examples/a%20b/x.flow.yaml"
        );
        assert_eq!(uri("dir\\x#1.yaml"), "dir/x%231.yaml");
        assert_eq!(uri("C:\\w\\x.yaml"), "file:///C:/w/x.yaml");
        assert_eq!(uri("/abs/ü.yaml"), "/abs/%C3%BC.yaml");
    }
}
