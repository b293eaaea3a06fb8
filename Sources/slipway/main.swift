import SlipwayCLI

// Argument parsing and wiring live in SlipwayCLI so tests can drive them; this only runs them.
await SlipwayMain.run()
