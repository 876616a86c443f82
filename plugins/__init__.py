"""Vecinos' features, one package each. A package here that exports `PLUGIN` is loaded by
`bot.runtime.plugins`; `docs/plugins.md` says how to write one."""
