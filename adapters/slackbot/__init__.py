"""The Slack adapter as a package, one module per job: `adapter` (connection and run), `listeners`,
`replies`, `alerts` (topic alerts posted once), `render` (Block Kit), `dedupe` (each delivery acted on
once), `endpoint` (HTTP mode) and `manifest.yml` (the Slack app to create).

Named so it never shadows the `slack_sdk` / `slack_bolt` SDKs it uses."""
