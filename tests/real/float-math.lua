-- tests/real/float-math.lua N: floating-point work: a small n-body simulation of N steps (sqrt,
-- division), a numerical integral with math.sin/exp/log, and a matrix product; prints results
-- with %.9f (libm's last bits may differ, the results checked stay well above them). A bench/real
-- workload.
local n = tonumber(arg and arg[1]) or 1000

-- A heavy central body and four light ones on near-circular orbits around it.
local bodies = {}
for i = 1, 5 do
  local r = i * 1.5
  bodies[i] = { x = r, y = 0, z = 0.1 * i, vx = 0, vy = math.sqrt(40 / r), vz = 0, m = 1 / (i * i) }
end
bodies[1].m, bodies[1].x, bodies[1].vy = 40, 0, 0

local function energy()
  local e = 0
  for i = 1, #bodies do
    local b = bodies[i]
    e = e + 0.5 * b.m * (b.vx * b.vx + b.vy * b.vy + b.vz * b.vz)
    for j = i + 1, #bodies do
      local c = bodies[j]
      local dx, dy, dz = b.x - c.x, b.y - c.y, b.z - c.z
      e = e - b.m * c.m / math.sqrt(dx * dx + dy * dy + dz * dz)
    end
  end
  return e
end

local function advance(dt)
  local nb = #bodies
  for i = 1, nb do
    local b = bodies[i]
    for j = i + 1, nb do
      local c = bodies[j]
      local dx, dy, dz = b.x - c.x, b.y - c.y, b.z - c.z
      local d2 = dx * dx + dy * dy + dz * dz
      local mag = dt / (d2 * math.sqrt(d2))
      b.vx, b.vy, b.vz = b.vx - dx * c.m * mag, b.vy - dy * c.m * mag, b.vz - dz * c.m * mag
      c.vx, c.vy, c.vz = c.vx + dx * b.m * mag, c.vy + dy * b.m * mag, c.vz + dz * b.m * mag
    end
  end
  for i = 1, nb do
    local b = bodies[i]
    b.x, b.y, b.z = b.x + dt * b.vx, b.y + dt * b.vy, b.z + dt * b.vz
  end
end

local e0 = energy()
for _ = 1, n * 100 do advance(0.001) end
print(string.format("energy %.9f %.9f", e0, energy()))

-- Simpson's rule over a smooth function.
local function f(x) return math.sin(x) * math.exp(-x / 5) + math.log(1 + x * x) end
local steps, a, b = n * 200, 0, 10
local hstep, s = (b - a) / steps, 0
for i = 0, steps do
  local w = (i == 0 or i == steps) and 1 or (i % 2 == 1 and 4 or 2)
  s = s + w * f(a + i * hstep)
end
print(string.format("integral %.9f", s * hstep / 3))

-- A dense matrix product.
local m = math.max(8, n // 8)
local A, B = {}, {}
for i = 1, m do
  A[i], B[i] = {}, {}
  for j = 1, m do A[i][j], B[i][j] = (i + j) / m, (i * j % 7 - 3) / (m + 1) end
end
local tr = 0
for i = 1, m do
  local Ai = A[i]
  for j = 1, m do
    local acc = 0
    for k = 1, m do acc = acc + Ai[k] * B[k][j] end
    if i == j then tr = tr + acc end
  end
end
print(string.format("matrix %d trace %.9f", m, tr))
