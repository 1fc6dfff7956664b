"""The .deb as `make deb` builds it, installed with dpkg -i into a fresh Debian 12 root.

The root is debootstrap's bookworm plus the package's own Depends: line (see
debian_root.py); dpkg -i runs in a network namespace with no network, as in a
business hall.
"""

from __future__ import annotations

import subprocess

from deb_archive import control_field, repack_with_version


def test_package_is_named_for_its_version_and_architecture(deb):
    version = control_field(deb, "Version")
    assert deb.name == f"utility-kiosk_{version}_amd64.deb"
    assert control_field(deb, "Architecture") == "amd64"


def test_package_depends_on_debians_python_qts_libraries_the_font_the_compositor_and_pcscd(depends):
    relations = [relation.strip() for relation in depends.split(",")]
    for needed in ("python3 (>= 3.11)", "python3.11", "libegl1", "libxkbcommon0", "libwayland-client0",
                   "fonts-noto-cjk", "fonts-wqy-microhei", "cage", "xwayland", "seatd", "pcscd", "systemd"):
        assert needed in relations, f"Depends: lacks {needed}: {depends}"


def test_package_ships_the_venv_at_its_final_path_without_bytecode(deb):
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    paths = [line.split()[5] for line in listing.splitlines()]
    assert "./opt/utility-kiosk/bin/kiosk" in paths
    assert "./usr/lib/utility-kiosk/kiosk-session" in paths
    assert not [p for p in paths if "__pycache__" in p or p.endswith(".pyc")], "bytecode is postinst's job"
    script = subprocess.run(
        f"dpkg-deb --fsys-tarfile {deb} | tar -xOf - ./opt/utility-kiosk/bin/kiosk",
        shell=True, capture_output=True, text=True, check=True,
    ).stdout
    assert script.splitlines()[0] == "#!/opt/utility-kiosk/bin/python"


def test_package_bundles_pyscard_compiled_for_debians_python_3_11(deb, installed_root):
    """pyscard has no Linux wheel: make deb compiles it, and the card reader driver needs it."""
    paths = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True,
                           check=True).stdout
    assert "/site-packages/smartcard/scard/_scard.cpython-311-x86_64-linux-gnu.so" in paths
    root, _ = installed_root
    probe = root.run(["/opt/utility-kiosk/bin/python", "-c",
                      "import importlib.metadata as m, smartcard.scard; print(m.version('pyscard'))"],
                     "importing pyscard in the installed venv", offline=True)
    listed = root.read("/usr/share/doc/utility-kiosk/python-packages.txt").splitlines()
    assert f"pyscard=={probe.stdout.strip()}" in listed, listed


def test_package_installs_offline_into_a_fresh_debian_12_and_its_config_passes_check_config(installed_root):
    root, output = installed_root
    assert "Setting up utility-kiosk" in output
    check = root.run(["kiosk", "check-config", "/etc/utility-kiosk/config.toml"], "kiosk check-config")
    assert check.stdout.startswith("/etc/utility-kiosk/config.toml: ok")


def test_installed_venv_runs_on_debians_python_3_11_with_qt(installed_root):
    root, _ = installed_root
    probe = root.run(["/opt/utility-kiosk/bin/python", "-c",
                      "import sys, PySide6.QtWidgets; print(sys.prefix, sys.base_prefix, sys.version_info[:2])"],
                     "python of the installed venv")
    assert probe.stdout.split(None, 2) == ["/opt/utility-kiosk", "/usr", "(3, 11)\n"]


def test_unit_files_pass_systemd_analyze_verify(installed_root):
    root, _ = installed_root
    verify = root.run("systemd-analyze verify --man=no /lib/systemd/system/utility-kiosk.service",
                      "systemd-analyze verify", check=False)
    assert verify.returncode == 0, verify.stdout
    assert "utility-kiosk" not in verify.stdout, verify.stdout


