#!/bin/sh
# purity.sh — a mode is a pure state machine (DESIGN §3): the objects of every mode folder
# (nodes/modes/NAME/) and of the protocol kit (nodes/kit/) may call only the environment and
# the rest of nodes/core's pure modules (env, mode, event, util without its clocks, rng, heap),
# jansson, the kit, their own folder, and libc's pure functions. No ZeroMQ, no file, clock,
# random, process or terminal call. Checked with `nm -u` on the built objects; `make check`
# runs it. It first proves that it can fail: a planted object that calls time() and fopen()
# must be refused.
#
#   sh tests/purity.sh [BUILD_DIR]
set -u
b=${1:-build}
CC=${CC:-cc}

# libc's pure functions (and the compiler's helpers): memory, strings, formatting into
# buffers, number parsing, sorting, character classes, arithmetic, and allocation.
LIBC="memcpy memmove memset memcmp memchr memrchr strlen strnlen strcmp strncmp strcasecmp strncasecmp
strchr strrchr strstr strpbrk strspn strcspn strtok_r strdup strndup strcpy strncpy strcat strncat
strtol strtoul strtoll strtoull strtod strtof strtoimax strtoumax atoi atol atoll
snprintf vsnprintf sprintf vsprintf sscanf vsscanf __isoc99_sscanf __isoc99_vsscanf __isoc23_sscanf
__isoc23_strtol __isoc23_strtoul __isoc23_strtoll __isoc23_strtoull
qsort bsearch abs labs llabs div ldiv
malloc calloc realloc free
isalpha isdigit isspace isalnum isupper islower isxdigit isprint ispunct tolower toupper
__ctype_b_loc __ctype_tolower_loc __ctype_toupper_loc
floor ceil round lround llround trunc sqrt fabs fmod log log2 log10 exp pow
__assert_fail __stack_chk_fail __popcountdi2 __udivti3 __umodti3 __divti3 __modti3"

# What an object defines (text, data, bss, read-only): the symbols others may call.
defs() {
    nm --defined-only "$@" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBRCVW]$/ { print $3 }'
}

# Checks every object of each folder given; prints each forbidden call; returns 1 if any.
check() {
    allowed=$(mktemp)
    {
        echo "$LIBC" | tr ' ' '\n'
        for m in env mode event util rng heap; do
            [ -f "$b/nodes/core/$m.o" ] && defs "$b/nodes/core/$m.o"
        done | grep -v -x -e mono_us -e wall_us
        ls "$b"/nodes/kit/*.o >/dev/null 2>&1 && defs "$b"/nodes/kit/*.o
    } | sort -u > "$allowed"
    bad=0
    for dir in "$@"; do
        ls "$dir"/*.o >/dev/null 2>&1 || continue
        own=$(mktemp)
        defs "$dir"/*.o | sort -u > "$own"
        for o in "$dir"/*.o; do
            for sym in $(nm -u "$o" | awk '{ print $NF }'); do
                base=$sym
                case $sym in
                    json_*|jsonp_*) continue ;;
                    __*_chk) base=${sym#__}; base=${base%_chk} ;; # fortified libc: judge the function
                esac
                grep -q -x -e "$sym" -e "$base" "$allowed" "$own" && continue
                echo "impure: ${o#$b/} calls $sym"
                bad=1
            done
        done
        rm -f "$own"
    done
    rm -f "$allowed"
    return $bad
}

# 1. The check can fail: a planted mode folder that reads the clock and opens a file.
plant=$(mktemp -d)
mkdir -p "$plant/nodes/modes/planted"
printf '#include <stdio.h>\n#include <time.h>\nint planted(void);\nint planted(void) { FILE *f = fopen("x", "r"); return (int)time(0) + (f != 0); }\n' > "$plant/p.c"
if ! $CC -c -O1 -o "$plant/nodes/modes/planted/p.o" "$plant/p.c"; then
    echo "purity: cannot compile the planted object"; rm -rf "$plant"; exit 2
fi
out=$(b0=$b; b=$plant; check "$plant/nodes/modes/planted"; b=$b0)
if ! echo "$out" | grep -q 'calls time' || ! echo "$out" | grep -q 'calls fopen'; then
    echo "purity: the check let a planted object call time() and fopen():"
    echo "$out"
    rm -rf "$plant"; exit 2
fi
rm -rf "$plant"

# 2. Every mode and the kit.
[ -d "$b/nodes/modes" ] || { echo "purity: no $b/nodes/modes (build first)"; exit 2; }
n=$(ls -d "$b"/nodes/modes/*/ 2>/dev/null | wc -l)
if check "$b"/nodes/modes/* "$b/nodes/kit"; then
    echo "purity: $n modes and the kit call only the environment, jansson, the kit and pure libc"
    exit 0
fi
exit 1
