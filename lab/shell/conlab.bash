# bash completion for conlab and conlab-node.
# The program says what fits (`conlab --complete PROG WORD...`: subcommands, options, modes,
# lesson ids, quiz topics), so this file never needs to change when those do.
# Installed as .../bash-completion/completions/conlab (and a conlab-node link to it); to try
# it from a checkout: source lab/shell/conlab.bash

_conlab_program()
{
    # the conlab that owns this command line: the one typed, or the one beside conlab-node
    local prog=$1 dir
    prog=${prog/#\~/$HOME}
    case $prog in
        */conlab) ;;
        */conlab-node) dir=${prog%/*}; prog=$dir/conlab ;;
        *) prog=conlab ;;
    esac
    if [[ $prog == */* && ! -x $prog ]]; then
        prog=conlab
    fi
    printf '%s\n' "$prog"
}

_conlab()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prog line
    local -a words lines
    words=("${COMP_WORDS[@]:1:COMP_CWORD}")
    prog=$(_conlab_program "${COMP_WORDS[0]}")
    mapfile -t lines < <("$prog" --complete "${COMP_WORDS[0]##*/}" "${words[@]}" 2>/dev/null)
    COMPREPLY=()
    for line in "${lines[@]}"; do
        case $line in
            @file)
                mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -- "$cur")
                compopt -o filenames 2>/dev/null
                ;;
            @file:*)
                mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur"; compgen -f -X "!*.${line#@file:}" -- "$cur")
                compopt -o filenames 2>/dev/null
                ;;
            *) COMPREPLY+=("$line") ;;
        esac
    done
}

complete -F _conlab conlab conlab-node
