#!/usr/bin/env bash
# The pre-commit hooks of .pre-commit-hooks.yaml, tested for real: pre-commit from PyPI in a fresh
# virtualenv, a throw-away git repository whose .pre-commit-config.yaml points at THIS repository as
# a local path with `rev:` its HEAD commit (so what is tested is what is committed: commit first),
# and real `git commit`s:
#   - a commit of the remediated robot-vacuum workspace passes (the first run builds the hook with
#     `cargo install`, in release mode: a few minutes on 2 cores);
#   - a commit that opens a high gap is blocked, and the output names the rule;
#   - a commit touching no flow file does not run the hook (the committed workspace has a gap then,
#     so a run would have failed), one touching a `.flow.json` file does;
#   - the flowaudit-rules hook passes a good rule directory and blocks a failing self-test.
# Prints the hook's wall time on the first run (build included) and on a second run.
# Fails loudly on any real failure; skips (exit 0) only when PyPI cannot be reached.
# Run from CI by .ci/run (switch: FLOWAUDIT_PRECOMMIT_TEST=0 turns it off).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'precommit.sh: %s\n' "$*"; }
die() {
  printf '\nprecommit.sh: FAILED: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

for tool in git python3 cargo; do
  command -v "$tool" >/dev/null || die "\`$tool\` is not on PATH (the hook is built with the system's cargo)"
done

# What is tested: the HEAD commit of this repository, which must hold the hooks file.
rev=$(git -C "$root" rev-parse --verify -q HEAD) \
  || die "$root is not a git repository with a commit: the test installs the hooks from HEAD"
git -C "$root" cat-file -e "$rev:.pre-commit-hooks.yaml" 2>/dev/null \
  || die ".pre-commit-hooks.yaml is not in HEAD ($rev): commit it first (the test installs what is committed)"
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
  say "note: the work tree has uncommitted changes; this tests the HEAD commit $rev, without them"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flowaudit-precommit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/logs"

# ---------------------------------------------------------------------------------------------
# pre-commit from PyPI, in a fresh virtualenv.
python3 -m venv "$tmp/venv" || die "python3 -m venv failed"
if ! "$tmp/venv/bin/pip" install --disable-pip-version-check --quiet pre-commit >"$tmp/logs/pip.log" 2>&1; then
  # Only an unreachable index is a reason to skip: ask it directly, without local wheel directories.
  if ! PIP_FIND_LINKS='' "$tmp/venv/bin/pip" index versions pre-commit --disable-pip-version-check \
    --timeout 30 --retries 1 >"$tmp/logs/pip-probe.log" 2>&1; then
    cat "$tmp/logs/pip.log" >&2
    printf '\nprecommit.sh: SKIPPED: PyPI cannot be reached, so pre-commit cannot be installed; the pre-commit hooks were NOT tested\n' >&2
    exit 0
  fi
  cat "$tmp/logs/pip.log" >&2
  die "pip install pre-commit failed although PyPI answers"
fi
pre_commit="$tmp/venv/bin/pre-commit"
say "$("$pre_commit" --version), testing the hooks of $root at $rev"

# Git for the throw-away repository only: no global hooks path, signing or templates of the user.
export GIT_CONFIG_GLOBAL="$tmp/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.name "flowaudit test"
git config --global user.email "flowaudit-test@example.invalid"
git config --global commit.gpgsign false
git config --global init.defaultBranch main
git config --global --add safe.directory "$root"
# pre-commit's own cache (the cloned hook repository and the built hook) starts empty.
export PRE_COMMIT_HOME="$tmp/pre-commit-home"
unset PRE_COMMIT_ALLOW_NO_CONFIG SKIP || true

repo="$tmp/repo"
git init -q "$repo"
cd "$repo"
{ git -C "$root" archive "$rev" examples/robot-vacuum-remediated | tar -x -C "$repo"; } \
  || die "could not copy examples/robot-vacuum-remediated from HEAD"
printf '# A product repository with personal-data flow files\n' >README.md
cat >.pre-commit-config.yaml <<EOF
repos:
  - repo: $root
    rev: $rev
    hooks:
      - id: flowaudit
      - id: flowaudit-rules
EOF
"$pre_commit" install >"$tmp/logs/install.log" 2>&1 || {
  cat "$tmp/logs/install.log" >&2
  die "pre-commit install failed"
}

passed=0
ok() {
  passed=$((passed + 1))
  printf 'ok    %s\n' "$*"
}
# commit NAME [git commit args...]: commits what is staged; sets $rc and $log.
commit() {
  local name=$1
  shift
  log="$tmp/logs/$name.log"
  if git commit -q -m "$name" "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
}
fail_with_log() {
  printf '\n--- output of `git commit` (%s) ---\n' "$(basename "$log")" >&2
  cat "$log" >&2
  if [ -f "$PRE_COMMIT_HOME/pre-commit.log" ]; then
    printf '\n--- %s ---\n' "$PRE_COMMIT_HOME/pre-commit.log" >&2
    cat "$PRE_COMMIT_HOME/pre-commit.log" >&2
  fi
  die "$*"
}
expect_in_log() { grep -Eq -- "$1" "$log" || fail_with_log "$2: the output has no line matching /$1/"; }
hook_passed='^flowaudit check\.+Passed'
hook_failed='^flowaudit check\.+Failed'
hook_skipped='^flowaudit check\.+\(no files to check\)Skipped'
rules_passed='^flowaudit rules test\.+Passed'
rules_failed='^flowaudit rules test\.+Failed'
rules_skipped='^flowaudit rules test\.+\(no files to check\)Skipped'

# ---------------------------------------------------------------------------------------------
# 1. The remediated example: no gap at or above high, so the commit goes through. The first run
#    clones this repository at $rev and builds the hook with `cargo install`.
git add -A
t0=$(now_ms)
commit clean-workspace
first_run=$(seconds_since "$t0")
[ "$rc" -eq 0 ] || fail_with_log "the commit of the remediated example was blocked (exit $rc)"
expect_in_log "$hook_passed" "clean commit"
expect_in_log "$rules_skipped" "clean commit"
ok "a commit of examples/robot-vacuum-remediated passes (first run, build included: ${first_run} s)"

# 2. A second run of the hook on the same files, with the hook already built.
log="$tmp/logs/second-run.log"
t0=$(now_ms)
if "$pre_commit" run flowaudit --all-files --verbose >"$log" 2>&1; then rc=0; else rc=$?; fi
second_run=$(seconds_since "$t0")
[ "$rc" -eq 0 ] || fail_with_log "pre-commit run flowaudit --all-files failed on the clean workspace (exit $rc)"
expect_in_log "$hook_passed" "second run"
hook_duration=$(sed -n 's/^- duration: //p' "$log" | head -1)
ok "a second run passes (${second_run} s wall, the hook itself ${hook_duration:-?})"

# 3. A gap: the frames leave the home unredacted (a high gap of IOT-IN-HOME-CAPTURE-HIGH-RISK).
flows=examples/robot-vacuum-remediated/flows.flow.yaml
sed -i '0,/redacted: true/s//redacted: false/' "$flows"
grep -q 'redacted: false' "$flows" || die "could not introduce the gap into $flows"
git add "$flows"
head_before=$(git rev-parse HEAD)
t0=$(now_ms)
commit gap
gap_run=$(seconds_since "$t0")
[ "$rc" -ne 0 ] || fail_with_log "a commit with a high gap went through"
[ "$(git rev-parse HEAD)" = "$head_before" ] || fail_with_log "a commit with a high gap was recorded"
expect_in_log "$hook_failed" "blocked commit"
expect_in_log 'IOT-IN-HOME-CAPTURE-HIGH-RISK' "blocked commit"
expect_in_log 'blocked: 1 gap at or above high' "blocked commit"
ok "a commit opening a high gap is blocked (exit $rc, ${gap_run} s) and names IOT-IN-HOME-CAPTURE-HIGH-RISK"

# 4. The gap goes in anyway (--no-verify). A commit touching no flow file must not run the hook:
#    had it run, the gap would have blocked it.
commit gap-no-verify --no-verify
[ "$rc" -eq 0 ] || fail_with_log "git commit --no-verify failed"
printf 'More text.\n' >>README.md
git add README.md
commit readme-only
[ "$rc" -eq 0 ] || fail_with_log "a commit touching no flow file was blocked (the hook ran?)"
expect_in_log "$hook_skipped" "commit without flow files"
ok "a commit touching no flow file skips the hook (the committed gap is not re-checked)"

# 5. A `.flow.json` file triggers the hook too, and the whole workspace is checked, not the file.
printf '{"flowaudit": 1}\n' >examples/robot-vacuum-remediated/extra.flow.json
git add examples/robot-vacuum-remediated/extra.flow.json
commit json-file
[ "$rc" -ne 0 ] || fail_with_log "a commit adding a .flow.json file while the workspace has a gap went through"
expect_in_log "$hook_failed" "commit of a .flow.json file"
expect_in_log 'IOT-IN-HOME-CAPTURE-HIGH-RISK' "commit of a .flow.json file"
ok "a commit of a .flow.json file runs the hook on the whole workspace (blocked by the gap in flows.flow.yaml)"

# 6. The fix, staged with the JSON file, goes through.
sed -i 's/redacted: false/redacted: true/' "$flows"
git add "$flows"
commit fix
[ "$rc" -eq 0 ] || fail_with_log "the commit fixing the gap was blocked (exit $rc)"
expect_in_log "$hook_passed" "fixing commit"
ok "the commit fixing the gap passes"

# 7. flowaudit-rules: a rule directory whose self-tests pass, then one whose self-test fails.
mkdir rules
cat >rules/ACME-CAMERA-VENDOR-NDA.yaml <<'EOF'
id: ACME-CAMERA-VENDOR-NDA
title: Vendors receiving camera images sign an NDA
articles: ["Art. 32(4)"]
severity: high
subject: flow
when: flow.media and flow.recipient
require: flow.recipient.contract.type in ['dpa', 'nda']
unknown: ["party.contract.type"]
message: "{{ flow.recipient }} receives camera images on {{ flow }} without an NDA or DPA"
remediation: Have the vendor sign our NDA before sending images.
tests:
  - name: vendor without contract
    expect: gap
    workspace:
      flowaudit: 1
      parties: [{id: v, role: processor, country: "DE", contract: {type: none}}]
      activities: [{id: a}]
      data_subjects: [{id: s}]
      flows: [{id: f, activity: a, from: s, to: v, data: [user.content.image]}]
  - name: vendor with NDA
    expect: pass
    workspace:
      flowaudit: 1
      parties: [{id: v, role: processor, country: "DE", contract: {type: nda}}]
      activities: [{id: a}]
      data_subjects: [{id: s}]
      flows: [{id: f, activity: a, from: s, to: v, data: [user.content.image]}]
EOF
git add rules
commit rules-ok
[ "$rc" -eq 0 ] || fail_with_log "a commit of a rule whose self-tests pass was blocked (exit $rc)"
expect_in_log "$rules_passed" "commit of a good rule"
expect_in_log "$hook_skipped" "commit of a good rule"
ok "flowaudit-rules: a commit of a rule whose self-tests pass goes through"

sed -i 's/expect: pass/expect: gap/' rules/ACME-CAMERA-VENDOR-NDA.yaml
git add rules
commit rules-failing
[ "$rc" -ne 0 ] || fail_with_log "a commit of a rule with a failing self-test went through"
expect_in_log "$rules_failed" "commit of a failing rule"
expect_in_log 'FAIL +ACME-CAMERA-VENDOR-NDA / vendor with NDA' "commit of a failing rule"
ok "flowaudit-rules: a commit of a rule with a failing self-test is blocked and names it"

echo
say "hook wall time on examples/robot-vacuum-remediated:"
say "  first run (clone + cargo install of the hook + check): ${first_run} s"
say "  second run (pre-commit run flowaudit --all-files):     ${second_run} s (hook ${hook_duration:-?})"
say "  blocked commit (git commit, hook already built):        ${gap_run} s"
say "$passed passed, 0 failed"
