#!/bin/sh
# Writes docs/commands.md from the lab's own help texts (so the reference says what the code
# does). Usage: sh tests/gen_commands_doc.sh BIN_DIR > docs/commands.md
bin=${1:-bin}
h() { printf 'help %s\n' "$1" | "$bin/conlab" --plain; }
echo "# Command reference"
echo
echo "Every command of the lab's REPL and scripts (\`conlab script\`). One command per line; \`;\` separates commands on one line; \`#\` starts a comment; words may be quoted with \"double\" or 'single' quotes. NODE is \`n1\`, \`n2\`, … or \`leader\` (the node the lab sees as leader in the highest term or epoch). \`help COMMAND\` prints the same text inside the lab."
echo
echo "Bad input — an unknown command (with a did-you-mean), a wrong number of arguments, an unknown node, a bad duration or percentage, an unknown mode or option — gets one line naming the problem and the accepted form; the REPL goes on, and a script exits 2 (parse) or 1 (runtime)."
echo
for c in $(printf 'help\n' | "$bin/conlab" --plain | sed -n 's/^  \([a-z]*\).*/\1/p' | grep -v mode | awk '!seen[$0]++'); do
  if printf 'help\n' | "$bin/conlab" --plain | grep -q "^  $c .*mode)\$\|^  $c *(.*mode)\$"; then continue; fi
  echo "## $c"
  echo
  h "$c" | sed -e 's/^usage: \(.*\)/    \1\n/' -e 's/^example: \(.*\)/\nExample: `\1`/'
  echo
done
echo "## Mode commands"
echo
echo "A mode adds its own commands; they run on the node they name (or on the leader). \`help\` lists them with their mode, \`help COMMAND\` explains one, and each mode's page in docs/modes/ describes its own (so that adding a mode changes nothing here)."
