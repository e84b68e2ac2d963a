"""Rebuild Qt's ICU data library (libicudata.so.NN) with only the data a Showdesk window uses.

PySide6's Qt links ICU, whose data library is 32 MB: display names of every language, region,
currency, unit and time zone in 800 locales, 230 legacy character sets, dictionaries for Thai,
Lao, Khmer, Burmese and CJK word breaking, transliterators and spelled-out numbers. Qt's
screens are English and Showdesk calls none of them (its text is Python's; Qt uses ICU for
collation, case mapping, text breaking and named codecs). This keeps the root and English
locales, the Unicode properties and normalization, root/English collation, the break rules
without the dictionaries, the zone tables, and the common East Asian and Windows codecs —
3 MB — and drops the rest. A lookup of dropped data gets ICU's "missing resource" answer, to
which Qt falls back on its own tables (root collation, no display name).

Linux only (Qt on Windows uses the system's ICU, on macOS none). Needs ``readelf``
(binutils), ``icupkg`` (Debian: icu-devtools) and a C compiler; without them the spec keeps
the original library and says so.

    python packaging/icu_trim.py libicudata.so.73 OUT_DIR  ->  OUT_DIR/libicudata.so.73
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

TOOLS = ("readelf", "icupkg", "cc")

# Item names inside the package (without its "icudt73l/" prefix) that stay.
KEEP = [
    # Unicode properties, normalization (NFC/NFKC, IDNA), string preparation, confusables
    r"[^/]+\.(icu|nrm|spp|cfu)",
    # locale data: root and English, the shared pool and the supplemental tables
    r"(root|en|en_US|en_US_POSIX|en_001|en_GB|pool|res_index)\.res",
    r"(likelySubtags|supplementalData|metadata|metaZones|timezoneTypes|windowsZones|zoneinfo64"
    r"|keyTypeData|numberingSystems|plurals|dayPeriods|icuver|icustd|genderList"
    r"|grammaticalFeatures|units|currencyNumericCodes)\.res",
    # collation: the root table (ucadata) and the root and English tailorings
    r"coll/(ucadata\.icu|root\.res|en\.res|en_US\.res|en_US_POSIX\.res|res_index\.res)",
    # text breaking: the rule files, not the dictionaries
    r"brkitr/[^/]+\.(brk|nrm)",
    r"brkitr/(root|en|en_US|en_US_POSIX|res_index)\.res",
    # names and aliases of character sets, and the converters for the encodings a ticket or
    # an export may come in: Shift_JIS, EUC-JP, GB 18030/GBK/GB2312, Big5, EUC-KR, Windows
    # code pages 1250-1258, ISO 8859
    r"cnvalias\.icu",
    r"(ibm-943_P15A-2003|ibm-33722_P12A_P12A-2009_U2|euc-jp-2007|gb18030|ibm-1386_P100-2001"
    r"|windows-936-2000|ibm-1383_P110-1999|windows-950-2000|ibm-970_P110_P110-2006_U2"
    r"|windows-949-2000|ibm-1363_P11B-1998|ibm-1373_P100-2002|ibm-5348_P100-1997|ibm-525\d_P100-\d{4}|ibm-53\d\d_P100-\d{4}"
    r"|ibm-9\d\d_P100-\d{4}|ibm-91\d_P100-1995|iso-8859_\d+-\d{4})\.cnv",
]
_KEEP = re.compile("|".join(f"(?:{pattern})" for pattern in KEEP))


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _symbol(library: Path) -> tuple[str, int, int]:
    """The data symbol (icudtNN_dat), its file offset and its size."""
    symbols = subprocess.run(
        ["readelf", "-sW", str(library)], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(
        r":\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+OBJECT\s+GLOBAL\s+\S+\s+(\d+)\s+"
        r"(icudt\d+_dat)",
        symbols,
    )
    if match is None:
        raise ValueError(f"{library} has no icudtNN_dat symbol")
    address, size, section, name = match.groups()
    sections = subprocess.run(
        ["readelf", "-SW", str(library)], capture_output=True, text=True, check=True
    ).stdout
    row = re.search(rf"\[\s*{section}\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)", sections)
    if row is None:
        raise ValueError(f"{library}: section {section} not found")
    section_address, section_offset = (int(v, 16) for v in row.groups())
    offset = int(address, 16) - section_address + section_offset
    return name, offset, int(size, 0)


def trim(library: Path, out_dir: Path) -> Path:
    """Write the trimmed library to ``out_dir`` (same file name, same soname)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / "icu-work"
    work.mkdir(exist_ok=True)
    name, offset, size = _symbol(library)
    with library.open("rb") as f:
        f.seek(offset)
        data = f.read(size)
    # icupkg takes the package's name (icudt73l: version, little-endian) from the file's name
    package = name.removesuffix("_dat") + ("l" if sys.byteorder == "little" else "b")
    (work / "whole").mkdir(exist_ok=True)
    (work / "kept").mkdir(exist_ok=True)
    whole = work / "whole" / f"{package}.dat"
    whole.write_bytes(data)
    items = subprocess.run(
        ["icupkg", "-l", str(whole)], capture_output=True, text=True, check=True
    ).stdout.split()
    dropped = [item for item in items if not _KEEP.fullmatch(item)]
    listing = work / "dropped.txt"
    listing.write_text("\n".join(dropped) + "\n")
    kept = work / "kept" / f"{package}.dat"
    # The word-break dictionaries are left out on purpose (ICU's own data filters offer the
    # same): without one, ICU breaks that script's text by its rules. Any other missing
    # dependency means KEEP is wrong.
    checked = subprocess.run(
        ["icupkg", "-r", str(listing), str(whole), str(kept)], capture_output=True, text=True
    )
    missing = set(re.findall(r"depends on missing item (\S+)", checked.stderr))
    if checked.returncode != 0 and (not missing or any(not m.endswith(".dict") for m in missing)):
        raise ValueError(f"icupkg: {checked.stderr.strip()[-2000:]}")
    subprocess.run(
        ["icupkg", "--ignore-deps", "-r", str(listing), str(whole), str(kept)],
        check=True,
        capture_output=True,
    )
    assembly = work / "data.S"
    assembly.write_text(
        "\t.section .rodata\n"
        f"\t.globl {name}\n"
        f"\t.type {name}, @object\n"
        "\t.balign 16\n"
        f"{name}:\n"
        f'\t.incbin "{kept}"\n'
        f"\t.size {name}, . - {name}\n"
        '\t.section .note.GNU-stack,"",@progbits\n'
    )
    target = out_dir / library.name
    soname = library.name
    subprocess.run(
        ["cc", "-shared", "-nostdlib", f"-Wl,-soname,{soname}", "-o", str(target), str(assembly)],
        check=True,
    )
    shutil.rmtree(work)
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    missing = missing_tools()
    if missing:
        print(f"icu_trim: missing {', '.join(missing)}", file=sys.stderr)
        return 1
    library, out_dir = Path(argv[1]), Path(argv[2])
    target = trim(library, out_dir)
    print(
        f"{target}: {library.stat().st_size / 1e6:.1f} MB -> {target.stat().st_size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
