-- libs.lua: exercises the Lua VM and its libraries for libs.sh; each part
-- asserts its results and prints them (the output is compared too).
local out = {}
local function say(...) local t = table.pack(...) for i = 1, t.n do t[i] = tostring(t[i]) end print(table.concat(t, " ")) end

-- the VM: arithmetic, integer and float, loops, closures, varargs
local s, f = 0, 0.0
for i = 1, 10000 do s = s + i * i % 7; f = f + 1 / i end
assert(s == 20001)
say("sum", s, string.format("%.12f", f))
assert(7 // 2 == 3 and -7 // 2 == -4 and 7 % -3 == -2 and 2^10 == 1024.0)
assert(math.maxinteger + 1 == math.mininteger and 1 << 62 == 4611686018427387904)
assert((0xff ~ 0x0f) == 0xf0 and (5 & 3) == 1 and (5 | 3) == 7 and ~0 == -1 and 256 >> 4 == 16)
local function counter() local n = 0 return function(k) n = n + (k or 1) return n end end
local c1, c2 = counter(), counter()
c1(); c1(5); c2(2)
assert(c1() == 7 and c2() == 3)
local function va(...) return select("#", ...), select(2, ...) end
local n, second = va(1, nil, 3)
assert(n == 3 and second == nil)
local function fib(k) if k < 2 then return k end return fib(k - 1) + fib(k - 2) end
assert(fib(20) == 6765)
say("fib", fib(24))
-- goto, while, repeat, numeric for with float step
local k = 0
repeat k = k + 1 until k >= 10
while k > 0 do k = k - 3 end
for x = 1.0, 2.0, 0.25 do k = k + x end
say("loops", k)
do local i = 1 ::top:: i = i + 1 if i < 5 then goto top end assert(i == 5) end
-- every comparison and switch-like dispatch on many values
local kinds = {}
for i = -3, 40 do
  local v = i % 9
  if v == 0 then kinds[#kinds + 1] = "z" elseif v == 1 then kinds[#kinds + 1] = "a"
  elseif v == 2 then kinds[#kinds + 1] = "b" elseif v < 6 then kinds[#kinds + 1] = "c"
  else kinds[#kinds + 1] = tostring(v) end
end
say("kinds", table.concat(kinds))

-- tables: sort, concat, insert, remove, move, unpack, length, next
local t = {}
for i = 1, 500 do t[i] = (i * 7919) % 1009 end
table.sort(t)
for i = 2, #t do assert(t[i - 1] <= t[i]) end
table.sort(t, function(a, b) return a > b end)
assert(t[1] >= t[#t])
table.insert(t, 1, -1); table.insert(t, 99); assert(table.remove(t) == 99 and table.remove(t, 1) == -1)
local m = table.move({1, 2, 3}, 1, 3, 2, {9})
assert(table.concat(m, ",") == "9,1,2,3")
assert(select("#", table.unpack({1, 2, 3})) == 3)
local h = {}
for i = 1, 2000 do h["k" .. i] = i; h[i * 1.5] = i end
local cnt = 0
for _, v in pairs(h) do cnt = cnt + v end
for i = 1, 2000, 3 do h["k" .. i] = nil end
local left = 0
for _ in pairs(h) do left = left + 1 end
say("tables", cnt, left, #t)

-- metatables: __index, __newindex, __add, __eq, __lt, __call, __tostring, __len, __close
local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({x = a.x + b.x}, V) end
V.__eq = function(a, b) return a.x == b.x end
V.__lt = function(a, b) return a.x < b.x end
V.__call = function(self, d) return self.x * d end
V.__tostring = function(self) return "V(" .. self.x .. ")" end
V.__len = function(self) return self.x end
local a, b = setmetatable({x = 2}, V), setmetatable({x = 3}, V)
assert((a + b).x == 5 and a + b == setmetatable({x = 5}, V) and a < b and a(10) == 20 and #b == 3)
say("meta", tostring(a + b))
local closed = {}
do
  local r <close> = setmetatable({}, {__close = function() closed[#closed + 1] = "closed" end})
end
assert(closed[1] == "closed")
local proxy = setmetatable({}, {__index = function(_, key) return key .. "!" end, __newindex = function(tt, key, v) rawset(tt, key, v * 2) end})
proxy.q = 4
assert(proxy.q == 8 and proxy.zz == "zz!")

-- strings: format, find, match, gsub, gmatch, rep, byte, char, pack
local str = string.rep("abc", 5, "-")
assert(str == "abc-abc-abc-abc-abc" and #str == 19)
assert(string.format("%5.2f|%-5d|%x|%q", 3.14159, 42, 255, "a\nb") == " 3.14|42   |ff|\"a\\\nb\"")
local words = {}
for w in string.gmatch("the quick  brown fox", "%a+") do words[#words + 1] = w:upper() end
assert(table.concat(words, ".") == "THE.QUICK.BROWN.FOX")
local g, ng = string.gsub("hello world from lua", "(%w+)", "<%1>")
assert(ng == 4 and g == "<hello> <world> <from> <lua>")
assert(("key = value"):match("^(%w+)%s*=%s*(%w+)$") == "key")
assert(string.find("a.b.c", ".", 1, true) == 2 and string.find("abc", "b()") == 2)
assert(string.byte("A") == 65 and string.char(72, 105) == "Hi" and ("x"):rep(0) == "")
local packed = string.pack("<i4 d s2 z", -5, 2.5, "str", "zero")
local p1, p2, p3, p4 = string.unpack("<i4 d s2 z", packed)
assert(p1 == -5 and p2 == 2.5 and p3 == "str" and p4 == "zero")
assert(utf8.char(228, 8364) == "ä€" and utf8.len("ä€x") == 3)
local cps = {}
for _, cp in utf8.codes("añb") do cps[#cps + 1] = cp end
assert(table.concat(cps, ",") == "97,241,98")
say("strings", #packed, g, string.format("%g %g", 1e300 * 10, -0.0))
local big = {}
for i = 1, 3000 do big[i] = string.format("%04d", i % 1000) end
local joined = table.concat(big)
say("big", #joined, joined:sub(1, 12), select(2, joined:gsub("0", "")))

-- coroutines: generators, passing values, wrap, status, yield across pcall
local gen = coroutine.wrap(function(lim) for i = 1, lim do coroutine.yield(i * i) end return "done" end)
local sq = {}
sq[1] = gen(5)
for i = 2, 5 do sq[i] = gen() end
assert(table.concat(sq, " ") == "1 4 9 16 25" and gen() == "done")
local co = coroutine.create(function(x, y)
  local z = coroutine.yield(x + y)
  local ok, e = pcall(function() coroutine.yield(z * 2); error("inner") end)
  return ok, e
end)
local ok1, v1 = coroutine.resume(co, 1, 2)
local ok2, v2 = coroutine.resume(co, 10)
local ok3, r1, r2 = coroutine.resume(co)
assert(ok1 and v1 == 3 and ok2 and v2 == 20 and ok3 and r1 == false and r2:find("inner"))
assert(coroutine.status(co) == "dead" and not coroutine.resume(co))
say("coroutines", table.concat(sq, ","), coroutine.isyieldable())

-- errors: error objects, levels, pcall, xpcall with a traceback, error in metamethods
local ok, e = pcall(error, {code = 42})
assert(not ok and e.code == 42)
ok, e = pcall(function() local x = nil; return x.field end)
assert(not ok and e:find("attempt to index"))
ok, e = pcall(function() return 1 + {} end)
assert(not ok and e:find("arithmetic"))
ok, e = xpcall(function() error("deep", 1) end, debug.traceback)
assert(not ok and e:find("deep") and e:find("traceback"))
ok, e = pcall(string.rep)
assert(not ok and e:find("bad argument"))
ok, e = pcall(function() return setmetatable({}, {__index = function() error("from index") end}).x end)
assert(not ok and e:find("from index"))
say("errors", ok)
local depth = 0
local function recurse() depth = depth + 1; return recurse() + 1 end
ok, e = pcall(recurse)
assert(not ok and e:find("stack overflow"))
say("overflow", depth > 1000)

-- load, string.dump, environments, integer/float conversions, math
local chunk = load("local a, b = ... return a * b + 1")
assert(chunk(6, 7) == 43)
local dumped = load(string.dump(chunk))
assert(dumped(2, 3) == 7)
local env = {y = 5}
assert(load("return y * 2", "chunk", "t", env)() == 10)
assert(math.type(1) == "integer" and math.type(1.0) == "float" and math.tointeger(3.0) == 3)
assert(tonumber("0x10") == 16 and tonumber("10", 2) == 2 and tonumber("1e2") == 100.0)
assert(math.floor(-3.5) == -4 and math.ceil(-3.5) == -3 and math.abs(math.mininteger) == math.mininteger)
assert(math.ult(1, -1) and math.fmod(7, 3) == 1)
math.randomseed(42)
local rs = {}
for i = 1, 5 do rs[i] = math.random(1, 100) end
say("math", string.format("%.6f %.6f", math.sin(1), math.sqrt(2)), math.pi // 1, tostring(1e15), 2^53)

-- garbage collection with weak tables and finalizers
local weak = setmetatable({}, {__mode = "k"})
local finalized = 0
for i = 1, 200 do weak[setmetatable({}, {__gc = function() finalized = finalized + 1 end})] = i end
collectgarbage(); collectgarbage()
local wl = 0
for _ in pairs(weak) do wl = wl + 1 end
assert(wl == 0 and finalized == 200)
collectgarbage("generational"); for i = 1, 10000 do local _ = {i} end; collectgarbage("incremental")
say("gc", finalized, collectgarbage("count") > 0)

-- os and io that need no files
assert(os.time({year = 2020, month = 1, day = 1, hour = 12}) > 0)
assert(os.date("!%Y-%m-%d", 0) == "1970-01-01")
io.write("io ", 1, " ", 2.5, "\n")
say("all ok")
