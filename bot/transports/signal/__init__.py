"""The Signal transport: signal-cli's JSON-RPC daemon over HTTP (with server-sent events) or TCP."""
