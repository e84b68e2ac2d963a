"""packaging/icu_trim.py: Qt's ICU data rebuilt smaller still answers what Qt asks of it.

The trimmed library is preloaded into a fresh Python (same soname: the dynamic loader uses it
for Qt's libicudata) and Qt's ICU users are called: collation, case mapping, the East Asian and
Windows codecs, text breaking, time zones, number formats. Each answer must equal the full
library's; only the list of available codecs is shorter.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICU_TRIM = runpy.run_path(str(ROOT / "packaging" / "icu_trim.py"))

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Qt links ICU on Linux only"
)

PROBE = r"""
import functools
import json

from PySide6.QtCore import (
    QCollator, QDateTime, QLocale, QStringDecoder, QTextBoundaryFinder, QTimeZone,
)

out = {}
names = ["Zoë", "zoe", "Émile", "emile", "Åsa", "Ozan", "ßtraße"]
collator = QCollator(QLocale("en_US"))
out["collated"] = sorted(names, key=functools.cmp_to_key(collator.compare))
out["upper"] = [QLocale("en_US").toUpper("straße"), QLocale("tr_TR").toUpper("istanbul")]
out["codecs"] = {
    name: QStringDecoder(name).isValid()
    for name in ("Shift_JIS", "EUC-JP", "GB2312", "GBK", "GB18030", "Big5", "EUC-KR",
                 "windows-1252", "ISO-8859-2")
}
finder = QTextBoundaryFinder(
    QTextBoundaryFinder.BoundaryType.Word, "Doors open at 19:30, bonne soirée"
)
breaks = []
while (pos := finder.toNextBoundary()) != -1:
    breaks.append(pos)
out["breaks"] = breaks
epoch = QDateTime.fromSecsSinceEpoch(0)
out["zones"] = [QTimeZone(name).offsetFromUtc(epoch) for name in (b"Europe/Paris", b"Asia/Tokyo")]
out["number"] = QLocale("en_US").toString(1234567.5, "f", 1)
out["available"] = len(QStringDecoder.availableCodecs())
print(json.dumps(out))
"""


def _probe(preload: Path | None) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if preload is not None:
        env["LD_PRELOAD"] = str(preload)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_trimmed_icu_data_answers_like_the_full_one(tmp_path: Path) -> None:
    missing = ICU_TRIM["missing_tools"]()
    if missing and os.environ.get("CI") != "true":
        pytest.skip(f"needs {', '.join(missing)} (CI installs them)")
    import PySide6

    full = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    trimmed = ICU_TRIM["trim"](full, tmp_path)
    assert trimmed.name == full.name
    assert trimmed.stat().st_size < full.stat().st_size / 5

    before, after = _probe(None), _probe(trimmed)
    assert after.pop("available") < before.pop("available")
    assert after == before
    assert all(after["codecs"].values())
