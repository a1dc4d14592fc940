"""The job runner: drains the durable job table, retries with back-off, runs timers."""
