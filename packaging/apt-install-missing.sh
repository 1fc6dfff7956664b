#!/bin/sh
# Install the named Debian packages that are not installed yet (needs root
# only when something is missing).  Used by the Makefile's deb and image targets.
set -eu
missing=""
for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
echo "installing Debian packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "run as root to install:$missing" >&2
    exit 1
fi
# Two cold runs at once (e.g. `make test` and `make deb`) take turns here:
# apt-get install can wait for dpkg's lock (Lock::Timeout), but apt-get
# update fails at once when another one holds the lists lock.
mkdir -p /run/lock   # not there in every chroot or container
exec 9>/run/lock/utility-kiosk-apt.lock
flock 9
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 $missing
