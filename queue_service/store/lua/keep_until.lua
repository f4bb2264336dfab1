-- Keep a key (set to ARGV[3] first, if given) until a time, as the booking scripts keep
-- theirs: never sooner than a floor from now on Redis's own clock, so that a caller whose
-- clock differs (a test standing on a fixed day) cannot write a key that expires at once.
-- KEYS: 1 the key
-- ARGV: 1 expire_at_ms, 2 least time to keep it (ms), 3 (optional) the value to set
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[3])
end
return redis.call('PEXPIREAT', KEYS[1], math.max(tonumber(ARGV[1]), now + tonumber(ARGV[2])))
