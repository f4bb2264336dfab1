-- Give back an SMS attempt that ended without sending (``pending``), for the next attempt to
-- take; ``uncertain`` when the message may exist all the same (no answer from the provider).
-- Only the attempt's own: one whose lease ran out may have been taken over, even settled,
-- since, and its record must not come back from that (without an expiry, at that).
-- KEYS: 1 the delivery record
-- ARGV: 1 the attempt's token, 2 '1' if uncertain
-- Returns 1 if given back, 0 if the record had moved on
local d = redis.call('HMGET', KEYS[1], 'state', 'token')
if d[1] ~= 'attempting' or d[2] ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'pending')
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'uncertain', '1')
end
return 1
