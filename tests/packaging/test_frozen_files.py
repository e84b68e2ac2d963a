"""The frozen builds' packaging files say what the platforms require (fast: no build).

The builds themselves are checked by .ci/smoke_frozen.sh (Linux, from .ci/run) and by the
Windows and macOS jobs of .github/workflows/build.yml.
"""

from __future__ import annotations

import configparser
import plistlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def test_macos_bundle_asks_for_the_camera():
    info = plistlib.loads((PACKAGING / "macos" / "Info.plist").read_bytes())
    assert "camera" in info["NSCameraUsageDescription"].lower()
    assert info["CFBundleIdentifier"] and info["CFBundleName"] == "Showdesk"
    entitlements = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    assert entitlements["com.apple.security.device.camera"] is True
    build = (PACKAGING / "build-macos.sh").read_text(encoding="utf-8")
    assert "--options runtime" in build and "entitlements.plist" in build


def test_linux_desktop_entry_and_icons():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(PACKAGING / "linux" / "showdesk.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Exec"] and desktop["Icon"] == "showdesk"
    assert desktop["Categories"].endswith(";")
    for icon in ("showdesk.svg", "showdesk.png", "showdesk.ico"):
        path = PACKAGING / "icons" / icon
        assert path.is_file() and path.stat().st_size < 64_000, icon


def test_spec_keeps_upx_off_and_bundles_the_data_folders():
    spec = (PACKAGING / "showdesk.spec").read_text(encoding="utf-8")
    assert not re.search(r"upx\s*=\s*True", spec)
    assert spec.count("upx=False") >= 2  # the executable and the collected binaries
    assert 'collect_submodules("app")' in spec
    assert "DATA_DIRS" in spec and "BUNDLED" in spec


def test_windows_installer_installs_the_bundle():
    iss = (PACKAGING / "windows" / "showdesk.iss").read_text(encoding="utf-8")
    assert "showdesk.exe" in iss and "recursesubdirs" in iss
    assert "showdesk.iss" in (PACKAGING / "build-windows.ps1").read_text(encoding="utf-8")


def test_every_os_is_built_and_smoke_tested():
    workflow = (ROOT / ".github" / "workflows" / "build.yml").read_text(encoding="utf-8")
    for runner in ("ubuntu-", "windows-", "macos-"):
        assert f"os: {runner}" in workflow
    assert workflow.count("packaging/smoke_bundle.py") >= 2  # Windows and macOS
    assert "bash .ci/smoke_frozen.sh" in workflow  # Linux, the same script as .ci/run
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("bash .ci/smoke_wheel.sh") for line in ci)
    # the frozen build runs beside the tests, and its result decides the run like theirs
    frozen = next(i for i, line in enumerate(ci) if "bash .ci/smoke_frozen.sh" in line)
    assert ci[frozen].rstrip().endswith("&") and ci[frozen + 1] == "FROZEN_PID=$!"
    assert 'wait "$FROZEN_PID" || FROZEN=$?' in ci
    assert ci[-1] == '[ "$TESTS" -eq 0 ] && [ "$FROZEN" -eq 0 ]'
