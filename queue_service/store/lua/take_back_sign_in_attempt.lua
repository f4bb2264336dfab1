-- Take back a sign-in attempt whose password was right: the pair's failures are cleared and
-- the name's count goes down by one (its slow-down stays while others fail elsewhere), the
-- address's count goes down by one while its window lasts (a counter that ran out meanwhile
-- is not made again, without an expiry, below zero), and the address becomes known to the
-- name, spared its slow-down for a while.
-- KEYS: 1 the account name's failures, 2 the address's counter, 3 the name's known addresses
-- ARGV: 1 now (ms), 2 address digest, 3 how long an address stays known (ms),
--       4 how many known addresses a name keeps
redis.call('HDEL', KEYS[1], 'p:' .. ARGV[2], 'w:' .. ARGV[2])
local total = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
if total > 1 then
  redis.call('HINCRBY', KEYS[1], 'n', -1)
elseif redis.call('HLEN', KEYS[1]) <= 2 then
  redis.call('DEL', KEYS[1])  -- nothing else is counted for the name
else
  redis.call('HSET', KEYS[1], 'n', 0)
end
if redis.call('PTTL', KEYS[2]) > 0 then
  redis.call('DECR', KEYS[2])
end
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[3], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[3]))
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -tonumber(ARGV[4]) - 1)
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
