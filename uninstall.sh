#!/bin/sh
# uninstall.sh: removes what install.sh installed under a prefix, exactly the paths listed
# in PREFIX/lib/chaqum/install-manifest, and the directories install.sh created if they
# are empty then. Run ./uninstall.sh --help for the details.
set -eu

usage() {
    cat <<'EOF'
Usage: uninstall.sh [PREFIX]

Removes chaqum from PREFIX (default /usr/local): every file and symlink that
install.sh listed in PREFIX/lib/chaqum/install-manifest, then the directories
it created, where they are empty. Nothing else is touched: not the state of
your trees (/var/lib/chaqum, ~/.local/state/chaqum), not the trees, not the
chaqum user.

Stop and disable the daemons first:
  systemctl disable --now 'chaqum@*'

Environment:
  DESTDIR    remove from DESTDIR/PREFIX (as installed with the same DESTDIR)
EOF
}

die() { echo "uninstall.sh: $*" >&2; exit 1; }

prefix=
for arg in "$@"; do
    case $arg in
        -h|--help) usage; exit 0 ;;
        -*) echo "uninstall.sh: unknown option $arg" >&2; echo "Try 'uninstall.sh --help'." >&2; exit 2 ;;
        *) [ -z "$prefix" ] || { echo "uninstall.sh: more than one PREFIX" >&2; exit 2; }; prefix=$arg ;;
    esac
done
prefix=${prefix:-/usr/local}
case $prefix in
    /*) ;;
    *) prefix=$(pwd)/$prefix ;;
esac
prefix=${prefix%/}
destdir=${DESTDIR:-}
destdir=${destdir%/}
manifest=$destdir$prefix/lib/chaqum/install-manifest
[ -f "$manifest" ] || die "no chaqum installed by install.sh in $prefix ($manifest is missing)"

# Read it all first: the manifest itself is one of the files removed.
list=$(mktemp "${TMPDIR:-/tmp}/chaqum-uninstall.XXXXXX")
trap 'rm -f "$list"' EXIT
cat "$manifest" > "$list"

# Files and symlinks. Only paths under PREFIX: a damaged manifest cannot reach elsewhere.
removed=0
while IFS= read -r line; do
    kind=${line%% *}
    path=${line#* }
    case $kind in f|l) ;; *) continue ;; esac
    case $path in "$prefix"/*) ;; *) echo "uninstall.sh: skipping $path (not under $prefix)" >&2; continue ;; esac
    if [ -e "$destdir$path" ] || [ -L "$destdir$path" ]; then
        rm -f "$destdir$path"
        removed=$((removed + 1))
    fi
done < "$list"

# Python leaves compiled files next to the client library when a job imports it.
[ -d "$destdir$prefix/lib/chaqum" ] && find "$destdir$prefix/lib/chaqum" -type d -name __pycache__ -prune -exec rm -rf {} +

# Directories install.sh created, deepest first, where nothing else lives in them now.
grep '^d ' "$list" | sed 's/^d //' | awk '{ print length($0) "\t" $0 }' | LC_ALL=C sort -rn | cut -f2- |
while IFS= read -r dir; do
    case $dir in "$prefix"|"$prefix"/*) rmdir "$destdir$dir" 2>/dev/null || true ;; esac
done

echo "Removed $removed files of chaqum from $prefix."
if [ -d "$destdir$prefix/lib/chaqum" ]; then
    echo "Left $prefix/lib/chaqum: it holds files install.sh did not put there."
fi
