//! `check --format html`: golden files for the bundled examples, hostile text rendered inert,
//! and — when Chromium is installed — a headless render of each report that must log no console
//! message and make no network request at all.
//!
//! `FLOWAUDIT_BLESS=1 cargo test --test html` rewrites the golden files.
//! `FLOWAUDIT_SCREENSHOTS=<dir>` keeps the Chromium screenshots there (else they are written to a
//! temporary directory and removed).

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;

const EXAMPLES: [&str; 3] = ["robot-vacuum", "face-search", "robot-vacuum-remediated"];
const CHROMIUM: &str = "/usr/bin/chromium";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `flowaudit check --format html` from the crate root and returns the page.
fn render(args: &[&str]) -> String {
    let out = Command::cargo_bin("flowaudit")
        .expect("binary built")
        .current_dir(root())
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env("NO_COLOR", "1")
        .args(["check", "--format", "html"])
        .args(args)
        .output()
        .expect("runs");
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowaudit-html-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes straight to the process's stderr, past the test harness's capture, so that a skipped
/// check is visible in `cargo test` output.
fn notice(msg: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{msg}");
}

#[test]
fn golden_files_for_the_examples() {
    let bless = std::env::var_os("FLOWAUDIT_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for name in EXAMPLES {
        let page = render(&[&format!("examples/{name}")]);
        let golden = root().join(format!("tests/golden/{name}.html"));
        if bless {
            std::fs::create_dir_all(golden.parent().expect("dir")).expect("golden dir");
            std::fs::write(&golden, &page).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{}: {e}; run with FLOWAUDIT_BLESS=1", golden.display()));
        if want != page {
            let line = want
                .lines()
                .zip(page.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| want.lines().count().min(page.lines().count()));
            stale.push(format!(
                "{name}: differs from line {}\n  want: {}\n  got:  {}",
                line + 1,
                want.lines().nth(line).unwrap_or("<end>"),
                page.lines().nth(line).unwrap_or("<end>")
            ));
        }
        // The same workspace gives the same bytes.
        assert_eq!(page, render(&[&format!("examples/{name}")]));
    }
    assert!(
        stale.is_empty(),
        "{}\nif the change is intended, run FLOWAUDIT_BLESS=1 cargo test --test html",
        stale.join("\n")
    );
}

#[test]
fn the_reports_show_what_the_issue_asks_for() {
    let page = render(&["examples/robot-vacuum"]);
    for needle in [
        "<html lang=\"en\">",
        "Blocked",
        "Gaps by severity",
        "Results by status",
        "Checkpoint matrix",
        "Findings by article",
        "Facts to supply",
        "DPIA screening",
        "Transfers",
        "Waivers",
        "Statutory fine ceilings (Art. 83)",
        "Penalty payments on orders",
        "EU AI Act",
        "role=\"img\"",
        "aria-label=\"Data-flow diagram",
        "crowd-annotation</text>",
        "5 rules · critical</text>",
        "examples/robot-vacuum/flows.flow.yaml:58",
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
        "EUR 46,000,000",
    ] {
        assert!(page.contains(needle), "missing {needle:?}");
    }
    assert_eq!(page.matches("<h1").count(), 1);
    // One self-contained file: no scripts, nothing loaded from elsewhere.
    let lower = page.to_ascii_lowercase();
    for banned in ["<script", "<link", "<img", "<iframe", "@import", " src="] {
        assert!(!lower.contains(banned), "contains {banned:?}");
    }
    // `url(` only for the diagram's own arrowheads.
    assert_eq!(
        lower.matches("url(").count(),
        lower.matches("url(#dfd-arrow-").count()
    );
    let remediated = render(&["examples/robot-vacuum-remediated"]);
    assert!(remediated.contains("Ready for launch at threshold “high”"));
    let face = render(&["examples/face-search"]);
    assert!(face.contains("Prohibited AI practice"));
    assert!(face.contains("EUR 110,800,000"));
    assert!(face.contains("dpf_certified"));
}

// --- Hostile text ------------------------------------------------------------------------------

const HOSTILE_WORKSPACE: &str = r#"flowaudit: 1
controller: {id: acme, name: "<script>alert(1)</script> Acme | *bold* `code`", country: "DE", eea_establishment: true}
parties:
  - id: vendor
    name: "\"><img src=x onerror=alert(1)> [x](javascript:alert(1))"
    role: processor
    country: "US"
    contract: {type: dpa, evidence: "<script>alert(2)</script>.pdf"}
    transfer: {mechanism: scc}
  - {id: other, name: "'><svg onload=alert(1)>", role: processor, country: "FR"}
systems:
  - {id: app, name: "App <b>bold</b> & \"quoted\" 'single' | pipe *star* `tick`"}
data_subjects:
  - {id: users, name: "<script>alert(3)</script>", category: customer, countries: ["DE"]}
activities:
  - id: selling
    name: "[click](javascript:alert(1)) <iframe src=javascript:alert(1)>"
    purpose: "<style>body{display:none}</style><a href=\"javascript:alert(1)\">x</a>"
    legal_basis: consent
flows:
  - {id: to-vendor, activity: selling, from: users, to: vendor, data: [user.content.image]}
  - {id: to-other, activity: selling, from: users, to: other, data: [user.content.image]}
  - {id: to-vendor-again, activity: selling, from: users, to: vendor, data: [user.content.image]}
  - {id: in-app, activity: selling, from: users, to: app, data: [user.name]}
waivers:
  - rule: HOSTILE-RULE
    subject: to-vendor
    reason: "<script>alert(4)</script> \"><img src=x onerror=alert(1)> | * ` [x](javascript:alert(1))"
    approved_by: "<b onmouseover=alert(1)>DPO</b>"
    expires: "2025-01-01"
  - rule: GDPR-ART6-NO-LAWFUL-BASIS
    subject: selling
    reason: "'><svg/onload=alert(1)> ** __ ~~ | --- [x](javascript:alert(1))"
    approved_by: "\"><script>alert(5)</script>"
    expires: "2030-01-01"
  - rule: HOSTILE-RULE
    subject: in-app
    reason: "javascript:alert(1)"
    approved_by: "`rm -rf` | *x*"
    expires: "2030-01-01"
  - rule: HOSTILE-RULE
    subject: to-vendor-again
    reason: "<script>alert(11)</script> accepted | *until* `later`"
    approved_by: "<i>DPO</i> & co"
    expires: "2030-06-30"
"#;

const HOSTILE_RULE: &str = r#"id: HOSTILE-RULE
title: "<script>alert(6)</script> Vendors | *sign* `an` NDA"
articles: ["Art. 32(4)"]
severity: high
subject: flow
when: flow.media and flow.recipient
require: flow.recipient.contract.type in ['nda']
message: "<img src=x onerror=alert(7)> {{ flow.recipient }} receives images on {{ flow }} [x](javascript:alert(1))"
remediation: "<script>alert(8)</script> Sign our NDA. [x](javascript:alert(1))"
references:
  - title: "<script>alert(9)</script> evil link"
    url: "https://example.com/x\"onmouseover=\"alert(1)"
  - title: "an https link from a rule file"
    url: "https://example.com/\"><script>alert(10)</script>"
"#;

fn hostile_workspace() -> PathBuf {
    let dir = temp_dir("hostile");
    std::fs::create_dir_all(dir.join("rules")).expect("rules dir");
    std::fs::write(dir.join("workspace.flow.yaml"), HOSTILE_WORKSPACE).expect("write");
    std::fs::write(dir.join("rules/HOSTILE-RULE.yaml"), HOSTILE_RULE).expect("write");
    dir
}

/// A start tag: its name and attributes (values as written, entities not decoded).
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

/// The start tags of a document, read the way a browser tokenizer does for this simple markup:
/// text holds no raw `<` once escaped, so every `<` starts a tag, a comment or a doctype.
fn start_tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i += html[i..].find("-->").map_or(b.len() - i, |e| e + 3);
            continue;
        }
        if b.get(i + 1).is_some_and(|c| *c == b'!' || *c == b'/') {
            i += html[i..].find('>').map_or(b.len() - i, |e| e + 1);
            continue;
        }
        i += 1;
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                i += 1;
                break;
            }
            let a = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !b"=>/".contains(&b[i]) {
                i += 1;
            }
            let attr = html[a..i].to_ascii_lowercase();
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let q = b[i];
                    let v = i + 1;
                    i = v;
                    while i < b.len() && b[i] != q {
                        i += 1;
                    }
                    value = html[v..i.min(b.len())].to_string();
                    i += 1;
                } else {
                    let v = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = html[v..i].to_string();
                }
            }
            attrs.push((attr, value));
        }
        if name == "style" {
            // Raw text up to the end tag.
            i += html[i..].find("</style>").unwrap_or(b.len() - i);
        }
        tags.push(Tag { name, attrs });
    }
    tags
}

