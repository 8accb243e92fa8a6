"""pytest-xdist: hand out a training configuration's cases together, and take the results
folder on the controller once the workers have collected."""

from __future__ import annotations

import pytest

from xner.plugin.session import STATE, XnerSession


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With -n (xdist's `load` or `loadgroup`), once the workers have collected: where xner's
    benchmark cases are among the tests, hand out work a training configuration at a time
    (its cases stay on one worker, so it trains once, and configurations go out in collection
    order, which xner sorts longest first); in any other session, xdist's own scheduling.

    xdist's own `loadgroup` would group by `xdist_group` marks, but it does so by editing node
    ids, which pytest 9.2 no longer lets it do (pytest-xdist issue 1386): the cases were
    silently scattered and every worker trained every configuration. The scope here is the
    configuration's identity, looked up by the case's id (xner.execution.plan.case_ids), never
    read from the id's text: a language code may hold any character an id separator would.
    """
    if config.option.dist not in ("load", "loadgroup"):
        return None
    return _Deferred(config, log)


def configuration_scope(state: XnerSession, nodeid: str) -> str:
    """The scope of a node id: its case's training configuration (ConfigId) for one of xner's
    benchmark cases, the node id itself for any other test."""
    case = case_of_nodeid(state, nodeid)
    return nodeid if case is None else f"xner:{case.configuration!r}"


def case_of_nodeid(state: XnerSession, nodeid: str):
    """The CaseId of a benchmark case's node id, else None. Only ids with a `->`, as every
    case id has, are looked up, so another project's session loads no study."""
    head, bracket, params = nodeid.partition("[")
    if not bracket or "->" not in params or not params.endswith("]"):
        return None
    return state.case_of(params[:-1])


class _Deferred:
    """xdist's scheduler interface, choosing between xdist's LoadScheduling and xner's
    ConfigurationScheduling at the first `schedule()`, when every worker has collected: until
    then each call goes to both (both only record nodes and collections then)."""

    def __init__(self, config: pytest.Config, log):
        from xdist.scheduler import LoadScheduling, LoadScopeScheduling

        state = config.stash[STATE]

        class ConfigurationScheduling(LoadScopeScheduling):
            def _split_scope(self, nodeid: str) -> str:
                return configuration_scope(state, nodeid)

        config.option.loadscopereorder = False  # keep xner's order, not largest group first
        self._state = state
        self._candidates = (LoadScheduling(config, log), ConfigurationScheduling(config, log))
        self._chosen = None

    def _choose(self):
        if self._chosen is None:
            plain, by_configuration = self._candidates
            ids = next(iter(plain.node2collection.values()), [])
            has_cases = any(case_of_nodeid(self._state, nodeid) for nodeid in ids)
            self._chosen = by_configuration if has_cases else plain
        return self._chosen

    def schedule(self) -> None:
        self._choose().schedule()

    def _to_all(name: str):  # builds the methods below
        def call(self, *args, **kwargs):
            if self._chosen is not None:
                return getattr(self._chosen, name)(*args, **kwargs)
            results = [getattr(c, name)(*args, **kwargs) for c in self._candidates]
            return results[0]

        call.__name__ = name
        return call

    add_node = _to_all("add_node")
    add_node_collection = _to_all("add_node_collection")
    remove_node = _to_all("remove_node")
    del _to_all

    def __getattr__(self, name: str):
        # Everything else (nodes, collection_is_completed, tests_finished, has_pending,
        # mark_test_complete, ...): the chosen one, or xdist's own before the choice.
        return getattr(self._chosen or self._candidates[0], name)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook, on the controller
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """Under -n the controller collects nothing itself: it takes the results folder as soon
    as a worker has collected benchmark cases, before any case is handed out to run."""
    state = node.config.stash[STATE]
    if state.lock is None and any(case_of_nodeid(state, nodeid) for nodeid in ids):
        state.hold_folder()
