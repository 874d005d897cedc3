"""Topic alerts: subscriptions, feeds, matching and dedupe of news stories."""
