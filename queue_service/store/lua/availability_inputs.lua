--! uses waiters_kept
-- What availability needs of one branch's day, read at one instant and returned as one
-- string: the fields joined by the unit separator (31), which JSON text never holds
-- unescaped, so the caller can key its memo on the string as it came.
-- KEYS: 1 settings, 2 date overrides, 3 national closures, 4 slot counts, 5 day counts,
--       6 the branch's copy of its catalog entries, 7 the day's waitlist waiters
-- ARGV: 1 date, 2 the day counts' field of the service
-- Returns settings, override, closure, "slot,count,slot,count...", day total, service total,
-- the places the waitlist keeps (waiters_kept.lua, the rule a booking is refused by: '*' for
-- every slot's, else "slot,slot...") and the branch's catalog entry ('' for each one missing)
local day = redis.call('HMGET', KEYS[5], 'total', ARGV[2])
local fields = {
  redis.call('GET', KEYS[1]) or '',
  redis.call('HGET', KEYS[2], ARGV[1]) or '',
  redis.call('HGET', KEYS[3], ARGV[1]) or '',
  table.concat(redis.call('HGETALL', KEYS[4]), ','),
  day[1] or '',
  day[2] or '',
  '',
}
if fields[1] ~= '' and redis.call('EXISTS', KEYS[7]) == 1 then
  local settings = cjson.decode(fields[1])
  local quota = settings.daily_quota
  if fields[2] ~= '' then
    local override = cjson.decode(fields[2])
    if override.daily_quota ~= nil and override.daily_quota ~= cjson.null then
      quota = override.daily_quota
    end
  end
  local kept = waiters_kept({KEYS[5], KEYS[7]}, {settings, quota})
  if kept[1] then
    fields[7] = '*'
  else
    local slots = {}
    for slot in pairs(kept[2]) do
      slots[#slots + 1] = slot
    end
    table.sort(slots)
    fields[7] = table.concat(slots, ',')
  end
end
fields[8] = redis.call('HGET', KEYS[6], 'branch') or ''
return table.concat(fields, '\31')