const ALLOWED_TAGS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "nav",
    "main",
    "section",
    "article",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "div",
    "span",
    "code",
    "a",
    "br",
    "ol",
    "ul",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "svg",
    "desc",
    "defs",
    "marker",
    "g",
    "path",
    "rect",
    "line",
    "text",
];

/// Asserts a page holds only the markup the template writes: known tags, no event handlers,
/// no inline styles, links only to anchors and `http(s)` addresses, nothing `javascript:`.
fn assert_inert(page: &str) {
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a <script> tag");
    assert_eq!(lower.matches("<style").count(), 1, "one <style>, in <head>");
    for tag in start_tags(page) {
        assert!(
            ALLOWED_TAGS.contains(&tag.name.as_str()),
            "unexpected <{}> {:?}",
            tag.name,
            tag.attrs
        );
        for (attr, value) in &tag.attrs {
            assert!(
                !attr.starts_with("on"),
                "event handler {attr}={value:?} on <{}>",
                tag.name
            );
            assert!(attr != "style" && attr != "src", "{attr} on <{}>", tag.name);
            let v = value.to_ascii_lowercase();
            assert!(!v.contains("javascript:"), "{attr}={value:?}");
            if attr == "href" {
                assert!(
                    v.starts_with('#') || v.starts_with("https://") || v.starts_with("http://"),
                    "href={value:?}"
                );
            }
        }
    }
}

