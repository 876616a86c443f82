"""Admin commands: `!trust @user` re-trusts a person whose identity key changed."""

from plugins.admin.plugin import AdminPlugin

PLUGIN = AdminPlugin

__all__ = ["PLUGIN", "AdminPlugin"]
