--! uses waiters_kept
-- Whether a place can be taken, read in the very step that takes it (reserve.lua and
-- reschedule.lua run this as a part), so an admin's change cannot race a booking past it: the
-- settings the caller computed the slot from are still the stored ones, the branch books
-- online, the date is neither a national closure nor closed by an override, and the day's
-- quota, the service's quota and the slot's capacity have room.
-- KEYS: 1 settings, 2 date overrides, 3 the branch's copy of the national closures,
--       4 the date's day counts, 5 the date's slot counts, 6 the date's waiters
-- ARGV: 1 SHA-1 of the settings the slot was computed from, 2 date, 3 service, 4 slot,
--       5 '1' to check the day's quotas, '' when the place already counts on that day,
--       6 whom the place is for: '' or none (a booking or a move: a place the waitlist
--         keeps, waiters_kept.lua, is not free, so a freed place goes to the waitlist first),
--         'waitlist' (an offer to the waitlist, whose waiters it is for), 'held' (an accepted
--         offer, whose place counts already on the day and in the slot: only the day's
--         being open is checked)
-- Returns nil when the place can be taken, else {refusal}
local raw = redis.call('GET', KEYS[1])
if not raw then
  return {'not_bookable'}
end
if redis.sha1hex(raw) ~= ARGV[1] then
  return {'settings_changed'}
end
local settings = cjson.decode(raw)
if not settings.online_booking or redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then
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
if ARGV[6] == 'held' then
  return nil
end
if ARGV[5] == '1' then
  if tonumber(redis.call('HGET', KEYS[4], 'total') or '0') >= quota then
    return {'day_full'}
  end
  local service_quota = settings.service_quotas and settings.service_quotas[ARGV[3]]
  if type(service_quota) == 'number'
      and tonumber(redis.call('HGET', KEYS[4], 'svc:' .. ARGV[3]) or '0') >= service_quota then
    return {'day_full'}
  end
end
if tonumber(redis.call('HGET', KEYS[5], ARGV[4]) or '0') >= settings.slot_capacity then
  return {'slot_full'}
end
if (ARGV[6] or '') == '' then
  local kept = waiters_kept({KEYS[4], KEYS[6]}, {settings, quota})
  if kept[1] then
    return {ARGV[5] == '1' and 'day_full' or 'slot_full'}
  end
  if kept[2][ARGV[4]] then
    return {'slot_full'}
  end
end
return nil
