#!/usr/bin/env bash
# Headless tests of the editor support for res (VS Code / TextMate, Vim, Emacs).
#
#   editors/test.sh                     run everything; exit 1 if anything failed
#   editors/test.sh --update-snapshots  rewrite the TextMate snapshots of scenarios/ and stdlib/
#
# On a fresh Debian machine, run as root, it installs what is missing: vim and emacs-nox with
# apt-get (only when absent), and the npm packages of editors/vscode with `npm ci`.
# The last line reads "editors: N passed, N failed" (", N skipped" when snapshots were stale).

set -uo pipefail

EDITORS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$EDITORS")
VSCODE="$EDITORS/vscode"
SNAPSHOTS="$VSCODE/tests/snapshots"

update=0
case "${1:-}" in
  "") ;;
  --update-snapshots) update=1 ;;
  *) echo "usage: editors/test.sh [--update-snapshots]" >&2; exit 2 ;;
esac

passed=0
failed=0
skipped=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ok() { passed=$((passed + 1)); echo "ok       $1"; }
skip() { skipped=$((skipped + 1)); echo "skipped  $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAILED   $1"
  if [ -n "${2:-}" ] && [ -s "$2" ]; then sed 's/^/    /' "$2"; fi
}
# run NAME COMMAND...: one test, its output shown only when it fails
run() {
  local name=$1
  shift
  if "$@" >"$work/out" 2>&1; then ok "$name"; else fail "$name" "$work/out"; fi
}

# ------------------------------------------------------------------------------------------------
# tools

missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v vim >/dev/null || missing+=(vim)
command -v emacs >/dev/null || missing+=(emacs-nox)
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} with apt-get"
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } \
      >"$work/apt" 2>&1; then
      tail -20 "$work/apt"
      echo "apt-get could not install ${missing[*]}"
    fi
  else
    echo "missing ${missing[*]}: install them (as root on Debian this script does it)"
  fi
fi

if [ ! -d "$VSCODE/node_modules" ] && command -v npm >/dev/null; then
  echo "npm ci in editors/vscode"
  if ! (cd "$VSCODE" && npm ci --no-audit --no-fund) >"$work/npm" 2>&1; then
    tail -20 "$work/npm"
  fi
fi

have() { command -v "$1" >/dev/null; }
tmtest="$VSCODE/node_modules/.bin/vscode-tmgrammar-test"
tmsnap="$VSCODE/node_modules/.bin/vscode-tmgrammar-snap"

# ------------------------------------------------------------------------------------------------
# keyword lists derived from grammar/res.pest

if have python3; then
  run "keywords: every grammar keyword in every highlighter (gen-keywords.py --check)" \
    python3 "$EDITORS/gen-keywords.py" --check
else
  fail "keywords: python3 is not installed"
fi

# ------------------------------------------------------------------------------------------------
# VS Code: manifest, scope assertions, snapshots

if have node; then
  run "vscode: manifest, language configuration and snippets" node "$VSCODE/tests/check-manifest.js"
  run "vscode: extension.js finds res on PATH and activates without it" \
    node "$VSCODE/tests/check-extension.js"
else
  fail "vscode: node is not installed"
fi

if [ -x "$tmtest" ]; then
  for t in "$VSCODE"/tests/*.test.res; do
    run "textmate: scope assertions in tests/$(basename "$t")" \
      bash -c 'cd "$1" && "$2" --config package.json "tests/$3"' _ "$VSCODE" "$tmtest" "$(basename "$t")"
  done
else
  fail "textmate: vscode-tmgrammar-test is not installed (npm ci in editors/vscode)"
fi

# The snapshots cover the repository's scenarios/*.res and stdlib/*.res. Those files change as
# the language grows, so a snapshot is compared only while the file is still the one it was
# taken from (a .snap holds the source lines, prefixed with ">"); a changed or new file is
# reported as skipped until `editors/test.sh --update-snapshots` is run.
same_source() { # same_source SNAP SOURCE
  python3 - "$1" "$2" <<'PY'
import sys
snap, src = (open(p, encoding="utf-8").read() for p in sys.argv[1:3])
lines = [l[1:] for l in snap.split("\n") if l.startswith(">")]
sys.exit(0 if lines == src.split("\n") else 1)
PY
}

if [ -x "$tmsnap" ] && have python3; then
  sources=()
  for dir in scenarios stdlib; do
    for f in "$ROOT/$dir"/*.res; do
      [ -f "$f" ] && sources+=("$dir/$(basename "$f")")
    done
  done
  if [ "$update" = 1 ]; then
    # drop snapshots whose source is gone
    for snap in "$SNAPSHOTS"/*/*.res.snap; do
      [ -f "$snap" ] || continue
      rel="${snap#"$SNAPSHOTS"/}"
      [ -f "$ROOT/${rel%.snap}" ] || { rm -f "$snap"; echo "removed snapshot $rel"; }
    done
  fi
  for rel in "${sources[@]}"; do
    snap="$SNAPSHOTS/$rel.snap"
    case_dir="$work/snap/$(dirname "$rel")"
    mkdir -p "$case_dir"
    cp "$ROOT/$rel" "$case_dir/"
    case_file="$case_dir/$(basename "$rel")"
    if [ "$update" = 1 ]; then
      if "$tmsnap" -s source.res -g "$VSCODE/syntaxes/res.tmLanguage.json" "$case_file" \
        >"$work/out" 2>&1; then
        mkdir -p "$(dirname "$snap")"
        cp "$case_file.snap" "$snap"
        ok "snapshot written: $rel"
      else
        fail "snapshot of $rel could not be written" "$work/out"
      fi
    elif [ ! -f "$snap" ]; then
      skip "snapshot: $rel is new (editors/test.sh --update-snapshots)"
    elif ! same_source "$snap" "$ROOT/$rel"; then
      skip "snapshot: $rel changed since its snapshot (editors/test.sh --update-snapshots)"
    else
      cp "$snap" "$case_file.snap"
      run "snapshot: $rel" "$tmsnap" -s source.res -g "$VSCODE/syntaxes/res.tmLanguage.json" "$case_file"
    fi
  done
  if [ ${#sources[@]} -eq 0 ]; then
    skip "snapshot: no scenarios/*.res or stdlib/*.res found"
  fi
else
  fail "textmate: vscode-tmgrammar-snap is not installed (npm ci in editors/vscode)"
fi

# ------------------------------------------------------------------------------------------------
# Vim

if have vim; then
  run "vim: syntax groups, indentation, filetype detection (vim/test/check.vim)" \
    bash -c 'cd "$1" && vim -Es -N -u NONE -i NONE -S editors/vim/test/check.vim </dev/null' _ "$ROOT"
else
  fail "vim: vim is not installed"
fi

# ------------------------------------------------------------------------------------------------
# Emacs

if have emacs; then
  run "emacs: font-lock faces and indentation (emacs/res-mode-tests.el)" \
    bash -c 'cd "$1" && emacs -batch -Q -l editors/emacs/res-mode.el -l editors/emacs/res-mode-tests.el -f ert-run-tests-batch-and-exit </dev/null' _ "$ROOT"
else
  fail "emacs: emacs is not installed"
fi

# ------------------------------------------------------------------------------------------------

summary="editors: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
# Under CI a skip is a failure: a stale or missing snapshot means highlighting went unchecked.
if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
  echo "editors: $skipped skipped under CI=true: run editors/test.sh --update-snapshots and review"
  exit 1
fi
[ "$failed" -eq 0 ]
