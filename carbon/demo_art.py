"""Flat illustrations for the demo's service catalogue cards, drawn with Pillow (no text in them,
so no fonts are needed and they suit every language)."""

from __future__ import annotations

import io

from PIL import Image, ImageChops, ImageDraw

ART_SIZE = (800, 500)
_ART_SCALE = 2  # drawn at twice the size, then reduced, for smooth edges
_WHITE = (255, 255, 255, 255)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))


def _background(size: tuple[int, int], start: str, end: str) -> Image.Image:
    # A diagonal gradient (the mean of a vertical and a horizontal ramp) with soft light discs.
    ramp = Image.linear_gradient("L")
    mask = ImageChops.add(ramp.resize(size), ramp.rotate(90).resize(size), scale=2)
    image = Image.composite(
        Image.new("RGBA", size, _rgb(end)), Image.new("RGBA", size, _rgb(start)), mask
    )
    glow = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(glow)
    w, h = size
    for cx, cy, r, alpha in ((0.88, 0.1, 0.42, 28), (0.08, 0.95, 0.35, 22), (0.7, 0.9, 0.18, 18)):
        box = (cx * w - r * h, cy * h - r * h, cx * w + r * h, cy * h + r * h)
        draw.ellipse(box, fill=(255, 255, 255, alpha))
    return Image.alpha_composite(image, glow)


def _scaled(points, s: int) -> list[tuple[int, int]]:
    return [(x * s, y * s) for x, y in points]


def _inverter(draw: ImageDraw.ImageDraw, s: int, ink: tuple[int, int, int]) -> None:
    # A string inverter: display, status lights, cooling fins; a wrench beside it.
    draw.rounded_rectangle((300 * s, 110 * s, 500 * s, 390 * s), radius=18 * s, fill=_WHITE)
    draw.rounded_rectangle((330 * s, 140 * s, 470 * s, 200 * s), radius=8 * s, fill=ink)
    for i, x in enumerate((345, 365, 385)):
        draw.ellipse((x * s, 225 * s, (x + 12) * s, 237 * s), fill=ink if i else (80, 200, 120))
    for y in range(260, 370, 18):
        draw.rounded_rectangle((330 * s, y * s, 470 * s, (y + 8) * s), radius=4 * s, fill=ink)
    trace = _scaled(((360, 170), (385, 160), (410, 180), (440, 155)), s)
    draw.line(trace, fill=_WHITE, width=5 * s, joint="curve")
    draw.line((520 * s, 380 * s, 610 * s, 290 * s), fill=_WHITE, width=26 * s)
    draw.ellipse((585 * s, 235 * s, 665 * s, 315 * s), fill=_WHITE)
    jaw = ((625, 240), (660, 220), (690, 270), (640, 285))
    draw.polygon(_scaled(jaw, s), fill=(0, 0, 0, 0))


def _shield(draw: ImageDraw.ImageDraw, s: int, ink: tuple[int, int, int]) -> None:
    outer = ((400, 95), (530, 140), (522, 270), (480, 345), (400, 405), (320, 345), (278, 270))
    draw.polygon(_scaled((*outer, (270, 140)), s), fill=_WHITE)
    inner = ((400, 125), (500, 160), (494, 265), (460, 325), (400, 372), (340, 325), (306, 265))
    draw.polygon(_scaled((*inner, (300, 160)), s), fill=ink)
    tick = _scaled(((345, 250), (385, 292), (460, 200)), s)
    draw.line(tick, fill=_WHITE, width=22 * s, joint="curve")


def _training(draw: ImageDraw.ImageDraw, s: int, ink: tuple[int, int, int]) -> None:
    # A mortarboard over three course participants.
    draw.polygon(_scaled(((400, 90), (560, 160), (400, 230), (240, 160)), s), fill=_WHITE)
    draw.rounded_rectangle((320 * s, 185 * s, 480 * s, 265 * s), radius=20 * s, fill=_WHITE)
    draw.polygon(_scaled(((400, 120), (500, 160), (400, 200), (300, 160)), s), fill=ink)
    draw.line((540 * s, 168 * s, 540 * s, 250 * s), fill=_WHITE, width=6 * s)
    draw.ellipse((528 * s, 245 * s, 552 * s, 275 * s), fill=_WHITE)
    for cx in (300, 400, 500):
        draw.ellipse(((cx - 26) * s, 300 * s, (cx + 26) * s, 352 * s), fill=_WHITE)
        draw.pieslice(((cx - 50) * s, 362 * s, (cx + 50) * s, 462 * s), 180, 360, fill=_WHITE)


def _chart(draw: ImageDraw.ImageDraw, s: int, ink: tuple[int, int, int]) -> None:
    # A yield chart under a magnifying glass.
    draw.rounded_rectangle((220 * s, 100 * s, 580 * s, 400 * s), radius=18 * s, fill=_WHITE)
    for i, height in enumerate((70, 110, 95, 150, 190)):
        x = 260 + i * 60
        bar = (x * s, (370 - height) * s, (x + 36) * s, 370 * s)
        draw.rounded_rectangle(bar, radius=6 * s, fill=(*ink, 110))
    line = ((278, 280), (338, 240), (398, 255), (458, 195), (518, 150))
    draw.line(_scaled(line, s), fill=ink, width=8 * s, joint="curve")
    for x, y in line:
        draw.ellipse(((x - 10) * s, (y - 10) * s, (x + 10) * s, (y + 10) * s), fill=ink)
    draw.line((603 * s, 353 * s, 660 * s, 410 * s), fill=_WHITE, width=30 * s)
    draw.line((603 * s, 353 * s, 655 * s, 405 * s), fill=ink, width=16 * s)
    draw.ellipse((494 * s, 244 * s, 626 * s, 376 * s), outline=_WHITE, width=10 * s)
    draw.ellipse((502 * s, 252 * s, 618 * s, 368 * s), outline=ink, width=14 * s)


MOTIFS = {"inverter": _inverter, "shield": _shield, "training": _training, "chart": _chart}


def service_art(motif: str, colours: list[str]) -> bytes:
    """A flat illustration for a catalogue card, as PNG bytes. No text in it, so no fonts are
    needed and it suits every language."""
    layer = Image.new("RGBA", (ART_SIZE[0] * _ART_SCALE, ART_SIZE[1] * _ART_SCALE), (0, 0, 0, 0))
    MOTIFS[motif](ImageDraw.Draw(layer), _ART_SCALE, _rgb(colours[0]))
    image = Image.alpha_composite(_background(ART_SIZE, *colours), layer.reduce(_ART_SCALE))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return out.getvalue()
