"""Fixtures for the package's tests: the .deb as `make deb` builds it, and fresh Debian 12 roots.

Building the package and a Debian root needs root (debootstrap, mount,
chroot) and network to PyPI and the Debian mirror the first time; both are
there in CI.  The roots are cached under build/debian-root (see debian_root.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from deb_archive import control_field
from debian_root import DebianRoot, fresh_root, run_host

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "build" / "debian-root"
DEB_BUILD_TIMEOUT_S = 1200


def needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("building and installing the .deb needs root (debootstrap, mount, chroot)")
    for tool in ("unshare", "dpkg-deb", "make"):
        if shutil.which(tool) is None:
            # As root these tests must run: a missing tool fails them, never skips them.
            pytest.fail(f"{tool} is missing on this machine: the .deb tests need it (make test installs it)")


@pytest.fixture(scope="session")
def deb(tmp_path_factory) -> Path:
    """utility-kiosk_<version>_amd64.deb, built now by `make deb`.

    Into this run's own folder (DIST=, see build-deb.sh), not dist/: another
    run or a developer's `make deb` may replace dist/'s file while this one
    is testing it.
    """
    needs_root()
    dist = tmp_path_factory.mktemp("dist")
    result = run_host(["make", "-C", str(REPO), "--no-print-directory", "deb"], "make deb",
                      timeout_s=DEB_BUILD_TIMEOUT_S, env={**os.environ, "DIST": str(dist)})
    built = sorted(dist.glob("utility-kiosk_*_amd64.deb"))
    assert len(built) == 1, f"make deb did not leave one utility-kiosk_*_amd64.deb in {dist}: {built}\n" \
                            f"{result.stdout[-3000:]}"
    return built[0]


@pytest.fixture(scope="session")
def depends(deb) -> str:
    return control_field(deb, "Depends")


@pytest.fixture(scope="module")
def installed_root(deb, depends, tmp_path_factory) -> tuple[DebianRoot, str]:
    """A fresh Debian 12 root (debootstrap + the package's Depends) with the .deb installed by dpkg -i."""
    root = fresh_root(CACHE, depends, tmp_path_factory.mktemp("installed-root"))
    output = root.install_deb(deb)
    yield root, output
    shutil.rmtree(root.upper.parent, ignore_errors=True)


@pytest.fixture
def empty_root(depends, tmp_path) -> DebianRoot:
    """A fresh Debian 12 root with the package's Depends and not the package."""
    root = fresh_root(CACHE, depends, tmp_path / "root")
    yield root
    shutil.rmtree(root.upper.parent, ignore_errors=True)
