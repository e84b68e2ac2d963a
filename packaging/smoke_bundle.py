"""Run the commands a user tries first against a frozen Showdesk, on any OS.

    python packaging/smoke_bundle.py path/to/showdesk[.exe] [--x11]

From an unrelated temporary folder, with a fresh home (HOME, XDG_*, APPDATA, LOCALAPPDATA)
and no SHOWDESK_* settings: `--help`, `demo`, `ticket-qr` of a ticket whose entry is open
now, `decode` of that PNG, `checkin` of the decoded code (admitted), `doctor --json` (a
failed check this machine cannot pass, such as no camera, is accepted when the database check
passed), `screenshot` (offscreen; with --x11 also under Xvfb with the X11 plugin) and
`bench lineup`. Standard library only, so any Python runs it: .ci/smoke_frozen.sh on Linux,
the Windows and macOS jobs of .github/workflows/build.yml. Exit 1 on the first failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


class Smoke:
    def __init__(self, exe: Path, work: Path) -> None:
        self.exe = exe
        self.work = work
        self.cwd = work / "elsewhere"
        self.cwd.mkdir()
        home = work / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWDESK_")}
        for k in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(k, None)
        if os.name == "posix":  # no virtual environment's bin/ on the way
            env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/opt/homebrew/bin"
        env.update(
            HOME=str(home),
            USERPROFILE=str(home),
            APPDATA=str(home / "AppData" / "Roaming"),
            LOCALAPPDATA=str(home / "AppData" / "Local"),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
            XDG_CACHE_HOME=str(home / ".cache"),
            QT_QPA_PLATFORM="offscreen",
            PYTHONIOENCODING="utf-8",
        )
        for folder in ("AppData/Roaming", "AppData/Local", ".config", ".cache"):
            (home / folder).mkdir(parents=True, exist_ok=True)
        self.env = env

    def run(self, name: str, *args: str, ok_codes=(0,), env=None, prefix=()) -> str:
        started = time.monotonic()
        out = subprocess.run(
            [*prefix, str(self.exe), *args],
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=600,
        )
        if out.returncode not in ok_codes:
            print(f"FAILED: {name}: exit {out.returncode}", file=sys.stderr)
            print(out.stdout[-4000:], out.stderr[-4000:], sep="\n", file=sys.stderr)
            sys.exit(1)
        extra = f", exit {out.returncode}" if out.returncode else ""
        print(f"  {name:14} ok ({time.monotonic() - started:.1f} s{extra})", flush=True)
        return out.stdout

    def json(self, name: str, *args: str, ok_codes=(0,)) -> dict:
        text = self.run(name, *args, "--json", ok_codes=ok_codes)
        try:
            return json.loads(text)
        except ValueError:
            sys.exit(f"FAILED: {name}: output is not JSON: {text[-2000:]}")


def expect(condition: bool, what: str) -> None:
    if not condition:
        sys.exit(f"FAILED: {what}")


def open_ticket(db: Path) -> tuple[str, str]:
    """A valid ticket whose entry window is open now, and a gate its type may enter by."""
    now = datetime.now(UTC)
    rows = sqlite3.connect(db).execute(
        "select t.ticket_number, y.allowed_gates, y.entry_starts_at, y.entry_ends_at"
        " from tickets t join ticket_types y on y.id = t.ticket_type_id"
        " where t.status = 'valid' order by t.ticket_number"
    )
    for number, gates, starts, ends in rows:
        if datetime.fromisoformat(starts) <= now <= datetime.fromisoformat(ends):
            return number, (json.loads(gates or "[]") or ["Main"])[0]
    sys.exit("FAILED: no ticket of the demo is open for entry now")


def shots(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*.png") if p.stat().st_size > 1024)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("exe", type=Path, help="the bundle's showdesk executable")
    parser.add_argument("--x11", action="store_true", help="also screenshot under xvfb-run")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    exe = args.exe.resolve()
    expect(exe.is_file(), f"{exe} does not exist")
    work = Path(tempfile.mkdtemp(prefix="showdesk-smoke-"))
    started = time.monotonic()
    try:
        s = Smoke(exe, work)
        db = work / "demo.sqlite"
        expect("usage: showdesk" in s.run("help", "--help"), "--help prints the usage")
        d = s.json("demo", "demo", "--db", str(db), "--tickets", "200")
        expect(d.get("tickets") == 200, f"demo made 200 tickets: {d}")
        number, gate = open_ticket(db)
        png = work / "ticket.png"
        s.json("ticket-qr", "ticket-qr", "--db", str(db), number, "--out", str(png))
        expect(png.is_file() and png.stat().st_size > 0, "ticket-qr wrote the PNG")
        d = s.json("decode", "decode", str(png))
        code = d["files"][0]["codes"][0]["text"]
        d = s.json("checkin", "checkin", "--db", str(db), "--code", code, "--gate", gate)
        expect(
            d.get("verdict") == "admitted" and d.get("ticket_number") == number,
            f"checkin admitted ticket {number}: {d}",
        )
        s.env["SHOWDESK_DB"] = str(db)
        d = s.json("doctor", "doctor", ok_codes=(0, 1))
        del s.env["SHOWDESK_DB"]
        checks = {c["name"]: c["status"] for c in d["checks"]}
        print("    " + ", ".join(f"{k} {v}" for k, v in checks.items()))
        expect(checks.get("database") == "ok", "doctor: the database check passed")
        # The app's own replica, in its data folder: encrypted (SQLCipher, the key in the
        # secrets file, as there is no keyring here), its staff PINs Argon2 hashes.
        d = s.json("demo-encrypted", "demo", "--tickets", "50")
        expect(d.get("tickets") == 50, f"demo made 50 tickets in the data folder: {d}")
        d = s.json("doctor-encrypted", "doctor", ok_codes=(0, 1))
        [database] = [c for c in d["checks"] if c["name"] == "database"]
        expect(
            database["status"] == "ok" and database["details"].get("encrypted") is True,
            f"doctor: the data folder's replica is encrypted: {database}",
        )
        s.run("screenshot", "screenshot", "--out", str(work / "shots"))
        count = shots(work / "shots")
        expect(count >= 5, f"screenshot wrote {count} PNGs, expected at least 5")
        if args.x11:
            expect(shutil.which("xvfb-run") is not None, "--x11 needs xvfb-run")
            s.run(
                "screenshot-x11",
                "screenshot",
                "--out",
                str(work / "shots-x11"),
                env={"QT_QPA_PLATFORM": "xcb"},
                prefix=("xvfb-run", "-a", "-s", "-screen 0 1280x800x24"),
            )
            expect(shots(work / "shots-x11") >= 5, "screenshots under X11")
        d = s.json("bench-lineup", "bench", "lineup", "--looks", "50", "--moves", "200")
        expect(d.get("looks") == 50, f"bench lineup ran 50 looks: {d}")
        print(f"bundle smoke test passed: {count} screenshots, {time.monotonic() - started:.0f} s")
    finally:
        if args.keep:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
