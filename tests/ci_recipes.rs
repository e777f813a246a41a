//! The CI recipes of docs/ci.md, the pre-commit snippets (docs/ci.md, README.md) and
//! `.pre-commit-hooks.yaml`: every YAML block parses with the project's own YAML loader, has the
//! structure its tool needs, and every `flowaudit` command line in it is accepted by flowaudit's
//! command-line definition. (tests/precommit.sh runs the hooks for real.)

use std::path::Path;

use clap::Parser;
use flowaudit::cli::Cli;
use flowaudit::loading::yaml::{Limits, parse};
use serde_json::Value;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// The ```yaml blocks of a Markdown file: (line of the opening fence, text with the block's
/// indentation removed).
fn yaml_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match current.as_mut() {
            None => {
                if trimmed == "```yaml" {
                    current = Some((i + 1, line.len() - trimmed.len(), String::new()));
                }
            }
            Some((start, indent, text)) => {
                if trimmed == "```" {
                    blocks.push((*start, std::mem::take(text)));
                    current = None;
                } else {
                    text.push_str(line.get(*indent..).unwrap_or(line.trim_start()));
                    text.push('\n');
                }
            }
        }
    }
    assert!(current.is_none(), "a ```yaml block is not closed");
    blocks
}

/// Parses YAML with the project's loader; `first_line` is the file line of the text's first line.
fn parse_yaml(what: &str, src: &str, first_line: usize) -> Value {
    match parse(src, Limits::default()) {
        Ok(doc) => doc.value,
        Err(e) => panic!(
            "{what} does not parse: {} at line {}, column {} of the file\n{src}",
            e.message,
            e.range.start.line + first_line - 1,
            e.range.start.col
        ),
    }
}

/// Splits a shell command line into words: quotes removed, stopping at the first operator
/// (`||`, `&&`, `|`, `;`, a redirection).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in `{line}`");
    if in_word {
        words.push(word);
    }
    let end = words
        .iter()
        .position(|w| {
            matches!(w.as_str(), "||" | "&&" | "|" | ";" | ">" | ">>" | "<")
                || w.starts_with('>')
                || w.starts_with("2>")
        })
        .unwrap_or(words.len());
    words.truncate(end);
    words
}

/// The `flowaudit` command lines in a shell script (lines joined at a trailing backslash).
fn flowaudit_lines(script: &str) -> Vec<String> {
    script
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("flowaudit "))
        .map(str::to_string)
        .collect()
}

/// Parses a command line with flowaudit's command-line definition.
fn assert_valid_command(words: &[String], context: &str) -> Cli {
    assert_eq!(words.first().map(String::as_str), Some("flowaudit"));
    Cli::try_parse_from(words).unwrap_or_else(|e| {
        panic!(
            "{context}: `{}` is not a valid command:\n{e}",
            words.join(" ")
        )
    })
}

/// The value after `flag` in a command's words.
fn flag_value<'a>(words: &'a [String], flag: &str) -> Option<&'a str> {
    words
        .iter()
        .position(|w| w == flag)
        .and_then(|i| words.get(i + 1))
        .map(String::as_str)
}

fn str_of<'a>(v: &'a Value, key: &str, context: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{context}: `{key}` is missing or not a string"))
}

/// Checks every `flowaudit` line of a script: valid commands; report lines (`--output`) tolerate
/// exit 1 and nothing else. Returns (format, output file) of each report line and whether the
/// script's last command is a plain gate (`flowaudit check` whose exit code is not masked).
fn check_script(script: &str, context: &str) -> (Vec<(String, String)>, bool) {
    let mut outputs = Vec::new();
    let lines = flowaudit_lines(script);
    for line in &lines {
        let words = shell_words(line);
        assert_valid_command(&words, context);
        if let Some(out) = flag_value(&words, "--output") {
            let format = flag_value(&words, "--format").unwrap_or("text");
            assert!(
                line.ends_with("|| test $? -eq 1"),
                "{context}: `{line}` must tolerate exit 1 only (`|| test $? -eq 1`), so that the \
                 report is published and invalid input (exit 2) still fails"
            );
            outputs.push((format.to_string(), out.to_string()));
        }
    }
    let last = script
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let gate = last.starts_with("flowaudit check")
        && !last.contains("||")
        && !last.contains("--fail-on never")
        && !last.contains("--output");
    (outputs, gate)
}

