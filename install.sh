#!/bin/sh
# install.sh: builds chaqum, chaqumctl and chaqum-web from this checkout and installs them, with the
# client libraries, man pages and systemd units, under a prefix. Every path it installs is
# written to PREFIX/lib/chaqum/install-manifest, so that uninstall.sh removes exactly those.
# Run ./install.sh --help for the details.
set -eu

usage() {
    cat <<'EOF'
Usage: ./install.sh [--jit] [--self-contained] [PREFIX]

Builds chaqum and chaqumctl (dotnet publish, Release) and installs under PREFIX
(default /usr/local):

  PREFIX/lib/chaqum/                 chaqum, chaqumctl, chaqum-web (the dashboard),
                                     their native libraries (SQLite, Mono.Posix),
                                     and clients/ (the sh, Python and Perl
                                     libraries: $CHAQUM_LIBDIR)
  PREFIX/bin/chaqum, chaqumctl,      symlinks into PREFIX/lib/chaqum
    chaqum-web
  PREFIX/share/man/man1, man7        chaqum(1), chaqumctl(1), chaqum-protocol(7)
  PREFIX/share/doc/chaqum/           operations.md, protocol.md
  PREFIX/lib/systemd/system/         chaqum@.service (runs PREFIX/bin/chaqum),
                                     chaqum-web@.service (its dashboard)
  PREFIX/lib/systemd/user/           chaqum@.service for systemctl --user
  PREFIX/lib/chaqum/uninstall.sh     removes all of the above again

Building needs the .NET 10 SDK, and clang and zlib (Debian: apt-get install
clang zlib1g-dev) for the native build: chaqum and chaqumctl are then native
executables (NativeAOT) that need no .NET on the machine that runs them and
start in milliseconds. Where clang is missing, install.sh says so and builds
the JIT version instead, as --jit does.

Options:
  --jit              build the JIT version: framework-dependent programs that need
                     the .NET 10 runtime on the machine that runs them (found in
                     /usr/share/dotnet, /usr/lib/dotnet or $DOTNET_ROOT), start in
                     a fifth of a second and use about twice the memory
  --self-contained   the JIT version with the .NET runtime bundled (about 85 MB;
                     the runtime pack is fetched by NuGet on the first such build)
  -h, --help         show this help

Environment:
  DESTDIR            stage the installation under DESTDIR (for packaging): files go
                     to DESTDIR/PREFIX/..., but the symlinks and the unit files
                     point into PREFIX

Installing again over an existing installation upgrades it: files are replaced
(never rewritten in place, so a running daemon keeps its old ones until it is
restarted) and files of the old version that the new one lacks are removed.
Then restart the daemons: see docs/operations.md, "Upgrades".
EOF
}

die() { echo "install.sh: $*" >&2; exit 1; }

native=true
self_contained=false
prefix=
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --jit) native=false ;;
        --self-contained) native=false; self_contained=true ;;
        --) shift; break ;;
        -*) echo "install.sh: unknown option $1" >&2; echo "Try './install.sh --help'." >&2; exit 2 ;;
        *) [ -z "$prefix" ] || { echo "install.sh: more than one PREFIX" >&2; exit 2; }; prefix=$1 ;;
    esac
    shift
