"""xner: cross-lingual NER transfer studies outside pytest. `xner run` fine-tunes and scores a
study, `xner matrix` a transfer matrix; `report`, `merge`, `compare`, `diff`, `history`,
`tolerances` and `expected` work on saved runs (results.json). `xner COMMAND --help` for each."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from xner.cli import compare, diff, expected, history, matrix, merge, run, slurm, tolerances
from xner.data.hub import HubUnreachableError
from xner.execution.jobs import WorkerError

# One module per subcommand, each with add_parser(commands) and the function that runs it.
COMMANDS = (run, matrix, compare, diff, history, tolerances, merge, expected, slurm)
RUNS = {
    "run": run.run, "matrix": matrix.matrix, "compare": compare.compare, "merge": merge.merge,
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
    seeds = getattr(args, "seed", None) or []
    if len(set(seeds)) < len(seeds):
        repeated = sorted({s for s in seeds if seeds.count(s) > 1})
        twice = ", ".join(map(str, repeated))
        print(
            f"xner {args.command}: error: argument --seed: each seed once, got {twice} twice "
            f"(see `xner {args.command} --help`)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM as Ctrl-C: the workers are ended, the folder's lock released, one line said.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return RUNS[args.command](args)
    except (HubUnreachableError, WorkerError, OSError, ValueError, KeyError) as err:
        # Errors the user can act on: one line, not a traceback.
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"xner: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        how = "SIGTERM" if err.args == ("SIGTERM",) else "Ctrl-C"
        kept = ""
        if args.command in ("run", "matrix"):
            kept = (
                f"; the configurations that finished are cached in {args.out}/cache/: the "
                "same command trains only what is missing"
            )
        print(f"xner: stopped by {how}{kept}", file=sys.stderr)
        return 143 if how == "SIGTERM" else 130


if __name__ == "__main__":
    sys.exit(main())
