"""Delivering what the case workflow queues: messages to customers and approved adjustments to
billing, through a file, SMTP or a webhook, each at most once per idempotency key."""
