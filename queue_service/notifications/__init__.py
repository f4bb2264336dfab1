"""SMS to participants: the texts, the backends that send them, the outbox that delivers each
booking event at most once, and ``dispatch``, the one helper that puts jobs on the queue."""
