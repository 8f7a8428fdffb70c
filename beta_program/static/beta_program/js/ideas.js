// Progressive enhancement of the propose form: the board's similar ideas under the title while
// it is typed, so people vote on an existing idea instead of proposing it twice. The form works
// without it.
(() => {
  const form = document.querySelector("form[data-similar-url]");
  if (!form) return;
  const title = form.querySelector("[data-similar]");
  const box = form.querySelector(".idea-similar");
  const list = form.querySelector("[data-similar-list]");
  if (!title || !box || !list) return;
  // Right under the title field, where the person is looking.
  const field = title.closest(".field");
  if (field) field.after(box);
  const votesLabel = form.dataset.votesLabel || "";
  let timer = null;
  let asked = "";
  const show = (ideas) => {
    list.replaceChildren();
    ideas.forEach((idea) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = idea.url;
      link.textContent = `#${idea.id} ${idea.title}`;
      const meta = document.createElement("span");
      meta.className = "muted";
      meta.textContent = ` · ${idea.status} · ${votesLabel}: ${idea.votes}`;
      item.append(link, meta);
      list.append(item);
    });
    box.hidden = ideas.length === 0;
  };
  title.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = title.value.trim();
      if (q === asked) return;
      asked = q;
      if (q.length < 2) return show([]);
      try {
        const url = `${form.dataset.similarUrl}?q=${encodeURIComponent(q)}`;
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (response.ok) show((await response.json()).ideas);
      } catch (e) {
        show([]);
      }
    }, 300);
  });
})();
