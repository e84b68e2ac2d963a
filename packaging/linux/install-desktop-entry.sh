#!/usr/bin/env bash
# Adds Showdesk to this user's application menu, pointing at this unpacked folder:
#   ./showdesk/install-desktop-entry.sh          (again after moving the folder)
#   ./showdesk/install-desktop-entry.sh --remove
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
ENTRY="$DATA/applications/showdesk.desktop"
if [ "${1:-}" = --remove ]; then
    rm -f "$ENTRY" "$DATA/icons/hicolor/scalable/apps/showdesk.svg" \
        "$DATA/icons/hicolor/256x256/apps/showdesk.png"
    echo "Removed $ENTRY"
    exit 0
fi
mkdir -p "$DATA/applications" "$DATA/icons/hicolor/scalable/apps" "$DATA/icons/hicolor/256x256/apps"
cp "$HERE/share/icons/hicolor/scalable/apps/showdesk.svg" "$DATA/icons/hicolor/scalable/apps/"
cp "$HERE/share/icons/hicolor/256x256/apps/showdesk.png" "$DATA/icons/hicolor/256x256/apps/"
sed "s|^Exec=.*|Exec=\"$HERE/showdesk\"|" "$HERE/share/applications/showdesk.desktop" >"$ENTRY"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" || true
echo "Installed $ENTRY"
