#!/usr/bin/env bash
# Build a one-folder Linux bundle in dist/showdesk and pack it as a tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .build-venv
.build-venv/bin/pip install -q -e . pyinstaller
.build-venv/bin/pyinstaller --noconfirm --clean packaging/showdesk.spec
tar -C dist -czf "dist/showdesk-linux-$(uname -m).tar.gz" showdesk
echo "Built dist/showdesk-linux-$(uname -m).tar.gz"
