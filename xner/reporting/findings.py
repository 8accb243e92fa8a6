"""The Findings section of tables.md and of the terminal: per finding its name, the sentence it
stands for, its verdict and the deciding difference with its 95% interval."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tabulate import tabulate

from xner.results.findings import Verdict, judge_all
from xner.results.records import Result
from xner.spec.claims import Finding


def verdicts(findings: Iterable[Finding], results: Sequence[Result]) -> list[Verdict]:
    """The verdicts of the findings whose study `results` has records of, judged from them."""
    return judge_all(findings, list(results))


def findings_section(judged: Sequence[Verdict], fmt: str = "github") -> str:
    """`### Findings` and its table; empty where there is no finding to show."""
    if not judged:
        return ""
    several = len({v.finding.study for v in judged}) > 1
    rows = [
        [
            str(v.finding) if several else v.finding.name,
            v.finding.says,
            v.verdict,
            str(v.deciding) if v.deciding else v.reason,
        ]
        for v in judged
    ]
    table = tabulate(rows, headers=["finding", "says", "verdict", "deciding difference"],
                     tablefmt=fmt, disable_numparse=True)  # fmt: skip
    return "### Findings\n\n" + table + "\n"


def findings_of(records: Iterable[dict]) -> list[Finding]:
    """The findings a results.json keeps (their claims and cells), each once: the same
    finding of two runs (shards) must say the same."""
    found: dict[tuple[str, str], Finding] = {}
    for record in records:
        finding = Finding.from_dict(record)
        key = (finding.study, finding.name)
        if key in found and found[key].claim != finding.claim:
            raise ValueError(
                f"finding {finding} has two claims: {found[key].claim!r} and {finding.claim!r}"
            )
        found.setdefault(key, finding)
    return list(found.values())
