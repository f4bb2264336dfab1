-- What availability needs of one branch's day, read at one instant and returned as one
-- string: the fields joined by the unit separator (31), which JSON text never holds
-- unescaped, so the caller can key its memo on the string as it came.
-- KEYS: 1 settings, 2 date overrides, 3 national closures, 4 slot counts, 5 day counts,
--       6 the branch's copy of its catalog entries
-- ARGV: 1 date, 2 the day counts' field of the service
-- Returns settings, override, closure, "slot,count,slot,count...", day total, service total
-- and the branch's catalog entry ('' for each one missing)
local day = redis.call('HMGET', KEYS[5], 'total', ARGV[2])
local fields = {
  redis.call('GET', KEYS[1]) or '',
  redis.call('HGET', KEYS[2], ARGV[1]) or '',
  redis.call('HGET', KEYS[3], ARGV[1]) or '',
  table.concat(redis.call('HGETALL', KEYS[4]), ','),
  day[1] or '',
  day[2] or '',
}
fields[7] = redis.call('HGET', KEYS[6], 'branch') or ''
return table.concat(fields, '\31')
