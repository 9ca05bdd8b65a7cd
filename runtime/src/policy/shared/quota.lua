-- quota.lua: the shared quota store's one script (runtime/src/policy/shared.rs
-- loads it with include_str! and runs it with EVALSHA, EVAL on NOSCRIPT).
-- It is not the quota logic: the caller builds the keys and decides what an
-- answer means; this only checks and commits against Redis' own clock.
--
-- Call: KEYS = one key per op; ARGV[1] = 'check' or 'settle', then four
-- numbers per op (ARGV[4i-2 .. 4i+1] for op i):
--   check  GCRA   1, capacity, emission_ns, cost
--   check  budget 2, limit, cost, ttl_s
--   settle GCRA   1, emission_ns, delta, 0
--   settle budget 2, delta, ttl_s, 0
-- check returns four integers per op: allowed (0/1), remaining, reset_ns,
-- retry_after_ns; settle returns the number of ops.
--
-- Time: now is TIME (seconds, microseconds), one read per call, so every op
-- of a call and every replica sees one clock. A GCRA key holds its
-- theoretical arrival time (TAT) as "<seconds>.<nanoseconds, 9 digits>",
-- which round-trips exactly; arithmetic is on d = TAT - now in whole
-- nanoseconds, exact in a double while below 2^53 ns (104 days), so a
-- fractional per-microsecond rate loses nothing. Values Redis gets back are
-- integral already (Redis truncates Lua numbers to integers).
--
-- check is all-or-nothing: pass one computes every op (a key named twice
-- sees the earlier op's effect), pass two writes only if every op is
-- admitted. When nothing is committed each op reports the state as it is
-- (allowed still says whether that op alone would pass). A cost of 0 reads
-- and writes nothing. In check, malformed arguments or a key holding
-- something else raise before anything is written.

-- Redis before 5 replicates scripts verbatim, which TIME forbids before a
-- write; asking for effects replication is a no-op since.
if redis.replicate_commands then
  redis.replicate_commands()
end

local mode = ARGV[1]
local time = redis.call('TIME')
local now_s = tonumber(time[1])
local now_ns = tonumber(time[2]) * 1000

local function num(i)
  local v = tonumber(ARGV[i])
  if v == nil then
    error('quota.lua: ARGV[' .. i .. '] is not a number')
  end
  return v
end

-- TAT - now in ns, or nil when the key is absent.
local function tat_offset(key)
  local v = redis.call('GET', key)
  if not v then
    return nil
  end
  local s, ns = string.match(v, '^(%d+)%.(%d%d%d%d%d%d%d%d%d)$')
  if not s then
    error('quota.lua: ' .. key .. ' does not hold a GCRA state')
  end
  return (tonumber(s) - now_s) * 1e9 + (tonumber(ns) - now_ns)
end

-- An integral number as Redis wants it (redis.call would write 1e+15 for 10^15).
local function int(x)
  return string.format('%d', x)
end

-- Stores TAT = now + d (d >= 0); the key vanishes a second after the bucket is full.
local function store_tat(key, d)
  local total = now_ns + d
  local s = math.floor(total / 1e9)
  local ns = total - s * 1e9
  if ns < 0 then
    s, ns = s - 1, ns + 1e9
  elseif ns >= 1e9 then
    s, ns = s + 1, ns - 1e9
  end
  redis.call('SET', key, string.format('%d.%09d', now_s + s, ns), 'PX', int(math.ceil(d / 1e6) + 1000))
end

local function budget_spent(key)
  local v = redis.call('GET', key)
  if not v then
    return 0
  end
  if not string.match(v, '^-?%d+$') then
    error('quota.lua: ' .. key .. ' does not hold a budget')
  end
  return tonumber(v)
end

-- Pass one for op i: a plan { kind, allowed, ... } and the simulated state in `seen`.
local function plan_op(i, seen)
  local key, kind, a, b, c = KEYS[i], num(4 * i - 2), num(4 * i - 1), num(4 * i), num(4 * i + 1)
  if kind == 1 then
    local em = math.max(b, 1)
    local d = seen[key] or tat_offset(key) or 0
    if d < 0 then
      d = 0
    end
    local nd = d + c * em
    local ok = nd <= a * em
    if ok then
      seen[key] = nd
    end
    return { kind = 1, ok = ok, key = key, cap = a * em, em = em, d = d, nd = nd, cost = c }
  elseif kind == 2 then
    local spent = seen[key] or budget_spent(key)
    local ok = spent < a
    if ok then
      seen[key] = spent + b
    end
    return { kind = 2, ok = ok, key = key, limit = a, spent = spent, cost = b, ttl = c }
  end
  error('quota.lua: op ' .. i .. ' has unknown kind ' .. kind)
end

-- Pass two for one op: writes when `commit`, appends four integers to `out`.
local function finish_op(p, commit, out)
  local n = #out
  if p.kind == 1 then
    local d = commit and p.nd or p.d
    if commit and p.cost > 0 then
      store_tat(p.key, p.nd)
    end
    if p.ok then
      out[n + 1], out[n + 2], out[n + 3], out[n + 4] = 1, math.floor((p.cap - d) / p.em), d, 0
    else
      out[n + 1], out[n + 2], out[n + 3], out[n + 4] = 0, 0, p.d, p.nd - p.cap
    end
  else
    local spent = commit and (p.spent + p.cost) or p.spent
    if commit and p.cost > 0 then
      redis.call('INCRBY', p.key, int(p.cost))
      if p.ttl > 0 then
        redis.call('EXPIRE', p.key, int(p.ttl))
      end
    end
    out[n + 1], out[n + 2], out[n + 3], out[n + 4] = p.ok and 1 or 0, math.max(p.limit - spent, 0), 0, 0
  end
end

local function check()
  local seen, plans, all = {}, {}, true
  for i = 1, #KEYS do
    plans[i] = plan_op(i, seen)
    all = all and plans[i].ok
  end
  local out = {}
  for i = 1, #KEYS do
    finish_op(plans[i], all, out)
  end
  return out
end

-- GCRA: TAT += delta * emission, never below now (a refund gives no credit
-- beyond a full bucket); an absent key (full, or expired) is left alone.
-- Budget: spent += delta; an absent key is created (with its TTL) only by a
-- charge, and a refund never takes spent below 0.
local function settle()
  for i = 1, #KEYS do
    local key, kind, a, b = KEYS[i], num(4 * i - 2), num(4 * i - 1), num(4 * i)
    if kind == 1 then
      local d = tat_offset(key)
      if d ~= nil then
        store_tat(key, math.max(math.max(d, 0) + b * math.max(a, 1), 0))
      end
    elseif kind == 2 then
      local exists = redis.call('EXISTS', key) == 1
      if exists and a ~= 0 then
        local spent = redis.call('INCRBY', key, int(a))
        if spent < 0 then
          redis.call('INCRBY', key, int(-spent))
        end
      elseif a > 0 then
        redis.call('INCRBY', key, int(a))
        if b > 0 then
          redis.call('EXPIRE', key, int(b))
        end
      end
    else
      error('quota.lua: op ' .. i .. ' has unknown kind ' .. kind)
    end
  end
  return #KEYS
end

if #ARGV ~= 1 + 4 * #KEYS then
  error('quota.lua: expected ' .. (1 + 4 * #KEYS) .. ' arguments for ' .. #KEYS .. ' keys, got ' .. #ARGV)
end
if mode == 'check' then
  return check()
elseif mode == 'settle' then
  return settle()
end
error('quota.lua: unknown mode ' .. tostring(mode))