#[test]
fn hostile_text_renders_inert() {
    let dir = hostile_workspace();
    let ws = dir.to_string_lossy().to_string();
    let rules = dir.join("rules").to_string_lossy().to_string();
    let page = render(&[&ws, "--rules", &rules]);
    assert_inert(&page);
    // The hostile text is there, as text.
    for shown in [
        "&lt;script&gt;alert(1)&lt;/script&gt; Acme | *bold* `code`",
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; [x](javascript:alert(1))",
        "&lt;script&gt;alert(4)&lt;/script&gt;",
        "&lt;b onmouseover=alert(1)&gt;DPO&lt;/b&gt;",
        "&quot;&gt;&lt;script&gt;alert(5)&lt;/script&gt;",
        "&lt;i&gt;DPO&lt;/i&gt; &amp; co",
        "&lt;script&gt;alert(6)&lt;/script&gt; Vendors",
        "&lt;img src=x onerror=alert(7)&gt;",
        "&lt;script&gt;alert(8)&lt;/script&gt; Sign our NDA.",
        "[click](javascript:alert(1)) &lt;iframe src=javascript:alert(1)&gt;",
        "&#39;&gt;&lt;svg onload=alert(1)&gt;",
    ] {
        assert!(page.contains(shown), "missing {shown:?}");
    }
    // A rule file's references are text, not links.
    assert!(!page.contains("href=\"https://example.com"));
    assert!(page.contains("https://example.com/&quot;&gt;&lt;script&gt;alert(10)"));
    // The waiver register shows every state.
    assert!(page.contains("expired: the gap stands"));
    assert!(page.contains("unmatched: no gap of this rule"));
    assert!(page.contains("<th scope=\"row\">applied</th>"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_inertness_check_can_fail() {
    let bad = [
        "<p>x</p><script>alert(1)</script>",
        "<p><img src=x onerror=alert(1)></p>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<p style=\"x\">y</p>",
        "<iframe></iframe>",
        "<b onmouseover='alert(1)'>x</b>",
    ];
    for page in bad {
        let full = format!("<html><head><style>p {{}}</style></head><body>{page}</body></html>");
        assert!(
            std::panic::catch_unwind(|| assert_inert(&full)).is_err(),
            "not caught: {page}"
        );
    }
}

// --- Headless Chromium ---------------------------------------------------------------------------

/// A proxy that answers nothing: every connection Chromium opens through it is recorded.
struct Trap {
    port: u16,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Trap {
    fn open() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut buf = [0u8; 512];
                        let n = conn.read(&mut buf).unwrap_or(0);
                        let text = String::from_utf8_lossy(&buf[..n]);
                        let line = text.lines().next().unwrap_or("(connection, no request)");
                        h.lock().expect("lock").push(line.to_string());
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(e) => h.lock().expect("lock").push(format!("accept error: {e}")),
                }
            }
        });
        Trap {
            port,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    fn close(mut self) -> Vec<String> {
        std::thread::sleep(Duration::from_millis(200));
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.hits.lock().expect("lock").clone()
    }
}

/// What one headless render saw.
struct Seen {
    requests: Vec<String>,
    console: Vec<String>,
    screenshot: u64,
}

/// Renders a page file to a PNG screenshot in headless Chromium, with every network request
/// sent to a [`Trap`] and the browser's log on stderr.
fn chromium(page: &Path, png: &Path, width: u32, height: u32) -> Seen {
    let trap = Trap::open();
    let profile = png.with_extension("profile");
    let _ = std::fs::remove_dir_all(&profile);
    let url = format!("file://{}", page.display());
    let mut child = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // Chromium's own calls home, which --disable-background-networking leaves on.
            "--disable-features=NetworkTimeServiceQuerying,AimEligibilityService,\
             AimServerEligibilityEnabled,AimEnabled,PreconnectToSearch,PreconnectFromKeyedService",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--proxy-server=127.0.0.1:{}", trap.port))
        // Everything goes to the trap, loopback included — except the browser's own sign-in
        // probe (ListAccounts), which no flag turns off: it is sent nowhere instead.
        .arg("--proxy-bypass-list=accounts.google.com;<-loopback>")
        .arg("--host-resolver-rules=MAP accounts.google.com ~NOTFOUND")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = reader.join().unwrap_or_default();
    let requests = trap.close();
    let _ = std::fs::remove_dir_all(&profile);
    let console = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    Seen {
        requests,
        console,
        screenshot: std::fs::metadata(png).map(|m| m.len()).unwrap_or(0),
    }
}

fn chromium_present(test: &str) -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    notice(&format!(
        "SKIPPED {test}: {CHROMIUM} not found (apt-get install chromium); the HTML reports were \
         not rendered in a browser"
    ));
    false
}

