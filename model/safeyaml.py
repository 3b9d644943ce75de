"""Safe YAML loading that remembers where every value came from.

PyYAML's safe loader still keeps the last of two duplicate keys silently, expands aliases
without bound and gives no positions for values. This module composes the node tree with
the safe loader (so no tag can construct a Python object), then builds plain data itself:
duplicate keys, unknown tags, NaN/inf, oversized files, alias bombs and non-UTF-8 bytes all
become ``InputError`` issues naming file, line and column. The position of every mapping key
and sequence item is kept in a ``Marks`` table keyed by its path.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from model.errors import InputError, InputIssue, did_you_mean

MAX_BYTES = 1_000_000
MAX_NODES = 200_000  # nodes visited while building data; aliases count every time they are used
MAX_DEPTH = 64  # nested mappings and lists; real scenarios use fewer than 10
_TOO_DEEP = f"nesting is deeper than {MAX_DEPTH} levels (entente's limit)"
MAX_INT = 2**63 - 1  # whole numbers beyond this are refused when read (the seed is the largest value)

Path_ = tuple[str | int, ...]
_STD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class _Loader(yaml.SafeLoader):
    """The safe loader, plus a nesting limit (located) and YAML 1.2 numbers such as ``1e-6``."""

    yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(problem=_TOO_DEEP, problem_mark=mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


# PyYAML (YAML 1.1) reads 1e-6 and 1E+5 as strings; a user means numbers.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class Marks(dict):
    """Maps a key path (tuple) to its 1-based (line, column) in the source file."""

    def at(self, path: Path_) -> tuple[int | None, int | None]:
        """Position of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self:
                return self[p]
            p = p[:-1]
        return self.get((), (None, None))


def dotted(path: Path_) -> str:
    """Render a key path the way users write it: ``actors.russia.interests[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.marks = Marks()
        self.issues: list[InputIssue] = []
        self.visited = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def issue(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.issues.append(
            InputIssue(self.file, node.start_mark.line + 1, node.start_mark.column + 1, dotted(path), message)
        )

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise InputError.one(
                self.file,
                f"document expands to more than {MAX_NODES} values (alias bomb?); refused",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                dotted(path),
            )
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _STD_TAGS:
            self.issue(node, path, f"tag '{node.tag}' is not allowed (only plain YAML data)")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.issue(key_node, path, "merge keys ('<<') are not supported; use 'extends:'")
                    continue
                if not isinstance(key_node, yaml.ScalarNode):
                    self.issue(key_node, path, "mapping keys must be plain scalars")
                    continue
                key = self.build(key_node, path)
                if isinstance(key, bool):
                    # a key is a name: YAML 1.1 reads `on:` (a question's date) and `yes:` as booleans
                    key = key_node.value
                key = str(key) if key is not None else "null"
                sub = (*path, key)
                if key in out:
                    first = self.marks.get(sub, (None, None))[0]
                    self.issue(key_node, sub, f"duplicate key '{key}' (first defined on line {first})")
                    continue
                self.marks[sub] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = self.build(value_node, sub)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        odd = _yaml11_number(node)
        if odd:
            self.issue(node, path, odd)
            return None
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            self.issue(node, path, f"cannot read value {_short(node.value)}: {str(exc).splitlines()[0]}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.issue(node, path, f"expected a finite number, found {_short(node.value)}")
            return None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            digits = len(str(abs(value)))
            self.issue(node, path, f"number is too large ({digits} digits; at most {MAX_INT})")
            return None
        if isinstance(value, str):
            bad = _SURROGATE.search(value)
            if bad:
                self.issue(
                    node, path, f"invalid Unicode: a lone surrogate (\\u{ord(bad.group()):04x}), not a character"
                )
                return None
        if isinstance(value, _dt.datetime):
            return value.date().isoformat()
        if isinstance(value, _dt.date):
            return value.isoformat()
        return value


_SURROGATE = re.compile("[\ud800-\udfff]")
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


def _yaml11_number(node: yaml.Node) -> str | None:
    """Why a plain number is refused when PyYAML's YAML 1.1 rules read it otherwise than it is written.

    ``horizon: 010`` is octal 8, ``1:30`` is base 60 (90), ``1_0`` is 10 and ``0b11`` is 3 under
    YAML 1.1 and text (or an error) elsewhere: a user who wrote them meant something else, so they
    are refused with the value YAML 1.1 would have used, instead of running with it.
    """
    if node.tag not in (_INT, _FLOAT) or not isinstance(node, yaml.ScalarNode) or node.style not in (None, ""):
        return None
    text = str(node.value)
    digits = text.lstrip("+-")
    if ":" in text:
        why = "a base-60 number"
    elif "_" in text:
        why = "digits with '_' separators"
    elif node.tag == _INT and digits[:2].lower() == "0b":
        why = "a binary number"
    elif node.tag == _INT and len(digits) > 1 and digits[0] == "0" and digits[1:2].isdigit():
        why = "an octal number (a leading zero)"
    else:
        return None
    try:  # only for the message: what YAML 1.1 would have read
        as11 = yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError):
        as11 = None
    read = f"; YAML 1.1 reads it as {as11}" if isinstance(as11, int | float) else ""
    return (
        f"'{_short(text)}' is {why}{read}, which is rarely what was meant; write the number in plain decimal"
        " digits (or quote it if it is text)"
    )


def _short(text: Any, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text)} characters)"


def _compose_python(text: str) -> list[yaml.Node]:
    """The documents of ``text`` as node trees, with PyYAML's pure-Python parser (stops after two)."""
    loader = _Loader(text)
    nodes: list[yaml.Node] = []
    try:
        while loader.check_node() and len(nodes) < 2:
            nodes.append(loader.get_node())
    finally:
        loader.dispose()
    return nodes


