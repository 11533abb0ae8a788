#!/usr/bin/env python3
"""Check libpvsub's layering: areas linked bottom-up, modules without cycles.

usage: check-layering.py SRCDIR BUILDDIR
       check-layering.py --self-test

libpvsub is built as one convenience library per area (Makefile.am):

    core < elf < trust < analysis

An area may use its own modules and the areas below it, never one above.
This is checked three ways, so that a new upward use fails the suite even
when the static link order happens to hide it:

  * links: every pvsub_ symbol an area's archive leaves undefined is defined
    in that area or one below (nm on the archives the build made);
  * includes: every "libpvsub/X.h" a file includes belongs to its own area
    or one below, and the modules' include graph has no cycle (a module is
    a .c file with its .h; rewrite_internal.h and rewrite_rules.c belong to
    rewrite, schemas.h to xml);
  * third-party headers: each area includes only its own libraries';
  * printing: no file of the library writes to stdout or stderr (it
    reports through diagnostics and the log callback; tools print).

Which area a file is in comes from the archives themselves, so Makefile.am
stays the one place that says it.  Prints one line per problem; exits 1 if
there is any, 2 on a usage error or when the build is missing.
"""
import os
import re
import subprocess
import sys
import tempfile

AREAS = ["core", "elf", "trust", "analysis"]
# Third-party header prefixes each area may include.
THIRD_PARTY = {
    "libelf.h": "analysis", "gelf.h": "analysis", "capstone/": "analysis",
    "libxml/": "trust", "archive.h": "trust analysis",
    "archive_entry.h": "trust analysis", "openssl/": "trust",
    # liblzo2: bzimage's lzo payloads (libarchive reads lzop only through
    # an external program).
    "lzo/": "analysis",
    "tsk/": "analysis", "libqcow.h": "analysis", "libqcow/": "analysis",
}
# Files that belong to another file's module.
MODULE_OF = {"rewrite_rules": "rewrite", "rewrite_internal": "rewrite", "schemas": "xml"}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
PRINTS = re.compile(r'\b(printf|fprintf|vfprintf|vprintf|puts|fputs|putchar|perror|fwrite)\s*\('
                    r'|\b(stdout|stderr)\b')


def module(path):
    base = os.path.splitext(os.path.basename(path))[0]
    return MODULE_OF.get(base, base)


def archive_modules(builddir):
    """{module: area} and {area: archive path} from the built archives."""
    areas, archives = {}, {}
    for area in AREAS:
        a = os.path.join(builddir, "libpvsub", ".libs", "libpvsub-%s.a" % area)
        if not os.path.exists(a):
            raise FileNotFoundError(a)
        archives[area] = a
        out = subprocess.run(["ar", "t", a], capture_output=True, text=True, check=True).stdout
        for member in out.split():
            # libtool names per-target objects "libpvsub_AREA_la-NAME.o"
            areas[module(member.split("-", 1)[-1] if "_la-" in member else member)] = area
    return areas, archives


def symbols(archive, defined):
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-g", flag, archive], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1] for line in out.splitlines()
            if line.strip() and not line.endswith(":") and line.split()[-1].startswith("pvsub_")}


def check_links(archives):
    problems = []
    defined = {area: symbols(archives[area], True) for area in archives}
    for i, area in enumerate(AREAS):
        allowed = set().union(*(defined[a] for a in AREAS[:i + 1]))
        for sym in sorted(symbols(archives[area], False) - allowed):
            owner = [a for a in AREAS if sym in defined[a]]
            where = "defined in %s" % owner[0] if owner else "defined nowhere"
            problems.append("%s uses %s, %s" % (area, sym, where))
    return problems


