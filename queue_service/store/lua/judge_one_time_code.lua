--! uses release_holds
-- Judge the one-time code typed for a place held for its phone (a booking's hold, or a
-- waitlist entry's): a code typed after the deadline (Redis's clock) releases the hold at
-- once, as the last wrong code allowed does (release_holds.lua), so its place is free for
-- the next person; another wrong code counts. The right one is left to the caller, which
-- confirms the hold its own way in the same step.
-- KEYS: 1 the hold's record, 2 the branch's holds
-- ARGV: 1 the code typed, 2 wrong codes allowed, 3 the hold's code, 4-6 release_holds.lua's
--       key prefixes, 7 the hold's deadline (ms), 8 the code that was sent
-- Returns {'right', now (ms)} | {'wrong', wrong codes left} | {'released', 'deadline' | 'wrong'}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local release_args = {ARGV[4], ARGV[5], ARGV[6], 0, ARGV[3]}
if now >= tonumber(ARGV[7]) then
  release_holds({KEYS[2]}, release_args)
  return {'released', 'deadline'}
end
if ARGV[8] == ARGV[1] then
  return {'right', now}
end
local failures = redis.call('HINCRBY', KEYS[1], 'otp_failures', 1)
if failures >= tonumber(ARGV[2]) then
  release_holds({KEYS[2]}, release_args)
  return {'released', 'wrong'}
end
return {'wrong', tostring(tonumber(ARGV[2]) - failures)}
