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
// The header's unread count: every app's notifications in one number, asked for after the page
// has loaded so that no page pays for it (without JavaScript the link still leads to the inbox).
document.querySelectorAll("[data-unread-url]").forEach(async (link) => {
  const badge = link.querySelector("[data-unread-count]");
  try {
    const response = await fetch(link.dataset.unreadUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const { unread } = await response.json();
    if (Number.isInteger(unread) && unread > 0) {
      badge.textContent = unread > 99 ? "99+" : String(unread);
      badge.setAttribute("aria-label", `${badge.textContent} ${badge.dataset.unreadLabel}`);
      badge.hidden = false;
    }
  } catch (e) {
    // Signed out meanwhile, or offline: the link without a number is still right.
  }
});
