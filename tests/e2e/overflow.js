// How far a page sticks out of its viewport (see page_checks.py): its scroll width, the
// viewport's width, and the first elements that stick out (not counting what scrolls inside a
// box of its own, such as a wide chart's scroller).
() => {
  const width = window.innerWidth;
  const wide = [];
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    let parent = element.parentElement;
    let clipped = false;
    while (parent && parent !== document.body) {
      if (getComputedStyle(parent).overflowX !== 'visible') {
        clipped = true;
        break;
      }
      parent = parent.parentElement;
    }
    if (!clipped) wide.push(`${element.tagName.toLowerCase()}.${element.className}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}
