-- Count one sign-in attempt against a name and an address before its password is checked:
-- attempts made at once could otherwise all pass a check of a count that none had raised yet.
-- Windows start at the first attempt; a counter that reaches its limit is kept for the whole
-- lock-out, counted from that attempt. A right password takes its attempt back.
-- KEYS: 1 the account name's counter, 2 the address's counter
-- ARGV: 1 window_ms, 2 account limit, 3 address limit, 4 lock-out ms
-- Returns {name count, its ms left, address count, its ms left}
local counted = {}
for i = 1, 2 do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
  end
  if count == tonumber(ARGV[i + 1]) then
    redis.call('PEXPIRE', KEYS[i], ARGV[4])
  end
  counted[#counted + 1] = count
  counted[#counted + 1] = redis.call('PTTL', KEYS[i])
end
return counted
