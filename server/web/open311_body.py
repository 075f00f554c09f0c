"""Open311 GeoReport v2 bodies: the same values as JSON or as the spec's XML.

XML is built, never parsed, here (so the stdlib's ElementTree is safe to use): a list is
`<root><item>…</item>…</root>`, a dict `<root>…</root>`, each key an element; a nested list
is an element holding its singular (`<attributes><attribute>`); None is an empty element,
booleans are `true` / `false`.
"""

from __future__ import annotations

import re
from typing import Any

# Building documents only, never parsing: nothing here reads XML from outside.
from xml.etree import ElementTree as ET  # nosec B405

from starlette.responses import JSONResponse, Response

FORMATS = ("xml", "json")
SINGULAR = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
# Characters XML 1.0 cannot carry at all, even escaped.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
HEADERS = {"Cache-Control": "no-store"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(node, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _fill(node, SINGULAR.get(name, "item"), inner)
    elif value is not None:
        node.text = _text(value)


def xml_text(value: Any, root: str, item: str) -> bytes:
    top = ET.Element(root)
    if isinstance(value, list):
        for row in value:
            _fill(top, item, row)
    else:
        for key, inner in value.items():
            _fill(top, key, inner)
    return bytes(ET.tostring(top, encoding="utf-8", xml_declaration=True))


def body(fmt: str, value: Any, *, root: str, item: str = "", status: int = 200) -> Response:
    """`value` in `fmt`; `root` and `item` name the XML elements."""
    if fmt == "json":
        return JSONResponse(value, status_code=status, headers=HEADERS)
    return Response(
        xml_text(value, root, item), status_code=status, media_type="text/xml; charset=utf-8", headers=HEADERS
    )


def errors(fmt: str, status: int, description: str) -> Response:
    """The spec's error list: [{"code": 400, "description": "…"}], `<errors><error>…`."""
    return body(
        fmt, [{"code": status, "description": description}], root="errors", item="error", status=status
    )
