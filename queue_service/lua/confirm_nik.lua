-- Mark a NIK's day claim as held by a committed booking, and (re)index the code for look-ups.
-- KEYS: 1 the NIK's day claim, 2 the NIK's code index entry
-- ARGV: 1 code, 2 branch, 3 expire_at_ms
if redis.call('HGET', KEYS[1], 'code') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'active')
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
return 1
