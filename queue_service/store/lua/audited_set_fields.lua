--! uses audited_set
-- Several fields of one hash changed in one step, each as audited_set.lua changes one: written
-- with its audit entry only if it still holds what the caller read ('conflict' otherwise:
-- read again and retry that one), no entry for a change that changes nothing. A branch's days
-- closed together (domain.closures) are one step, not one round trip a day. Safe to run
-- twice: the second run finds every value as asked ('unchanged').
-- KEYS: 1 the hash, 2 the audit stream
-- ARGV: 1 how many arguments each change takes (n), then the changes, n each, as
--       audited_set.lua's ARGV: 'field', the field, SHA-1 of the value read ('' for none),
--       the new value ('' to delete), the audit entry's field, value ...
-- Returns each change's outcome ('changed' | 'unchanged' | 'conflict'), in order
local n = tonumber(ARGV[1])
local outcomes = {}
for first = 2, #ARGV, n do
  outcomes[#outcomes + 1] = audited_set(KEYS, {unpack(ARGV, first, first + n - 1)})
end
return outcomes
