-- Record a delivery status of an SMS event's message. Statuses only move forward (queued <
-- sending < sent < delivered/undelivered/failed < read): callbacks can arrive out of order.
-- Most arrive after the event is settled, when its record is packed into the booking
-- (sms_settle.lua): ``sms:<event>`` is state,settled_ms,attempts,uncertain,status,rank,error
-- and ``sms:<event>:sid`` the message's SID.
-- KEYS: 1 the delivery record, 2 the booking
-- ARGV: 1 message SID, 2 status, 3 its rank, 4 error code ('' for none), 5 event
-- Returns 'updated' | 'stale' | 'missing' (no such event) | 'other' (another message's SID)
-- A WhatsApp message the event was sent again by SMS for (sms_reopen.lua) is 'stale': the
-- SMS's record is the event's.
if redis.call('EXISTS', KEYS[1]) == 0 then
  local field = 'sms:' .. ARGV[5]
  local settled = redis.call('HMGET', KEYS[2], field, field .. ':sid', field .. ':via')
  if not settled[1] then
    return 'missing'
  end
  if settled[3] and string.match(settled[3], '^sms,[^,]*,(.*)$') == ARGV[1] then
    return 'stale'
  end
  if settled[2] and settled[2] ~= ARGV[1] then
    return 'other'
  end
  if not settled[2] then
    redis.call('HSET', KEYS[2], field .. ':sid', ARGV[1])
  end
  local parts = {}
  for part in string.gmatch(settled[1] .. ',', '([^,]*),') do
    parts[#parts + 1] = part
  end
  if tonumber(parts[6] ~= '' and parts[6] or '-1') >= tonumber(ARGV[3]) then
    return 'stale'
  end
  parts[5], parts[6] = ARGV[2], ARGV[3]
  if ARGV[4] ~= '' then
    parts[7] = ARGV[4]
  end
  redis.call('HSET', KEYS[2], field, table.concat(parts, ',', 1, 7))
  return 'updated'
end
local d = redis.call('HMGET', KEYS[1], 'sid', 'status_rank', 'whatsapp_sid')
if d[3] == ARGV[1] then
  return 'stale'
end
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
