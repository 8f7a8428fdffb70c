// Progressive enhancement of the propose form: the board's similar ideas under the title while
// it is typed, so people vote on an existing idea instead of proposing it twice. The form works
// without it. Needs suggest.js.
(() => {
  const form = document.querySelector("form[data-similar-url]");
  if (!form) return;
  const title = form.querySelector("[data-similar]");
  const box = form.querySelector(".idea-similar");
  const list = form.querySelector("[data-similar-list]");
  if (!title || !box || !list || !window.betaSuggest) return;
  // Right under the title field, where the person is looking.
  const field = title.closest(".field");
  if (field) field.after(box);
  // "Votes: {n}" in the page's language (Chinese takes a full-width colon).
  const votesLabel = form.dataset.votesLabel || "{n}";
  const show = (ideas) => {
    list.replaceChildren();
    ideas.forEach((idea) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = idea.url;
      link.textContent = `#${idea.id} ${idea.title}`;
      const meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = ` · ${idea.status} · ${votesLabel.replace("{n}", idea.votes)}`;
      item.append(link, meta);
      list.append(item);
    });
    box.hidden = ideas.length === 0;
  };
  window.betaSuggest(form, title, "ideas", show);
})();
