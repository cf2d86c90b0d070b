#!/usr/bin/env bash
# make install: the capwise binary (stripped), the kubectl-capwise link kubectl finds plugins by,
# bash completion, and a man page generated from --help (help2man).
# usage: install.sh BUILD_DIR DESTDIR PREFIX
set -euo pipefail
build=$1
dest=${2:-}
prefix=${3:-/usr/local}
bin="$dest$prefix/bin"
completions="$dest$prefix/share/bash-completion/completions"
man1="$dest$prefix/share/man/man1"

install -d "$bin" "$completions" "$man1"
# -s: the build carries 100+ MB of debug information; what runs is a few MB of code.
install -s -m 0755 "$build/capwise" "$bin/capwise"
ln -sf capwise "$bin/kubectl-capwise"

"$build/capwise" completion bash > "$completions/capwise.tmp"
mv "$completions/capwise.tmp" "$completions/capwise"
"$build/kubectl-capwise" completion bash > "$completions/kubectl-capwise.tmp"
mv "$completions/kubectl-capwise.tmp" "$completions/kubectl-capwise"

# The man page: the top-level help, then every subcommand's own help as a section.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
  echo "[SUBCOMMANDS]"
  "$build/capwise" help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}' |
    while read -r sub; do
      echo ".SS $sub"
      echo ".nf"
      "$build/capwise" help "$sub" | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./'
      echo ".fi"
    done
} > "$work/subcommands.h2m"
help2man --no-info --no-discard-stderr --section 1 \
  --name "find the Linux capabilities a workload really needs, and lock it down to them" \
  --version-string "$("$build/capwise" version | head -1 | cut -d' ' -f2)" \
  --include "$work/subcommands.h2m" "$build/capwise" > "$work/capwise.1"
gzip -9n < "$work/capwise.1" > "$man1/capwise.1.gz"
echo "installed: $bin/capwise, $bin/kubectl-capwise, $completions/capwise, $man1/capwise.1.gz"
