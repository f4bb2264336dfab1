-- The booking a booking request's Idempotency-Key made already, as reserve.lua and book.lua
-- answer it: {'idempotent', digest of that request, code}; nil when it made none (or when
-- the request sent no key).
-- KEYS: 1 the key's record
-- ARGV: 1 the request's digest ('' or none without a key)
if (ARGV[1] or '') == '' then
  return nil
end
local held = redis.call('GET', KEYS[1])
if not held then
  return nil
end
local digest, code = string.match(held, '^(%S+) (%S+)$')
return {'idempotent', digest, code}
