"""``python3 -m contactsim export|report ...``: the contactsim tools that need Python.

    export RUN.h5|ENSEMBLE.h5 -o FILE.csv|FILE.nc [--force] [--series NAME ...]
    report RUN.h5|ENSEMBLE.h5 -o FILE.html [--force]

Exit codes follow the `contactsim` command's: 0 success, 2 bad input, 1 anything else (for
example an output file that exists without --force). The C++ `contactsim export|report`
forwards here.
"""
from __future__ import annotations

import argparse
import os
import sys

BAD_INPUT, OTHER_ERROR = 2, 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m contactsim", description="contactsim tools that need Python")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="a run or an ensemble as a long CSV (one row per value) for R or Stata")
    export.add_argument("source", help="a run's output (.h5) or an ensemble's ensemble.h5")
    export.add_argument("-o", "--output", required=True,
                        help="the file to write: CSV, or netCDF-4 with CF time when it ends in .nc")
    export.add_argument("--force", action="store_true", help="overwrite an existing output file")
    export.add_argument("--series", nargs="+", metavar="NAME", help="only these series (default: all)")
    report = commands.add_parser("report", help="a run or an ensemble as one self-contained HTML page with figures")
    report.add_argument("source", help="a run's output (.h5) or an ensemble's ensemble.h5")
    report.add_argument("-o", "--output", required=True, help="the HTML file to write")
    report.add_argument("--force", action="store_true", help="overwrite an existing output file")
    return parser


def _run(args) -> str:
    if args.command == "export":
        from .export import export

        return export(args.source, args.output, force=args.force, series=args.series)
    # Figures are drawn to files only: no window, whatever the machine's default backend.
    os.environ.setdefault("MPLBACKEND", "Agg")
    from .report import report

    return report(args.source, args.output, force=args.force)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        written = _run(args)
    except (ValueError, FileNotFoundError) as error:  # ExportError, ReportError, the readers' "not a contactsim output"
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return OTHER_ERROR
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
