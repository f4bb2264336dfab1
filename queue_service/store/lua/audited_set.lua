-- Change one stored value (a string key, or one field of a hash) and append its audit entry,
-- in one step, unless the value changed since the caller read it (then 'conflict': read
-- again and retry) or the change changes nothing ('unchanged': no entry). Safe to run twice:
-- a second run finds the value already as asked and answers 'unchanged'.
-- KEYS: 1 the key, 2 the audit stream
-- ARGV: 1 'string' or 'field', 2 the field ('' for a string), 3 SHA-1 of the value the
--       caller read ('' for none), 4 the new value ('' to delete), 5.. audit field, value ...
-- Returns 'changed' | 'unchanged' | 'conflict'
local current
if ARGV[1] == 'field' then
  current = redis.call('HGET', KEYS[1], ARGV[2])
else
  current = redis.call('GET', KEYS[1])
end
local current_sha = current and redis.sha1hex(current) or ''
local new_sha = ARGV[4] ~= '' and redis.sha1hex(ARGV[4]) or ''
if current_sha == new_sha then
  return 'unchanged'
end
if current_sha ~= ARGV[3] then
  return 'conflict'
end
if ARGV[1] == 'field' then
  if ARGV[4] == '' then
    redis.call('HDEL', KEYS[1], ARGV[2])
  else
    redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
  end
elseif ARGV[4] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[4])
end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 5))
return 'changed'
