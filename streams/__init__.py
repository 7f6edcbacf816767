"""defwatch wiring: settings, inputs, the stages both modes call, the embedded runner and the CLI."""
