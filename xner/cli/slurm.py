"""`xner slurm STUDY --shards N [--cache DIR] [--out DIR] [--submit] [-- SBATCH_ARGS]`: the
scripts that run a study's shards as a Slurm array job and merge them once all are done.

xner schedules nothing itself: it writes four short scripts users can read and edit
(OUT/slurm/), and with `--submit` runs the submitting one. They avoid what a hand-written
recipe gets wrong: every path absolute, the interpreter and environment spelled out
(`--export=NONE`, so a task never depends on the submitting shell), `--no-progress` (no
carriage returns in the logs), `--cpus-per-task`, one cache shared by every task and
resubmission, the job ids from `sbatch --parsable`, the merge depending on the array with
`--kill-on-invalid-dep=yes` (a failed task cancels it instead of leaving it pending for
ever), and a resubmission script for the tasks that failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

# Variables a task takes from the submitting environment, written into the scripts as they
# were: where Python finds xner and the Hugging Face caches and settings.
CARRIED = re.compile(r"PYTHONPATH|VIRTUAL_ENV|(HF|HUGGINGFACE|TRANSFORMERS|XNER)_\w+")
# SBATCH options about a task's resources: the array's, not the merge's.
RESOURCES = re.compile(r"--(gres|gpus|gpu|mem|cpus|ntasks|nodes|constraint)|-[GcnN]")


def add_parser(commands) -> None:
    slurm = commands.add_parser(
        "slurm", usage="xner slurm STUDY --shards N [options] [-- SBATCH_ARGS]",
        help="write (and with --submit, submit) a Slurm array job of a study's shards "
        "and the job that merges them",
        description="Write OUT/slurm/{array.sbatch,merge.sbatch,submit.sh,resubmit.sh}: one "
        "array task per shard, all on one cache, then `xner merge` once every task succeeded. "
        "Arguments after `--` are sbatch options for the array (resource ones) and for both "
        "jobs (the others: --partition, --account, --time, ...).",
    )  # fmt: skip
    slurm.add_argument("study", metavar="STUDY", help="a built-in study or a study file (TOML)")
    slurm.add_argument("--shards", type=_count, required=True, metavar="N", help="array tasks")
    slurm.add_argument("--out", help="folder of the shards, the merge and the scripts "
                       "(default: runs/STUDY)")  # fmt: skip
    slurm.add_argument("--cache", metavar="DIR",
                       help="training cache shared by every task (default: OUT/cache); on a "
                       "filesystem every node sees")  # fmt: skip
    slurm.add_argument("--cpus-per-task", type=_count, default=4, metavar="N",
                       help="CPU cores of each array task (default 4)")  # fmt: skip
    slurm.add_argument("--strategy", action="append", metavar="NAME",
                       help="only this strategy of the study; repeatable")  # fmt: skip
    slurm.add_argument("--model", help="as `xner run --model`")
    slurm.add_argument("--data", help="as `xner run --data`")
    slurm.add_argument("--seeds", type=_seeds, metavar="S1,S2,...",
                       help="as `xner run --seeds`")  # fmt: skip
    slurm.add_argument("--submit", action="store_true",
                       help="submit them now (sbatch; prints the job ids)")  # fmt: skip
    slurm.set_defaults(sbatch=[])  # what follows `--` (xner.cli.main passes it on)


def _seeds(text: str) -> str:
    from xner.execution.flags import seed_list

    return ",".join(map(str, seed_list(text)))  # checked now, not in every task


def _count(text: str) -> int:
    from xner.execution.flags import at_least

    return at_least(1, "count")(text)


def slurm(args: argparse.Namespace) -> int:
    from xner.execution.options import cache_folder
    from xner.spec.study import load_study

    study = load_study(args.study, args.data).select(args.strategy)
    configs = sum(len(s.configs()) for s in study.strategies.values())
    if args.shards > configs:
        from xner.execution.flags import FlagError

        raise FlagError(
            f"--shards {args.shards}: {study.name} has {configs} training configurations; "
            f"use at most {configs} shards"
        )
    # A study file by its absolute path (the tasks may start elsewhere), a built-in by name.
    ref = study.ref if study.ref == study.name else str(Path(study.ref).resolve())
    out = Path(args.out or Path("runs") / study.name).resolve()
    cache = cache_folder(out, args.cache).resolve()
    folder = out / "slurm"
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    scripts = write_scripts(folder, ref, study.name, args, out, cache)
    if not args.submit:
        print(f"wrote {', '.join(p.name for p in scripts)} in {folder}/; submit with: "
              f"bash {folder / 'submit.sh'}")  # fmt: skip
        return 0
    try:
        done = subprocess.run(["bash", str(folder / "submit.sh")], text=True, check=False)
    except OSError as err:
        raise OSError(f"{folder / 'submit.sh'}: cannot run it ({err})") from None
    return done.returncode


def write_scripts(folder: Path, ref: str, name: str, args, out: Path, cache: Path) -> list[Path]:
    from xner.writer import write_atomic

    n = args.shards
    # sbatch's options, each with its value (`--time=1:00:00` or `-c 3`): one #SBATCH line.
    extra: list[str] = []
    for word in args.sbatch:
        if word.startswith("-") or not extra:
            extra.append(word)
        else:
            extra[-1] += f" {_q(word)}"
    shared = [option for option in extra if not RESOURCES.match(option)]
    run = [
        "run", ref, "--shard", Shell(f'"$SLURM_ARRAY_TASK_ID/{n}"'),
        "--out", Shell(f'{_q(out)}/shard-"$SLURM_ARRAY_TASK_ID"-of-{n}'), "--cache", str(cache),
        "--no-progress",
    ]  # fmt: skip
    for flag in ("model", "data"):
        if getattr(args, flag):
            run += [f"--{flag}", _absolute(getattr(args, flag))]
    for strategy in args.strategy or []:
        run += ["--strategy", strategy]
    if args.seeds:
        run += ["--seeds", args.seeds]
    files = {
        "array.sbatch": _job(
            f"xner-{name}", [f"--array=1-{n}", f"--cpus-per-task={args.cpus_per_task}",
                             f"--output={folder}/logs/shard-%a-of-{n}.out", *extra],
            f"# Shard $SLURM_ARRAY_TASK_ID of {n} of {name}: its trainings, each only if no task\n"
            "# has cached it yet (the cache is shared; a resubmitted task trains what is left).",
            run,
        ),
        "merge.sbatch": _job(
            f"xner-{name}-merge", ["--cpus-per-task=1", f"--output={folder}/logs/merge.out",
                                   *shared],
            f"# Every shard of {name} merged; refused, naming the missing shards, unless all\n"
            "# of them are there.",
            ["merge", Shell(f"{_q(out)}/shard-*-of-{n}/results.json"), "--out", f"{out}/merged"],
        ),
        "submit.sh": SUBMIT.format(folder=_q(folder), out=out, n=n),
        "resubmit.sh": RESUBMIT.format(folder=_q(folder)),
    }  # fmt: skip
    written = []
    for file, text in files.items():
        path = write_atomic(folder / file, text)
        path.chmod(0o755)
        written.append(path)
    return written


def _absolute(value: str) -> str:
    """A path that exists, absolute (the tasks may start elsewhere); a name as it is."""
    return str(Path(value).resolve()) if Path(value).exists() else value


def _option(option: str) -> str:
    """An #SBATCH option, its first word quoted (the value after a space already is)."""
    first, space, rest = option.partition(" ")
    return _q(first) + space + rest


