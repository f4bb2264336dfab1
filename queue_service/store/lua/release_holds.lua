-- Release a branch's unverified holds whose deadline has passed (by Redis's clock): each
-- becomes 'expired' and its slot, the day's quota and the service's count are freed, in this
-- one step. A waitlist offer not accepted in time ('offered') is such a hold too, counted in
-- the day's waitlist figures; the place it frees goes to the next on the waitlist by the
-- offer step (waitlist_offer.lua) that its caller, or the worker's sweep, runs next.
-- Its queue number is not given back: numbers are only ever issued upwards.
-- The NIK's date and the phone's count, which live in other cluster slots, are freed by the
-- caller (or found stale by the next claim or count: an expired hold holds neither).
-- The keys of a hold's booking and of its day are named from prefixes the caller builds
-- (store/keys.py), not declared: which holds ran out is known only here. Every one of them
-- is under the branch's hash tag, so they are in this script's own cluster slot.
-- KEYS: 1 the branch's holds (sorted set code -> verify_by_ms)
-- ARGV: 1 booking key prefix, 2 slot counts key prefix, 3 day counts key prefix,
--       4 most holds to release in this step, 5 (optional) a code to release now whatever
--       its deadline (its last wrong one-time code)
-- Returns the codes released
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
if ARGV[5] and ARGV[5] ~= '' then
  due[#due + 1] = ARGV[5]
end
local released = {}
for _, code in ipairs(due) do
  redis.call('ZREM', KEYS[1], code)
  local booking = ARGV[1] .. code
  local b = redis.call('HMGET', booking, 'status', 'date', 'slot', 'service_id', 'waitlist', 'accepted_ms')
  if b[1] == 'pending' and b[5] and not b[6] then
    -- A waitlist entry whose phone's code never came back: never in line, nothing counted.
    redis.call('HSET', booking, 'status', 'expired', 'expired_ms', now)
    redis.call('HDEL', booking, 'otp')
    released[#released + 1] = code
  elseif b[1] == 'pending' or b[1] == 'offered' then
    if b[1] == 'offered' then
      redis.call('HINCRBY', ARGV[3] .. b[2], 'wl:expired', 1)
    end
    redis.call('HSET', booking, 'status', 'expired', 'expired_ms', now)
    redis.call('HDEL', booking, 'otp')
    redis.call('HINCRBY', ARGV[2] .. b[2], b[3], -1)
    redis.call('HINCRBY', ARGV[3] .. b[2], 'total', -1)
    redis.call('HINCRBY', ARGV[3] .. b[2], 'svc:' .. b[4], -1)
    released[#released + 1] = code
  end
end
return released