fn check_github(v: &Value, context: &str) {
    let on = v.get("on").unwrap_or_else(|| panic!("{context}: no `on`"));
    assert!(
        on.get("pull_request").is_some() || on.get("push").is_some(),
        "{context}: `on` names neither push nor pull_request"
    );
    let jobs = v
        .get("jobs")
        .and_then(Value::as_object)
        .filter(|j| !j.is_empty())
        .unwrap_or_else(|| panic!("{context}: `jobs` is not a non-empty mapping"));
    let mut uploads = 0;
    for (name, job) in jobs {
        let ctx = format!("{context}, job `{name}`");
        str_of(job, "runs-on", &ctx);
        let steps = job
            .get("steps")
            .and_then(Value::as_array)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| panic!("{ctx}: `steps` is not a non-empty list"));
        let mut outputs: Vec<(String, String)> = Vec::new();
        let mut summary = false;
        let mut installs = false;
        let mut gate_last = false;
        for (i, step) in steps.iter().enumerate() {
            let sctx = format!("{ctx}, step {}", i + 1);
            let run = step.get("run").and_then(Value::as_str);
            let uses = step.get("uses").and_then(Value::as_str);
            assert!(
                run.is_some() != uses.is_some(),
                "{sctx}: a step has either `run` or `uses`"
            );
            if let Some(run) = run {
                if run.contains("cargo install") {
                    assert!(
                        run.contains("--locked") && run.contains("--git"),
                        "{sctx}: install with `cargo install --locked --git …`"
                    );
                    installs = true;
                }
                let (outs, gate) = check_script(run, &sctx);
                if run.contains("$GITHUB_STEP_SUMMARY") {
                    let md = outs
                        .iter()
                        .find(|(f, _)| f == "markdown")
                        .unwrap_or_else(|| {
                            panic!("{sctx}: the summary is not the Markdown report")
                        });
                    assert!(
                        run.contains(&format!("cat {} >> \"$GITHUB_STEP_SUMMARY\"", md.1)),
                        "{sctx}: the Markdown report is not appended to $GITHUB_STEP_SUMMARY"
                    );
                    summary = true;
                }
                outputs.extend(outs);
                gate_last = gate;
            }
            if let Some(uses) = uses {
                assert!(
                    uses.contains('@'),
                    "{sctx}: `{uses}` is not pinned to a version"
                );
                let with = step.get("with");
                if uses.starts_with("github/codeql-action/upload-sarif@") {
                    assert_eq!(uses, "github/codeql-action/upload-sarif@v3", "{sctx}");
                    let file = with
                        .map(|w| str_of(w, "sarif_file", &sctx))
                        .unwrap_or_else(|| panic!("{sctx}: upload-sarif without `with`"));
                    assert!(
                        outputs.iter().any(|(f, o)| f == "sarif" && o == file),
                        "{sctx}: no earlier step writes `{file}` with --format sarif"
                    );
                    let writes = |p: &Value| {
                        p.get("security-events").and_then(Value::as_str) == Some("write")
                    };
                    assert!(
                        job.get("permissions").is_some_and(writes)
                            || v.get("permissions").is_some_and(writes),
                        "{sctx}: upload-sarif needs `permissions: security-events: write`"
                    );
                    uploads += 1;
                }
                if uses.starts_with("marocchino/sticky-pull-request-comment@") {
                    let path = with
                        .map(|w| str_of(w, "path", &sctx))
                        .unwrap_or_else(|| panic!("{sctx}: sticky comment without `with`"));
                    assert!(
                        outputs.iter().any(|(f, o)| f == "markdown" && o == path),
                        "{sctx}: the comment posts `{path}`, which no earlier step writes as Markdown"
                    );
                    assert!(
                        str_of(step, "if", &sctx).contains("pull_request"),
                        "{sctx}: comment only on pull requests"
                    );
                }
                gate_last = false;
            }
        }
        assert!(installs, "{ctx}: no step installs flowaudit");
        assert!(
            summary,
            "{ctx}: no step writes the Markdown report to $GITHUB_STEP_SUMMARY"
        );
        assert!(
            gate_last,
            "{ctx}: the last step must be the gate, a plain `flowaudit check`"
        );
    }
    assert!(
        uploads > 0,
        "{context}: no step uses github/codeql-action/upload-sarif"
    );
}

