-- Write one catalog entry (a field of a catalog hash, as JSON) only if it still holds what the
-- caller read, and, given a property, only if no other entry shares its value: an admin's
-- change never overwrites one made meanwhile, and two services never share a queue prefix.
-- Safe to run twice: a second run finds the entry already as asked and answers 'unchanged'.
-- KEYS: 1 the catalog hash
-- ARGV: 1 the entry's id, 2 SHA-1 of the entry the caller read ('' for none: a new entry),
--       3 the new entry (JSON), 4 a property no other entry may share ('' for none)
-- Returns 'changed' | 'unchanged' | 'conflict' | 'taken'
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current == ARGV[3] then
  return 'unchanged'
end
if (current and redis.sha1hex(current) or '') ~= ARGV[2] then
  return 'conflict'
end
if ARGV[4] ~= '' then
  local mine = cjson.decode(ARGV[3])[ARGV[4]]
  local entries = redis.call('HGETALL', KEYS[1])
  for i = 1, #entries, 2 do
    if entries[i] ~= ARGV[1] and cjson.decode(entries[i + 1])[ARGV[4]] == mine then
      return 'taken'
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 'changed'
