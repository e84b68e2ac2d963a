"""`showdesk doctor [--json] [--report FILE]`: settings, secrets, camera, decoders, database,
backend, sound and logs; exit 0 when no check found a problem (warnings allowed), 1 when one
did or the report could not be written."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from app.cli.options import add_json
from app.cli.output import EXIT_FAILED, EXIT_OK, print_json

HELP = (
    "check settings, secrets, camera, decoders, database, backend, logs; exit 0 when nothing is a "
    "problem (warnings allowed), 1 when a check found a problem"
)

log = logging.getLogger("app.doctor")


def configure(p: argparse.ArgumentParser) -> None:
    add_json(p)
    p.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="also write a zip for support: versions, settings (secrets redacted), the last "
        "logs and crash traces, and these checks (default: no report)",
    )


def run(args: argparse.Namespace) -> int:
    from app.config import load_config
    from app.doctor import MARKS, PROBLEM, WARNING, checks_document, run_checks, write_report
    from app.errors import explain

    config = load_config()
    if getattr(args, "db", None):
        config.db = args.db
    results = run_checks(config)
    report_to = getattr(args, "report", None)
    report: Path | None = None
    report_error: str | None = None
    if report_to is not None:
        try:
            report = write_report(Path(report_to), config, results)
        except OSError as exc:
            report_error = f"The report could not be written to {report_to}: {explain(exc)}"
    problems = [c.name for c in results if c.status == PROBLEM]
    code = EXIT_FAILED if problems or report_error else EXIT_OK
    if getattr(args, "json", False):
        document = checks_document(config, results)
        if report_to is not None:
            document["report"] = str(report) if report else None
            document["report_error"] = report_error
        print_json(document, indent=2)
    else:
        for check in results:  # the settings' problems are the "settings" check's message
            print(f"{MARKS[check.status]} {check.name}: {check.message}")
        if report is not None:
            print(f"Report for support: {report} ({report.stat().st_size // 1024} kB)")
        if report_error:
            print(f"{MARKS[PROBLEM]} report: {report_error}")
    log.info(
        "doctor problems=%s warnings=%s report=%s",
        ",".join(problems) or "-",
        ",".join(c.name for c in results if c.status == WARNING) or "-",
        report or report_error or "-",
    )
    return code
