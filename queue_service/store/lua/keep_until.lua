-- Keep a key until a time, as the booking scripts keep theirs: never sooner than a floor from
-- now on Redis's own clock, so that a caller whose clock differs (a test standing on a fixed
-- day) cannot write a key that expires at once; and never sooner than it is kept already, so
-- that a booking moved to an earlier date does not shorten what still serves it.
-- With a value, the key is made, and only if it does not exist: a fresh booking code's entry,
-- which must never overwrite another booking's.
-- KEYS: 1 the key
-- ARGV: 1 expire_at_ms, 2 least time to keep it (ms), 3 (optional) the value of a new key
-- Returns 1 when the key is kept, 0 when it is absent (with a value: when it was there)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] and not redis.call('SET', KEYS[1], ARGV[3], 'NX') then
  return 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  return 0
end
local keep_until = math.max(tonumber(ARGV[1]), now + tonumber(ARGV[2]))
if ttl == -1 or now + ttl < keep_until then
  redis.call('PEXPIREAT', KEYS[1], keep_until)
end
return 1
