-- Settle one SMS event (sent, failed, skipped or expired) and take it off the outbox; a booking
-- confirmation that went out may put its reminder on the branch's reminders at the same time.
-- A settled record keeps its first verdict, and sheds the text and the attempt's details,
-- which only attempts read: a small record again (a quarter of the bytes), and the message,
-- with its queue number and name, is not kept for the booking's whole life.
-- KEYS: 1 the delivery record, 2 the branch's outbox, 3 the branch's reminders, 4 the booking
-- ARGV: 1 state, 2 outbox member (code:event), 3 error code ('' for none),
--       4 reminder member ('' for none), 5 reminder due (ms)
-- Returns the record's state
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'sent' and state ~= 'failed' and state ~= 'skipped' and state ~= 'expired' then
  state = ARGV[1]
  redis.call('HSET', KEYS[1], 'state', state, 'settled_ms', now)
  if ARGV[3] ~= '' then
    redis.call('HSET', KEYS[1], 'error_code', ARGV[3])
  end
end
if redis.call('HEXISTS', KEYS[1], 'body') == 1 then
  -- Rebuilt rather than trimmed, so that Redis stores it compactly again.
  local fields = {'state', 'settled_ms', 'attempts', 'sid', 'status', 'status_rank', 'status_ms',
                  'uncertain', 'error_code'}
  local values = redis.call('HMGET', KEYS[1], unpack(fields))
  local kept = {}
  for i, field in ipairs(fields) do
    if values[i] then
      kept[#kept + 1] = field
      kept[#kept + 1] = values[i]
    end
  end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], unpack(kept))
end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
if state == 'sent' and ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], 'NX', ARGV[5], ARGV[4])
end
local ttl = redis.call('PTTL', KEYS[4])
redis.call('PEXPIRE', KEYS[1], ttl > 0 and ttl or 7 * 86400000)
return state
