// Progressive enhancement of the feedback form: possible duplicates while the title is typed,
// and the bug-only fields hidden for feature feedback. The form works without it.
(() => {
  const form = document.querySelector("form[data-similar-url]");
  if (!form) return;
  const title = form.querySelector("[data-similar]");
  const box = form.querySelector(".beta-similar");
  const list = form.querySelector("[data-similar-list]");
  const show = (results) => {
    list.replaceChildren();
    results.forEach((r) => {
      const item = document.createElement("li");
      const label = `#${r.id} ${r.title} (${r.status})`;
      if (r.url) {
        const link = document.createElement("a");
        link.href = r.url;
        link.textContent = label;
        item.append(link);
      } else {
        item.textContent = label;
      }
      list.append(item);
    });
    box.hidden = results.length === 0;
  };
  if (window.betaSuggest) window.betaSuggest(form, title, "results", show);
  const bugOnly = ["severity", "frequency", "steps", "expected", "actual"]
    .map((name) => form.querySelector(`[name="${name}"]`))
    .concat([...form.querySelectorAll('[name^="env_"]')])
    .filter(Boolean)
    .map((input) => input.closest(".field"));
  const toggle = () => {
    const kind = form.querySelector('[name="kind"]:checked');
    const feature = kind && kind.value === "feature";
    bugOnly.forEach((field) => { field.hidden = feature; });
  };
  form.querySelectorAll('[name="kind"]').forEach((radio) => radio.addEventListener("change", toggle));
  toggle();
})();
