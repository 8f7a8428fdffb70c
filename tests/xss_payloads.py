"""Hostile Markdown every renderer of people's text is tried with: the portal's renderer on its
own (tests/portal/test_markdown.py) and the community's pages end to end
(tests/community/test_xss.py). One list, so a payload added for one is tried by both."""

from __future__ import annotations

PAYLOADS = [
    "<script>alert(1)</script>",
    '<iframe src="https://evil.example/frame"></iframe>',
    "<img src=x onerror=alert(1)>",
    "[plain](javascript:alert(1))",
    "[mixed case](JaVaScRiPt:alert(1))",
    "[spaced](  javascript:alert(1))",
    "[encoded](java&#x09;script:alert(1))",
    "[entity](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
    '<a href="javascript:alert(1)">raw link</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![data image](data:image/png;base64,iVBORw0KGgo=)",
    "![svg data](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![tracker](https://evil.example/pixel.png)",
    "[vb](vbscript:msgbox(1))",
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<a href="#" onclick="alert(1)">click</a>',
    "```html\n<script>alert('in code')</script>\n```",
    '[t](https://ok.example "x\\" onmouseover=\\"alert(1))',
    "| a |\n|:-:|\n| <b onclick=alert(1)>b</b> |",
]
# Attributes whose value is a URL the browser may follow or load.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcset", "poster"}
