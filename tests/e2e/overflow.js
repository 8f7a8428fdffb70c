// How far a page sticks out of its viewport (see page_checks.py).
() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && getComputedStyle(el).position !== 'fixed') {
      if (!el.closest('.table-scroll,[data-scroll-x]')) wide.push(el.tagName.toLowerCase() + '.' + el.className);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}
