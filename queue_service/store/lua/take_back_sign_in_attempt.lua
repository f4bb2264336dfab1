-- Take back a sign-in attempt whose password was right: the name's failures are cleared, and
-- the address's count goes down by one while its window lasts (a counter that ran out
-- meanwhile is not made again, without an expiry, below zero).
-- KEYS: 1 the account name's counter, 2 the address's counter
redis.call('DEL', KEYS[1])
if redis.call('PTTL', KEYS[2]) > 0 then
  redis.call('DECR', KEYS[2])
end
return 1
