-- Count one booking attempt on each of its per-person counters at once: fixed windows, as
-- the limits library keeps flask-limiter's, each starting at its counter's first attempt.
-- KEYS: the counters (under one address's tag)
-- ARGV: the window of each counter (ms), in the order of KEYS
-- Returns {count, ms left of the window} for each counter, in order
local counted = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if count == 1 or left < 0 then
    redis.call('PEXPIRE', key, ARGV[i])
    left = tonumber(ARGV[i])
  end
  counted[#counted + 1] = count
  counted[#counted + 1] = left
end
return counted
