"""Core schema migrations, applied by `Database.open` as component "core"."""
