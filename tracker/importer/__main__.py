"""`python -m tracker.importer PATH [--issuer-unit NAME]`: print the extraction as one JSON object."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tracker.importer.errors import DocumentError
from tracker.importer.pipeline import extract_plan


def main(argv: list[str] | None = None) -> int:
    """Run the dry-run extraction on one file; exit 2 with a Vietnamese message on bad input."""
    parser = argparse.ArgumentParser(prog="python -m tracker.importer", description=__doc__)
    parser.add_argument("path", help="plan document: .txt, .docx or .pdf")
    parser.add_argument("--issuer-unit", help="the issuing unit, used when the document does not name it")
    parser.add_argument("--max-bytes", type=int, default=20 * 1024 * 1024)
    args = parser.parse_args(argv)
    try:
        data = Path(args.path).read_bytes()
    except OSError as exc:
        print(f"Không đọc được tệp {args.path}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        result = extract_plan(data, Path(args.path).name, max_bytes=args.max_bytes, issuer_hint=args.issuer_unit)
    except DocumentError as exc:
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return 2
    json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
