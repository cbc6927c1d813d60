"""``python3 -m contactsim export RUN.h5|ENSEMBLE.h5 -o FILE.csv|FILE.nc [--force] [--series NAME ...]``.

Exit codes follow the `contactsim` command's: 0 success, 2 bad input, 1 anything else (for
example an output file that exists without --force).
"""
from __future__ import annotations

import argparse
import sys

from .export import ExportError, export

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
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        written = export(args.source, args.output, force=args.force, series=args.series)
    except (ExportError, ValueError, FileNotFoundError) as error:  # ValueError: the readers' "not a contactsim output"
        print(f"error: {error}", file=sys.stderr)
        return BAD_INPUT
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return OTHER_ERROR
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
