"""Read struct layouts and enums from kernel BTF (via ``bpftool -j``).

The flattened form is the one in tests/data/linux-6.18-x86_64-btf-layouts.json:
for each struct its size and every *named* member in pahole order, with
``offset_bits``/``size_bits`` and whether it is a bitfield.  Anonymous
unions and structs add nothing to a path, as pahole prints them.

    python -m memcore.btf [/sys/kernel/btf/vmlinux] > layouts.json
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

DEFAULT_STRUCTS = ("page", "folio", "slab", "ptdesc", "zpdesc", "memdesc_flags_t")
DEFAULT_ENUMS = ("pageflags", "pagetype")
VMLINUX = "/sys/kernel/btf/vmlinux"


class BTFUnavailable(RuntimeError):
    """bpftool or the BTF file is missing."""


def dump(path: str = VMLINUX) -> list[dict]:
    """All BTF types of *path* as bpftool's JSON lists them."""
    tool = shutil.which("bpftool")
    if tool is None:
        raise BTFUnavailable("bpftool is not installed (Debian: apt-get install bpftool)")
    proc = subprocess.run([tool, "-j", "btf", "dump", "file", path],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise BTFUnavailable(f"bpftool failed on {path}: {proc.stderr.strip()}")
    return json.loads(proc.stdout)["types"]


class _Types:
    def __init__(self, types):
        self.by_id = {t["id"]: t for t in types}

    def name(self, tid: int) -> str:
        if tid == 0:
            return "void"
        t = self.by_id[tid]
        kind = t["kind"]
        if kind == "PTR":
            return self.name(t["type_id"]) + " *"
        if kind == "ARRAY":
            return f"{self.name(t['type_id'])}[{t['nr_elems']}]"
        if kind in ("STRUCT", "UNION", "ENUM", "ENUM64"):
            kw = {"STRUCT": "struct", "UNION": "union"}.get(kind, "enum")
            return f"{kw} {t['name']}"
        if kind in ("CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"):
            return self.name(t["type_id"])
        if kind == "FUNC_PROTO":
            return "fn"
        return t["name"]

    def size(self, tid: int) -> int:
        t = self.by_id[tid]
        kind = t["kind"]
        if kind == "PTR":
            return 8
        if kind == "ARRAY":
            return t["nr_elems"] * self.size(t["type_id"])
        if kind in ("TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"):
            return self.size(t["type_id"])
        return t["size"]

    def struct(self, name: str):
        for t in self.by_id.values():
            if t["kind"] == "STRUCT" and t.get("name") == name:
                return t
        for t in self.by_id.values():  # typedef'd anonymous struct (memdesc_flags_t)
            if t["kind"] == "TYPEDEF" and t.get("name") == name:
                target = self.by_id[t["type_id"]]
                if target["kind"] == "STRUCT":
                    return target
        raise KeyError(f"no struct {name} in BTF")

    def members(self, t, base_bits=0):
        for m in t["members"]:
            off = base_bits + m["bits_offset"]
            target = self.by_id[m["type_id"]]
            if m["name"] == "(anon)" and target["kind"] in ("STRUCT", "UNION"):
                yield from self.members(target, off)
                continue
            bf = m.get("bitfield_size", 0)
            yield {"path": m["name"], "type": self.name(m["type_id"]), "offset_bits": off,
                   "size_bits": bf if bf else 8 * self.size(m["type_id"]),
                   "bitfield": bool(bf)}


def flatten(types: list[dict], structs=DEFAULT_STRUCTS, enums=DEFAULT_ENUMS) -> dict:
    """The reference JSON form of the given structs and enums."""
    ts = _Types(types)
    out = {"structs": {}, "enums": {}}
    for name in structs:
        t = ts.struct(name)
        out["structs"][name] = {"size": t["size"], "members": list(ts.members(t))}
    for name in enums:
        for t in ts.by_id.values():
            if t["kind"] in ("ENUM", "ENUM64") and t.get("name") == name:
                out["enums"][name] = {v["name"]: v["val"] for v in t["values"]}
    return out


def read_layouts(path: str = VMLINUX, structs=DEFAULT_STRUCTS, enums=DEFAULT_ENUMS) -> dict:
    """Flattened layouts of a BTF file (default: the running kernel)."""
    return flatten(dump(path), structs, enums)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else VMLINUX
    try:
        print(json.dumps(read_layouts(path), indent=1))
    except BTFUnavailable as e:
        sys.stderr.write(f"memcore.btf: {e}\n")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
