"""A fresh Debian 12 root for installing the package into, without containers.

Three overlayfs layers, each a plain folder under ``build/debian-root`` (git
ignores ``build/``), so that only the first run downloads anything:

1. ``base-bookworm``: ``debootstrap --variant=minbase``; its .deb files are
   kept in ``debs/`` (``--cache-dir``) for the next bootstrap.
2. ``deps-<hash>``: what ``apt-get satisfy`` installs for the package's
   ``Depends:`` line; the hash of that line names it, so a new dependency
   makes a new layer (older ones are deleted).
3. a layer per test, thrown away after it: the package is installed there.

Every command runs in a private mount namespace (``unshare --mount``) that
mounts the layers, /proc, /sys and /dev and then ``chroot``s: nothing stays
mounted when a test ends or is killed.  ``offline=True`` adds a network
namespace with no interfaces up, proving a step needs no network.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

SUITE = "bookworm"
MIRROR = os.environ.get("KIOSK_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get("KIOSK_DEBIAN_SECURITY_MIRROR", "http://deb.debian.org/debian-security")
STALE_LAYER_S = 6 * 3600
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class DebianRootError(AssertionError):
    """A step of preparing or using the root failed; the message says which and shows its output."""


def run_host(command: list[str], what: str, timeout_s: float, **kwargs) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace", timeout=timeout_s, **kwargs)
    except subprocess.TimeoutExpired as exc:
        output = exc.output.decode(errors="replace") if isinstance(exc.output, bytes) else (exc.output or "")
        raise DebianRootError(f"{what}: no result within {timeout_s:.0f} s\n{output[-4000:]}") from None
    if result.returncode != 0:
        raise DebianRootError(f"{what}: exit {result.returncode}\n$ {shlex.join(command)}\n{result.stdout[-6000:]}")
    return result


class DebianRoot:
    """A root made of overlay layers (lowest last), with ``upper`` taking this root's writes."""

    def __init__(self, lowers: list[Path], upper: Path) -> None:
        self.lowers = lowers
        self.upper = upper / "upper"
        self.work = upper / "work"
        self.merged = upper / "merged"
        for folder in (self.upper, self.work, self.merged):
            folder.mkdir(parents=True, exist_ok=True)

    def mount_script(self, binds: dict[str, Path] | None = None) -> str:
        m = shlex.quote(str(self.merged))
        lowers = ":".join(str(p) for p in self.lowers)
        lines = [
            "set -e",
            f"mount -t overlay overlay -o lowerdir={shlex.quote(lowers)},upperdir={shlex.quote(str(self.upper))},"
            f"workdir={shlex.quote(str(self.work))} {m}",
            f"mount -t proc proc {m}/proc",
            f"mount -t sysfs sysfs {m}/sys",
            f"mount --rbind /dev {m}/dev",
            f"mount -t tmpfs -o mode=0755 tmpfs {m}/run",
            f"mount -t tmpfs -o mode=1777 tmpfs {m}/tmp",
        ]
        for inside, outside in (binds or {}).items():
            target = f"{m}{shlex.quote(inside)}"
            make = f"mkdir -p {target}" if outside.is_dir() else f"[ -e {target} ] || touch {target}"
            lines += [make, f"mount --bind {shlex.quote(str(outside))} {target}"]
        return "\n".join(lines)

    def run(self, command: list[str] | str, what: str, timeout_s: float = 300, offline: bool = False,
            binds: dict[str, Path] | None = None, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        """Run ``command`` (a list, or a shell line for sh -c) as root inside this root."""
        argv = command if isinstance(command, list) else ["sh", "-c", command]
        environ = {"PATH": CHROOT_PATH, "LANG": "C.UTF-8", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive",
                   **(env or {})}
        inner = (self.mount_script(binds) + "\n"
                 + f"exec chroot {shlex.quote(str(self.merged))} env -i "
                 + " ".join(shlex.quote(f"{k}={v}") for k, v in environ.items()) + " " + shlex.join(argv))
        unshare = ["unshare", "--mount", "--propagation", "private"] + (["--net"] if offline else [])
        if check:
            return run_host(unshare + ["sh", "-c", inner], what, timeout_s, stdin=subprocess.DEVNULL)
        try:
            return subprocess.run(unshare + ["sh", "-c", inner], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, errors="replace", timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise DebianRootError(f"{what}: no result within {timeout_s:.0f} s") from None

    def exists(self, inside: str) -> bool:
        return self.run(["test", "-e", inside], f"test -e {inside}", check=False).returncode == 0

    def read(self, inside: str) -> str:
        return self.run(["cat", inside], f"reading {inside}").stdout

    def install_deb(self, deb: Path, what: str = "dpkg -i") -> str:
        """dpkg -i with no network at all (a business hall has none); returns dpkg's output."""
        return self.run(["dpkg", "-i", f"/mnt/dist/{deb.name}"], what, timeout_s=600, offline=True,
                        binds={"/mnt/dist": deb.parent}).stdout


def _sources_list() -> str:
    return (f"deb {MIRROR} {SUITE} main\n"
            f"deb {MIRROR} {SUITE}-updates main\n"
            f"deb {SECURITY_MIRROR} {SUITE}-security main\n")


def base_layer(cache: Path) -> Path:
    """``debootstrap --variant=minbase bookworm``, made once and kept."""
    cache = cache.resolve()  # debootstrap wants absolute paths
    done = cache / f"base-{SUITE}"
    if (done / ".complete").exists():
        return done
    if shutil.which("debootstrap") is None:
        raise DebianRootError("debootstrap is not installed: apt-get install debootstrap (make deb-tools does)")
    partial = cache / f"base-{SUITE}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(done, ignore_errors=True)
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    run_host(["debootstrap", "--variant=minbase", f"--cache-dir={debs}", SUITE, str(partial), MIRROR],
             f"debootstrap {SUITE} from {MIRROR}", timeout_s=1500)
    (partial / "etc/apt/sources.list").write_text(_sources_list())
    # No daemon starts inside the root (invoke-rc.d and deb-systemd-invoke ask this).
    policy = partial / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    (partial / ".complete").touch()
    partial.rename(done)
    return done


def deps_layer(cache: Path, base: Path, depends: str) -> Path:
    """The package's dependencies installed with apt on top of ``base``; kept per Depends line."""
    key = hashlib.sha256(f"{SUITE} {MIRROR} {depends}".encode()).hexdigest()[:12]
    done = cache / f"deps-{key}"
    if (done / "upper" / ".complete").exists():
        os.utime(done)  # in use: the sweep below goes by the time of last use
        return done / "upper"
    partial = cache / f"deps-{key}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    root = DebianRoot([base], partial)
    resolv = Path("/etc/resolv.conf").resolve()
    binds = {"/var/cache/apt/archives": cache / "debs", "/etc/resolv.conf": resolv}
    (root.upper / "etc").mkdir(exist_ok=True)
    root.run("apt-get update -qq", "apt-get update in the Debian root", timeout_s=900, binds=binds)
    root.run(["apt-get", "satisfy", "-y", "-qq", "--no-install-recommends", "-o", "Dpkg::Use-Pty=0", depends],
             "installing the package's Depends: with apt-get satisfy", timeout_s=1800, binds=binds)
    # Layers of older Depends: lines go, once no run can still be using them
    # (each use refreshes a layer's mtime, under the lock in fresh_root).
    for stale in cache.glob("deps-*"):
        if stale != partial and time.time() - stale.stat().st_mtime > STALE_LAYER_S:
            shutil.rmtree(stale, ignore_errors=True)
    shutil.rmtree(root.work, ignore_errors=True)
    shutil.rmtree(root.merged, ignore_errors=True)
    (root.upper / ".complete").touch()
    partial.rename(done)
    return done / "upper"


def fresh_root(cache: Path, depends: str, scratch: Path) -> DebianRoot:
    """A root with the package's dependencies installed and nothing else, writing to ``scratch``."""
    cache = cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    # Two test runs in one work tree take turns at building the shared layers.
    # Without this lock both built deps-<key>.partial at once, each deleting
    # the other's files: "dpkg: error: failed to remove my own update file
    # /var/lib/dpkg/updates/0000" inside apt-get satisfy (reproduced).
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        base = base_layer(cache)
        deps = deps_layer(cache, base, depends)
    return DebianRoot([deps, base], scratch)
