// Boxes that scroll sideways without saying so (see page_checks.py): every element whose
// content is wider than it and that scrolls (overflow-x auto or scroll), unless it is described
// (aria-describedby) by an element on show, as the charts' "Scroll sideways ..." hint is.
() => {
  const found = [];
  for (const element of document.querySelectorAll('body *')) {
    const style = getComputedStyle(element);
    if (style.overflowX !== 'auto' && style.overflowX !== 'scroll') continue;
    if (element.clientWidth === 0 || element.scrollWidth <= element.clientWidth + 1) continue;
    const hint = document.getElementById(element.getAttribute('aria-describedby') || '');
    if (hint && hint.checkVisibility()) continue;
    const inside = element.firstElementChild;
    found.push({
      box: `${element.tagName.toLowerCase()}.${element.getAttribute('class') || ''}`,
      inside: inside ? `${inside.tagName.toLowerCase()}.${inside.getAttribute('class') || ''}` : '',
      scrollWidth: element.scrollWidth,
      width: element.clientWidth,
    });
  }
  return found;
}
