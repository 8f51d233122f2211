-- tests/real/sjlj.lua: Lua's error handling and coroutines, which the C interpreter does with
-- setjmp/longjmp (in wasm32: Kiln's sjlj runtime over Wasm exceptions). Output must equal the
-- native build's. Nothing printed depends on addresses, time or the platform.

local function show(...)
  local t = table.pack(...)
  for i = 1, t.n do
    local v = t[i]
    if type(v) == "table" then
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      local parts = {}
      for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(v[k] or v[tonumber(k)]) end
      t[i] = "{" .. table.concat(parts, ",") .. "}"
    else
      t[i] = tostring(v)
    end
  end
  print(table.concat(t, " ", 1, t.n))
end

-- pcall and error with values of every kind
show("string", pcall(error, "plain message"))
show("located", pcall(function() error("with position") end))
show("level 2", pcall(function() local function f() error("caller's fault", 2) end f() end))
show("number", pcall(error, 42))
show("float", pcall(error, 2.5))
show("table", pcall(error, { code = 7, why = "table value" }))
show("boolean", pcall(error, false))
show("nil", pcall(error, nil))
show("no value", pcall(error))
local obj = setmetatable({}, { __tostring = function() return "custom error object" end })
local ok, e = pcall(error, obj)
show("same object", ok, e == obj, tostring(e))
show("runtime", pcall(function() local t = nil; return t.x end))
show("arith", pcall(function() return {} + 1 end))
show("success", pcall(function(a, b) return a + b, a * b end, 6, 7))

-- nested pcall: inner errors stay inside, outer ones propagate past finished frames
local trace = {}
local function nest(n)
  if n == 0 then error({ depth = 0 }) end
  local ok2, err = pcall(nest, n - 1)
  trace[#trace + 1] = n .. ":" .. tostring(ok2) .. ":" .. err.depth
  if n % 2 == 0 then error({ depth = n }) end
  return { depth = -n }
end
show("nested", pcall(nest, 6))
print("trace", table.concat(trace, " "))

-- xpcall with a handler, and an error inside the handler's own pcall
show("xpcall", xpcall(function() error("boom") end, function(m) return "handled: " .. m end))
show("xpcall table", xpcall(function() error({ 1, 2, 3 }) end, function(m) return #m end))
show("xpcall args", xpcall(function(a, b) return a .. b end, print, "x", "y"))
show("handler error", xpcall(error, function(m) return select(2, pcall(error, "in handler")) end, "orig"))

-- deep recursion unwound by one error
local function deep(n) if n == 0 then error("bottom", 0) end return deep(n - 1) + 1 end
show("deep", pcall(deep, 150))
local function inf() return 1 + inf() end
local ok6, overflow = pcall(inf)
show("stack overflow", ok6, overflow:match("stack overflow") ~= nil)

-- error() through string.gsub and table.sort callbacks (C frames between)
show("through gsub", pcall(string.gsub, "abc", "%w", function(c) if c == "b" then error("no b") end end))
show("through sort", pcall(table.sort, { 3, 1, 2 }, function(a, b) error({ cmp = a + b }) end))
show("tostring meta", pcall(tostring, setmetatable({}, { __tostring = function() error("meta fail", 0) end })))

-- coroutines: resume/yield, values both ways, status
local co = coroutine.create(function(a, b)
  show("co start", a, b)
  local c = coroutine.yield(a + b)
  show("co got", c)
  local d, e2 = coroutine.yield(c * 2)
  show("co got2", d, e2)
  return "done", a + b + c
end)
show("resume1", coroutine.resume(co, 1, 2))
show("status", coroutine.status(co))
show("resume2", coroutine.resume(co, 10))
show("resume3", coroutine.resume(co, "x", "y"))
show("status", coroutine.status(co))
show("resume dead", coroutine.resume(co))

-- an error inside a coroutine: resume returns it, the coroutine is dead
local bad = coroutine.create(function()
  coroutine.yield(1)
  error({ reason = "inside coroutine" })
end)
show("bad1", coroutine.resume(bad))
show("bad2", coroutine.resume(bad))
show("bad status", coroutine.status(bad))
-- pcall inside a coroutine, across yields
local mixed = coroutine.create(function()
  local ok3, v = pcall(function()
    local x = coroutine.yield("yield inside pcall")
    error("after yield " .. x, 0)
  end)
  coroutine.yield(ok3, v)
  return "mixed done"
end)
show("mixed1", coroutine.resume(mixed))
show("mixed2", coroutine.resume(mixed, "X"))
show("mixed3", coroutine.resume(mixed))

-- wrap: generators, and errors raised through the wrapper into the caller's pcall
local function gen(n) return coroutine.wrap(function() for i = 1, n do coroutine.yield(i * i) end end) end
local sq = {}
for v in gen(8) do sq[#sq + 1] = v end
print("wrap", table.concat(sq, ","))
local w = coroutine.wrap(function() coroutine.yield(1) error("wrapped error", 0) end)
show("wrap1", w())
show("wrap2", pcall(w))
show("wrap dead", pcall(w))

-- coroutine.close: a suspended coroutine with pending to-be-closed variables, and a dead one
local log = {}
local closing = coroutine.create(function()
  local res <close> = setmetatable({}, { __close = function(_, err) log[#log + 1] = "closed:" .. tostring(err) end })
  coroutine.yield("holding")
  log[#log + 1] = "never"
end)
show("close resume", coroutine.resume(closing))
show("close", coroutine.close(closing))
show("close status", coroutine.status(closing), table.concat(log, ","))
local failing = coroutine.create(function() error({ msg = "dead with error" }) end)
coroutine.resume(failing)
show("close dead", coroutine.close(failing))
local badclose = coroutine.create(function()
  local r <close> = setmetatable({}, { __close = function() error("close failed", 0) end })
  coroutine.yield()
end)
coroutine.resume(badclose)
show("close error", coroutine.close(badclose))

-- to-be-closed variables on the error path of pcall
local order = {}
show("tbc", pcall(function()
  local a <close> = setmetatable({}, { __close = function(_, err) order[#order + 1] = "a:" .. tostring(err) end })
  local b <close> = setmetatable({}, { __close = function(_, err) order[#order + 1] = "b:" .. tostring(err) end })
  error("tbc error", 0)
end))
print("tbc order", table.concat(order, " "))

-- many coroutines alive at once, each with its own errors
local pool = {}
for i = 1, 50 do
  pool[i] = coroutine.create(function(k)
    for step = 1, 3 do
      local ok4 = pcall(function() if (k + step) % 4 == 0 then error(k * step) end end)
      k = coroutine.yield(ok4 and k or -k)
    end
    return k
  end)
end
local sum = 0
for round = 1, 4 do
  for i = 1, #pool do
    local ok5, v = coroutine.resume(pool[i], i + round)
    if ok5 and type(v) == "number" then sum = sum + v end
  end
end
print("pool sum", sum)

-- string work
local s = "The quick brown fox jumps over the lazy dog"
print(s:upper(), s:len(), s:reverse():sub(1, 9))
print(s:gsub("%w+", function(wd) return wd:sub(1, 1):upper() .. wd:sub(2) end))
print(string.format("%5d|%-5s|%.3f|%x|%q|%g", 42, "ab", math.pi, 255, "a\nb\"c", 1e20))
local words = {}
for wd in s:gmatch("%a+") do words[#words + 1] = wd:lower() end
table.sort(words)
print(table.concat(words, " "))
print(("x"):rep(5, "-"), ("abc"):byte(1, -1))
print(string.pack and #string.pack("i4i8d", 1, 2, 3.0), utf8.char(72, 228, 8364, 128512), utf8.len("häll€"))
print(("key=value; other = thing"):match("(%w+)%s*=%s*(%w+);%s*(%w+)"))

-- table work
local t = {}
for i = 1, 20 do t[i] = (i * 37) % 23 end
table.sort(t, function(a, b) return a > b end)
print(table.concat(t, ","))
table.insert(t, 1, "first")
table.remove(t, 5)
print(#t, t[1], t[#t], select("#", table.unpack(t)))
print(table.concat(table.move({ 1, 2, 3, 4, 5 }, 2, 4, 1, {}), ","))

-- math work
print(math.floor(-3.5), math.ceil(-3.5), math.max(3, 9, -1), math.min(2.5, -7), math.abs(-2 ^ 63))
print(7 // 2, -7 // 2, 7 % -3, 2 ^ 10, 10 / 4, math.tointeger(8.0), math.type(1), math.type(1.0))
print(string.format("%.10f %.10f %.10f", math.sin(1), math.exp(1), math.log(10, 2)))
print(math.maxinteger + 1 == math.mininteger, math.ult(1, -1), 1 << 62, 0xff ~ 0x0f)
local acc = 0
for i = 1, 100000 do acc = (acc * 31 + i) % 1000000007 end
print("acc", acc)
