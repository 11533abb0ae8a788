-- The Lua script set of tests/corpus/srclibs.sh: run by the interpreter
-- built from Debian's lua5.4 source, once with the library objects as the
-- compiler wrote them and once rewritten; both runs must print the same.
-- Each section also checks itself (assert), so that a wrong result fails
-- even where both builds would print it alike.  Everything printed is
-- deterministic: no addresses, times or unordered table walks.

local out = {}
local function say(...)
	local t = table.pack(...)
	for i = 1, t.n do
		t[i] = tostring(t[i])
	end
	print(table.concat(t, " "))
end

-- strings and patterns
do
	local s = "The quick brown fox jumps over the lazy dog"
	local words = {}
	for w in s:gmatch("%a+") do
		words[#words + 1] = w:lower()
	end
	assert(#words == 9)
	say("words", table.concat(words, ","))
	say("gsub", (s:gsub("(%w+) (%w+)", "%2 %1")))
	say("gsub-fn", (s:gsub("%w+", function(w)
		return #w > 4 and w:upper() or nil
	end)))
	local a, b, c = s:find("(b%a+)%s+(f%a+)")
	say("find", a, b, c)
	say("match", ("key = value ; x=1"):match("^(%w+)%s*=%s*(%w+)"))
	say("balanced", ("f(a(b)c)d(e)"):match("%b()"))
	say("frontier", (("THE (quick) fox"):gsub("%f[%a]%a+", "W")))
	say("anchors", ("  trim me  "):match("^%s*(.-)%s*$") .. "|")
	say("rep", ("ab"):rep(5, "-"), ("x"):rep(0) == "")
	say("bytes", ("Lua"):byte(1, -1))
	say("char", string.char(72, 105, 33))
	say("reverse", ("stressed"):reverse(), #("\0a\0"))
	local caps = {}
	for k, v in ("a=1, b=22, ccc=333"):gmatch("(%w+)=(%w+)") do
		caps[#caps + 1] = k .. ":" .. v
	end
	say("gmatch", table.concat(caps, " "))
	say("pos-capture", ("hello"):match("()ll()"))
	local n = 0
	local long = ("abc"):rep(2000)
	for _ in long:gmatch("b") do
		n = n + 1
	end
	assert(n == 2000)
	say("long", #long, n, long:sub(-5), long:sub(2, 4))
	say("utf8", utf8.char(72, 228, 8364, 128512), utf8.len("häll€"),
		table.concat({ utf8.codepoint("h€!", 1, -1) }, ","))
	local packed = string.pack("<i4 d z B", -12345, 2.5, "zz", 255)
	say("pack", #packed, string.unpack("<i4 d z B", packed))
	say("cmp", "a" < "b", "abc" < "abd", "Z" < "a", "" < "a")
end

-- tables
do
	local t = {}
	for i = 1, 1000 do
		t[i] = (i * 7919) % 1009
	end
	table.sort(t)
	for i = 2, #t do
		assert(t[i - 1] <= t[i])
	end
	say("sort", t[1], t[500], t[1000], #t)
	table.sort(t, function(x, y)
		return x > y
	end)
	say("sort-desc", t[1], t[1000])
	local l = { "a", "b", "c" }
	table.insert(l, "d")
	table.insert(l, 1, "z")
	say("insert", table.concat(l, ""))
	say("remove", table.remove(l), table.remove(l, 1), table.concat(l, ""))
	say("move", table.concat(table.move({ 1, 2, 3, 4, 5 }, 2, 4, 1), ","))
	say("unpack", table.unpack({ 10, 20, 30 }, 2))
	say("select", select("#", 1, nil, 3), select(2, "a", "b", "c"), select(-1, "x", "y"))
	local h = {}
	for i = 1, 200 do
		h["k" .. i] = i * i
	end
	h.k7 = nil
	local keys = {}
	for k in pairs(h) do
		keys[#keys + 1] = k
	end
	table.sort(keys)
	local sum = 0
	for _, k in ipairs(keys) do
		sum = sum + h[k]
	end
	say("hash", #keys, keys[1], keys[#keys], sum)
	local holes = { 1, 2, nil, 4 }
	say("len", #"four", #{ 1, 2, 3 }, holes[4])
	local nested = { a = { b = { c = { 42 } } } }
	say("nested", nested.a.b.c[1])
end

-- integer and float arithmetic
do
	say("int", 7 // 2, -7 // 2, 7 % 3, -7 % 3, 7 % -3, 2 ^ 10, 1 << 62, 0xff >> 4)
	say("float", 7.0 // 2, -7.5 % 2, 1 / 0, -1 / 0, 0 / 0 ~= 0 / 0, 3.0 == 3)
	say("wrap", math.maxinteger + 1 == math.mininteger, math.mininteger - 1 == math.maxinteger)
	say("bits", 0x5a ~ 0xff, ~0, 5 & 3, 5 | 3, -1 >> 63)
	say("conv", math.tointeger(3.0), math.tointeger(3.5), 10 // 3.0, 2 ^ 53 + 1.0)
	say("type", math.type(1), math.type(1.0), math.type("1"))
	say("coerce", "10" + 5, "3.5" * 2, 10 .. 20, tonumber("0x1p4"), tonumber("z", 36))
	say("round", math.floor(-3.5), math.ceil(-3.5), math.fmod(-7, 3), math.abs(math.mininteger))
	say("fmt-num", string.format("%.17g %.3f %5.1f %e", math.pi, 1 / 3, 2.25, 12345.678))
	say("ult", math.ult(1, -1), math.max(3, 9.5, -1), math.min(4, 2))
	-- A little numerical work: sieve, Collatz, a float series.
	local sieve, primes = {}, 0
	for i = 2, 20000 do
		if not sieve[i] then
			primes = primes + 1
			for j = i * i, 20000, i do
				sieve[j] = true
			end
		end
	end
	say("primes", primes)
	local steps = 0
	for i = 1, 3000 do
		local x = i
		while x ~= 1 do
			x = x % 2 == 0 and x // 2 or 3 * x + 1
			steps = steps + 1
		end
	end
	say("collatz", steps)
	local e = 0.0
	local f = 1.0
	for i = 0, 20 do
		e = e + 1 / f
		f = f * (i + 1)
	end
	say("e", string.format("%.15f", e))
	local hsh = 2166136261
	for i = 1, 5000 do
		hsh = ((hsh ~ (i & 0xff)) * 16777619) & 0xffffffff
	end
	say("fnv", hsh)
	math.randomseed(42)
	local r = {}
	for i = 1, 5 do
		r[i] = math.random(1000)
	end
	say("random", table.concat(r, ","))
end

-- string.format
do
	say(string.format("[%5d|%-5d|%05d|%+d]", 42, 42, 42, 42))
	say(string.format("[%x|%X|%#x|%o]", 255, 255, 255, 8))
	say(string.format("[%10.4f|%-10.2e|%g|%g]", math.pi, 1e10, 1e20, 0.1))
	say(string.format("[%s|%10s|%-10s|%.3s]", "abc", "right", "left", "truncate"))
	say(string.format("%q", 'a "quoted"\n\0 string'))
	say(string.format("%q|%q|%q", 1 / 3, math.mininteger, 255))
	say(string.format("%c%c%c|%%|%i", 76, 117, 97, -3))
	say(string.format("%a", 1.0))
end

-- closures and upvalues
do
	local function counter(start)
		local n = start
		return function(d)
			n = n + (d or 1)
			return n
		end, function()
			return n
		end
	end
	local inc, get = counter(10)
	inc()
	inc(5)
	say("counter", get(), inc(-16))
	local fs = {}
	for i = 1, 5 do
		fs[i] = function()
			return i * i
		end
	end
	say("loop-closures", fs[1](), fs[3](), fs[5]())
	local function compose(f, g)
		return function(...)
			return f(g(...))
		end
	end
	local add1 = function(x)
		return x + 1
	end
	local dbl = function(x)
		return x * 2
	end
	say("compose", compose(add1, dbl)(10), compose(dbl, add1)(10))
	local function fib(n)
		return n < 2 and n or fib(n - 1) + fib(n - 2)
	end
	say("fib", fib(24))
	local function sum(...)
		local s = 0
		for _, v in ipairs({ ... }) do
			s = s + v
		end
		return s, select("#", ...)
	end
	say("varargs", sum(1, 2, 3, 4.5))
	local function tail(n, acc)
		if n == 0 then
			return acc
		end
		return tail(n - 1, acc + n)
	end
	say("tailcall", tail(100000, 0))
end

-- coroutines
do
	local function gen(n)
		return coroutine.wrap(function()
			for i = 1, n do
				coroutine.yield(i, i * i)
			end
			return "done"
		end)
	end
	local g = gen(4)
	local got = {}
	for _ = 1, 4 do
		local a, b = g()
		got[#got + 1] = a .. "^2=" .. b
	end
	say("wrap", table.concat(got, " "), g())
	local co = coroutine.create(function(a, b)
		local c = coroutine.yield(a + b)
		local d, e = coroutine.yield(c * 2)
		return d + e
	end)
	say("resume", coroutine.resume(co, 1, 2))
	say("resume", coroutine.resume(co, 10))
	say("resume", coroutine.resume(co, 3, 4))
	say("status", coroutine.status(co), coroutine.resume(co))
	local inner = coroutine.create(function()
		local ok, err = pcall(function()
			coroutine.yield("from inside pcall")
			error("boom")
		end)
		coroutine.yield(ok, (tostring(err):gsub("^.-:%d+: ", "")))
		return "end"
	end)
	say("yield-pcall", coroutine.resume(inner))
	say("yield-pcall", coroutine.resume(inner))
	say("yield-pcall", coroutine.resume(inner))
	say("isyieldable", coroutine.isyieldable(), coroutine.running() ~= nil)
	-- producer/consumer through a filter
	local prod = coroutine.wrap(function()
		for w in ("one two three four"):gmatch("%a+") do
			coroutine.yield(w)
		end
	end)
	local filt = coroutine.wrap(function()
		while true do
			local w = prod()
			if not w then
				break
			end
			coroutine.yield(#w .. w)
		end
	end)
	local cons = {}
	for _ = 1, 4 do
		cons[#cons + 1] = filt()
	end
	say("pipe", table.concat(cons, ","))
	local closed = coroutine.create(function()
		coroutine.yield()
	end)
	coroutine.resume(closed)
	say("close", coroutine.close(closed), coroutine.status(closed))
end

-- errors, pcall, xpcall
do
	local function strip(e)
		return (tostring(e):gsub("^[^:]*:%d+: ", ""))
	end
	say("pcall", pcall(error, "plain", 0))
	say("pcall-table", select(2, pcall(error, { code = 7 })).code)
	local ok, e = pcall(function()
		local t = nil
		return t.x
	end)
	say("index-nil", ok, strip(e))
	ok, e = pcall(function()
		return 1 + {}
	end)
	say("arith", ok, strip(e))
	ok, e = pcall(function()
		return 1 // 0
	end)
	say("divzero", ok, strip(e))
	ok, e = pcall(string.rep)
	say("badarg", ok, strip(e))
	say("xpcall", xpcall(function()
		error("deep")
	end, function(m)
		return "handled: " .. strip(m)
	end))
	local depth = 0
	local function recurse()
		depth = depth + 1
		return 1 + recurse()
	end
	ok, e = pcall(recurse)
	say("overflow", ok, strip(e):match("stack overflow") ~= nil, depth > 1000)
	local f, err = load("return 1 +")
	say("load-error", f, err ~= nil)
	say("load", load("local a, b = ... return a * b")(6, 7))
	say("assert", pcall(assert, false, "assert message"))
	say("error-level", select(2, pcall(function()
		error("lvl", 2)
	end)) ~= nil)
	say("tostring-nil", tostring(nil), tostring(true), tonumber("nope"))
end

-- goto
do
	local odd = {}
	for i = 1, 10 do
		if i % 2 == 0 then
			goto continue
		end
		odd[#odd + 1] = i
		::continue::
	end
	say("goto-continue", table.concat(odd, ","))
	local found
	for i = 1, 10 do
		for j = 1, 10 do
			if i * j == 42 then
				found = i .. "x" .. j
				goto out
			end
		end
	end
	::out::
	say("goto-break", found)
	local n = 0
	::again::
	n = n + 1
	if n < 5 then
		goto again
	end
	say("goto-loop", n)
end

-- metatables
do
	local V = {}
	V.__index = V
	local function vec(x, y)
		return setmetatable({ x = x, y = y }, V)
	end
	V.__add = function(a, b)
		return vec(a.x + b.x, a.y + b.y)
	end
	V.__mul = function(a, k)
		return vec(a.x * k, a.y * k)
	end
	V.__eq = function(a, b)
		return a.x == b.x and a.y == b.y
	end
	V.__lt = function(a, b)
		return a:len2() < b:len2()
	end
	V.__le = function(a, b)
		return a:len2() <= b:len2()
	end
	V.__tostring = function(a)
		return "(" .. a.x .. "," .. a.y .. ")"
	end
	V.__len = function(a)
		return 2
	end
	V.__concat = function(a, b)
		return tostring(a) .. tostring(b)
	end
	V.__unm = function(a)
		return vec(-a.x, -a.y)
	end
	function V:len2()
		return self.x * self.x + self.y * self.y
	end
	local a, b = vec(1, 2), vec(3, 4)
	say("meta", tostring(a + b), tostring(a * 3), a == vec(1, 2), a < b, b <= a, #a, a .. b, tostring(-a))
	local log = {}
	local proxy = setmetatable({}, {
		__index = function(_, k)
			log[#log + 1] = "get " .. k
			return k .. "!"
		end,
		__newindex = function(t, k, v)
			log[#log + 1] = "set " .. k
			rawset(t, k, v * 2)
		end,
	})
	local x = proxy.foo
	proxy.bar = 21
	say("proxy", x, proxy.bar, rawget(proxy, "foo"), table.concat(log, ";"))
	local callable = setmetatable({}, {
		__call = function(self, p, q)
			return p + q
		end,
	})
	say("call", callable(3, 4))
	local default = setmetatable({}, { __index = function()
		return 0
	end })
	default.z = 5
	say("default", default.z, default.missing)
	local Base = {}
	Base.__index = Base
	function Base.new(n)
		return setmetatable({ n = n }, Base)
	end
	function Base:name()
		return "base" .. self.n
	end
	local Derived = setmetatable({}, { __index = Base })
	Derived.__index = Derived
	function Derived.new(n)
		return setmetatable(Base.new(n), Derived)
	end
	function Derived:name()
		return "derived+" .. Base.name(self)
	end
	say("inherit", Derived.new(3):name(), Base.new(1):name())
	local order = {}
	do
		local c1<close> = setmetatable({}, { __close = function()
			order[#order + 1] = "c1"
		end })
		local c2<close> = setmetatable({}, { __close = function()
			order[#order + 1] = "c2"
		end })
	end
	say("close", table.concat(order, ","))
	say("strmeta", ("abc"):upper(), getmetatable("").__index == string)
	local weak = setmetatable({}, { __mode = "k" })
	weak[{}] = 1
	collectgarbage()
	collectgarbage()
	say("weak", next(weak))
	local gcs = 0
	for _ = 1, 100 do
		setmetatable({}, { __gc = function()
			gcs = gcs + 1
		end })
	end
	collectgarbage()
	collectgarbage()
	say("gc", gcs)
end

-- A larger program: a word-frequency count over generated text, with
-- string building, sorting by two keys and formatting.
do
	local vocab = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" }
	local parts = {}
	local seed = 1
	for i = 1, 5000 do
		seed = (seed * 1103515245 + 12345) % 2147483648
		parts[i] = vocab[(seed >> 16) % #vocab + 1]
	end
	local text = table.concat(parts, " ")
	local freq = {}
	for w in text:gmatch("%a+") do
		freq[w] = (freq[w] or 0) + 1
	end
	local list = {}
	for w, c in pairs(freq) do
		list[#list + 1] = { w = w, c = c }
	end
	table.sort(list, function(p, q)
		if p.c ~= q.c then
			return p.c > q.c
		end
		return p.w < q.w
	end)
	for _, e in ipairs(list) do
		out[#out + 1] = string.format("%-8s %5d %6.2f%%", e.w, e.c, 100 * e.c / 5000)
	end
	say("freq\n" .. table.concat(out, "\n"))
	say("text", #text, text:sub(1, 30))
end
say("suite done")