def test_kiosk_user_is_in_the_device_groups_and_owns_a_private_data_folder(installed_root):
    root, _ = installed_root
    groups = root.run(["id", "-nG", "kiosk"], "id kiosk").stdout.split()
    assert {"kiosk", "dialout", "lp", "video", "render"} <= set(groups)
    folders = root.run(["stat", "-c", "%n %U %a", "/var/lib/utility-kiosk", "/var/log/utility-kiosk"], "stat").stdout
    assert folders.splitlines() == ["/var/lib/utility-kiosk kiosk 700", "/var/log/utility-kiosk kiosk 750"]


def test_kiosk_service_and_pcscd_socket_are_enabled(installed_root):
    root, _ = installed_root
    enabled = root.run(["systemctl", "is-enabled", "utility-kiosk.service", "pcscd.socket"], "systemctl is-enabled")
    assert enabled.stdout.split() == ["enabled", "enabled"]


def test_config_is_a_conffile_pointing_at_the_stable_device_names(installed_root):
    root, _ = installed_root
    conffiles = root.run(["dpkg-query", "-W", "-f=${Conffiles}", "utility-kiosk"], "dpkg-query").stdout
    assert "/etc/utility-kiosk/config.toml" in conffiles
    assert "/etc/udev/rules.d/70-utility-kiosk.rules" in conffiles
    config = root.read("/etc/utility-kiosk/config.toml")
    for line in ('acceptor = "/dev/kiosk-acceptor"', 'printer = "/dev/kiosk-printer"',
                 'dir = "/var/log/utility-kiosk"'):
        assert line in config.splitlines()
    rules = root.read("/etc/udev/rules.d/70-utility-kiosk.rules")
    assert 'SYMLINK+="kiosk-acceptor"' in rules and 'SYMLINK+="kiosk-printer"' in rules


def test_installed_kiosk_reaches_its_home_screen_inside_cage(installed_root):
    """The installed compositor and app, as the service runs them, on cage's headless backend."""
    root, _ = installed_root
    run = root.run(
        "install -d -m 0700 -o kiosk -g kiosk /run/kiosk-xdg && cd /var/lib/utility-kiosk && "
        "exec setpriv --reuid=kiosk --regid=kiosk --init-groups "
        "cage -- /opt/utility-kiosk/bin/kiosk run --config /etc/utility-kiosk/config.toml --exit-when-ready",
        "the kiosk under cage (headless)", timeout_s=120, check=False,
        env={"WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1",
             "XDG_RUNTIME_DIR": "/run/kiosk-xdg", "HOME": "/var/lib/utility-kiosk",
             "QT_QPA_PLATFORM": "wayland"},
    )
    assert run.returncode == 0 and "kiosk ready" in run.stdout, run.stdout[-4000:]


def test_service_stop_ends_the_kiosk_and_cage_exits_cleanly(installed_root):
    """The unit's ExecStop= (kiosk-stop), as systemd runs it, with cage as the main process.

    cage 0.1.4 itself aborts on SIGTERM (exit 134, wl_display_terminate
    assertion), which systemd's default stop would send it: kiosk-stop
    signals only the kiosk, and cage then ends by itself with 0.
    """
    root, _ = installed_root
    as_kiosk = "setpriv --reuid=kiosk --regid=kiosk --init-groups"
    run = root.run(
        "install -d -m 0700 -o kiosk -g kiosk /run/utility-kiosk && cd /var/lib/utility-kiosk && "
        f"{as_kiosk} /usr/lib/utility-kiosk/kiosk-compositor > /tmp/service.log 2>&1 & cage=$!; "
        "for i in $(seq 600); do grep -q 'home screen up' /tmp/service.log && break; sleep 0.1; done; "
        "test -s /run/utility-kiosk/kiosk.pid || echo 'no kiosk.pid'; "
        f"MAINPID=$cage {as_kiosk} /usr/lib/utility-kiosk/kiosk-stop; echo \"kiosk-stop exit $?\"; "
        "wait $cage; echo \"cage exit $?\"; cat /tmp/service.log",
        "starting the service's processes and stopping them with kiosk-stop", timeout_s=120, check=False,
        env={"WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1",
             "RUNTIME_DIRECTORY": "/run/utility-kiosk", "XDG_RUNTIME_DIR": "/run/utility-kiosk",
             "XDG_CACHE_HOME": "/var/cache/utility-kiosk", "KIOSK_CONFIG": "/etc/utility-kiosk/config.toml"},
    )
    out = run.stdout
    assert "home screen up" in out and "no kiosk.pid" not in out, out[-4000:]
    assert "kiosk-stop exit 0\ncage exit 0\n" in out, out[-4000:]


