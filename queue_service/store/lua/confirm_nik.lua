-- Mark a NIK's day claim as held by a committed booking.
-- Safe to run twice: it only sets what is already set.
-- KEYS: 1 the NIK's day claim
-- ARGV: 1 code, 2 branch, 3 expire_at_ms, 4 least time to keep keys (ms)
if redis.call('HGET', KEYS[1], 'code') ~= ARGV[1] then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expire_at = math.max(tonumber(ARGV[3]), now + tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'state', 'active')
redis.call('PEXPIREAT', KEYS[1], expire_at)
return 1
