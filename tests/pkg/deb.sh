#!/bin/sh
# The Debian package: `make deb` builds it from this tree with Debian's tools and lintian
# (errors fail it); it depends on the runtime libraries, not their -dev packages; unpacked into
# a temporary root (dpkg-deb -x), its conlab finds its own lessons and node program: it lists
# the course, runs a 3-node Raft cluster through a leader crash, prints its version and
# commit, completes lesson ids, and its man pages render without a warning.
# timeout: 900 (a full -O2 build and lintian, beside valgrind and ASan in `make check`)
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

if ! make -s deb DEB_DIR="$tmp/deb" > "$tmp/make.log" 2>&1; then
  tail -n 30 "$tmp/make.log"
  echo "FAIL make deb"
  exit 1
fi
version=$(head -n 1 debian/changelog | cut -d' ' -f2 | tr -d '()')
deb=$(ls "$tmp/deb/conlab_${version}_"*.deb 2>/dev/null | head -n 1)
[ -f "$deb" ] || { echo "FAIL no conlab_${version}_*.deb in $tmp/deb"; exit 1; }
echo "built $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"

# runtime libraries, no build-time ones
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libzmq5 libjansson4 libyaml-0-2 libncursesw6 libreadline8; do
  case ", $depends" in *", $lib"*) ;; *) fail "Depends lacks $lib: $depends" ;; esac
done
case $depends in *-dev*) fail "Depends names a -dev package: $depends" ;; esac

# everything in its Debian place
root=$tmp/root
dpkg-deb -x "$deb" "$root"
for f in usr/bin/conlab usr/bin/conlab-node usr/share/conlab/lessons/00-welcome.yaml \
         usr/share/conlab/lessons/quiz/raft.yaml usr/share/man/man1/conlab.1.gz \
         usr/share/man/man1/conlab-node.1.gz usr/share/man/man5/conlab-lessons.5.gz \
         usr/share/doc/conlab/copyright usr/share/doc/conlab/changelog.gz \
         usr/share/doc/conlab/user-guide.md.gz usr/share/bash-completion/completions/conlab \
         usr/share/zsh/vendor-completions/_conlab; do
  [ -e "$root/$f" ] || fail "the package has no /$f"
done

# run from the unpacked root, away from this tree (no ./lessons) and without any variable
# that points conlab at a checkout's files
mkdir -p "$tmp/home" "$tmp/run"
cd "$tmp/run" || exit 2
run() {
  env -u CONLAB_BIN -u CONLAB_NODE -u CONLAB_LESSONS HOME="$tmp/home" XDG_DATA_HOME= \
    XDG_STATE_HOME= XDG_RUNTIME_DIR= PATH="$root/usr/bin:/usr/bin:/bin" "$@"
}

out=$(run conlab --version)
commit=$(cat "$tmp/deb/conlab-$version/COMMIT")
[ "$out" = "conlab $version (commit $commit)" ] || fail "conlab --version said '$out'"
[ "$commit" != unknown ] || fail "the package does not know its commit"

run conlab lesson list > "$tmp/list" 2>&1 || fail "conlab lesson list failed: $(cat "$tmp/list")"
for id in welcome raft-election; do
  grep -q "^$id " "$tmp/list" || fail "conlab lesson list does not show $id: $(cat "$tmp/list")"
done

cat > "$tmp/raft.lab" <<'LAB'
start raft 3
wait leader
put x 1
cas x 1 2
expect x = 2
crash leader
wait leader
put y 3
expect y = 3
expect x = 2
expect linearizable
LAB
run timeout 120 conlab script "$tmp/raft.lab" > "$tmp/raft.out" 2>&1 ||
  fail "the raft script failed from the package: $(tail -n 15 "$tmp/raft.out")"

# completion from the package's own script
got=$(run bash -c '. "$1/usr/share/bash-completion/completions/conlab"
  COMP_WORDS=(conlab lesson ra); COMP_CWORD=2; _conlab; echo "${COMPREPLY[*]}"' bash "$root")
[ "$got" = "raft-election raft-commit" ] || fail "completing 'conlab lesson ra' offered '$got'"

for page in man1/conlab.1.gz man1/conlab-node.1.gz man5/conlab-lessons.5.gz; do
  warn=$(MANWIDTH=80 man --warnings=w -E UTF-8 -l "$root/usr/share/man/$page" 2>&1 >/dev/null)
  [ -z "$warn" ] || fail "$page: $warn"
done

[ "$fails" = 0 ] && echo "the unpacked package lists the course and runs a 3-node raft script"
[ "$fails" = 0 ]
