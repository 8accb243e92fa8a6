"""pytest-xdist: hand out a training configuration's cases together, and take the results
folder on the controller once the workers have collected."""

from __future__ import annotations

import re

import pytest

from xner.plugin.session import STATE, XnerSession


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With -n (xdist's `load` or `loadgroup`), hand out work a training configuration at a
    time: its cases stay on one worker, so it trains once, and configurations go out in
    collection order, which xner sorts longest first.

    xdist's own `loadgroup` would group by `xdist_group` marks, but it does so by editing node
    ids, which pytest 9.2 no longer lets it do (pytest-xdist issue 1386): the cases were
    silently scattered and every worker trained every configuration. The scope here comes from
    the case id itself (`test_full[smoke-all->de]` is in `test_full[smoke-all]`).
    """
    if config.option.dist not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ConfigurationScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return configuration_scope(nodeid)

    config.option.loadscopereorder = False  # keep xner's order, not largest group first
    return ConfigurationScheduling(config, log)


def configuration_scope(nodeid: str) -> str:
    """A benchmark case's node id without its evaluation language; any other test's node id."""
    head, bracket, params = nodeid.partition("[")
    if not bracket or "->" not in params:
        return nodeid
    return head + bracket + re.sub(r"->[^\]\-]+", "", params)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """Under -n the controller collects nothing itself: it takes the results folder as soon
    as a worker has collected benchmark cases, before any case is handed out to run."""
    state = node.config.stash[STATE]
    if state.lock is None and _has_cases(state, ids):
        state.hold_folder()


def _has_cases(state: XnerSession, nodeids: list[str]) -> bool:
    """Whether any of `nodeids` is a benchmark case's: its parameters end in a case's id."""
    from xner.spec.cases import study_cases

    cases = {
        str(case)
        for study in state.studies.values()
        for strategy in study.strategies
        for named in (False, True)
        for case in study_cases(study, strategy, named_by_strategy=named)
    }
    params = (nodeid.partition("[")[2].rstrip("]") for nodeid in nodeids)
    return any(re.sub(r"-seed-?\d+$", "", p) in cases for p in params)