done
if [ $# -gt 0 ]; then
    [ -z "$prefix" ] && [ $# -eq 1 ] || { echo "install.sh: more than one PREFIX" >&2; exit 2; }
    prefix=$1
fi
prefix=${prefix:-/usr/local}
case $prefix in
    /*) ;;
    *) prefix=$(pwd)/$prefix ;;
esac
prefix=${prefix%/}
[ -n "$prefix" ] || die "PREFIX / is not supported; use /usr"
destdir=${DESTDIR:-}
destdir=${destdir%/}
root=$destdir$prefix

src=$(cd "$(dirname "$0")" && pwd)
[ -f "$src/src/Chaqum/Chaqum.csproj" ] || die "run me from a chaqum source checkout ($src has no src/Chaqum)"
command -v dotnet >/dev/null 2>&1 || die "building needs the .NET 10 SDK ('dotnet' is not on PATH); see docs/operations.md"
dotnet --list-sdks 2>/dev/null | grep -q '^10\.' || die "building needs the .NET 10 SDK; 'dotnet --list-sdks' shows none"

stage=$(mktemp -d "${TMPDIR:-/tmp}/chaqum-install.XXXXXX")
trap 'rm -rf "$stage"' EXIT
trap 'exit 130' INT TERM

if $native && ! command -v clang >/dev/null 2>&1; then
    echo "install.sh: clang is not installed, so the native build (NativeAOT) is not possible;" >&2
    echo "install.sh: building the JIT version, which needs the .NET 10 runtime to run." >&2
    echo "install.sh: For the native build: apt-get install clang zlib1g-dev, then run install.sh again." >&2
    native=false
fi

if $native; then
    echo "Building chaqum and chaqumctl (Release, native)..."
else
    echo "Building chaqum and chaqumctl (Release, JIT, self-contained: $self_contained)..."
fi
# In a copy of the sources, so that the checkout's bin/ and obj/ (a developer's build,
# perhaps running right now) are neither used nor touched, and a read-only checkout works.
mkdir "$stage/build"
(cd "$src" && for f in NuGet.config nuget.config global.json; do [ ! -f "$f" ] || echo "$f"; done;
    echo src; echo clients; echo shim; echo Directory.Build.props; echo Directory.Packages.props) > "$stage/sources"
(cd "$src" && tar -cf - --exclude=bin --exclude=obj --exclude=__pycache__ $(cat "$stage/sources")) |
    (cd "$stage/build" && tar -xf -) || die "cannot copy the sources from $src"
# --use-current-runtime: the native libraries (SQLite, Mono.Posix) of this machine only,
# instead of every platform's. No build servers are left running afterwards.
# publish PROJECT [OPTION...]
publish() {
    project=$1
    shift
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
        dotnet publish "$stage/build/src/$project/$project.csproj" -c Release --nologo -v quiet \
        --use-current-runtime -p:SatelliteResourceLanguages=en --disable-build-servers \
        -o "$stage/lib" "$@" || die "dotnet publish of $project failed"
}
if $native; then
    # Two native programs, each its own publish (src/Publish.props). Their debugging
    # symbols (.dbg, .pdb) stay behind: a stack trace in the log has the method names.
    publish Chaqum
    publish Chaqumctl
    find "$stage/lib" -maxdepth 1 \( -name '*.dbg' -o -name '*.pdb' \) -exec rm -f {} +
else
    # The JIT build publishes chaqumctl beside chaqum (a project reference).
    publish Chaqum -p:PublishAot=false --self-contained "$self_contained"
fi
# chaqum-web is always a JIT program (ASP.NET Core from the runtime's shared framework,
# or bundled with --self-contained): it runs for months, start-up does not matter.
publish Chaqum.Web --self-contained "$self_contained"
find "$stage/lib" -maxdepth 1 -name '*.pdb' -exec rm -f {} +
[ -x "$stage/lib/chaqum" ] && [ -x "$stage/lib/chaqumctl" ] && [ -x "$stage/lib/chaqum-web" ] && [ -d "$stage/lib/clients" ] \
    || die "the build did not produce chaqum, chaqumctl, chaqum-web and clients/"
# The shim Slurm groups' jobs run under on the nodes (docs/cluster.md): LIB/shim/chaqum-shim.
[ -f "$stage/lib/shim/chaqum-shim" ] || die "the build did not produce shim/chaqum-shim"
chmod 0755 "$stage/lib/shim/chaqum-shim"

# The manifest: "d PATH" for a directory we created, "f PATH" for a file, "l PATH" for a
# symlink; PATHs are absolute and without DESTDIR.
manifest_rel=lib/chaqum/install-manifest
old_manifest=$root/$manifest_rel
new_manifest=$stage/manifest
: > "$new_manifest"
if [ -f "$old_manifest" ]; then
    # Directories an earlier install created are still ours to remove one day.
    grep '^d ' "$old_manifest" >> "$new_manifest" || true
fi

# make_dir REL: creates PREFIX/REL and its parents, noting each one we create.
make_dir() {
    path=$prefix
    [ -d "$destdir$path" ] || { mkdir -p "$destdir$path"; echo "d $path" >> "$new_manifest"; }
    rest=$1
    while [ -n "$rest" ]; do
        part=${rest%%/*}
        case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
        path=$path/$part
        if [ ! -d "$destdir$path" ]; then
            mkdir "$destdir$path"
            echo "d $path" >> "$new_manifest"
        fi
    done
}

# put_file SOURCE REL MODE: written beside the target, then renamed over it, so that a
# running daemon that has the old file open or mapped keeps the old contents.
put_file() {
    make_dir "$(dirname "$2")"
    install -m "$3" "$1" "$root/$2.installing"
    mv -f "$root/$2.installing" "$root/$2"
    echo "f $prefix/$2" >> "$new_manifest"
}

# put_link TARGET REL: a relative symlink, valid wherever the prefix is staged.
put_link() {
    make_dir "$(dirname "$2")"
    ln -sfn "$1" "$root/$2"
    echo "l $prefix/$2" >> "$new_manifest"
}

echo "Installing into $root..."
# The published programs, libraries and clients/ (CHAQUM_LIBDIR is the clients/ next to
# the real chaqum executable, symlinks resolved).
(cd "$stage/lib" && find . -type f | sed 's|^\./||' | LC_ALL=C sort) > "$stage/files"
while IFS= read -r f; do
    if [ -x "$stage/lib/$f" ]; then mode=0755; else mode=0644; fi
    put_file "$stage/lib/$f" "lib/chaqum/$f" "$mode"
done < "$stage/files"

put_link ../lib/chaqum/chaqum bin/chaqum
put_link ../lib/chaqum/chaqumctl bin/chaqumctl
put_link ../lib/chaqum/chaqum-web bin/chaqum-web

put_file "$src/docs/chaqum.1" share/man/man1/chaqum.1 0644
put_file "$src/docs/chaqumctl.1" share/man/man1/chaqumctl.1 0644
put_file "$src/docs/chaqum-protocol.7" share/man/man7/chaqum-protocol.7 0644
put_file "$src/docs/operations.md" share/doc/chaqum/operations.md 0644
put_file "$src/docs/protocol.md" share/doc/chaqum/protocol.md 0644
put_file "$src/docs/cluster.md" share/doc/chaqum/cluster.md 0644
put_file "$src/docs/http.md" share/doc/chaqum/http.md 0644

# The units name /usr/local/bin/chaqum; point them at this prefix.
sed "s|/usr/local/bin/chaqum|$prefix/bin/chaqum|g" "$src/contrib/systemd/chaqum@.service" > "$stage/system.service"
sed "s|/usr/local/bin/chaqum|$prefix/bin/chaqum|g" "$src/contrib/systemd/user/chaqum@.service" > "$stage/user.service"
sed "s|/usr/local/bin/chaqum|$prefix/bin/chaqum|g" "$src/contrib/systemd/chaqum-web@.service" > "$stage/web.service"
put_file "$stage/system.service" "lib/systemd/system/chaqum@.service" 0644
put_file "$stage/web.service" "lib/systemd/system/chaqum-web@.service" 0644
put_file "$stage/user.service" "lib/systemd/user/chaqum@.service" 0644

put_file "$src/uninstall.sh" lib/chaqum/uninstall.sh 0755

# Files of an earlier version that this one no longer has.
if [ -f "$old_manifest" ]; then
    grep -E '^[fl] ' "$old_manifest" | LC_ALL=C sort > "$stage/old-files" || true
    grep -E '^[fl] ' "$new_manifest" | LC_ALL=C sort > "$stage/new-files" || true
    LC_ALL=C comm -23 "$stage/old-files" "$stage/new-files" | while IFS= read -r line; do
        path=${line#? }
        case $path in "$prefix"/*) rm -f "$destdir$path" ;; esac
    done
fi
echo "f $prefix/$manifest_rel" >> "$new_manifest"
install -m 0644 "$new_manifest" "$root/$manifest_rel.installing"
mv -f "$root/$manifest_rel.installing" "$root/$manifest_rel"

echo "Installed chaqum $("$root/lib/chaqum/chaqum" --version 2>/dev/null || echo '(version unknown)') into $prefix."
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "Note: $prefix/bin is not on your PATH." ;;
esac
case $prefix in
    /usr/local|/usr) ;;
    *) echo "Note: systemd does not look for units in $prefix/lib/systemd; copy the unit to"
       echo "      /etc/systemd/system (or ~/.config/systemd/user) to use it." ;;
esac
echo "To run a tree under systemd, see $prefix/share/doc/chaqum/operations.md."
echo "To uninstall: $prefix/lib/chaqum/uninstall.sh $prefix"
