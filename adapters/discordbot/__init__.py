"""The Discord adapter as a package, one module per job: `adapter` (run and stop), `client` (connection and
application commands), `listeners`, `replies`, `alerts` (topic alerts) and `render` (embeds).

Named so it never shadows the `discord` SDK it uses."""
