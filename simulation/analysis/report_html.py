"""Markdown to a standalone HTML page, for `labourlab report`'s report.html."""

from __future__ import annotations

import html
import re


def markdown_to_html(text: str, title: str = "LabourLab report") -> str:
    """Markdown to a standalone HTML page: python-markdown if installed, else a small converter that
    handles what report.md uses (headings, paragraphs, lists, tables, images, links, code, emphasis)."""
    try:
        import markdown as md  # type: ignore[import-untyped]

        body = md.markdown(text, extensions=["tables", "fenced_code"])
    except ImportError:
        body = simple_markdown(text)
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
        "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
        "th,td{border:1px solid #ccc;padding:0.25em 0.5em;vertical-align:top}th{background:#f3f3f3}"
        "img{max-width:100%}code{background:#f5f5f5;padding:0 0.2em}"
        "pre{background:#f5f5f5;padding:0.8em;overflow-x:auto}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
        f"<style>{style}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _inline(text: str) -> str:
    out = []
    for i, chunk in enumerate(re.split(r"(`[^`]*`)", text)):
        if i % 2:
            out.append(f"<code>{html.escape(chunk[1:-1])}</code>")
            continue
        s = html.escape(chunk, quote=False)
        s = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", r'<img alt="\1" src="\2">', s)
        s = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r'<a href="\2">\1</a>', s)
        s = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*([^*]+)\*(?![\w*])", r"<em>\1</em>", s)
        out.append(s)
    return "".join(out)


def _row_cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def simple_markdown(text: str) -> str:
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            j = i + 1
            code = []
            while j < len(lines) and not lines[j].startswith("```"):
                code.append(lines[j])
                j += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
            i = j + 1
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            flush()
            n = len(m[1])
            out.append(f"<h{n}>{_inline(m[2])}</h{n}>")
        elif line.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|?\s*$", lines[i + 1]):
            flush()
            head = _row_cells(line)
            aligns = ["right" if c.endswith(":") else "left" for c in _row_cells(lines[i + 1])]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_row_cells(lines[i]))
                i += 1
            t = ["<table>", "<thead><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in head) + "</tr></thead>"]
            t.append("<tbody>")
            for r in rows:
                cells = "".join(
                    f'<td style="text-align:{aligns[k] if k < len(aligns) else "left"}">{_inline(c)}</td>'
                    for k, c in enumerate(r)
                )
                t.append(f"<tr>{cells}</tr>")
            t.append("</tbody></table>")
            out.append("\n".join(t))
            continue
        elif re.match(r"^\s*[-*]\s+", line):
            flush()
            items = []
            while i < len(lines) and re.match(r"^\s*[-*]\s+", lines[i]):
                items.append(f"<li>{_inline(re.sub(r'^\s*[-*]\s+', '', lines[i]))}</li>")
                i += 1
            out.append("<ul>\n" + "\n".join(items) + "\n</ul>")
            continue
        elif line.startswith(">"):
            flush()
            out.append(f"<blockquote>{_inline(line.lstrip('> '))}</blockquote>")
        elif not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out)