fn check_gitlab(v: &Value, context: &str) {
    let top = v
        .as_object()
        .unwrap_or_else(|| panic!("{context}: not a mapping"));
    let jobs: Vec<_> = top
        .iter()
        .filter(|(_, job)| job.get("script").is_some())
        .collect();
    assert!(!jobs.is_empty(), "{context}: no job with a `script`");
    for (name, job) in jobs {
        let ctx = format!("{context}, job `{name}`");
        let lines = |key: &str| -> Vec<String> {
            match job.get(key) {
                None => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|l| {
                        l.as_str()
                            .unwrap_or_else(|| panic!("{ctx}: `{key}` holds a non-string"))
                            .to_string()
                    })
                    .collect(),
                Some(_) => panic!("{ctx}: `{key}` is not a list"),
            }
        };
        let script = lines("script");
        assert!(!script.is_empty(), "{ctx}: empty `script`");
        for line in lines("before_script") {
            if line.contains("cargo install") {
                assert!(
                    line.contains("--locked") && line.contains("--git"),
                    "{ctx}: install with `cargo install --locked --git …`"
                );
            }
        }
        let (outputs, gate) = check_script(&script.join("\n"), &ctx);
        assert!(
            gate,
            "{ctx}: the last script line must be the gate, a plain `flowaudit check`"
        );
        assert_eq!(
            job.get("allow_failure"),
            Some(&Value::Bool(false)),
            "{ctx}: `allow_failure: false` must be stated"
        );
        let artifacts = job
            .get("artifacts")
            .unwrap_or_else(|| panic!("{ctx}: no `artifacts`"));
        assert_eq!(
            artifacts.get("when").and_then(Value::as_str),
            Some("always"),
            "{ctx}: the reports of a failed job are the ones needed (`when: always`)"
        );
        let paths: Vec<&str> = artifacts
            .get("paths")
            .and_then(Value::as_array)
            .map(|p| p.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for format in ["markdown", "json"] {
            let out = outputs
                .iter()
                .find(|(f, _)| f == format)
                .unwrap_or_else(|| panic!("{ctx}: no {format} report written"));
            assert!(
                paths.contains(&out.1.as_str()),
                "{ctx}: the {format} report `{}` is not an artifact",
                out.1
            );
        }
    }
}

/// The hooks of `.pre-commit-hooks.yaml`, by id.
fn manifest() -> Vec<Value> {
    let v = parse_yaml(".pre-commit-hooks.yaml", &read(".pre-commit-hooks.yaml"), 1);
    v.as_array()
        .expect(".pre-commit-hooks.yaml is a list of hooks")
        .clone()
}

/// The words of a hook's command: its entry, then its args.
fn hook_command(entry: &str, args: &[Value]) -> Vec<String> {
    entry
        .split_whitespace()
        .map(str::to_string)
        .chain(
            args.iter()
                .map(|a| a.as_str().expect("hook args are strings").to_string()),
        )
        .collect()
}

