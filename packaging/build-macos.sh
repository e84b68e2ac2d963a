#!/usr/bin/env bash
# Build Showdesk.app for macOS (PyInstaller, packaging/showdesk.spec), sign it with the
# hardened runtime and packaging/macos/entitlements.plist, optionally notarize it, and pack
# it as a .dmg and a .zip. Written for the macOS job of .github/workflows/build.yml; not run
# in .ci/run (Linux only).
#
#   bash packaging/build-macos.sh
#
# PYTHON: an environment's python with the project and PyInstaller (default: a fresh
# .build-venv). SHOWDESK_CODESIGN_IDENTITY: a "Developer ID Application: ..." identity in the
# keychain (default: ad-hoc signature "-", which runs on the build machine and, after the
# quarantine flag is removed, on others). NOTARY_PROFILE: a `xcrun notarytool
# store-credentials` profile; when set, the .dmg is notarized and stapled.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIST="${DIST:-$ROOT/dist}"
WORK="${WORK:-$ROOT/build/pyinstaller}"
ARCH="$(uname -m)"
IDENTITY="${SHOWDESK_CODESIGN_IDENTITY:--}"
ENTITLEMENTS="$ROOT/packaging/macos/entitlements.plist"

if [ -z "${PYTHON:-}" ]; then
    python3 -m venv "$ROOT/.build-venv"
    "$ROOT/.build-venv/bin/python" -m pip install -q --upgrade pip
    "$ROOT/.build-venv/bin/python" -m pip install -q "$ROOT" pyinstaller
    PYTHON="$ROOT/.build-venv/bin/python"
fi

started=$SECONDS
# The spec signs every binary inside with the identity (PyInstaller's codesign_identity).
(cd "$ROOT" && SHOWDESK_CODESIGN_IDENTITY="$IDENTITY" "$PYTHON" -m PyInstaller --noconfirm \
    --clean --log-level WARN --distpath "$DIST" --workpath "$WORK" packaging/showdesk.spec)
APP="$DIST/Showdesk.app"

# The app itself last, with the hardened runtime (notarization requires it) and the camera
# entitlement; --timestamp only with a real identity.
TIMESTAMP=()
[ "$IDENTITY" = "-" ] || TIMESTAMP=(--timestamp)
codesign --force --options runtime ${TIMESTAMP[@]+"${TIMESTAMP[@]}"} --entitlements "$ENTITLEMENTS" \
    --sign "$IDENTITY" "$APP"
codesign --verify --deep --strict --verbose=2 "$APP"
codesign --display --entitlements - "$APP" | grep -q com.apple.security.device.camera
plutil -extract NSCameraUsageDescription raw "$APP/Contents/Info.plist" >/dev/null

DMG="$DIST/showdesk-macos-$ARCH.dmg"
ZIP="$DIST/showdesk-macos-$ARCH.zip"
rm -f "$DMG" "$ZIP"
hdiutil create -volname Showdesk -srcfolder "$APP" -ov -format UDZO "$DMG" >/dev/null
if [ "$IDENTITY" != "-" ]; then
    codesign --force --timestamp --sign "$IDENTITY" "$DMG"
fi
if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$APP"
    xcrun stapler staple "$DMG"
fi
ditto -c -k --keepParent "$APP" "$ZIP"
echo "Built $APP, $DMG ($(du -m "$DMG" | cut -f1) MB) and $ZIP in $((SECONDS - started)) s"
