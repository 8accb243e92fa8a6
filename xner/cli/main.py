"""xner: cross-lingual NER transfer studies outside pytest. `xner run` fine-tunes and scores a
study, `xner check` checks one and lists its cases without training, `xner ls` lists the
built-in studies, `xner matrix` a transfer matrix, `xner slurm` a study on a cluster;
`report`, `merge`, `compare`, `diff`, `history`, `tolerances` and `expected` work on saved
runs (results.json). `xner COMMAND --help` for each."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from xner.cli import (
    check,
    compare,
    diff,
    expected,
    history,
    ls,
    matrix,
    merge,
    run,
    slurm,
    tolerances,
)
from xner.errors import XnerError
from xner.execution.options import cache_folder

# One module per subcommand, each with add_parser(commands) and the function that runs it.
COMMANDS = (run, check, ls, matrix, compare, diff, history, tolerances, merge, expected, slurm)
RUNS = {
    "run": run.run, "check": check.check, "ls": ls.ls, "matrix": matrix.matrix,
    "compare": compare.compare, "merge": merge.merge,
    "report": merge.merge, "expected": expected.print_expected,
    "tolerances": tolerances.print_tolerances, "slurm": slurm.slurm, "history": history.history,
    "diff": diff.diff,
}  # fmt: skip


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but a usage error is one line, as every other error of xner."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xner", description=__doc__)
    parser.add_argument("--version", action="version", version=f"xner {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def _version() -> str:
    from xner.results.records import versions

    return versions()["xner"]


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    # `xner slurm ... -- SBATCH_ARGS`: what follows `--` is sbatch's, not argparse's.
    after = argv.index("--") if argv[:1] == ["slurm"] and "--" in argv else len(argv)
    args = parser.parse_args(argv[:after])
    if after < len(argv):
        args.sbatch = argv[after + 1 :]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM as Ctrl-C: the workers are ended, the folder's lock released, one line said.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return RUNS[args.command](args)
    except (XnerError, OSError) as err:
        # Errors the user can act on (xner's own, and a file or disk the system refused):
        # one line. Anything else, a KeyError among them, is a bug: its traceback shows.
        print(f"xner: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        how = "SIGTERM" if err.args == ("SIGTERM",) else "Ctrl-C"
        kept = ""
        if args.command in ("run", "matrix"):
            cache = cache_folder(args.results, args.cache)
            kept = (
                f"; the configurations that finished are cached in {cache}/: the same "
                "command trains only what is missing"
            )
        print(f"xner: stopped by {how}{kept}", file=sys.stderr)
        return 143 if how == "SIGTERM" else 130


if __name__ == "__main__":
    sys.exit(main())