fn check_precommit_config(v: &Value, context: &str) {
    let hooks = manifest();
    let repos = v
        .get("repos")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{context}: `repos` is not a list"));
    let mut used = 0;
    for repo in repos {
        str_of(repo, "repo", context);
        str_of(repo, "rev", context);
        for hook in repo
            .get("hooks")
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("{context}: a repo without `hooks`"))
        {
            let id = str_of(hook, "id", context);
            let def = hooks
                .iter()
                .find(|h| h.get("id").and_then(Value::as_str) == Some(id))
                .unwrap_or_else(|| {
                    panic!("{context}: hook `{id}` is not in .pre-commit-hooks.yaml")
                });
            let args = hook
                .get("args")
                .or_else(|| def.get("args"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let words = hook_command(str_of(def, "entry", id), &args);
            assert_valid_command(&words, &format!("{context}, hook `{id}`"));
            if let Some(files) = hook.get("files") {
                assert!(
                    files.is_string(),
                    "{context}: `files` of `{id}` is not a string"
                );
            }
            used += 1;
        }
    }
    assert!(used > 0, "{context}: no hook used");
}

enum Kind {
    GitHub,
    GitLab,
    PreCommit,
}

fn kind(v: &Value) -> Kind {
    if v.get("jobs").is_some() {
        Kind::GitHub
    } else if v.get("repos").is_some() {
        Kind::PreCommit
    } else {
        Kind::GitLab
    }
}

#[test]
fn every_yaml_block_of_docs_ci_md_parses_and_is_a_sound_recipe() {
    let doc = read("docs/ci.md");
    let blocks = yaml_blocks(&doc);
    let (mut github, mut gitlab, mut precommit) = (0, 0, 0);
    for (line, src) in &blocks {
        let context = format!("docs/ci.md, the ```yaml block at line {line}");
        let v = parse_yaml(&context, src, line + 1);
        match kind(&v) {
            Kind::GitHub => {
                check_github(&v, &context);
                github += 1;
            }
            Kind::GitLab => {
                check_gitlab(&v, &context);
                gitlab += 1;
            }
            Kind::PreCommit => {
                check_precommit_config(&v, &context);
                precommit += 1;
            }
        }
    }
    assert!(github >= 1, "docs/ci.md has no GitHub Actions workflow");
    assert!(gitlab >= 1, "docs/ci.md has no GitLab CI job");
    assert!(precommit >= 1, "docs/ci.md has no pre-commit configuration");
}

#[test]
fn the_readme_pre_commit_snippet_uses_the_shipped_hooks() {
    let readme = read("README.md");
    let configs: Vec<_> = yaml_blocks(&readme)
        .into_iter()
        .filter_map(|(line, src)| {
            let context = format!("README.md, the ```yaml block at line {line}");
            let v = parse_yaml(&context, &src, line + 1);
            v.get("repos").is_some().then_some((context, v))
        })
        .collect();
    assert!(
        !configs.is_empty(),
        "README.md shows no .pre-commit-config.yaml"
    );
    for (context, v) in configs {
        check_precommit_config(&v, &context);
    }
}

#[test]
fn pre_commit_hooks_yaml_declares_both_hooks() {
    let hooks = manifest();
    let ids: Vec<&str> = hooks
        .iter()
        .map(|h| str_of(h, "id", ".pre-commit-hooks.yaml"))
        .collect();
    assert_eq!(ids, ["flowaudit", "flowaudit-rules"]);
    for hook in &hooks {
        let id = str_of(hook, "id", "hook");
        for key in ["name", "entry", "language", "files"] {
            assert!(
                !str_of(hook, key, id).is_empty(),
                "hook `{id}`: `{key}` is empty"
            );
        }
        assert_eq!(str_of(hook, "language", id), "rust", "hook `{id}`");
        assert_eq!(
            hook.get("pass_filenames"),
            Some(&Value::Bool(false)),
            "hook `{id}`: the whole workspace is checked, file names are not passed"
        );
        let args = hook
            .get("args")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        assert_valid_command(
            &hook_command(str_of(hook, "entry", id), &args),
            &format!("hook `{id}`"),
        );
    }

    let check = &hooks[0];
    assert_eq!(str_of(check, "entry", "flowaudit"), "flowaudit check");
    assert_eq!(
        str_of(check, "files", "flowaudit"),
        r"\.flow\.(ya?ml|json)$"
    );
    assert!(check.get("args").is_none(), "flowaudit: no default args");

    let rules = &hooks[1];
    assert_eq!(
        str_of(rules, "entry", "flowaudit-rules"),
        "flowaudit rules test"
    );
    let dir = rules
        .get("args")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .expect("flowaudit-rules: the rules directory is the first of `args`");
    assert_eq!(dir, "rules");
    let files = str_of(rules, "files", "flowaudit-rules");
    assert_eq!(files, r"^rules/.*\.ya?ml$");
    assert!(
        files.starts_with(&format!("^{dir}/")),
        "flowaudit-rules: `files` must match the directory given in `args`"
    );
}

#[test]
fn shell_words_stop_at_operators_and_drop_quotes() {
    assert_eq!(
        shell_words(r#"flowaudit check --output "a b.md" || test $? -eq 1"#),
        ["flowaudit", "check", "--output", "a b.md"]
    );
    assert_eq!(
        shell_words("flowaudit check --format markdown >> \"$GITHUB_STEP_SUMMARY\""),
        ["flowaudit", "check", "--format", "markdown"]
    );
    let (outputs, gate) = check_script(
        "flowaudit check --format sarif --output x.sarif || test $? -eq 1\nflowaudit check\n",
        "test",
    );
    assert_eq!(outputs, [("sarif".to_string(), "x.sarif".to_string())]);
    assert!(gate);
    let (_, gate) = check_script("flowaudit check || true\n", "test");
    assert!(!gate, "a masked exit code is not a gate");
}
