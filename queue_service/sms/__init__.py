"""SMS to participants: the texts, the backends that send them, and the outbox that
delivers each booking event at most once and records its delivery status."""
