--! uses place_refusal release_holds
-- Accept a waitlist offer: the held place becomes a booking, 'booked', with the next queue
-- number of its service (numbers are issued only here, never to an offer that ran out), on the
-- day's booking index, with its booking message on the outbox, in one step. An offer whose
-- deadline has passed (Redis's clock) is released at once instead (release_holds.lua), for the
-- caller to offer its place to the next entry. The NIK's date and the phone's count, held since
-- the entry joined, are made sure of by the caller first, as for a booking. Its phone was
-- verified when it joined (PHONE_VERIFICATION, waitlist_verify.lua): it is booked at once.
-- Safe to run twice (a re-sent call): an offer accepted already answers 'ok' again.
-- KEYS: 1 settings, 2 date overrides, 3 the branch's copy of the national closures,
--       4 day counts, 5 slot counts, 6 the day's waiters, 7 the entry, 8 the branch's holds,
--       9 the branch's SMS outbox, 10 queue sequence, 11 the day's booking index
-- ARGV: 1 code, 2 SHA-1 of the settings the slot was judged by, 3 date, 4 service prefix,
--       5-7 release_holds.lua's key prefixes (booking, slot counts, day counts),
--       8 expire_at_ms, 9 least time to keep keys (ms)
-- Returns {'ok', queue_number} | {'missing'} | {'status', current} (waiting, left, expired,
-- cancelled) | {'released'} (too late: released now) | {refusal} as place_refusal.lua's
local e = redis.call('HMGET', KEYS[7], 'status', 'verify_by_ms', 'slot', 'service_id', 'queue_number',
                     'accepted_ms', 'date')
if not e[1] then
  return {'missing'}
end
if e[6] then
  return {'ok', e[5]}
end
if e[1] ~= 'offered' then
  return {'status', e[1]}
end
if e[7] ~= ARGV[3] then
  return {'missing'}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(e[2]) then
  release_holds({KEYS[8]}, {ARGV[5], ARGV[6], ARGV[7], 0, ARGV[1]})
  return {'released'}
end
local refused = place_refusal({KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]},
                              {ARGV[2], ARGV[3], e[4], e[3], '', 'held'})
if refused then
  return refused
end
local sequence = redis.call('HINCRBY', KEYS[10], e[4], 1)
local queue_number = string.format('%s-%03d', ARGV[4], sequence)
redis.call('HSET', KEYS[7], 'status', 'booked', 'queue_number', queue_number, 'accepted_ms', now)
redis.call('ZREM', KEYS[8], ARGV[1])
redis.call('ZADD', KEYS[9], 'NX', now, ARGV[1] .. ':booked')
redis.call('RPUSH', KEYS[11], ARGV[1])
redis.call('HINCRBY', KEYS[4], 'wl:accepted', 1)
local expire_at = math.max(tonumber(ARGV[8]), now + tonumber(ARGV[9]))
for _, i in ipairs({10, 11}) do
  if redis.call('PTTL', KEYS[i]) < expire_at - now then
    redis.call('PEXPIREAT', KEYS[i], expire_at)
  end
end
return {'ok', queue_number}
