"""Who is at a report's scene, for other plugins: `bot.service(Scene)`.

A verifier who said `!onscene R7K3` (or reported what they saw there) is on scene for that
report; the legal team's cases let such a verifier say someone was taken.
"""

from __future__ import annotations

from collections.abc import Callable

from plugins.dispatch.store import DispatchStore, State


class Scene:
    def __init__(self, store: DispatchStore, person: Callable[[str], str]) -> None:
        self._store = store
        self._person = person

    async def on_scene(self, report_id: str, user_id: str) -> bool:
        """Whether `user_id` is a verifier at the scene of `report_id` now."""
        verifier = await self._store.verifier(report_id, self._person(user_id))
        return verifier is not None and verifier.state is State.ON_SCENE