fn screenshot_dir() -> (PathBuf, bool) {
    match std::env::var_os("FLOWAUDIT_SCREENSHOTS") {
        Some(d) => {
            let d = PathBuf::from(d);
            std::fs::create_dir_all(&d).expect("screenshot dir");
            (std::fs::canonicalize(&d).expect("dir"), true)
        }
        None => (temp_dir("chromium"), false),
    }
}

#[test]
fn chromium_renders_the_reports_offline_and_without_console_messages() {
    if !chromium_present("chromium_renders_the_reports_offline_and_without_console_messages") {
        return;
    }
    let (dir, keep) = screenshot_dir();
    let mut problems = Vec::new();
    let hostile = hostile_workspace();
    let mut pages: Vec<(String, String)> = EXAMPLES
        .iter()
        .map(|name| (name.to_string(), render(&[&format!("examples/{name}")])))
        .collect();
    pages.push((
        "hostile".into(),
        render(&[
            &hostile.to_string_lossy(),
            "--rules",
            &hostile.join("rules").to_string_lossy(),
        ]),
    ));
    let _ = std::fs::remove_dir_all(&hostile);
    for (name, page) in &pages {
        let file = dir.join(format!("{name}.html"));
        std::fs::write(&file, page).expect("write page");
        for (width, height) in [(1280, 4000), (390, 2400)] {
            let png = dir.join(format!("{name}-{width}.png"));
            let seen = chromium(&file, &png, width, height);
            if !seen.requests.is_empty() {
                problems.push(format!(
                    "{name} at {width}px: network requests {:?}",
                    seen.requests
                ));
            }
            if !seen.console.is_empty() {
                problems.push(format!("{name} at {width}px: console {:?}", seen.console));
            }
            if seen.screenshot < 10_000 {
                problems.push(format!(
                    "{name} at {width}px: screenshot of {} bytes",
                    seen.screenshot
                ));
            }
        }
    }
    if keep {
        notice(&format!("screenshots in {}", dir.display()));
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_chromium_check_catches_requests_and_console_messages() {
    if !chromium_present("the_chromium_check_catches_requests_and_console_messages") {
        return;
    }
    let dir = temp_dir("chromium-canary");
    let file = dir.join("bad.html");
    std::fs::write(
        &file,
        "<!doctype html><html lang=\"en\"><title>bad</title><h1>bad</h1>\
         <img src=\"http://example.com/x.png\" alt=\"\">\
         <script>console.error('deliberate console error')</script></html>",
    )
    .expect("write");
    let seen = chromium(&file, &dir.join("bad.png"), 800, 600);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        seen.requests
            .iter()
            .any(|r| r.contains("example.com/x.png")),
        "the image request was not caught: {:?}",
        seen.requests
    );
    assert!(
        seen.console
            .iter()
            .any(|l| l.contains("deliberate console error")),
        "the console message was not caught: {:?}",
        seen.console
    );
}
