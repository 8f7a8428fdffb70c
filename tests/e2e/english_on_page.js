// English words in a page's interface (see page_checks.py); called with the allowed words and
// the texts people stored (longest first), which are taken out before the words are judged.
([allowed, stored]) => {
  const ok = new Set(allowed);
  const skip = [
    'script', 'style', 'noscript', 'code', 'pre', 'kbd', 'samp', '[translate="no"]',
    '[lang]:not([lang^="zh"])', '.rich-text', '.prose', '.search-result__snippet',
    // the opening words of a person's post on their profile: what they wrote
    '.post-row__excerpt',
  ].join(',');
  // A stored single short word ("site", a tag) is taken out only where it is the whole text
  // (or a #tag), so that it cannot hide the same word in the interface; longer texts and
  // several words (a person's name) wherever they appear.
  const single = (item) => item.length < 8 && !item.includes(' ');
  const whole = new Set(stored.filter(single));
  const parts = stored.filter((item) => !single(item));
  const withoutStored = (text) => {
    const trimmed = text.trim().replace(/^#/, '');
    if (whole.has(trimmed)) return '';
    let rest = text;
    for (const item of parts) {
      if (rest.includes(item)) rest = rest.split(item).join(' ');
    }
    return rest;
  };
  const english = (text) => {
    const cleaned = withoutStored(text)
      .replace(/\S+@\S+/g, ' ')
      .replace(/https?:\/\/\S+/g, ' ')
      // identifiers people type as they are: API scopes (carbon:read), CSV columns (order_id)
      .replace(/\b[a-z]+:[a-z]+\b/g, ' ')
      .replace(/\b\w*_\w*\b/g, ' ')
      // @handles and grid region codes (CN-East)
      .replace(/@[\w.\-]+/g, ' ')
      .replace(/\b[A-Z]{2}-[A-Za-z]+\b/g, ' ')
      .replace(/\/[\w\-./?=&%]+/g, ' ');
    const words = cleaned.match(/[A-Za-z][A-Za-z'’]{2,}/g) || [];
    return words.filter((w) => !ok.has(w) && !/^[A-Z0-9]+$/.test(w) && !/^[A-Z][A-Z0-9]*s$/.test(w));
  };
  const visible = (el) => {
    if (!el) return false;
    if (el.closest('[hidden],[aria-hidden="true"]')) return false;
    const style = getComputedStyle(el);
    return style.display !== 'none' && style.visibility !== 'hidden';
  };
  const found = [];
  const where = (el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest(skip) || !visible(el)) continue;
    const words = english(node.textContent);
    if (words.length) found.push({text: node.textContent.trim().slice(0, 100), where: where(el), words});
  }
  for (const el of document.body.querySelectorAll('[placeholder],[aria-label],[title],img[alt],input[type=submit][value]')) {
    if (el.closest(skip)) continue;
    for (const attr of ['placeholder', 'aria-label', 'title', 'alt', 'value']) {
      if (!el.hasAttribute(attr) || (attr === 'value' && el.type !== 'submit')) continue;
      const words = english(el.getAttribute(attr));
      if (words.length) found.push({text: `${attr}="${el.getAttribute(attr).slice(0, 100)}"`, where: where(el), words});
    }
  }
  return found;
}
