"""The rules of the service in plain Python: no Flask; Redis, the clock and senders come in as arguments."""
