#!/bin/sh
# docs/commands.md and the REPL COMMANDS and MODES of conlab(1) (docs/man/repl.man) say what
# the code does: both are regenerated from the lab's help texts.
bin=${CONLAB_BIN:-bin}
tmp=$(mktemp)
sh tests/gen_commands_doc.sh "$bin" > "$tmp"
if ! diff -u docs/commands.md "$tmp"; then
  echo "docs/commands.md is out of date: run 'sh tests/gen_commands_doc.sh bin > docs/commands.md'"
  rm -f "$tmp"; exit 1
fi
rm -f "$tmp"
tmp=$(mktemp)
sh tests/gen_man_repl.sh "$bin" > "$tmp"
if ! diff -u docs/man/repl.man "$tmp"; then
  echo "docs/man/repl.man is out of date: run 'sh tests/gen_man_repl.sh bin > docs/man/repl.man'"
  rm -f "$tmp"; exit 1
fi
rm -f "$tmp"
