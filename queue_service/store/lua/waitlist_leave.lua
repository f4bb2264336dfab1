-- Leave a day's waitlist: a waiting entry leaves the line; an offered one declines its offer,
-- whose place is freed (the slot, the day's quota, the service's count) for the caller's offer
-- step to give to the next entry. Either way the entry becomes 'left' and is counted so.
-- Its NIK's date and phone's count, in other cluster slots, are freed by the caller.
-- Safe to run twice: an entry that left already answers 'ok' again.
-- KEYS: 1 the entry, 2 the day's waitlist, 3 day counts, 4 slot counts, 5 the branch's holds,
--       6 the day's waiters
-- ARGV: 1 code, 2 left_at (ISO time)
-- Returns {'ok', what it was ('pending' | 'waiting' | 'offered' | 'left')} | {'missing'} | {'status', current}
local e = redis.call('HMGET', KEYS[1], 'status', 'slot', 'service_id', 'accepted_ms')
if not e[1] then
  return {'missing'}
end
if e[4] then
  return {'status', 'accepted'} -- a booking now: cancelled as one
end
if e[1] == 'left' then
  return {'ok', 'left'}
end
if e[1] == 'pending' then
  redis.call('ZREM', KEYS[5], ARGV[1]) -- its phone's code awaited: never in line
elseif e[1] == 'waiting' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HINCRBY', KEYS[6], e[3] .. '/' .. (e[2] == '' and '*' or e[2]), -1)
elseif e[1] == 'offered' then
  redis.call('ZREM', KEYS[5], ARGV[1])
  redis.call('HINCRBY', KEYS[4], e[2], -1)
  redis.call('HINCRBY', KEYS[3], 'total', -1)
  redis.call('HINCRBY', KEYS[3], 'svc:' .. e[3], -1)
else
  return {'status', e[1]}
end
redis.call('HSET', KEYS[1], 'status', 'left', 'left_at', ARGV[2])
redis.call('HINCRBY', KEYS[3], 'wl:left', 1)
return {'ok', e[1]}
