"""The platform-neutral chat bot: what to do with a message or a /brief command, whatever the platform."""
