"""Queue names."""

SMS = "sms"
ALL = (SMS,)
