# Shared by the CLI tests: a scratch directory and assertions that count.
set -u
GPUREC="$1"
WORK=$(mktemp -d /tmp/gpurec_cli_XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
# expect_ok DESCRIPTION CMD...: the command must exit 0
expect_ok() {
  local what="$1"; shift
  if "$@" >"$WORK/out" 2>"$WORK/err"; then pass; else fail "$what (exit $?): $(head -c 400 "$WORK/err")"; fi
}
# expect_fail DESCRIPTION PATTERN CMD...: non-zero exit and PATTERN on stderr
expect_fail() {
  local what="$1" pattern="$2"; shift 2
  if "$@" >"$WORK/out" 2>"$WORK/err"; then fail "$what: succeeded"; return; fi
  if grep -q -- "$pattern" "$WORK/err"; then pass; else fail "$what: stderr lacks '$pattern': $(head -c 400 "$WORK/err")"; fi
}
check() { if eval "$2"; then pass; else fail "$1"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }
