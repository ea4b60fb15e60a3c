"""The modeled layouts equal what a real compiler gives for native types.

The model compiles struct page & co. with fixed-width integers standing in
for `unsigned long` and pointers (so both word sizes run in one 64-bit
process).  Here the same headers are compiled with the kernel's own types
(MC_NATIVE_TYPES) by `gcc -m32` (i386, ILP32) and `gcc -m64`, and every
member offset, size and bitfield position must agree with the variant
module.  With pahole installed, the 32-bit pahole rendering is also checked
against pahole run on the -m32 object's DWARF.
"""
import json
import re
import shutil
import subprocess
import sys

import pytest

import memcore
from conftest import ROOT, have_m32_gcc, only_bits

sys.path.insert(0, str(ROOT / "tools"))
import codegen  # noqa: E402

PROBE_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "mc_layout_table.h"

int main(void)
{
	for (int i = 0; i < MC_NR_LAYOUT_STRUCTS; i++) {
		const struct mc_struct_desc *s = &mc_layout_structs[i];
		printf("{\"struct\": \"%s\", \"size\": %zu, \"align\": %zu, \"members\": [",
		       s->name, s->size, s->align);
		int first = 1;
		for (size_t j = 0; j < s->nr_members; j++) {
			const struct mc_member_desc *md = &s->members[j];
			long off = -1, bits = 0;
			if (md->name == NULL)
				continue;
			if (md->kind == MC_MEMBER_BITFIELD) {
				unsigned char buf[512];
				memset(buf, 0, sizeof(buf));
				md->bitprobe(buf);
				for (size_t k = 0; k < s->size * 8; k++)
					if (buf[k / 8] >> (k % 8) & 1) {
						if (off < 0)
							off = (long)k;
						bits++;
					}
			} else {
				off = (long)md->offset * 8;
				bits = (long)md->size * 8;
			}
			printf("%s[\"%s\", %ld, %ld]", first ? "" : ", ", md->name, off, bits);
			first = 0;
		}
		printf("]}\n");
	}
	return 0;
}
"""


def design_define(design: str) -> str:
    return f"-DMC_DESIGN_{design.upper()}=1"


def native_layouts(design: str, bits: int, tmp_path):
    """Compile the design's headers with native types at `-m<bits>`; return their layouts."""
    defs = dict(codegen.variant_defines(design, bits), MC_PARSE=1)
    text = codegen.preprocess(codegen.LAYOUT_HEADER, defs, [f"-m{bits}"])
    structs = codegen.parse_structs(text)
    (tmp_path / "mc_layout_table.h").write_text(codegen.emit_layout_table(structs))
    src = tmp_path / "probe.c"
    src.write_text(PROBE_MAIN)
    exe = tmp_path / "probe"
    cmd = codegen.c_compiler() + [f"-m{bits}", "-std=gnu11", "-O0", "-Wno-unused-function",
                                  f"-DMC_BITS={bits}", design_define(design),
                                  "-DMC_NATIVE_TYPES=1", f"-I{tmp_path}",
                                  f"-I{codegen.INCLUDE}", str(src), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {d["struct"]: d for d in map(json.loads, out.splitlines())}


def compare(variant, tmp_path):
    design, bits = variant
    native = native_layouts(design, bits, tmp_path)
    assert set(native) == set(memcore.struct_names(design, bits))
    for name, ref in native.items():
        lay = memcore.layout(name, design, bits)
        assert lay.size == ref["size"], name
        assert lay.align == ref["align"], name
        assert [(m.path, m.bit_offset, m.bit_size) for m in lay.members] == \
            [tuple(r) for r in ref["members"]], name


@pytest.mark.skipif(not have_m32_gcc(), reason="gcc -m32 unavailable (install gcc-multilib)")
@only_bits(32)
def test_i386_layouts_equal_gcc_m32(variant, tmp_path):
    compare(variant, tmp_path)


@only_bits(64)
def test_x86_64_layouts_equal_gcc_m64(variant, tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("no gcc")
    compare(variant, tmp_path)


def _pahole_of(obj, name):
    out = subprocess.run(["pahole", "-C", name, str(obj)], check=True,
                         capture_output=True, text=True).stdout
    # DWARF carries alignment attributes that BTF (and memcore's rendering) do not
    out = re.sub(r" __attribute__\(\(__\w+__(\(\d+\))?\)\)", "", out)
    out = "\n".join(line for line in out.splitlines() if "forced alignments" not in line)
    # re-pad comment columns that shifted when the attribute text went away
    fixed = []
    for line in out.splitlines():
        m = re.match(r"^(.*?)\s+(/\*.*\*/)$", line)
        if m and not m.group(1).strip().startswith("/*") and m.group(1).strip():
            pad = 56 - len(m.group(1).expandtabs(8))
            line = m.group(1) + " " * max(pad, 0) + " " + m.group(2)
        fixed.append(line)
    return "\n".join(fixed) + "\n"


@pytest.mark.skipif(shutil.which("pahole") is None, reason="pahole unavailable (dwarves)")
@pytest.mark.skipif(not have_m32_gcc(), reason="gcc -m32 unavailable (install gcc-multilib)")
@only_bits(32)
@pytest.mark.parametrize("name", ["page", "folio", "slab", "ptdesc"])
def test_i386_pahole_rendering_equals_pahole(variant, tmp_path, name):
    design, bits = variant
    names = memcore.struct_names(design, bits)
    if name not in names:
        pytest.skip(f"the {design} design has no struct {name}")
    src = tmp_path / "objs.c"
    src.write_text('#include "memcore/layout_structs.h"\n'
                   + "".join(f"struct {n} v_{n};\n" for n in names))
    obj = tmp_path / "objs.o"
    subprocess.run(codegen.c_compiler() + ["-m32", "-g", "-c", "-std=gnu11", "-DMC_BITS=32",
                                           design_define(design), "-DMC_NATIVE_TYPES=1",
                                           f"-I{codegen.INCLUDE}", str(src), "-o", str(obj)],
                   check=True, capture_output=True)
    assert memcore.layout(name, design, bits).pahole() == _pahole_of(obj, name)
