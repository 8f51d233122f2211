-- tests/real/strings.lua N: string work of the kind scripts do: building text with table.concat
-- and string.format, rewriting it with gsub (patterns, captures, a function replacement), and
-- scanning it with gmatch and find; prints counts and checksums. A bench/real workload.
local n = tonumber(arg and arg[1]) or 2000

-- A deterministic pseudo-random sequence (no math.random: its seed differs between libcs).
local seed = 12345
local function rnd(m)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % m
end

local words = { "kiln", "wasm", "module", "import", "export", "memory", "table", "global",
  "trap", "stack", "frame", "local", "branch", "loop", "block", "call" }

-- Lines of "key=value; key=value; ..." records.
local lines = {}
for i = 1, n do
  local parts = {}
  for j = 1, 4 + rnd(6) do
    parts[j] = string.format("%s%d=%s", words[rnd(#words) + 1], j, words[rnd(#words) + 1]:upper())
  end
  lines[i] = string.format("%05d %s; len %d", i, table.concat(parts, "; "), #parts)
end
local text = table.concat(lines, "\n")

-- Rewrite: swap key and value, lower-case values, number words by their length.
local swapped, nswap = text:gsub("(%a+)(%d)=(%u+)", "%3%2=%1")
local lowered = swapped:gsub("%u+", string.lower)
local counted, ncount = lowered:gsub("%f[%a](%a+)%f[%A]", function(w) return #w > 5 and w .. "#" .. #w or nil end)

-- Scan: count words, sum the numbers, find the records with many fields.
local freq, total, many = {}, 0, 0
for w in counted:gmatch("%a+") do freq[w] = (freq[w] or 0) + 1 end
for d in counted:gmatch("%d+") do total = total + tonumber(d) end
local pos = 1
while true do
  local s, e, k = counted:find("len (%d+)", pos)
  if not s then break end
  if tonumber(k) >= 8 then many = many + 1 end
  pos = e + 1
end
local keys = {}
for w in pairs(freq) do keys[#keys + 1] = w end
table.sort(keys)

-- A checksum over the final text, byte by byte.
local h = 0
for i = 1, #counted, 7 do h = (h * 31 + counted:byte(i)) % 4294967296 end

print("bytes", #text, #counted, "swaps", nswap, "rewrites", ncount)
print("words", #keys, "numbers", total, "many", many, "hash", h)
for i = 1, #keys, math.max(1, #keys // 8) do print(keys[i], freq[keys[i]]) end
print(string.rep("=", 10), counted:sub(1, 60))
