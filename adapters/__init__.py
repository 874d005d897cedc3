"""Chat platform adapters: they translate platform events into core requests and render core replies."""
