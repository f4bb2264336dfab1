-- Erase a booking's personal data (UU PDP): its personal fields and one-time code go at once,
-- what the counts and reports need stays (status, date, slot, service, queue number, times).
-- Only a booking that no longer stands: cancelled, a hold released unverified, a waitlist
-- entry that left, or one whose day has passed (branch-local); an active one must be
-- cancelled (an entry left) first.
-- Safe to run twice: a booking erased already is erased again (nothing left to remove).
-- KEYS: 1 the booking, 2 (optional) the branch's audit stream
-- ARGV: 1 today (the branch's date, ISO), 2 erased_at (ISO time), 3 how many fields follow,
--       4.. the fields to remove, then the prefix of the sealed person's pieces ('person:'),
--       then (with KEYS[2]) the audit entry's field, value ...
-- Returns {'ok'} | {'missing'} | {'status', current_status}
local b = redis.call('HMGET', KEYS[1], 'status', 'date', 'walk_in')
if not b[1] or b[3] then
  return {'missing'}
end
if b[1] ~= 'cancelled' and b[1] ~= 'expired' and b[1] ~= 'left' and b[2] >= ARGV[1] then
  return {'status', b[1]}
end
local count = tonumber(ARGV[3])
redis.call('HDEL', KEYS[1], unpack(ARGV, 4, 3 + count))
local prefix, piece = ARGV[4 + count], 0
while redis.call('HDEL', KEYS[1], prefix .. piece) == 1 do
  piece = piece + 1
end
redis.call('HSET', KEYS[1], 'erased_at', ARGV[2])
if KEYS[2] then
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 5 + count))
end
return {'ok'}
