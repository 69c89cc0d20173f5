#!/bin/sh
# The man pages render without a warning, and say what the programs do: every subcommand and
# option that `--help` names, every REPL command and mode of the lab's `help`, and a lesson
# example that the lesson loader accepts.
bin=${CONLAB_BIN:-bin}
man=${BUILD:-build}/man
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

for page in conlab.1 conlab-node.1 conlab-lessons.5; do
  [ -s "$man/$page" ] || { fail "$man/$page was not built"; continue; }
  for width in 80 120; do
    MANWIDTH=$width man --warnings=w -E UTF-8 -l "$man/$page" > "$tmp/$page.txt" 2> "$tmp/warn"
    [ -s "$tmp/warn" ] && fail "$page at $width columns: $(head -n 3 "$tmp/warn")"
  done
  grep -q '@[A-Z]*@' "$man/$page" && fail "$page: a placeholder was not filled in"
  # the rendered text, without overstrikes, for the checks below
  col -b < "$tmp/$page.txt" > "$tmp/$page"
done

# section NAME of a rendered page: from its heading to the next heading
section() { sed -n "/^$2\$/,/^[A-Z][A-Z ]*\$/p" "$tmp/$1"; }
# the options a --help text names
opts() { grep -o -- '--[a-z][a-z-]*\|[[ ]-[a-z]\b' | tr -d '[ ' | sort -u; }

# conlab: every subcommand of --help has an entry; each entry names every option of its --help
subs=$("$bin/conlab" --help | sed -n 's/^\(usage: \|       \)conlab \([a-z][a-z]*\).*/\2/p' | sort -u)
[ -n "$subs" ] || fail "no subcommands read from conlab --help"
section conlab.1 SUBCOMMANDS > "$tmp/subs"
for s in $subs; do
  # the entries of s: from its first tag (7 spaces in) to the next tag of another subcommand
  awk -v s="$s" '/^       [a-z]/ { on = ($1 == s) } on' "$tmp/subs" > "$tmp/entry"
  [ -s "$tmp/entry" ] || { fail "conlab(1) has no entry for 'conlab $s'"; continue; }
  { "$bin/conlab" "$s" --help 2>&1; [ "$s" = bench ] && "$bin/conlab" bench check --help 2>&1 &&
    "$bin/conlab" bench dash --help 2>&1; } | opts > "$tmp/want"
  for o in $(cat "$tmp/want"); do
    grep -q -- "$o\b" "$tmp/entry" || fail "conlab(1): 'conlab $s' does not mention $o"
  done
done
"$bin/conlab" --help | sed -n '1p;$p' | opts > "$tmp/want"
for o in $(cat "$tmp/want") --lesson --version; do
  section conlab.1 OPTIONS | grep -q -- "^       $o\b" || fail "conlab(1) OPTIONS lacks $o"
done

# conlab: every REPL command and mode of the lab's help
"$bin/conlab" --plain <<'IN' > "$tmp/help"
help
IN
section conlab.1 'REPL COMMANDS' > "$tmp/repl"
for c in $(sed -n 's/^  \([a-z-]*\).*/\1/p' "$tmp/help" | sort -u); do
  grep -q "^       $c\b" "$tmp/repl" || fail "conlab(1) REPL COMMANDS lacks $c"
done
for m in $(sed -n 's/^modes: //p' "$tmp/help"); do
  section conlab.1 MODES | grep -q "^   $m\$" || fail "conlab(1) MODES lacks $m"
done

# conlab-node: every option of its --help
for o in $("$bin/conlab-node" --help | opts); do
  section conlab-node.1 OPTIONS | grep -q -- "^       $o\b" || fail "conlab-node(1) OPTIONS lacks $o"
done

# conlab-lessons: the example is a lesson the loader accepts
sed -n '/^\.SH EXAMPLE$/,/^\.fi$/p' docs/man/conlab-lessons.5.in | sed -e '1,2d' -e '$d' -e 's/\\-/-/g' \
  > "$tmp/example.yaml"
"$bin/conlab" lesson validate "$tmp/example.yaml" > "$tmp/out" 2>&1 ||
  fail "conlab-lessons(5): its example is refused: $(cat "$tmp/out")"

[ "$fails" = 0 ] && echo "man pages: 3 render cleanly and cover $(echo $subs | wc -w) subcommands"
[ "$fails" = 0 ]
