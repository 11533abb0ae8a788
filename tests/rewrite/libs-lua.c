/*
 * libs-lua: runs a Lua script (argv[1]) with Lua's objects as Debian ships
 * them (liblua5.4.a), or the same objects rewritten (libs.sh).  The script
 * checks its own results with assert and prints what it computed; an error
 * is printed and makes the exit status 1.
 */
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: libs-lua SCRIPT\n");
		return 2;
	}
	lua_State *L = luaL_newstate();
	if (!L)
		return 1;
	luaL_openlibs(L);
	int r = luaL_dofile(L, argv[1]);
	if (r != LUA_OK)
		printf("error: %s\n", lua_tostring(L, -1));
	lua_close(L);
	return r != LUA_OK;
}
