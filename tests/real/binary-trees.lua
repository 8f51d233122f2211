-- tests/real/binary-trees.lua DEPTH: the benchmarks game's binary-trees (allocation, recursion,
-- the garbage collector), the CPU-time workload of lua in tests/real.
local function bottom_up(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { bottom_up(depth), bottom_up(depth) }
end

local function check(tree)
  if tree[1] then return 1 + check(tree[1]) + check(tree[2]) end
  return 1
end

local n = tonumber(arg and arg[1]) or 10
local min_depth, max_depth = 4, math.max(6, n)
print(string.format("stretch tree of depth %d\t check: %d", max_depth + 1, check(bottom_up(max_depth + 1))))
local long_lived = bottom_up(max_depth)
for depth = min_depth, max_depth, 2 do
  local iterations = 2 ^ (max_depth - depth + min_depth)
  local sum = 0
  for _ = 1, iterations do sum = sum + check(bottom_up(depth)) end
  print(string.format("%d\t trees of depth %d\t check: %d", iterations, depth, sum))
end
print(string.format("long lived tree of depth %d\t check: %d", max_depth, check(long_lived)))