class Shell(str):
    """A word of a script written as it is: `$SLURM_ARRAY_TASK_ID` or a glob for the shell."""


def _q(value) -> str:
    return shlex.quote(str(value))


def _job(name: str, options: list[str], comment: str, command: list[str]) -> str:
    """A batch script: its #SBATCH lines, the environment, the xner command."""
    sbatch = [f"--job-name={name}", "--export=NONE", *options]
    env = {key: value for key, value in sorted(os.environ.items()) if CARRIED.fullmatch(key)}
    path = [str(Path(sys.executable).parent), *os.environ.get("PATH", "").split(os.pathsep)]
    env["PATH"] = os.pathsep.join(dict.fromkeys(path))  # the interpreter's folder first
    words = [w if isinstance(w, Shell) else _q(w) for w in command]
    return (
        "#!/bin/bash\n"
        "# Written by `xner slurm`; edit freely.\n"
        + "".join(f"#SBATCH {_option(option)}\n" for option in sbatch)
        + f"{comment}\n"
        "set -euo pipefail\n"
        "# The environment, explicit (--export=NONE: nothing comes from the submitting shell).\n"
        + "".join(f"export {key}={_q(value)}\n" for key, value in env.items())
        + f"cd {_q(Path.cwd())}\n"
        + f"exec {_q(sys.executable)} -m xner.cli "
        + _lines(words)
        + "\n"
    )


def _lines(words: list[str]) -> str:
    """The command's words, an option and its value per line."""
    lines: list[list[str]] = [[]]
    for word in words:
        if word.startswith("--") and lines[-1]:
            lines.append([])
        lines[-1].append(word)
    return " \\\n    ".join(" ".join(line) for line in lines)


SUBMIT = """#!/bin/bash
# Written by `xner slurm`: submits the array, then the merge once every task succeeded.
set -euo pipefail
cd {folder}
array=$(sbatch --parsable array.sbatch)
array=${{array%%;*}}  # --parsable prints ID or ID;CLUSTER
merge=$(sbatch --parsable --dependency=afterok:$array --kill-on-invalid-dep=yes merge.sbatch)
merge=${{merge%%;*}}
echo "$array" > array.ids
echo "$merge" > merge.id
echo "xner slurm: array job $array ({n} shards), merge job $merge into {out}/merged/"
echo "xner slurm: if tasks fail or are cancelled (the merge is then cancelled too; its log"
echo "names the missing shards), resubmit them, e.g. tasks 2 and 4: bash {folder}/resubmit.sh 2,4"
"""

RESUBMIT = """#!/bin/bash
# Written by `xner slurm`: resubmit failed array tasks, and the merge after them.
# Usage: resubmit.sh INDICES   (sbatch --array syntax: 3, 1,3 or 2-4)
set -euo pipefail
cd {folder}
indices=${{1:?usage: resubmit.sh INDICES, the failed array tasks (e.g. 3, 1,3 or 2-4)}}
new=$(sbatch --parsable --array="$indices" array.sbatch)
new=${{new%%;*}}
# The merge waits for every earlier array job to end (any state: the merge itself checks
# that every shard is there) and for the resubmitted tasks to succeed.
dependency="afterany:$(paste -sd: array.ids),afterok:$new"
echo "$new" >> array.ids
merge=$(cat merge.id)
if [ "$(squeue -h -j "$merge" -o %T 2> /dev/null || true)" = PENDING ]; then
    scontrol update JobId="$merge" Dependency="$dependency"
    echo "xner slurm: tasks $indices resubmitted as job $new; merge job $merge now waits for it"
else
    merge=$(sbatch --parsable --dependency="$dependency" --kill-on-invalid-dep=yes merge.sbatch)
    merge=${{merge%%;*}}
    echo "$merge" > merge.id
    echo "xner slurm: tasks $indices resubmitted as job $new; new merge job $merge after it"
fi
"""
