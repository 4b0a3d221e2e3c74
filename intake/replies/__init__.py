"""Letters: templates rendered into mail, queued in the outbox, delivered over SMTP."""
