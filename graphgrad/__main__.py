"""Command line: `graphgrad demo`, `graphgrad render`, `graphgrad inspect`.

Each subcommand lives in its own module under `graphgrad.cli` and is imported only when used, so
`graphgrad --help` stays fast and a missing optional dependency breaks only its own subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "demo": "graphgrad.cli.demo",
    "render": "graphgrad.cli.render",
    "inspect": "graphgrad.cli.inspect",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="graphgrad", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMANDS.values():
        importlib.import_module(module_name).add_parser(subparsers)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
