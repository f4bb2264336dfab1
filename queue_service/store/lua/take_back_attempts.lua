-- Take back one booking attempt counted by count_attempts.lua, whose captcha then proved
-- wrong (the two ride in one round trip): each counter goes down by one while its window
-- lasts (a counter that ran out meanwhile is not made again, without an expiry, below zero).
-- KEYS: the counters, as count_attempts.lua was given them
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) > 0 then
    redis.call('DECR', key)
  end
end
return 1
