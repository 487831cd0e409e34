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

// The scope table offers what the creator's role allows; a lower role picked for the token in
// the same form holds less, so levels above it are turned off (the server refuses them anyway).
const ROLE_RANK = { read_only: 0, engineer: 1, admin: 2 };

function setUpScopeCeiling(role) {
  const options = document.querySelectorAll("#scope-table option[data-min-role]");
  if (options.length === 0) return;
  const note = document.querySelector("#scope-ceiling-note");
  const sync = () => {
    const rank = ROLE_RANK[role.value] ?? 2;
    const dropped = [];
    options.forEach((option) => {
      option.disabled = ROLE_RANK[option.dataset.minRole] > rank;
      if (option.disabled && option.selected) {
        option.parentElement.value = "";
        dropped.push(option.value);
      }
    });
    // Said where a screen reader hears it: a choice changed that the person did not touch.
    if (note && dropped.length > 0) {
      const label = role.options[role.selectedIndex].text;
      note.textContent = `${dropped.join(", ")}: more than a ${label} token may hold, set back to No access.`;
    }
  };
  role.addEventListener("change", sync);
  sync();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-secret]").forEach(setUpSecret);
  document.querySelectorAll("[data-expiry-select]").forEach(setUpExpiry);
  const role = document.querySelector("select#role[name=role]");
  if (role) setUpScopeCeiling(role);
});

// A one-time page restored from the back/forward cache would show the token again: reload it,
// and the server answers that it can no longer be displayed.
window.addEventListener("pageshow", (event) => {
  if (event.persisted && document.querySelector("[data-one-time]")) {
    window.location.reload();
  }
});