def test_upgrade_keeps_config_and_data_remove_keeps_data_and_purge_says_what_it_deletes(
    deb, empty_root, tmp_path
):
    root = empty_root
    root.install_deb(deb, "dpkg -i (first install)")
    root.run("sed -i 's/^id = \"KS-0001\"/id = \"KS-HALL-42\"/' /etc/utility-kiosk/config.toml && "
             "echo journal > /var/lib/utility-kiosk/journal.sqlite && echo line > /var/log/utility-kiosk/kiosk.log",
             "the installer's edit and the kiosk's data")

    newer = repack_with_version(deb, control_field(deb, "Version") + "+next1", tmp_path)
    upgrade = root.install_deb(newer, "dpkg -i (upgrade)")
    assert "Unpacking utility-kiosk" in upgrade and "over (" in upgrade, upgrade
    version = root.run(["dpkg-query", "-W", "-f=${Version}", "utility-kiosk"], "dpkg-query").stdout
    assert version.endswith("+next1")
    assert 'id = "KS-HALL-42"' in root.read("/etc/utility-kiosk/config.toml")
    assert root.read("/var/lib/utility-kiosk/journal.sqlite") == "journal\n"

    remove = root.run(["dpkg", "--remove", "utility-kiosk"], "dpkg --remove", offline=True).stdout
    assert "data in /var/lib/utility-kiosk are kept" in remove, remove
    assert root.exists("/var/lib/utility-kiosk/journal.sqlite")
    assert root.exists("/etc/utility-kiosk/config.toml")
    assert not root.exists("/opt/utility-kiosk/bin/kiosk")

    purge = root.run(["dpkg", "--purge", "utility-kiosk"], "dpkg --purge", offline=True).stdout
    assert "deleting the kiosk's data in /var/lib/utility-kiosk" in purge, purge
    for gone in ("/var/lib/utility-kiosk", "/var/log/utility-kiosk", "/etc/utility-kiosk"):
        assert not root.exists(gone), f"{gone} is still there after purge"


def test_every_compiled_module_and_the_qt_plugins_the_kiosk_loads_find_their_libraries(installed_root):
    """Depends: is complete: nothing the kiosk loads lacks a system library in a bare Debian 12."""
    root, _ = installed_root
    site = "/opt/utility-kiosk/lib/python3.11/site-packages"
    qt = f"{site}/PySide6/Qt/plugins"
    check = root.run(
        f"for f in $(find {site} -name '*.cpython-311-x86_64-linux-gnu.so') "
        + " ".join(f"{site}/PySide6/Qt{module}.abi3.so" for module in ("Core", "Gui", "Widgets", "Network", "DBus"))
        + " "
        + f"{qt}/platforms/libqwayland.so {qt}/platforms/libqoffscreen.so "
        f"{qt}/wayland-shell-integration/libxdg-shell.so {qt}/wayland-decoration-client/*.so; "
        "do test -e \"$f\" || echo \"$f: missing\"; ldd \"$f\" | grep 'not found' | sed \"s|^|$f: |\"; done",
        "ldd of the kiosk's compiled modules",
    )
    assert check.stdout == "", f"libraries missing from Depends:\n{check.stdout}"
