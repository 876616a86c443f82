"""Admin commands: `!trust @user` re-trusts a person whose identity key changed."""

from __future__ import annotations

from plugins.admin.plugin import AdminPlugin

__all__ = ["AdminPlugin"]
