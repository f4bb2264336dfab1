-- Cancel bookings of one branch because the branch is closed on their day (domain.closures):
-- each booked or held place among the codes given whose day is in the closure's range is
-- cancelled as cancel.lua cancels one (the slot, the day's quota and the service's count freed
-- at once), with the closure's SMS event (<code>:closed) written with it, also for a hold,
-- whose phone was sent its one-time code already: it is told why that code no longer works.
-- The day's waitlist entries not yet accepted go too, each as it stands: one waiting leaves the
-- line and its service's waiters, an offer frees its held place as a booking's is freed, one
-- held for its phone's code leaves the holds; each becomes 'cancelled' with the closure's SMS
-- event, as a booking does. (An accepted entry is a booking, in the day's index.)
-- The booking keeps the closure's id and note, which its SMS says. A code checked in, served,
-- cancelled or moved out of the range meanwhile is left as it is, so the step is safe to run
-- twice and for a range closed again: nothing is cancelled or texted twice.
-- The keys of a booking and of its day are named from prefixes the caller builds
-- (store/keys.py), as release_holds.lua does: every one is under the branch's hash tag, so in
-- this script's own cluster slot.
-- KEYS: 1 the branch's SMS outbox, 2 the closure's codes at this branch (set), 3 the branch's
--       holds
-- ARGV: 1 booking key prefix, 2 slot counts key prefix, 3 day counts key prefix,
--       4 cancelled_at (ISO time), 5 who cancelled, 6 the closure's id, 7 its note,
--       8 its first day, 9 its last day (ISO dates), 10 when the set of codes expires (ms;
--       never sooner than a day from now on Redis's clock, as keep_until.lua keeps a booking's
--       keys: a caller standing on another day must not write a set that is gone at once),
--       11 the day's waitlist key prefix, 12 the day's waiters key prefix, 13.. the codes
-- Returns the codes cancelled by this run
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cancelled = {}
for i = 13, #ARGV do
  local code = ARGV[i]
  local booking = ARGV[1] .. code
  local b = redis.call('HMGET', booking, 'status', 'date', 'slot', 'service_id', 'waitlist', 'accepted_ms')
  local entry = b[5] and not b[6]
  local counted = b[1] == 'booked' or (b[1] == 'pending' and not entry) or (b[1] == 'offered' and entry)
  local waiting = entry and b[1] == 'waiting'
  local held = entry and b[1] == 'pending'
  if (counted or waiting or held) and b[2] >= ARGV[8] and b[2] <= ARGV[9] then
    redis.call('HSET', booking, 'status', 'cancelled', 'cancelled_at', ARGV[4], 'cancelled_by', ARGV[5],
               'closure', ARGV[6], 'closure_note', ARGV[7])
    if b[1] == 'pending' or b[1] == 'offered' then
      redis.call('HDEL', booking, 'otp')
      redis.call('ZREM', KEYS[3], code)
    end
    if counted then
      redis.call('HINCRBY', ARGV[2] .. b[2], b[3], -1)
      redis.call('HINCRBY', ARGV[3] .. b[2], 'total', -1)
      redis.call('HINCRBY', ARGV[3] .. b[2], 'svc:' .. b[4], -1)
    elseif waiting then
      redis.call('ZREM', ARGV[11] .. b[2], code)
      redis.call('HINCRBY', ARGV[12] .. b[2], b[4] .. '/' .. (b[3] == '' and '*' or b[3]), -1)
    end
    redis.call('ZADD', KEYS[1], 'NX', now, code .. ':closed')
    redis.call('SADD', KEYS[2], code)
    cancelled[#cancelled + 1] = code
  end
end
if #cancelled > 0 then
  redis.call('PEXPIREAT', KEYS[2], math.max(tonumber(ARGV[10]), now + 24 * 3600 * 1000))
end
return cancelled