def _compose_libyaml(text: str) -> list[yaml.Node]:
    """The same with libyaml's parser (about ten times faster) and an iterative composer.

    Only the event stream comes from C; nodes are built here without recursion, with the
    nesting limit, anchors and tag resolution of ``_Loader``.
    """
    from yaml._yaml import CParser  # type: ignore[import-not-found]

    parser = CParser(text)
    resolver = yaml.resolver.Resolver()
    resolver.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    docs: list[yaml.Node] = []
    anchors: dict[str, yaml.Node] = {}
    stack: list[list[Any]] = []  # [node, pending mapping key or None]
    root: yaml.Node | None = None

    def attach(node: yaml.Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        top = stack[-1]
        if isinstance(top[0], yaml.SequenceNode):
            top[0].value.append(node)
        elif top[1] is None:
            top[1] = node
        else:
            top[0].value.append((top[1], node))
            top[1] = None

    def anchor(name: str | None, node: yaml.Node, mark: Any) -> None:
        if name is not None:
            if name in anchors:
                raise yaml.composer.ComposerError(
                    "found duplicate anchor", anchors[name].start_mark, f"second occurrence of &{name}", mark
                )
            anchors[name] = node

    while True:
        event = parser.get_event()
        if isinstance(event, yaml.StreamEndEvent):
            break
        if isinstance(event, yaml.DocumentStartEvent):
            anchors = {}
            root = None
            continue
        if isinstance(event, yaml.DocumentEndEvent):
            docs.append(root)  # type: ignore[arg-type]
            if len(docs) == 2:
                break
            continue
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias '{event.anchor}'", event.start_mark
                )
            attach(anchors[event.anchor])
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":  # as PyYAML's parser: '!' resolves like a plain scalar
                implicit = (True, False) if tag == "!" else event.implicit
                tag = resolver.resolve(yaml.ScalarNode, event.value, implicit)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            anchor(event.anchor, node, event.start_mark)
            attach(node)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, _TOO_DEEP, event.start_mark)
            kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolver.resolve(kind, None, event.implicit)
            node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            anchor(event.anchor, node, event.start_mark)
            attach(node)
            stack.append([node, None])
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            node = stack.pop()[0]
            node.end_mark = event.end_mark
    return docs


