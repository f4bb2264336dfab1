--! uses place_refusal
-- Offer a day's free places to its waitlist, in the order it joined: each waiting entry, first
-- come first, whose slot (or any slot, for one waiting for any) has a free place gets that
-- place held for it ('offered', a hold in the branch's holds with its deadline, counted against
-- the slot, the day's quota and the service's count as a booking is), and its message ('offer')
-- goes on the outbox, all in this one step: so two places freed at once make two offers, and
-- no place is ever offered twice. An offer not accepted in time is released as any hold is
-- (release_holds.lua), and the next run of this step offers its place to the next entry.
-- Run right after whatever frees a place (a cancellation, a released hold, a move, a raised
-- quota or capacity, a declined offer), and by the worker's sweep for every day with a waitlist.
-- The walk goes through the whole line, a page at a time, and stops only at its end or once no
-- place of the day is left: an entry far down the line whose slot frees is offered it even when
-- those before it wait for slots still full. It stays short however long the line: a service
-- and slot found full is not judged again (this step only takes places, so it stays full), and
-- an entry costs one read.
-- KEYS: 1 settings, 2 date overrides, 3 the branch's copy of the national closures,
--       4 day counts, 5 slot counts, 6 the day's waiters, 7 the day's waitlist, 8 the branch's
--       holds, 9 the branch's SMS outbox, 10 the branch's days with a waitlist
-- ARGV: 1 date, 2 how long an offer holds (ms), 3 booking key prefix, 4 entries read a page,
--       5 SHA-1 of the settings the slots were worked out from, 6.. the slots still bookable
--       that day, three values each: start, end, and the ms left before its booking cutoff (by
--       the caller's clock, which judges the day's rules)
-- Returns the codes offered a place, or false (nil to the caller) when the settings changed
-- since the caller read them (its slots may be none of the day's now): nothing is offered then
local raw = redis.call('GET', KEYS[1])
if not raw then
  return {}
end
local sha1 = ARGV[5]
if redis.sha1hex(raw) ~= sha1 then
  return false
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slots, ends, left = {}, {}, {}
for i = 6, #ARGV, 3 do
  slots[#slots + 1] = ARGV[i]
  ends[ARGV[i]] = ARGV[i + 1]
  left[ARGV[i]] = tonumber(ARGV[i + 2])
end
local offered = {}
local place_keys = {KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]}
-- 'closed' when the day takes no bookings now, 'full' when no slot has a place left for anyone,
-- nil while one has.
local function no_room()
  for _, slot in ipairs(slots) do
    local refused = place_refusal(place_keys, {sha1, ARGV[1], '', slot, '1', 'waitlist'})
    if not refused then
      return nil
    end
    if refused[1] ~= 'slot_full' and refused[1] ~= 'day_full' then
      return 'closed'
    end
  end
  return 'full'
end
local full = {} -- '<service> <slot>' -> true: refused in this step, so refused to every later entry
local page = tonumber(ARGV[4])
local start = 0
local stop = no_room()
while not stop do
  local codes = redis.call('ZRANGE', KEYS[7], start, start + page - 1)
  if #codes == 0 then
    break
  end
  local gone = 0 -- entries of this page out of the line now: the next page starts that much sooner
  for _, code in ipairs(codes) do
    local entry = ARGV[3] .. code
    local e = redis.call('HMGET', entry, 'status', 'slot', 'service_id')
    if e[1] ~= 'waiting' then
      redis.call('ZREM', KEYS[7], code) -- left or erased meanwhile: no longer in line
      gone = gone + 1
    else
      local candidates = slots
      if e[2] ~= '' then
        candidates = left[e[2]] and {e[2]} or {}
      end
      for _, slot in ipairs(candidates) do
        local pair = e[3] .. ' ' .. slot
        local refused = full[pair] and {'slot_full'}
          or place_refusal(place_keys, {sha1, ARGV[1], e[3], slot, '1', 'waitlist'})
        if refused and refused[1] ~= 'slot_full' and refused[1] ~= 'day_full' then
          stop = 'closed' -- the day takes no bookings now: nothing to offer
          break
        end
        if refused then
          full[pair] = true
        else
          local deadline = now + math.min(tonumber(ARGV[2]), left[slot])
          redis.call('HSET', entry, 'status', 'offered', 'slot', slot, 'slot_end', ends[slot],
                     'verify_by_ms', deadline, 'offered_ms', now)
          redis.call('ZREM', KEYS[7], code)
          gone = gone + 1
          redis.call('HINCRBY', KEYS[6], e[3] .. '/' .. (e[2] == '' and '*' or e[2]), -1)
          redis.call('HINCRBY', KEYS[5], slot, 1)
          redis.call('HINCRBY', KEYS[4], 'total', 1)
          redis.call('HINCRBY', KEYS[4], 'svc:' .. e[3], 1)
          redis.call('HINCRBY', KEYS[4], 'wl:offered', 1)
          redis.call('ZADD', KEYS[8], deadline, code)
          redis.call('ZADD', KEYS[9], 'NX', now, code .. ':offer')
          offered[#offered + 1] = code
          stop = no_room()
          break
        end
      end
    end
    if stop then
      break
    end
  end
  start = start + #codes - gone
end
if redis.call('EXISTS', KEYS[7]) == 0 then
  redis.call('ZREM', KEYS[10], ARGV[1])
end
return offered
