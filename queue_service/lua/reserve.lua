-- Reserve one place: check the day is open, the day's and the service's quota and the slot's
-- capacity, take the next queue number and write the booking and its SMS event, all or nothing.
-- Settings are read here, not passed in, so an admin's change cannot race a booking past a quota.
-- KEYS: 1 settings, 2 date overrides, 3 slot counts, 4 day counts, 5 queue sequence,
--       6 day's booking index, 7 the booking, 8 the branch's SMS outbox
-- ARGV: 1 code, 2 date, 3 slot, 4 service, 5 prefix, 6 claim_at_ms, 7 claim_window_ms,
--       8 expire_at_ms, 9 booking fields (JSON object of strings)
-- Returns {'ok', queue_number, created_ms} or {refusal}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- A NIK claim older than the window may be taken over by another attempt: never book on it.
if now - tonumber(ARGV[6]) > tonumber(ARGV[7]) then
  return {'claim_expired'}
end
if redis.call('EXISTS', KEYS[7]) == 1 then
  return {'code_taken'}
end
local raw = redis.call('GET', KEYS[1])
if not raw then
  return {'not_bookable'}
end
local settings = cjson.decode(raw)
if not settings.online_booking then
  return {'not_bookable'}
end
local quota = settings.daily_quota
local override = redis.call('HGET', KEYS[2], ARGV[2])
if override then
  override = cjson.decode(override)
  if override.closed then
    return {'not_bookable'}
  end
  if override.daily_quota ~= cjson.null then
    quota = override.daily_quota
  end
end
local service_field = 'svc:' .. ARGV[4]
if tonumber(redis.call('HGET', KEYS[4], 'total') or '0') >= quota then
  return {'day_full'}
end
local service_quota = settings.service_quotas and settings.service_quotas[ARGV[4]]
if type(service_quota) == 'number'
    and tonumber(redis.call('HGET', KEYS[4], service_field) or '0') >= service_quota then
  return {'day_full'}
end
if tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0') >= settings.slot_capacity then
  return {'slot_full'}
end
local sequence = redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
local queue_number = string.format('%s-%03d', ARGV[5], sequence)
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('HINCRBY', KEYS[4], 'total', 1)
redis.call('HINCRBY', KEYS[4], service_field, 1)
local flat = {}
for field, value in pairs(cjson.decode(ARGV[9])) do
  flat[#flat + 1] = field
  flat[#flat + 1] = value
end
redis.call('HSET', KEYS[7], 'queue_number', queue_number, 'status', 'booked',
           'created_ms', now, unpack(flat))
redis.call('ZADD', KEYS[6], now, ARGV[1])
redis.call('ZADD', KEYS[8], 'NX', now, ARGV[1] .. ':booked')
for i = 3, 7 do
  redis.call('PEXPIREAT', KEYS[i], ARGV[8])
end
return {'ok', queue_number, tostring(now)}
