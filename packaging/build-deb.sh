#!/usr/bin/env bash
# Build dist/utility-kiosk_<version>_amd64.deb with dpkg-deb (see packaging/README.md).
#
# The kiosk goes into a virtual environment made by Debian's own Python 3.11
# (/usr/bin/python3.11), so it runs on the interpreter the package depends on.
# The venv is built in a staging tree and then moved to /opt/utility-kiosk by
# rewriting the few places where a venv records its own path: the #! lines of
# its scripts, the activate scripts and pyvenv.cfg.  Nothing else holds the
# path, because bytecode is not built here (pip --no-compile): postinst
# compiles it at the final path.  The build fails if the staging path is still
# anywhere in the tree.  Every wheel comes from PyPI (or the local find-links)
# here, at build time; installing the .deb needs no network.
#
# Needs: root is not required; Debian's python3.11 and python3-venv, dpkg-deb,
# gcc, python3.11-dev and libpcsclite-dev (pyscard compiles from source), and
# network to PyPI (pip's own cache makes later builds fast).
set -euo pipefail
umask 022

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGING=$REPO/packaging
# A work folder per build: two builds in one work tree (a developer's and a
# test run) must not delete each other's staging tree.
mkdir -p "$REPO/build"
WORK=$(mktemp -d "$REPO/build/deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/root
WHEELS=$WORK/wheels
PREFIX=/opt/utility-kiosk
VENV=$STAGE$PREFIX
PYTHON=/usr/bin/python3.11
DIST=${DIST:-$REPO/dist}

VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$REPO/kiosk/__init__.py")
[ -n "$VERSION" ] || { echo "build-deb: no __version__ in kiosk/__init__.py" >&2; exit 1; }
DEB=$DIST/utility-kiosk_${VERSION}_amd64.deb

step() { printf 'build-deb: %s\n' "$*"; }
started=$SECONDS

[ -x "$PYTHON" ] || { echo "build-deb: $PYTHON is missing: apt-get install python3.11 python3-venv" >&2; exit 1; }
"$PYTHON" -c 'import ensurepip' 2>/dev/null \
    || { echo "build-deb: Debian's venv support is missing: apt-get install python3-venv" >&2; exit 1; }
# pyscard has no Linux wheel: pip compiles it against Python 3.11's and
# pcsc-lite's headers (make deb installs them; this says so if they are not).
for need in /usr/include/python3.11/Python.h:python3.11-dev /usr/include/PCSC/winscard.h:libpcsclite-dev; do
    [ -e "${need%%:*}" ] || { echo "build-deb: ${need%%:*} is missing (pyscard builds from source): apt-get install ${need#*:}" >&2; exit 1; }
done
command -v gcc >/dev/null || { echo "build-deb: gcc is missing (pyscard builds from source): apt-get install gcc" >&2; exit 1; }

mkdir -p "$STAGE" "$WHEELS" "$DIST" "$WORK/src"

step "copying the sources to build a clean wheel"
# A wheel built in the work tree would pick up stale files from an old
# setuptools build/ folder; this copy holds only what pyproject.toml packages.
tar -C "$REPO" --exclude=__pycache__ --exclude='*.pyc' \
    -cf - pyproject.toml README.md app contract kiosk screens drivers offline_store assets | tar -C "$WORK/src" -xf -

step "virtual environment at $PREFIX (staged), Python $("$PYTHON" -c 'import platform; print(platform.python_version())')"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check \
    --wheel-dir "$WHEELS" "$WORK/src"
# From the wheelhouse only: proof that every dependency is in it.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-cache-dir \
    --find-links "$WHEELS" --no-compile "utility-kiosk==$VERSION"
# The card reader driver's compiled module must be inside, built for this Python.
"$VENV/bin/python" -c 'import smartcard.scard' \
    || { echo "build-deb: pyscard's compiled module (smartcard.scard) is not usable in the venv" >&2; exit 1; }
mkdir -p "$STAGE/usr/share/doc/utility-kiosk"
"$VENV/bin/python" -m pip list --format=freeze --exclude pip --exclude setuptools \
    > "$STAGE/usr/share/doc/utility-kiosk/python-packages.txt"
# The installer never runs pip on a terminal (no network in the hall).
"$VENV/bin/python" -m pip uninstall --quiet --yes pip setuptools

step "moving the venv's recorded paths from the staging tree to $PREFIX"
find "$STAGE" -depth -type d -name __pycache__ -exec rm -rf {} +
grep -rlI --null -F "$VENV" "$VENV" | xargs -0 -r sed -i "s|$VENV|$PREFIX|g"
if leftovers=$(grep -rl -F "$STAGE" "$STAGE"); then
    echo "build-deb: the staging path is still recorded in:" >&2
    echo "$leftovers" >&2
    exit 1
fi

step "system files: unit, udev rules, sysusers, tmpfiles, session scripts"
cp -a "$PACKAGING/root/." "$STAGE/"
python3 "$PACKAGING/deb/field-config.py" "$REPO/config.toml" "$STAGE/etc/utility-kiosk/config.toml"
"$VENV/bin/python" -m app.cli check-config "$STAGE/etc/utility-kiosk/config.toml" >/dev/null \
    || { echo "build-deb: the packaged configuration does not pass check-config" >&2; exit 1; }
mkdir -p "$STAGE/usr/bin"
ln -s "$PREFIX/bin/kiosk" "$STAGE/usr/bin/kiosk"
cp "$PACKAGING/README.md" "$STAGE/usr/share/doc/utility-kiosk/README.md"

step "control files"
mkdir -p "$STAGE/DEBIAN"
depends=$(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$PACKAGING/deb/depends.txt" \
          | paste -sd, - | sed 's/,/, /g')
installed_kb=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$installed_kb/" -e "s/@DEPENDS@/$depends/" \
    "$PACKAGING/deb/control.in" > "$STAGE/DEBIAN/control"
install -m 0644 "$PACKAGING/deb/conffiles" "$STAGE/DEBIAN/conffiles"
install -m 0755 "$PACKAGING/deb/postinst" "$PACKAGING/deb/prerm" "$PACKAGING/deb/postrm" "$STAGE/DEBIAN/"
# md5sums of everything but the conffiles (dpkg --verify, debsums).
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort \
    | grep -vxF -f <(sed 's|^/||' DEBIAN/conffiles) | tr '\n' '\0' | xargs -0 md5sum) > "$WORK/md5sums"
mv "$WORK/md5sums" "$STAGE/DEBIAN/md5sums"

step "dpkg-deb"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$WORK/package.deb" >/dev/null
mv -f "$WORK/package.deb" "$DEB"   # whole or not at all, for anyone reading dist/
size=$(stat -c %s "$DEB")
step "$DEB: $((size / 1024 / 1024)) MiB, installs $((installed_kb / 1024)) MiB, built in $((SECONDS - started)) s"
