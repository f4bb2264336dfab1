-- Count one failed sign-in against a name and an address, in windows that start at the
-- first failure; returns both counts. A counter that reaches its limit is kept for the
-- whole lock-out, counted from that failure.
-- KEYS: 1 the account name's counter, 2 the address's counter
-- ARGV: 1 window_ms, 2 account limit, 3 address limit, 4 lock-out ms
local counts = {}
for i = 1, 2 do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
  end
  if count == tonumber(ARGV[i + 1]) then
    redis.call('PEXPIRE', KEYS[i], ARGV[4])
  end
  counts[i] = count
end
return counts
