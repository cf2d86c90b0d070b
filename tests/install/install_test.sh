#!/usr/bin/env bash
# make install into a throwaway DESTDIR: a stripped binary that runs, the kubectl plugin link,
# bash completion of subcommands and flags, and a man page with every subcommand.
# usage: install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail() { echo "install test: $*" >&2; exit 1; }

timeout 120 bash "$src/scripts/install.sh" "$build" "$dest" /usr >/dev/null
bin="$dest/usr/bin/capwise"
[ -x "$bin" ] || fail "no $bin"
if readelf -S "$bin" | grep -q '\.debug_info'; then fail "the binary is not stripped"; fi
size=$(stat -c %s "$bin")
[ "$size" -lt $((32 * 1024 * 1024)) ] || fail "the binary is $size bytes"
"$bin" version | grep -q '^capwise ' || fail "capwise version does not run"
"$dest/usr/bin/kubectl-capwise" version | grep -q '^capwise ' || fail "the plugin link does not run"
[ "$(readlink "$dest/usr/bin/kubectl-capwise")" = capwise ] || fail "kubectl-capwise is not a relative link"

completion="$dest/usr/share/bash-completion/completions/capwise"
got=$(bash -c 'source "$1"; COMP_WORDS=(capwise adv); COMP_CWORD=1; _capwise; echo "${COMPREPLY[*]}"' _ "$completion")
[ "$got" = advise ] || fail "completing 'capwise adv' gave '$got'"
got=$(bash -c 'source "$1"; COMP_WORDS=(capwise lint --min); COMP_CWORD=2; _capwise; echo "${COMPREPLY[*]}"' _ "$completion")
[ "$got" = --min-severity ] || fail "completing 'capwise lint --min' gave '$got'"
got=$(bash -c 'source "$1"; COMP_WORDS=(kubectl-capwise ad); COMP_CWORD=1; _kubectl_capwise; echo "${COMPREPLY[*]}"' _ "$dest/usr/share/bash-completion/completions/kubectl-capwise")
[ "$got" = advise ] || fail "completing 'kubectl-capwise ad' gave '$got'"

page=$(zcat "$dest/usr/share/man/man1/capwise.1.gz")
grep -q '^\.TH CAPWISE "1"' <<<"$page" || fail "no man page header"
for sub in $("$bin" help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}'); do
  grep -q "^\.SS $sub\$" <<<"$page" || fail "the man page lacks $sub"
done
echo "install test: passed ($size bytes stripped)"
