"""No module of the core imports itself back, through any chain (type-checking imports
count too): a cycle means two modules that cannot be understood, or changed, apart."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest


def import_cycles(package: str) -> list[tuple[str, ...]]:
    """Each cycle inside `package`, as the chain from one module back to itself."""
    graph = grimp.build_graph(package)
    cycles: dict[frozenset[str], tuple[str, ...]] = {}
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                chain = (module, *back)
                cycles.setdefault(frozenset(chain), chain)
    return list(cycles.values())


def test_the_core_has_no_import_cycle() -> None:
    cycles = import_cycles("bot")
    assert cycles == [], "\n".join(" -> ".join(chain) for chain in cycles)


def test_a_cycle_is_found_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "circle"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circle import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from circle import a\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("circle") == [("circle.a", "circle.b", "circle.a")]
