-- Free a NIK's date, but only if the claim is still the one for this code.
-- KEYS: 1 the NIK's day claim
-- ARGV[1] code
if redis.call('HGET', KEYS[1], 'code') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
