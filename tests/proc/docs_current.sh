#!/bin/sh
# docs/commands.md says what the code does: it is regenerated from the lab's help texts. (The
# REPL COMMANDS and MODES of conlab(1) are generated from them at build time.)
bin=${CONLAB_BIN:-bin}
tmp=$(mktemp)
sh tests/gen_commands_doc.sh "$bin" > "$tmp"
if ! diff -u docs/commands.md "$tmp"; then
  echo "docs/commands.md is out of date: run 'sh tests/gen_commands_doc.sh bin > docs/commands.md'"
  rm -f "$tmp"; exit 1
fi
rm -f "$tmp"
