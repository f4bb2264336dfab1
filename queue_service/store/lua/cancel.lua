-- Cancel a booked or held place: the slot, the day's quota and the service's count are freed at once,
-- and the cancellation's SMS event is written with it.
-- Safe to run twice for one request (a client that re-sent it after a lost reply): the
-- second run finds the cancellation of its own token and answers as the first did.
-- KEYS: 1 the booking, 2 slot counts, 3 day counts, 4 the branch's SMS outbox,
--       5 (optional) the branch's audit stream
-- ARGV: 1 cancelled_at (ISO time), 2 who cancelled, 3 the booking code, 4 request token,
--       5.. (with KEYS[5]) the audit entry's field, value ..., appended with the change
-- Returns {'ok'} | {'missing'} | {'status', current_status}
local booking = redis.call('HMGET', KEYS[1], 'status', 'slot', 'service_id', 'cancel_token')
if not booking[1] then
  return {'missing'}
end
if booking[1] == 'cancelled' and booking[4] == ARGV[4] then
  return {'ok'}
end
-- A hold not yet confirmed by its phone may be given up too; its phone was never confirmed,
-- so no SMS tells of it.
if booking[1] ~= 'booked' and booking[1] ~= 'pending' then
  return {'status', booking[1]}
end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelled_at', ARGV[1], 'cancelled_by', ARGV[2],
           'cancel_token', ARGV[4])
redis.call('HINCRBY', KEYS[2], booking[2], -1)
redis.call('HINCRBY', KEYS[3], 'total', -1)
redis.call('HINCRBY', KEYS[3], 'svc:' .. booking[3], -1)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if booking[1] == 'booked' then
  redis.call('ZADD', KEYS[4], 'NX', now, ARGV[3] .. ':cancelled')
end
if KEYS[5] then
  redis.call('XADD', KEYS[5], '*', unpack(ARGV, 5))
end
return {'ok'}
