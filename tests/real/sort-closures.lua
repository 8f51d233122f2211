-- tests/real/sort-closures.lua N: table.sort with comparison closures over records, closures
-- as counters and accumulators, higher-order map/filter/reduce, and a memoizing closure; prints
-- checksums of the results. A bench/real workload.
local n = tonumber(arg and arg[1]) or 20000

local seed = 42
local function rnd(m)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % m
end

local function map(t, f) local r = {} for i = 1, #t do r[i] = f(t[i], i) end return r end
local function filter(t, f) local r = {} for i = 1, #t do if f(t[i]) then r[#r + 1] = t[i] end end return r end
local function reduce(t, f, acc) for i = 1, #t do acc = f(acc, t[i]) end return acc end

local function counter()
  local c = 0
  return function(k) c = c + (k or 1) return c end
end

local recs = {}
for i = 1, n do
  recs[i] = { id = i, group = rnd(97), score = rnd(100000) / 7, name = "r" .. rnd(n) }
end

-- Sorts by several keys, each comparison a closure call.
local compares = counter()
local by_group_score = function(a, b)
  compares()
  if a.group ~= b.group then return a.group < b.group end
  if a.score ~= b.score then return a.score > b.score end
  return a.id < b.id
end
local by_name = function(a, b)
  compares()
  if a.name ~= b.name then return a.name < b.name end
  return a.id < b.id
end
local h = 0
for round = 1, 3 do
  local t = map(recs, function(r) return r end)
  table.sort(t, round % 2 == 1 and by_group_score or by_name)
  h = reduce(t, function(acc, r) return (acc * 31 + r.id) % 4294967296 end, h)
end

-- Closures made in a loop, each keeping its own upvalue.
local adders = {}
for i = 1, 1000 do adders[i] = function(x) return x + i end end
local s = 0
for j = 1, n // 10 do s = adders[j % 1000 + 1](s) % 1000003 end

-- Memoized recursion through a closure table.
local memo = {}
local function paths(a, b)
  if a == 0 or b == 0 then return 1 end
  local k = a * 4096 + b
  local v = memo[k]
  if not v then v = (paths(a - 1, b) + paths(a, b - 1)) % 1000000007 memo[k] = v end
  return v
end

local best = filter(recs, function(r) return r.score > 14000 end)
local sum = reduce(map(best, function(r) return r.score end), function(a, b) return a + b end, 0)
print("records", #recs, "compares", compares(0) > 0, "hash", h)
print("adders", s, "paths", paths(300, 300), "best", #best, string.format("%.3f", sum))
