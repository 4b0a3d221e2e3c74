"""format=flowed text (RFC 3676) joined into its logical lines, in time linear in its size."""

from __future__ import annotations


def unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of format=flowed text (RFC 3676).

    A paragraph is collected as a list of pieces and joined once: appending to one growing
    string (and testing it with ``rstrip``) cost time in the square of a hostile paragraph.
    """
    out: list[str] = []
    parts: list[str] = []  # the logical line being joined; no empty pieces
    length = 0  # characters in parts
    current_depth = -1
    signature = False  # the logical line so far is "-- " (a signature separator never joins)
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if current_depth == depth and parts and parts[-1].endswith(" ") and not signature:
            if delsp:
                parts[-1] = parts[-1][:-1]
                length -= 1
                if not parts[-1]:
                    parts.pop()
            # Only a logical line of at most two characters can become "--" by a join.
            short = "".join(parts) if length <= 2 else None
            if content:
                parts.append(content)
                length += len(content)
            signature = short is not None and (short + content).rstrip() == "--"
        else:
            if current_depth >= 0:
                out.append(">" * current_depth + (" " if current_depth else "") + "".join(parts))
            parts = [content] if content else []
            length = len(content)
            current_depth = depth
            signature = content.rstrip() == "--"
    if current_depth >= 0:
        out.append(">" * current_depth + (" " if current_depth else "") + "".join(parts))
    return "\n".join(out)
