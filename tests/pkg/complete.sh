#!/bin/sh
# Shell completion offers what the programs say: bash's script (lab/shell/conlab.bash) driven
# as bash would, after `conlab lesson `, `conlab quiz --topic `, `conlab --start `, a
# subcommand and a file name; and each command's options as completion knows them are exactly
# those its --help names. zsh's script must at least parse.
bin=$(cd "${CONLAB_BIN:-bin}" && pwd)
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
export CONLAB_LESSONS="$PWD/lessons"

# what bash offers for a command line ("conlab lesson " completes an empty word), sorted
offered() {
  PATH="$bin:$PATH" bash -c '
    . lab/shell/conlab.bash
    read -ra COMP_WORDS <<< "$1"
    case $1 in *" ") COMP_WORDS+=("") ;; esac
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE=$1 COMP_POINT=${#1}
    _conlab
    printf "%s\n" "${COMPREPLY[@]}"' bash "$1" | sort
}
same() { # what, got-file, want-file
  if ! cmp -s "$2" "$3"; then
    fail "$1: offered [$(tr '\n' ' ' < "$2")], wanted [$(tr '\n' ' ' < "$3")]"
  fi
}

offered "conlab lesson " > "$tmp/got"
{ "$bin/conlab" lesson list --ids
  printf '%s\n' list validate show script reset help; } | sort > "$tmp/want"
[ "$(wc -l < "$tmp/want")" -gt 6 ] || fail "conlab lesson list shows no lessons"
same "conlab lesson " "$tmp/got" "$tmp/want"

offered "conlab quiz --topic " > "$tmp/got"
"$bin/conlab" quiz --topics | sort > "$tmp/want"
same "conlab quiz --topic " "$tmp/got" "$tmp/want"

offered "conlab --start " > "$tmp/got"
printf 'help\n' | "$bin/conlab" --plain | sed -n 's/^modes: //p' | tr ' ' '\n' | sort > "$tmp/want"
same "conlab --start " "$tmp/got" "$tmp/want"
offered "$bin/conlab-node --mode " > "$tmp/got"
same "conlab-node --mode " "$tmp/got" "$tmp/want"

offered "conlab " > "$tmp/got"
"$bin/conlab" --help | sed -n 's/^\(usage: \|       \)conlab \([a-z][a-z]*\).*/\2/p' | sort -u > "$tmp/want"
same "conlab " "$tmp/got" "$tmp/want"

offered "conlab script tests/scenarios/raft_ag" > "$tmp/got"
echo tests/scenarios/raft_agree.lab > "$tmp/want"
same "conlab script tests/scenarios/raft_ag" "$tmp/got" "$tmp/want"

# options: completion's list equals the --help text's, command by command
opts() { grep -o -- '--[a-z][a-z-]*\|[[ ]-[a-z]\b' | tr -d '[ ' | sort -u; }
for cmd in "" script check quiz replay dash bench "bench check" "bench dash"; do
  # shellcheck disable=SC2086
  if [ -z "$cmd" ]; then
    "$bin/conlab" --help | sed -n '1p;/conlab --help/p' | opts > "$tmp/want"
  else
    { "$bin/conlab" $cmd --help 2>&1; echo '[--help]'; } | opts > "$tmp/want"
  fi
  # shellcheck disable=SC2086
  { "$bin/conlab" --complete conlab $cmd --; "$bin/conlab" --complete conlab $cmd -t; "$bin/conlab" --complete conlab $cmd -n; } |
    sort -u > "$tmp/got"
  same "options of 'conlab $cmd'" "$tmp/got" "$tmp/want"
done
{ "$bin/conlab-node" --help; printf '[--help] [--version]\n'; } | opts > "$tmp/want"
"$bin/conlab" --complete conlab-node -- | sort > "$tmp/got"
same "options of conlab-node" "$tmp/got" "$tmp/want"

if command -v zsh > /dev/null; then
  zsh -n lab/shell/_conlab || fail "lab/shell/_conlab does not parse"
fi
bash -n lab/shell/conlab.bash || fail "lab/shell/conlab.bash does not parse"
[ "$fails" = 0 ] && echo "completion: lessons, topics, modes, subcommands, files and options agree"
[ "$fails" = 0 ]