try:
    import yaml._yaml  # noqa: F401  (libyaml bindings)

    _compose = _compose_libyaml
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _compose = _compose_python


# ------------------------------------------------------------------ nesting, before any parser
# PyYAML's own limits differ between releases (6.0.4's libyaml stops at 1,000 levels with its own
# words, older ones recurse), so entente measures the depth itself, on the text, before PyYAML
# reads it: the limit and its message are then the same whatever PyYAML is installed.
_SPACE = re.compile(r"[ \t\r\n]*")
_FLOW_PLAIN_END = re.compile(r"[,\[\]{}]|:(?=[ \t\r\n,\[\]{}]|$)|(?<=[ \t\r\n])#")
_FLOW_NAME_END = re.compile(r"[ \t\r\n,\[\]{}]|$")
_PLAIN_STOP = re.compile(r":(?=[ \t\r]|$)|[ \t]#")
_DOUBLE = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_SINGLE = re.compile(r"'(?:[^']++|'')*+'", re.S)
_BLOCK_SCALAR = re.compile(r"[|>][0-9+-]*(?=[ \t\r]|$)")


class _TooDeep(Exception):
    """A collection opens deeper than MAX_DEPTH; ``offset`` is where, in the text."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _DepthScan:
    """A cheap pass over YAML text that follows collection nesting the way YAML's scanner does.

    Block collections are an indentation stack (an indentless sequence under a key adds one
    level, as the parser makes it a sequence), flow collections are counted bracket by
    bracket, and quoted, block and multi-line plain scalars and comments are skipped, so a
    bracket inside text never counts. On valid YAML the count is the composer's (a property
    test in tests/test_nesting.py holds it to PyYAML's); on broken text it may differ, and the
    composer keeps the same limit, with the same message, as a backstop.
    """

    def __init__(self, text: str, limit: int) -> None:
        self.text = text
        self.limit = limit
        self.blocks: list[list[Any]] = []  # [column, is_mapping, indentless sequence open]
        self.text_deeper_than: int | None = None  # lines indented more are a scalar's text

    def depth(self) -> int:
        return len(self.blocks) + sum(1 for b in self.blocks if b[2])

    def top(self) -> int:
        return self.blocks[-1][0] if self.blocks else -1

    def column(self, offset: int) -> int:
        return offset - (self.text.rfind("\n", 0, offset) + 1)

    def run(self) -> None:
        text, pos, n = self.text, 0, len(self.text)
        while pos < n:
            eol = text.find("\n", pos)
            eol = n if eol < 0 else eol
            line = text[pos:eol]
            body = line.lstrip(" ")
            indent = len(line) - len(body)
            if line[:3] in ("---", "...") and line[3:4] in ("", " ", "\t", "\r"):
                self.blocks.clear()
                self.text_deeper_than = None
                pos = self.tokens(pos + 3, eol) if line[:3] == "---" else eol + 1
                continue
            if not body.strip() or body.startswith("#") or line.startswith("%"):
                pos = eol + 1
                continue
            if self.text_deeper_than is not None:
                if indent > self.text_deeper_than:
                    pos = eol + 1
                    continue
                self.text_deeper_than = None
            while self.blocks and self.blocks[-1][0] > indent:
                self.blocks.pop()
            pos = self.tokens(pos + indent, eol)

    def open_block(self, offset: int, mapping: bool) -> None:
        col = self.column(offset)
        top = self.blocks[-1] if self.blocks else None
        if top is None or col > top[0]:
            self.blocks.append([col, mapping, False])
        elif col == top[0] and top[1]:
            if mapping:
                top[2] = False  # a key at the mapping's column ends its indentless sequence
            elif top[2]:
                return
            else:
                top[2] = True
        else:
            return
        if self.depth() > self.limit:
            raise _TooDeep(offset)

    def tokens(self, p: int, eol: int) -> int:
        """Read the nodes that start on one line from ``p``; return where the next line starts."""
        text, n = self.text, len(self.text)
        value = False  # after 'key:' the rest of the line is that key's value
        while True:
            while p < eol and text[p] in " \t\r":
                p += 1
            if p >= eol:
                return eol + 1
            c = text[p]
            after = text[p + 1] if p + 1 < n else "\n"
            if c == "#":
                return eol + 1
            if c in "-?" and after in " \t\r\n" and not value:
                self.open_block(p, mapping=c == "?")
                p += 1
                continue
            if c in "&!":
                while p < eol and text[p] not in " \t\r":
                    p += 1
                continue
            if c in "|>" and _BLOCK_SCALAR.match(text, p, eol):
                self.text_deeper_than = self.top()
                return eol + 1
            if c in "[{\"'":
                start = p
                if c in "[{":
                    p = self.flow(p)
                else:
                    m = (_DOUBLE if c == '"' else _SINGLE).match(text, p)
                    p = m.end() if m else n
                eol = text.find("\n", p)
                eol = n if eol < 0 else eol
                while p < eol and text[p] in " \t\r":
                    p += 1
                if not value and p < eol and text[p] == ":" and text[p + 1 : p + 2] in ("", " ", "\t", "\r", "\n"):
                    self.open_block(start, mapping=True)
                    p, value = p + 1, True
                    continue
                return eol + 1
            m = None if value else _PLAIN_STOP.search(text, p, eol)
            if m is not None and m.group() == ":":
                self.open_block(p, mapping=True)
                p, value = m.end(), m.start() > p  # ': - x' after '? key' may open a block
                continue
            self.text_deeper_than = self.top()  # a plain scalar: more-indented lines continue it
            return eol + 1

    def flow(self, p: int) -> int:
        """Skip a flow collection that opens at ``p``, counting its brackets; return the offset after it.

        Token by token as libyaml reads flow text: a quote opens a quoted scalar only where a
        token starts (``[don't]`` is plain text), and a plain scalar ends at ``,[]{}``, at
        ``:`` before a space or bracket, or at a comment.
        """
        text, n, base, open_ = self.text, len(self.text), self.depth(), 0
        while True:
            p = _SPACE.match(text, p).end()
            if p >= n:
                return n
            c = text[p]
            if c in "[{":
                open_ += 1
                if base + open_ > self.limit:
                    raise _TooDeep(p)
                p += 1
            elif c in "]}":
                open_ -= 1
                p += 1
                if open_ <= 0:
                    return p
            elif c in ",?:":
                p += 1
            elif c == "#":
                end = text.find("\n", p)
                p = n if end < 0 else end
            elif c in "\"'":
                m = (_DOUBLE if c == '"' else _SINGLE).match(text, p)
                if m is None:
                    return n
                p = m.end()
            elif text.startswith("!<", p):  # a verbatim tag may hold commas
                end = text.find(">", p)
                p = n if end < 0 else end + 1
            elif c in "&!*":
                p = _FLOW_NAME_END.search(text, p).start()
            else:
                m = _FLOW_PLAIN_END.search(text, p + 1)
                if m is None:
                    return n
                p = m.start()


def check_nesting(text: str, file: str) -> None:
    """Refuse text whose collections nest deeper than MAX_DEPTH, located, before PyYAML reads it."""
    try:
        _DepthScan(text, MAX_DEPTH).run()
    except _TooDeep as exc:
        line = text.count("\n", 0, exc.offset) + 1
        column = exc.offset - (text.rfind("\n", 0, exc.offset) + 1) + 1
        raise InputError.one(file, _TOO_DEEP, line, column) from None


def load_text(text: str, file: str) -> tuple[Any, Marks]:
    """Parse YAML text into plain data and a table of positions; raise InputError on any issue."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InputError.one(file, f"file is larger than the {MAX_BYTES // 1000} kB limit", 1, 1)
    check_nesting(text, file)
    nodes: list[yaml.Node] = []
    try:
        nodes = _compose(text)
        if len(nodes) > 1:
            mark = nodes[1].start_mark if nodes[1] is not None else None
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise InputError.one(file, "expected one YAML document, found several ('---')", line, col)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        if problem == _TOO_DEEP:  # the composer's backstop: the same words as check_nesting
            raise InputError.one(file, problem, line, col) from None
        if problem == "found invalid Unicode character escape code":  # libyaml's words for \ud800
            problem = "invalid Unicode escape (a lone surrogate or beyond U+10FFFF)"
        raise InputError.one(file, f"YAML syntax error: {problem}", line, col) from None
    except yaml.YAMLError as exc:
        raise InputError.one(file, f"YAML error: {str(exc).splitlines()[0]}", 1, 1) from None
    except RecursionError:
        raise InputError.one(file, "YAML nesting is too deep", 1, 1) from None
    if not nodes or nodes[0] is None:
        raise InputError.one(file, "file is empty; expected a mapping of keys", 1, 1)
    builder = _Builder(file)
    try:
        data = builder.build(nodes[0], ())
    except RecursionError:
        mark = nodes[0].start_mark
        raise InputError.one(file, "YAML nesting is too deep", mark.line + 1, mark.column + 1) from None
    if builder.issues:
        raise InputError(builder.issues)
    if not isinstance(data, dict):
        mark = nodes[0].start_mark
        raise InputError.one(
            file, f"the top level must be a mapping of keys, found {type_name(data)}", mark.line + 1, mark.column + 1
        )
    return data, builder.marks


def _nearby(path: str | Path) -> str:
    """A 'did you mean' for a file that does not exist: the closest name in its folder (bounded work)."""
    p = Path(path)
    try:
        names = [q.name for _, q in zip(range(2000), p.parent.iterdir(), strict=False)]
    except (OSError, ValueError):
        return ""
    hint = did_you_mean(p.name, names)
    if not hint:
        return ""
    return f"; did you mean '{p.parent / hint.split(chr(39))[1]}'?"


def read_regular(path: str | Path, name: str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; InputError (at 1:1) otherwise.

    The file is opened without blocking and checked through its descriptor, so a FIFO, a
    device such as /dev/zero, a directory or a file that grows while read never hangs or
    exhausts memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except (OSError, ValueError) as exc:
        hint = _nearby(path) if isinstance(exc, FileNotFoundError) else ""
        raise InputError.one(name, f"cannot read file: {getattr(exc, 'strerror', None) or exc}{hint}", 1, 1) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError.one(name, "is a directory, not a scenario file", 1, 1)
        if not stat.S_ISREG(info.st_mode):
            raise InputError.one(name, "is not a regular file (a pipe, socket or device); refused", 1, 1)
        if info.st_size > limit:
            raise InputError.one(name, f"file is larger than the {limit // 1000} kB limit ({info.st_size} bytes)", 1, 1)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InputError.one(name, f"file is larger than the {limit // 1000} kB limit", 1, 1)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError.one(name, f"cannot read file: {exc.strerror or exc}", 1, 1) from None
    finally:
        os.close(fd)


def load_file(path: str | Path, display: str | None = None) -> tuple[Any, Marks]:
    """Read and parse a YAML file with the checks of ``load_text``."""
    name = display or str(path)
    raw = read_regular(path, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[start : exc.start].decode("utf-8", "replace")) + 1
        raise InputError.one(
            name,
            f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}; save it as UTF-8)",
            line,
            col,
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError.one(name, "file contains NUL bytes; is it a YAML text file?", line, 1)
    return load_text(text, name)


def type_name(value: Any) -> str:
    """A user-facing name for the type of a YAML value."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        short = value if len(value) < 30 else value[:27] + "..."
        return f"a string ('{short}')"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