def check_includes(srcdir, areas):
    problems, graph = [], {}
    libdir = os.path.join(srcdir, "libpvsub")
    for name in sorted(os.listdir(libdir)):
        if not name.endswith((".c", ".h")):
            continue
        mod = module(name)
        area = areas.get(mod)
        if area is None:
            problems.append("libpvsub/%s: in no area (add it to an area's library in "
                            "Makefile.am)" % name)
            continue
        rank = AREAS.index(area)
        with open(os.path.join(libdir, name), encoding="utf-8") as f:
            text = f.read()
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        for m in PRINTS.finditer(code):
            problems.append("libpvsub/%s prints (%s); the library reports, tools print"
                            % (name, m.group(0).strip("( ")))
            break
        for kind, inc in INCLUDE.findall(text):
            if kind == '"' and inc.startswith("libpvsub/"):
                dep = module(inc)
                graph.setdefault(mod, set()).add(dep)
                dep_area = areas.get(dep)
                if dep_area and AREAS.index(dep_area) > rank:
                    problems.append("libpvsub/%s (%s) includes %s (%s)" % (name, area, inc,
                                                                          dep_area))
            elif kind == "<":
                for prefix, allowed in THIRD_PARTY.items():
                    if inc.startswith(prefix) and area not in allowed.split():
                        problems.append("libpvsub/%s (%s) includes <%s>, a library of %s"
                                        % (name, area, inc, allowed.replace(" ", " or ")))
    return problems + find_cycles(graph)


def find_cycles(graph):
    """One line per cycle of the module graph (self-edges are a module's own files)."""
    problems, state, stack = [], {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if d == m:
                continue
            if state.get(d) == "open":
                cycle = stack[stack.index(d):] + [d]
                problems.append("include cycle: " + " -> ".join(cycle))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return problems


def self_test():
    """The checks find what they must: an upward include, a cycle, a
    forbidden header, an upward link; and a clean tree passes."""
    failures = []
    with tempfile.TemporaryDirectory() as t:
        lib = os.path.join(t, "libpvsub")
        os.mkdir(lib)

        def write(name, text):
            with open(os.path.join(lib, name), "w", encoding="utf-8") as f:
                f.write(text)

        areas = {"util": "core", "relobj": "elf", "image": "analysis", "crypto": "trust"}
        write("util.h", "")
        write("relobj.h", '#include "libpvsub/util.h"\n')
        write("image.h", '#include "libpvsub/relobj.h"\n#include <libelf.h>\n')
        write("crypto.c", "#include <openssl/evp.h>\n")
        if check_includes(t, areas):
            failures.append("a clean tree was reported: %s" % check_includes(t, areas))
        write("relobj.c", '#include "libpvsub/image.h"\n#include <gelf.h>\n')
        write("util.c", "#include <openssl/evp.h>\n/* printf() in a comment */\n"
                        "int f(void) { return fprintf(stderr, \"x\"); }\n")
        got = "\n".join(check_includes(t, areas))
        for want in ["relobj.c (elf) includes libpvsub/image.h (analysis)",
                     "include cycle: image -> relobj -> image",
                     "relobj.c (elf) includes <gelf.h>", "util.c (core) includes <openssl/evp.h>",
                     "util.c prints (fprintf)"]:
            if want not in got:
                failures.append("not reported: %s (got: %s)" % (want, got))
        write("extra.c", "")
        if "extra.c: in no area" not in "\n".join(check_includes(t, areas)):
            failures.append("a file in no area was not reported")
        # Links: a core object that calls into elf.
        cc = os.environ.get("CC", "cc")
        arch = {}
        for area, src in [("core", "void pvsub_up(void); void pvsub_low(void) { pvsub_up(); }"),
                          ("elf", "void pvsub_up(void) {}"), ("trust", "int pvsub_t;"),
                          ("analysis", "int pvsub_a;")]:
            c, o = os.path.join(t, area + ".c"), os.path.join(t, area + ".o")
            with open(c, "w", encoding="utf-8") as f:
                f.write(src + "\n")
            subprocess.run(cc.split() + ["-c", "-o", o, c], check=True)
            arch[area] = os.path.join(t, "libpvsub-%s.a" % area)
            subprocess.run(["ar", "rc", arch[area], o], check=True)
        if "core uses pvsub_up, defined in elf" not in check_links(arch):
            failures.append("an upward link was not reported: %s" % check_links(arch))
    for f in failures:
        print("check-layering self-test: " + f)
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    srcdir, builddir = sys.argv[1], sys.argv[2]
    try:
        areas, archives = archive_modules(builddir)
    except (FileNotFoundError, subprocess.CalledProcessError) as e:
        print("check-layering: %s: not built" % e, file=sys.stderr)
        return 2
    problems = check_links(archives) + check_includes(srcdir, areas)
    for p in problems:
        print("check-layering: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
