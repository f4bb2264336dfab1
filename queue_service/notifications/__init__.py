"""SMS to participants.

- ``texts``: what each message says.
- ``backends``: the senders (Twilio, a file, a log) and their errors.
- ``outbox``: the events waiting on each branch's outbox; ``Outbox`` is what the app and the
  workers hold.
- ``delivery``: each event's message sent at most once, its delivery record and statuses.
- ``reminders``: when a visit's reminder is due, and the eve's planning that puts them on.
- ``dispatch``: the one helper that puts SMS jobs on the queue, and the workers' dispatcher.
- ``queues``: the queue names.
"""
