//! Baselines through the real binary, on a copy of `examples/face-search` in a temporary
//! directory: `baseline --out` records today's gaps keyed on rule + subject (never lines);
//! `check --baseline` then reports only new gaps, stale entries (gap fixed) and expired ones
//! (their gaps count again); a malformed baseline is exit 2 with a position.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// 2026-01-01.
const EPOCH: &str = "1767225600";
const TODO: &str = "TODO: why this gap is accepted for now";

/// A fresh copy of the face-search example, removed on drop.
struct Workspace {
    root: PathBuf,
}

impl Workspace {
    fn new(name: &str) -> Self {
        let root =
            std::env::temp_dir().join(format!("flowaudit-baseline-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let flows = root.join("flows");
        std::fs::create_dir_all(&flows).expect("temp dir");
        for entry in std::fs::read_dir("examples/face-search").expect("example") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(&path, flows.join(path.file_name().expect("name"))).expect("copy");
            }
        }
        Workspace { root }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::cargo_bin("flowaudit")
            .expect("binary built")
            .current_dir(&self.root)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .expect("runs")
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).expect(rel);
    }

    /// Replaces exactly one occurrence of `old` in a file.
    fn edit(&self, rel: &str, old: &str, new: &str) {
        let text = self.read(rel);
        assert_eq!(text.matches(old).count(), 1, "`{old}` once in {rel}");
        self.write(rel, &text.replacen(old, new, 1));
    }

    /// `baseline flows --out b.yaml`, which must succeed.
    fn baseline(&self) {
        let out = self.run(&["baseline", "flows", "--out", "b.yaml"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }

    /// `check flows --baseline b.yaml --format json`: exit code and the result model.
    fn check_json(&self) -> (Option<i32>, Value) {
        let out = self.run(&["check", "flows", "--baseline", "b.yaml", "--format", "json"]);
        let json = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("JSON on stdout ({e}): {}", stderr(&out)));
        (out.status.code(), json)
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The baseline file, parsed with the tool's own YAML 1.2 loader.
fn parse_yaml(path: &Path) -> Value {
    let file = flowaudit::loading::read_source(path).expect("readable");
    flowaudit::loading::parse_source(&file)
        .expect("valid YAML")
        .value
}

fn entries(doc: &Value) -> &Vec<Value> {
    doc["entries"].as_array().expect("entries is a list")
}

/// Gaps not hidden by the baseline: (rule, kind, id).
fn open_gaps(model: &Value) -> Vec<(String, String, String)> {
    model["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == "gap" && r.get("baseline").is_none())
        .map(|r| {
            (
                r["rule"].as_str().unwrap_or_default().to_string(),
                r["subject"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r["subject"]["id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn sum(v: &Value) -> u64 {
    v.as_object()
        .expect("counts")
        .values()
        .filter_map(Value::as_u64)
        .sum()
}

#[test]
fn baseline_then_check_hides_every_gap() {
    let ws = Workspace::new("hides");
    let before = ws.run(&["check", "flows", "--format", "json"]);
    assert_eq!(before.status.code(), Some(1), "the example has gaps");
    let before: Value = serde_json::from_slice(&before.stdout).expect("JSON");
    let gaps = before["summary"]["statuses"]["gap"]
        .as_u64()
        .expect("gap count");
    assert!(gaps > 10, "face-search has many gaps: {gaps}");
    assert!(
        before["summary"].get("baselined").is_none() && before.get("baseline").is_none(),
        "no baseline fields without --baseline"
    );

    let out = ws.run(&["baseline", "flows", "--out", "b.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("wrote b.yaml: {gaps} entries ({gaps} added")),
        "{}",
        stdout(&out)
    );
    let doc = parse_yaml(&ws.path("b.yaml"));
    assert_eq!(entries(&doc).len() as u64, gaps, "one entry per gap");

    // Text: exit 0, no gap listed, the baseline section and summary say what was hidden.
    let text = ws.run(&["check", "flows", "--baseline", "b.yaml"]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let t = stdout(&text);
    assert!(t.contains("baseline b.yaml (created 2026-01-01)"), "{t}");
    assert!(
        t.contains(&format!("{gaps} gaps hidden by {gaps} of {gaps} entries")),
        "{t}"
    );
    assert!(
        t.contains(&format!("summary: 0 gaps, {gaps} baselined")),
        "{t}"
    );
    assert!(
        !t.contains("critical (") && !t.contains("high ("),
        "no gap section: {t}"
    );
    assert!(!t.contains("stale") && !t.contains("EXPIRED"), "{t}");

    // JSON: statuses unchanged, every gap marked, nothing failing.
    let (code, model) = ws.check_json();
    assert_eq!(code, Some(0));
    let s = &model["summary"];
    assert_eq!(
        s["statuses"]["gap"].as_u64(),
        Some(gaps),
        "statuses stay the engine's"
    );
    assert_eq!(s["baselined"].as_u64(), Some(gaps));
    assert_eq!(s["failing"], 0);
    assert_eq!(s["verdict"], "ready");
    assert_eq!(sum(&s["gaps"]) + sum(&s["ai_act"]), 0);
    assert!(open_gaps(&model).is_empty());
    let b = &model["baseline"];
    assert_eq!(b["file"], "b.yaml");
    assert_eq!(b["entries"].as_u64(), Some(gaps));
    assert_eq!(b["applied"].as_u64(), Some(gaps));
    assert_eq!(b["stale"], serde_json::json!([]));
    assert_eq!(b["expired"], serde_json::json!([]));
    let marked = model["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r.get("baseline").is_some())
        .expect("a baselined result");
    assert_eq!(marked["status"], "gap");
    assert_eq!(marked["baseline"]["reason"], TODO);
    assert_eq!(marked["baseline"]["location"]["file"], "b.yaml");

    // SARIF: a baselined gap is suppressed ("external"), as a waived one.
    let sarif = ws.run(&[
        "check",
        "flows",
        "--baseline",
        "b.yaml",
        "--format",
        "sarif",
    ]);
    assert_eq!(sarif.status.code(), Some(0));
    let sarif: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len() as u64, gaps);
    assert!(
        results
            .iter()
            .all(|r| r["suppressions"][0]["kind"] == "external"),
        "every baselined gap is suppressed"
    );

    // `report --baseline`: ready, with the count.
    let report = ws.run(&["report", "flows", "--baseline", "b.yaml", "--out", "rep"]);
    assert_eq!(report.status.code(), Some(0), "{}", stderr(&report));
    assert!(
        stdout(&report).contains(&format!("({gaps} baselined)")),
        "{}",
        stdout(&report)
    );
    let md = ws.read("rep/report.md");
    assert!(md.contains(&format!("{gaps} gaps hidden by the baseline `b.yaml`")));
}

#[test]
fn baseline_file_is_keyed_on_ids_never_lines() {
    let ws = Workspace::new("format");
    ws.baseline();
    let text = ws.read("b.yaml");
    assert!(
        text.starts_with("# flowaudit baseline"),
        "header comment:\n{text}"
    );
    assert!(text.contains("\nflowaudit_baseline: 1\n"));
    assert!(
        text.contains("\ncreated: 2026-01-01\n"),
        "SOURCE_DATE_EPOCH"
    );
    let doc = parse_yaml(&ws.path("b.yaml"));
    let keys: Vec<&str> = doc
        .as_object()
        .expect("mapping")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["flowaudit_baseline", "created", "entries"]);
    let mut order = Vec::new();
    for e in entries(&doc) {
        let keys: Vec<&str> = e
            .as_object()
            .expect("entry")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["rule", "kind", "subject", "severity", "reason", "expires"],
            "no line, column or file in an entry"
        );
        for v in e.as_object().expect("entry").values() {
            let v = v.as_str().expect("every value is text");
            assert!(!v.contains(".flow.yaml"), "no file in {e}");
        }
        assert_eq!(e["reason"], TODO);
        assert_eq!(e["expires"], "2026-04-01", "today + 90 days");
        order.push((
            e["rule"].as_str().expect("rule").to_string(),
            e["subject"].as_str().expect("subject").to_string(),
        ));
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "sorted by rule, then subject");
    assert!(order.contains(&("GDPR-ART6-NO-LAWFUL-BASIS".into(), "face-collection".into())));
    // No key names a line, column or file; no `file:line` anywhere.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let key = line.trim_start().trim_start_matches("- ").split(':').next();
        assert!(
            !matches!(key, Some("line" | "column" | "file" | "location")),
            "{line}"
        );
        assert!(!line.contains(".yaml:"), "{line}");
    }

    // --expires sets the new entries' date; a day already come is refused.
    let out = ws.run(&[
        "baseline",
        "flows",
        "--out",
        "c.yaml",
        "--expires",
        "2026-06-30",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let c = parse_yaml(&ws.path("c.yaml"));
    assert!(entries(&c).iter().all(|e| e["expires"] == "2026-06-30"));
    for day in ["2026-01-01", "2025-06-30", "2026-02-30", "soon"] {
        let out = ws.run(&["baseline", "flows", "--out", "d.yaml", "--expires", day]);
        assert_eq!(out.status.code(), Some(2), "--expires {day}");
        assert!(!ws.path("d.yaml").exists());
    }
}

#[test]
fn a_new_gap_is_the_only_one_reported() {
    let ws = Workspace::new("new-gap");
    ws.baseline();
    // Shared staff accounts on the crawler: a new Art. 32 gap.
    ws.edit(
        "flows/systems.flow.yaml",
        "    location: online\n    stage: production\n\n",
        "    location: online\n    stage: production\n    security: {shared_accounts: true}\n\n",
    );
    let (code, model) = ws.check_json();
    assert_eq!(code, Some(1), "a new high gap fails the check");
    assert_eq!(
        open_gaps(&model),
        [(
            "GDPR-ART32-WEAK-AUTHENTICATION".to_string(),
            "system".to_string(),
            "face-crawler".to_string()
        )]
    );
    assert_eq!(model["summary"]["failing"], 1);
    assert_eq!(model["baseline"]["stale"], serde_json::json!([]));

    let text = ws.run(&["check", "flows", "--baseline", "b.yaml"]);
    assert_eq!(text.status.code(), Some(1));
    let t = stdout(&text);
    assert!(t.starts_with("high (1)\n"), "{t}");
    assert!(t.contains("GDPR-ART32-WEAK-AUTHENTICATION"), "{t}");
    assert!(
        t.contains("system `face-crawler` at flows/systems.flow.yaml:"),
        "{t}"
    );
    assert!(
        !t.contains("GDPR-ART6-NO-LAWFUL-BASIS"),
        "baselined gaps are not listed: {t}"
    );
}

#[test]
fn a_fixed_gap_leaves_a_stale_entry_and_rerunning_updates_the_file() {
    let ws = Workspace::new("stale");
    ws.baseline();
    // Give one entry a real reason and a later date: rerunning the baseline must keep them.
    ws.edit(
        "b.yaml",
        "  - rule: GDPR-ART6-NO-LAWFUL-BASIS\n    kind: activity\n    subject: face-collection\n    severity: critical\n    reason: \"TODO: why this gap is accepted for now\"\n    expires: 2026-04-01\n",
        "  - rule: GDPR-ART6-NO-LAWFUL-BASIS\n    kind: activity\n    subject: face-collection\n    severity: critical\n    reason: \"Legal review under way (ticket 42)\"\n    expires: 2026-09-30\n",
    );
    // Designate an EU representative: the Art. 27 gap is fixed.
    ws.edit(
        "flows/organisation.flow.yaml",
        "  eu_representative: null",
        "  eu_representative: {name: Rep SAS, country: \"FR\"}\n  # was:",
    );
    let (code, model) = ws.check_json();
    assert_eq!(code, Some(0), "fixing a gap adds none");
    let stale = model["baseline"]["stale"].as_array().expect("stale");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0]["rule"], "GDPR-ART27-NO-EU-REPRESENTATIVE");
    assert_eq!(stale[0]["kind"], "controller");
    assert_eq!(stale[0]["subject"], "lumaface");
    assert_eq!(stale[0]["location"]["file"], "b.yaml");
    assert!(open_gaps(&model).is_empty());
    let t = stdout(&ws.run(&["check", "flows", "--baseline", "b.yaml"]));
    assert!(
        t.contains(
            "  stale    GDPR-ART27-NO-EU-REPRESENTATIVE on controller `lumaface` at b.yaml:"
        ),
        "{t}"
    );

    // Rerun: the stale entry goes, the edited one keeps its reason and date.
    let out = ws.run(&["baseline", "flows", "--out", "b.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("(0 added, "), "{}", stdout(&out));
    assert!(stdout(&out).contains(", 1 removed)"), "{}", stdout(&out));
    let doc = parse_yaml(&ws.path("b.yaml"));
    assert!(
        !entries(&doc)
            .iter()
            .any(|e| e["rule"] == "GDPR-ART27-NO-EU-REPRESENTATIVE")
    );
    let kept = entries(&doc)
        .iter()
        .find(|e| e["rule"] == "GDPR-ART6-NO-LAWFUL-BASIS" && e["subject"] == "face-collection")
        .expect("kept");
    assert_eq!(kept["reason"], "Legal review under way (ticket 42)");
    assert_eq!(kept["expires"], "2026-09-30");
    assert_eq!(doc["created"], "2026-01-01");
    let (code, model) = ws.check_json();
    assert_eq!(code, Some(0));
    assert_eq!(model["baseline"]["stale"], serde_json::json!([]));
}

#[test]
fn an_expired_entry_no_longer_hides_its_gap() {
    let ws = Workspace::new("expired");
    ws.baseline();
    ws.edit(
        "b.yaml",
        "  - rule: GDPR-ART6-NO-LAWFUL-BASIS\n    kind: activity\n    subject: face-collection\n    severity: critical\n    reason: \"TODO: why this gap is accepted for now\"\n    expires: 2026-04-01\n",
        // The report date is 2026-01-01: an entry expiring that day has expired.
        "  - rule: GDPR-ART6-NO-LAWFUL-BASIS\n    kind: activity\n    subject: face-collection\n    severity: critical\n    reason: \"TODO: why this gap is accepted for now\"\n    expires: 2026-01-01\n",
    );
    let (code, model) = ws.check_json();
    assert_eq!(code, Some(1), "the gap counts again");
    assert_eq!(
        open_gaps(&model),
        [(
            "GDPR-ART6-NO-LAWFUL-BASIS".to_string(),
            "activity".to_string(),
            "face-collection".to_string()
        )]
    );
    assert_eq!(model["summary"]["gaps"]["critical"], 1);
    let expired = model["baseline"]["expired"].as_array().expect("expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["subject"], "face-collection");
    assert_eq!(expired[0]["expires"], "2026-01-01");
    assert_eq!(model["baseline"]["stale"], serde_json::json!([]));
    let t = stdout(&ws.run(&["check", "flows", "--baseline", "b.yaml"]));
    assert!(t.starts_with("critical (1)\n"), "{t}");
    assert!(
        t.contains("  EXPIRED  GDPR-ART6-NO-LAWFUL-BASIS on activity `face-collection` (expired 2026-01-01) at b.yaml:"),
        "{t}"
    );

    // Rerunning the baseline does not renew it.
    ws.baseline();
    let (code, _) = ws.check_json();
    assert_eq!(code, Some(1), "an expired entry stays expired");
}

#[test]
fn moving_lines_does_not_change_matching() {
    let ws = Workspace::new("lines");
    ws.baseline();
    let (_, before) = ws.check_json();
    let mut files: Vec<PathBuf> = std::fs::read_dir(ws.path("flows"))
        .expect("flows")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".flow.yaml"))
        .collect();
    files.sort();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("flow file");
        std::fs::write(f, format!("# moved\n# down\n# by\n# five\n# lines\n{text}"))
            .expect("write");
    }
    let (code, after) = ws.check_json();
    assert_eq!(code, Some(0), "every gap still matches its entry");
    assert_eq!(
        after["summary"]["baselined"],
        before["summary"]["baselined"]
    );
    assert_eq!(after["baseline"]["stale"], serde_json::json!([]));
    let line = |m: &Value| {
        m["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["rule"] == "GDPR-ART6-NO-LAWFUL-BASIS")
            .and_then(|r| r["location"]["line"].as_u64())
            .expect("line")
    };
    assert_eq!(line(&after), line(&before) + 5, "the lines did move");
}

#[test]
fn a_malformed_baseline_is_exit_2_with_its_position() {
    let ws = Workspace::new("malformed");
    ws.baseline();
    // A wrong kind (the first entry's), and an unknown key.
    let text = ws.read("b.yaml");
    let kind_line = text
        .lines()
        .position(|l| l.starts_with("    kind: "))
        .expect("a kind")
        + 1;
    ws.write(
        "b.yaml",
        &text
            .replacen("    kind: system\n", "    kind: sytem\n", 1)
            .replacen(
                "    severity: high\n",
                "    severity: high\n    line: 18\n",
                1,
            ),
    );
    let out = ws.run(&["check", "flows", "--baseline", "b.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing evaluated: {}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("error[E022]"), "{err}");
    assert!(err.contains(&format!("--> b.yaml:{kind_line}:11")), "{err}");
    assert!(err.contains("did you mean `system`?"), "{err}");
    assert!(err.contains("error[E021]: unknown key `line`"), "{err}");

    // YAML syntax, a wrong version, a repeated entry, a missing file: all exit 2.
    ws.write("s.yaml", "flowaudit_baseline: 1\nentries:\n  - rule: [A\n");
    let out = ws.run(&["check", "flows", "--baseline", "s.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("error[E010]"), "{}", stderr(&out));
    assert!(stderr(&out).contains("--> s.yaml:"), "{}", stderr(&out));

    ws.write("v.yaml", "flowaudit_baseline: 2\nentries: []\n");
    let out = ws.run(&["report", "flows", "--baseline", "v.yaml", "--out", "rep"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--> v.yaml:1:21"), "{}", stderr(&out));
    assert!(!ws.path("rep").exists(), "nothing written");

    let entry = "  - {rule: GDPR-ART6-NO-LAWFUL-BASIS, kind: activity, subject: face-collection, reason: r, expires: 2027-01-01}\n";
    ws.write(
        "r.yaml",
        &format!("flowaudit_baseline: 1\nentries:\n{entry}{entry}"),
    );
    let out = ws.run(&["check", "flows", "--baseline", "r.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--> r.yaml:4:"), "{}", stderr(&out));

    let out = ws.run(&["check", "flows", "--baseline", "missing.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("error[E001]"), "{}", stderr(&out));

    // `baseline --out` onto a file that is not a baseline: exit 2, the file left as it was.
    ws.write("notes.yaml", "notes: keep me\n");
    let out = ws.run(&["baseline", "flows", "--out", "notes.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(ws.read("notes.yaml"), "notes: keep me\n");
}

#[test]
fn the_config_file_names_the_baseline() {
    let ws = Workspace::new("config");
    let out = ws.run(&["baseline", "flows"]);
    assert_eq!(out.status.code(), Some(2), "no --out and no config");
    assert!(stderr(&out).contains("--out FILE"), "{}", stderr(&out));
    ws.write(".flowaudit.yaml", "roots: [flows]\nbaseline: b.yaml\n");
    let out = ws.run(&["baseline"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("wrote b.yaml: "),
        "{}",
        stdout(&out)
    );
    let out = ws.run(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("baselined"), "{}", stdout(&out));
    let out = ws.run(&["--no-config", "check", "flows"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "without the config, no baseline"
    );
}
