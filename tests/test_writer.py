"""xner's one writer: every file a run leaves goes through xner.writer, atomically."""

import ast
from pathlib import Path

import pytest

import xner
from xner.writer import OutputError, write_atomic, write_json

PACKAGE = Path(xner.__file__).parent
WRITE_MODES = set("wax+")


def _writes(tree: ast.AST) -> list[int]:
    """Lines of `tree` that open a file for writing or write one directly."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in ("write_text", "write_bytes", "savefig", "dump") and not (
            name == "dump" and isinstance(func, ast.Attribute) and _is_stdout(node)
        ):
            lines.append(node.lineno)
        elif name == "open":
            modes = [a for a in node.args if isinstance(a, ast.Constant)] + [
                k.value for k in node.keywords if k.arg == "mode"
            ]
            if any(isinstance(m, ast.Constant) and WRITE_MODES & set(str(m.value)) for m in modes):
                lines.append(node.lineno)
    return lines


def _is_stdout(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Attribute) and a.attr == "stdout" for a in call.args)


def test_no_module_but_the_writer_writes_a_file():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "writer.py":
            continue
        for line in _writes(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(PACKAGE)}:{line}")
    assert offenders == [], "write through xner.writer instead"


def test_the_scan_sees_each_way_of_writing():
    """The scan above must be able to fail: each of these is one write it has to find."""
    source = (
        "open(p, 'w')\nopen(p, mode='a')\np.open('wb')\np.write_text('x')\n"
        "p.write_bytes(b'')\nfig.savefig(p)\njson.dump(x, f)\nopen(p)\nopen(p, 'rb')\n"
    )
    assert _writes(ast.parse(source)) == [1, 2, 3, 4, 5, 6, 7]


def test_a_failed_write_is_one_error_naming_the_file_and_leaves_the_old_one(tmp_path):
    target = tmp_path / "results.json"
    write_json(target, {"old": True})
    blocked = tmp_path / "tables.md"
    blocked.mkdir()  # a folder in the way: the rename onto it fails
    with pytest.raises(OutputError, match=r"tables\.md: cannot write \("):
        write_atomic(blocked, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json", "tables.md"]
    assert target.read_text() == '{\n  "old": true\n}\n'
