// Suggestions while a field is typed, shared by the beta feedback form (possible duplicates)
// and the propose-an-idea form (similar ideas): after a pause, the form's `data-similar-url` is
// asked with ?q=<the text>, and `show` gets the answer's `key` list (an empty list on a short
// text or a failed request). Load it before the form's own script.
window.betaSuggest = (form, input, key, show) => {
  let timer = null;
  let asked = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (q === asked) return;
      asked = q;
      if (q.length < 2) return show([]);
      try {
        const url = `${form.dataset.similarUrl}?q=${encodeURIComponent(q)}`;
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (response.ok) show((await response.json())[key]);
      } catch (e) {
        show([]);
      }
    }, 300);
  });
  // Text typed before this script ran (a fast typist, a browser restoring the form on "back")
  // fired no event here: ask for it now.
  if (input.value.trim()) input.dispatchEvent(new Event("input"));
};
