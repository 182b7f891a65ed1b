"""The contexts of a report served from the result cache, built only if asked for."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from revgraph.api import EnvContext, Workspace


class LazyContexts(Mapping):
    """``Report.extras["contexts"]`` of a cached report: built only if a renderer asks."""

    def __init__(self, ws: Workspace, base: str | None) -> None:
        self._ws = ws
        self._base = base
        self._built: dict[str, EnvContext] | None = None

    def _data(self) -> dict[str, EnvContext]:
        if self._built is None:
            from revgraph.api import build_context

            self._built = {
                env.name: build_context(self._ws, env, base=self._base)
                for env in self._ws.environments
            }
        return self._built

    def __getitem__(self, name: str) -> EnvContext:
        return self._data()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())
