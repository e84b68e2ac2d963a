#!/usr/bin/env bash
# Build the one-folder Linux bundle (PyInstaller, packaging/showdesk.spec) and pack it as
# dist/showdesk-linux-<arch>.tar.xz, with the desktop entry and icon inside.
#
#   bash packaging/build-linux.sh
#
# PYTHON: an environment's python that has the project and PyInstaller installed (default: a
# fresh .build-venv with `pip install . pyinstaller`); DIST: where the bundle and the archive
# go (default dist/); WORK: PyInstaller's work folder (default build/pyinstaller).
# SHOWDESK_TRIM is passed to the spec (see its header). Needs binutils, icu-devtools and a C
# compiler for the spec's ICU step (Debian: apt-get install binutils icu-devtools gcc xz-utils).
# Packed with xz: 114 MB where gzip gives 157 MB, ~110 s on 2 cores (~200 s on one).
# XZ_LEVEL (default -6) and XZ_THREADS (default 0: every core) change that.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIST="${DIST:-$ROOT/dist}"
WORK="${WORK:-$ROOT/build/pyinstaller}"
ARCH="$(uname -m)"
ARCHIVE="$DIST/showdesk-linux-$ARCH.tar.xz"

if [ -z "${PYTHON:-}" ]; then
    python3 -m venv "$ROOT/.build-venv"
    "$ROOT/.build-venv/bin/python" -m pip install -q --upgrade pip
    "$ROOT/.build-venv/bin/python" -m pip install -q "$ROOT" pyinstaller
    PYTHON="$ROOT/.build-venv/bin/python"
fi

started=$SECONDS
# From the root: the spec finds the sources from its own path and imports the environment's
# installed `app` (editable or not) only to read the demo's locales.
(cd "$ROOT" && "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" packaging/showdesk.spec)
BUNDLE="$DIST/showdesk"
built=$SECONDS

# Desktop integration beside the executable: the entry, the icons, and a script that
# installs both for the current user with this folder's absolute path.
mkdir -p "$BUNDLE/share/applications" "$BUNDLE/share/icons/hicolor/scalable/apps" \
    "$BUNDLE/share/icons/hicolor/256x256/apps"
cp "$ROOT/packaging/linux/showdesk.desktop" "$BUNDLE/share/applications/"
cp "$ROOT/packaging/icons/showdesk.svg" "$BUNDLE/share/icons/hicolor/scalable/apps/"
cp "$ROOT/packaging/icons/showdesk.png" "$BUNDLE/share/icons/hicolor/256x256/apps/"
install -m 755 "$ROOT/packaging/linux/install-desktop-entry.sh" "$BUNDLE/"

rm -f "$ARCHIVE"
tar -C "$DIST" --owner=0 --group=0 --numeric-owner -cf - showdesk |
    xz "${XZ_LEVEL:--6}" -T "${XZ_THREADS:-0}" >"$ARCHIVE"
echo "Built $ARCHIVE: $(du -sm "$BUNDLE" | cut -f1) MB unpacked," \
    "$(stat -c %s "$ARCHIVE" | awk '{printf "%.1f", $1 / 1e6}') MB packed;" \
    "PyInstaller $((built - started)) s, packing $((SECONDS - built)) s"
