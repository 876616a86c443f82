"""Commands only admins may use."""

from __future__ import annotations

from bot.api import CommandContext, Level, Plugin, TrustResult, command


class AdminPlugin(Plugin):
    name = "admin"
    locales = "plugins.admin.locales"

    @command("trust", level=Level.ADMIN, aliases={"es": ("confiar",)})
    async def trust(self, ctx: CommandContext, user: str) -> None:
        """Trust a person's new identity key, after checking with them outside the chat."""
        result = await ctx.bot.identities.trust(user)
        if result is TrustResult.UNKNOWN:
            await ctx.reply(ctx.t("admin.trust_unknown", user=user))
            return
        if result is TrustResult.NOT_FLAGGED:
            await ctx.reply(ctx.t("admin.trust_not_flagged", user=user))
            return
        await ctx.reply(ctx.t("admin.trust_done", user=user))
        await ctx.bot.tell_moderators(
            "admin.trusted_notice",
            key=f"trusted:{ctx.event.event_id}",
            user=user,
            admin=ctx.event.sender.user_id,
        )
