#!/usr/bin/env bash
# Build build/image/utility-kiosk.img: a bootable x86-64 disk (BIOS and UEFI)
# with Debian 12 and the utility-kiosk package, booting into the kiosk.
# See packaging/README.md ("The disk image").  Needs root (loop devices,
# mount, chroot) and network to the Debian mirror.
#
#   GPT  1  bios     1 MiB   GRUB's core for BIOS boot
#        2  ESP     64 MiB   FAT32, GRUB for UEFI (EFI/BOOT/BOOTX64.EFI); readable on
#                            any laptop: utility-kiosk/config.toml here is taken in at boot
#        3  root     3 GiB   ext4 "kiosk-root": Debian, the package, the journal
#        4  data   512 MiB   ext4 "kiosk-data" at /var/lib/utility-kiosk: the kiosk's
#                            own data (offline journal, key file), kept apart from the system
set -euo pipefail
umask 022

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGING=$REPO/packaging
OUT=${IMAGE_DIR:-$REPO/build/image}
IMG=$OUT/utility-kiosk.img
MNT=$OUT/mnt
DEBS=$REPO/build/debian-root/debs           # shared with the package tests' debootstrap
SUITE=bookworm
MIRROR=${KIOSK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${KIOSK_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
TIMEZONE=${KIOSK_IMAGE_TIMEZONE:-Asia/Shanghai}
ROOT_MIB=3072
DATA_MIB=512

VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$REPO/kiosk/__init__.py")
DEB=$REPO/dist/utility-kiosk_${VERSION}_amd64.deb
[ -f "$DEB" ] || { echo "build-image: $DEB is missing: run make deb first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "build-image: run as root (loop devices, mount, chroot)" >&2; exit 1; }

step() { printf 'build-image: [%4d s] %s\n' "$((SECONDS - started))" "$*"; }
started=$SECONDS
LOOP=""

cleanup() {
    set +e
    if mountpoint -q "$MNT"; then
        umount -R "$MNT" || umount -R -l "$MNT"
    fi
    [ -n "$LOOP" ] && losetup -d "$LOOP"
}
trap cleanup EXIT

in_root() { chroot "$MNT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root \
    DEBIAN_FRONTEND=noninteractive "$@"; }

step "disk: $IMG"
mkdir -p "$OUT" "$MNT" "$DEBS"
rm -f "$IMG" "$IMG.zst"
truncate -s $((1 + 1 + 64 + ROOT_MIB + DATA_MIB + 1))M "$IMG"
sfdisk --quiet "$IMG" <<EOF
label: gpt
start=1MiB, size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios
size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
size=${ROOT_MIB}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=kiosk-root
size=${DATA_MIB}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=kiosk-data
EOF
LOOP=$(losetup --show --find --partscan "$IMG")
partx --add "$LOOP" 2>/dev/null || true
for n in 2 3 4; do
    for _ in $(seq 50); do [ -b "${LOOP}p$n" ] && break; sleep 0.1; done
    [ -b "${LOOP}p$n" ] || { echo "build-image: no ${LOOP}p$n: the kernel did not scan the partitions" >&2; exit 1; }
done
mkfs.vfat -F 32 -n KIOSK-EFI "${LOOP}p2" >/dev/null
mkfs.ext4 -q -L kiosk-root "${LOOP}p3"
mkfs.ext4 -q -L kiosk-data -m 0 "${LOOP}p4"

mount "${LOOP}p3" "$MNT"
mkdir -p "$MNT/var/lib/utility-kiosk" "$MNT/boot/efi"
mount "${LOOP}p4" "$MNT/var/lib/utility-kiosk"
# The ESP is written with mtools, unmounted: a build host's kernel may lack vfat.

step "debootstrap $SUITE (minbase) from $MIRROR"
debootstrap --variant=minbase --cache-dir="$DEBS" \
    --include=systemd-sysv,udev,dbus,kmod,ca-certificates "$SUITE" "$MNT" "$MIRROR" >"$OUT/debootstrap.log" 2>&1 \
    || { tail -30 "$OUT/debootstrap.log" >&2; exit 1; }

mount -t proc proc "$MNT/proc"
mount -t sysfs sysfs "$MNT/sys"
mount --rbind /dev "$MNT/dev"
mount -t tmpfs tmpfs "$MNT/run"
mkdir -p "$MNT/var/cache/apt/archives"
mount --bind "$DEBS" "$MNT/var/cache/apt/archives"
cp -L /etc/resolv.conf "$MNT/etc/resolv.conf"
# Nothing starts inside the build root.
printf '#!/bin/sh\nexit 101\n' > "$MNT/usr/sbin/policy-rc.d"
chmod 0755 "$MNT/usr/sbin/policy-rc.d"

cat > "$MNT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
cat > "$MNT/etc/fstab" <<'EOF'
# <file system>     <mount point>            <type> <options>                        <dump> <pass>
LABEL=kiosk-root    /                        ext4   defaults,errors=remount-ro       0      1
LABEL=KIOSK-EFI     /boot/efi                vfat   umask=0077,nofail                0      2
LABEL=kiosk-data    /var/lib/utility-kiosk   ext4   defaults,nosuid,nodev,noexec     0      2
EOF
echo kiosk > "$MNT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tkiosk\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$MNT/etc/hosts"
ln -sf "/usr/share/zoneinfo/$TIMEZONE" "$MNT/etc/localtime"
echo "$TIMEZONE" > "$MNT/etc/timezone"
# GRUB for both firmwares; the menu stays hidden (hold Shift or Esc to see it).
mkdir -p "$MNT/etc/default/grub.d"
cat > "$MNT/etc/default/grub.d/utility-kiosk.cfg" <<'EOF'
GRUB_TIMEOUT=0
GRUB_TIMEOUT_STYLE=hidden
GRUB_CMDLINE_LINUX_DEFAULT="quiet loglevel=3 vt.global_cursor_default=0"
GRUB_DISABLE_OS_PROBER=true
EOF
echo "grub-pc grub-pc/install_devices_empty boolean true" | in_root debconf-set-selections

step "kernel, GRUB, network and the kiosk package (apt, from $MIRROR)"
cp "$DEB" "$MNT/tmp/"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
    linux-image-amd64 initramfs-tools grub-pc grub-efi-amd64-bin \
    systemd-resolved systemd-timesyncd iproute2 zstd \
    "/tmp/$(basename "$DEB")" >"$OUT/apt.log" 2>&1 || { tail -40 "$OUT/apt.log" >&2; exit 1; }
rm "$MNT/tmp/$(basename "$DEB")"

step "system settings for a kiosk terminal"
cp -a "$PACKAGING/image/root/." "$MNT/"
# DHCP on every wired port; the billing system's name through systemd-resolved.
in_root systemctl enable systemd-networkd.service systemd-resolved.service systemd-timesyncd.service \
    utility-kiosk-import-config.service >/dev/null 2>&1
ln -sf /run/systemd/resolve/stub-resolv.conf "$MNT/etc/resolv.conf"
# No way out of the kiosk from its keyboard: no Ctrl+Alt+Del reboot (SysRq is
# off through sysctl.d); cage itself allows no VT switching.
in_root systemctl mask ctrl-alt-del.target >/dev/null 2>&1
in_root systemctl set-default graphical.target >/dev/null 2>&1
# Keep the journal on disk (the kiosk logs there) and bounded.
mkdir -p "$MNT/var/log/journal"
# The root account stays locked unless a password hash is given at build time.
if [ -n "${KIOSK_IMAGE_ROOT_PASSWORD_HASH:-}" ]; then
    in_root usermod --password "$KIOSK_IMAGE_ROOT_PASSWORD_HASH" root
fi

step "GRUB for BIOS and UEFI"
in_root update-grub >"$OUT/grub.log" 2>&1 || { cat "$OUT/grub.log" >&2; exit 1; }
# Without udev on the build host grub-mkconfig names the root by its build-time
# device; name it by file system UUID, as update-grub on the terminal will.
root_uuid=$(blkid -s UUID -o value "${LOOP}p3")
sed -i "s|root=${LOOP}p3|root=UUID=$root_uuid|g" "$MNT/boot/grub/grub.cfg"
if grep -q "$LOOP" "$MNT/boot/grub/grub.cfg"; then
    echo "build-image: grub.cfg still names $LOOP" >&2
    exit 1
fi
in_root grub-install --target=i386-pc --recheck "$LOOP" >>"$OUT/grub.log" 2>&1 || { cat "$OUT/grub.log" >&2; exit 1; }
# UEFI: a standalone GRUB (its modules inside) at the removable-media path, so
# no firmware boot entry is needed; it finds the root by label and reads the
# same grub.cfg as BIOS boot.
cat > "$MNT/tmp/grub-early.cfg" <<'EOF'
insmod part_gpt
insmod ext2
search --no-floppy --label kiosk-root --set=root
configfile ($root)/boot/grub/grub.cfg
EOF
in_root grub-mkstandalone -O x86_64-efi -o /tmp/BOOTX64.EFI "boot/grub/grub.cfg=/tmp/grub-early.cfg" \
    >>"$OUT/grub.log" 2>&1 || { cat "$OUT/grub.log" >&2; exit 1; }
cp -r "$MNT/usr/lib/grub/x86_64-efi" "$MNT/boot/grub/"
# (mtools warns that a loop device has no geometry: that goes to the log.)
{
    mmd -i "${LOOP}p2" ::/EFI ::/EFI/BOOT ::/utility-kiosk
    mcopy -i "${LOOP}p2" "$MNT/tmp/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
    mcopy -i "${LOOP}p2" "$PACKAGING/image/esp-README.txt" ::/utility-kiosk/README.txt
    mcopy -i "${LOOP}p2" "$MNT/etc/utility-kiosk/config.toml" ::/utility-kiosk/config.example.toml
} 2>>"$OUT/grub.log"

step "cleaning up the build root"
rm -f "$MNT/usr/sbin/policy-rc.d"
in_root apt-get clean
umount "$MNT/var/cache/apt/archives"
rm -rf "$MNT/var/lib/apt/lists/"* "$MNT/tmp/"*
# Every terminal gets its own machine id at first boot.
: > "$MNT/etc/machine-id"
rm -f "$MNT/var/lib/dbus/machine-id"
used_root=$(df -m --output=used "$MNT" | tail -1 | tr -d ' ')
cleanup
LOOP=""
trap - EXIT

step "compressing to $(basename "$IMG").zst for writing to disks"
zstd -q -T0 -9 -f "$IMG" -o "$IMG.zst"
step "done: $IMG ($(du -m --apparent-size "$IMG" | cut -f1) MiB, root file system uses ${used_root} MiB), \
$(basename "$IMG").zst $(du -m "$IMG.zst" | cut -f1) MiB"
