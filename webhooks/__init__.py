"""Webhook receivers, one module per source: verify, normalise to a LibraryEvent, enqueue."""
