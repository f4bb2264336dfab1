-- Take a booking off its phone's count: it was cancelled, its reservation was refused, or
-- its booking is found gone. Safe to run twice (the entry is gone).
-- KEYS: 1 the phone's bookings
-- ARGV: 1 code
return redis.call('HDEL', KEYS[1], ARGV[1])
