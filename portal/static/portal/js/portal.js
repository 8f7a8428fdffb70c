// Progressive enhancement only: every form works without JavaScript.
document.documentElement.classList.add("js");
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", async () => {
    const target = document.getElementById(button.dataset.copy);
    try {
      await navigator.clipboard.writeText(target.textContent.trim());
      button.textContent = button.dataset.copied || "Copied";
    } catch (e) {
      window.getSelection().selectAllChildren(target);
    }
  });
});
