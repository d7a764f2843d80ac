"""Real-infrastructure test fixtures: a nats-server per test, PostgreSQL and SQLite backends, an in-process mesh."""
