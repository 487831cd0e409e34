// Progressive enhancement only: every page works without this file (the clipboard aside).
"use strict";

function setUpSecret(field) {
  const row = field.closest(".secret-row");
  const toggle = row.querySelector("[data-toggle-secret]");
  const copy = row.querySelector("[data-copy-secret]");
  const status = row.querySelector("[data-copy-status]");
  const fallback = document.querySelector("[data-no-js-reveal]");
  if (fallback) fallback.remove();

  toggle.hidden = false;
  toggle.addEventListener("click", () => {
    const show = field.type === "password";
    field.type = show ? "text" : "password";
    toggle.textContent = show ? "Hide" : "Show";
    toggle.setAttribute("aria-pressed", String(show));
  });

  copy.hidden = false;
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Copied";
    } catch (error) {
      status.textContent = "Copy failed: select the token and copy it by hand";
    }
  });
}

function setUpExpiry(select) {
  const custom = document.querySelector("[data-custom-date]");
  if (!custom) return;
  const sync = () => { custom.hidden = select.value !== "custom"; };
  select.addEventListener("change", sync);
  sync();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-secret]").forEach(setUpSecret);
  document.querySelectorAll("[data-expiry-select]").forEach(setUpExpiry);
});

// A one-time page restored from the back/forward cache would show the token again: reload it,
// and the server answers that it can no longer be displayed.
window.addEventListener("pageshow", (event) => {
  if (event.persisted && document.querySelector("[data-one-time]")) {
    window.location.reload();
  }
});
