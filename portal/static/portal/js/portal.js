// Progressive enhancement only: every form works without JavaScript.
document.documentElement.classList.add("js");
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
// Phones: the menu button shows and hides the navigation.
document.querySelectorAll("[data-menu-toggle]").forEach((button) => {
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  button.addEventListener("click", () => {
    const open = menu.classList.toggle("is-open");
    button.setAttribute("aria-expanded", String(open));
  });
});
// Menus made of <details> close when one clicks elsewhere or presses Escape.
const closable = document.querySelectorAll("details[data-closes-outside], details.usermenu");
document.addEventListener("click", (event) => {
  closable.forEach((menu) => {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  closable.forEach((menu) => {
    if (menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
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
    // Read the body even of a refusal (two-factor set-up pending): an unread body keeps the
    // request open, and with it the page's network never settles.
    const { unread } = await response.json();
    if (!response.ok) return;
    if (Number.isInteger(unread) && unread > 0) {
      badge.textContent = unread > 99 ? "99+" : String(unread);
      badge.setAttribute("aria-label", `${badge.textContent} ${badge.dataset.unreadLabel}`);
      badge.hidden = false;
    }
  } catch (e) {
    // Signed out meanwhile, or offline: the link without a number is still right.
  }
});
