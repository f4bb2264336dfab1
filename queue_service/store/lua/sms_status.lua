-- Record a delivery status of an SMS event's message. Statuses only move forward (queued <
-- sending < sent < delivered/undelivered/failed < read): callbacks can arrive out of order.
-- KEYS: 1 the delivery record
-- ARGV: 1 message SID, 2 status, 3 its rank, 4 error code ('' for none)
-- Returns 'updated' | 'stale' | 'missing' (no such event) | 'other' (another message's SID)
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'missing'
end
local d = redis.call('HMGET', KEYS[1], 'sid', 'status_rank')
if d[1] and d[1] ~= ARGV[1] then
  return 'other'
end
if not d[1] then
  redis.call('HSET', KEYS[1], 'sid', ARGV[1])
end
if tonumber(d[2] or '-1') >= tonumber(ARGV[3]) then
  return 'stale'
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'status_rank', ARGV[3], 'status_ms',
           tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'error_code', ARGV[4])
end
return 'updated'
