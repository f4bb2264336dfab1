-- Keep a challenge's audio clip for a short while (never past the challenge's life), unless
-- one is kept already (two fetches raced); return the kept clip, or nil once the challenge
-- is gone or consumed (its answer key then holds '~', consume_captcha.lua).
-- KEYS[1] the answer; KEYS[2] the cached audio clip; ARGV: 1 the clip, 2 keep_ms
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 or redis.call('GETRANGE', KEYS[1], 0, 0) == '~' then
  return nil
end
redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', math.min(ttl, tonumber(ARGV[2])))
return redis.call('GET', KEYS[2])
