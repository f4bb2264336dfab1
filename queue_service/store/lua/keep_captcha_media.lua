-- Keep a challenge's drawn image or spoken clip, never past the challenge's life, unless one
-- is kept already (two first fetches raced: the first to arrive wins, and both serve it);
-- return the kept bytes, or nil once the challenge is gone or consumed (its answer key then
-- holds '~', consume_captcha.lua, which drops these keys).
-- KEYS[1] the answer; KEYS[2] the kept image or clip; ARGV: 1 the bytes, 2 keep_ms (at most)
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 or redis.call('GETRANGE', KEYS[1], 0, 0) == '~' then
  return nil
end
redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', math.min(ttl, tonumber(ARGV[2])))
return redis.call('GET', KEYS[2])
