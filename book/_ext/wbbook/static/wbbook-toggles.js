// pydata-sphinx-theme 0.17 wires only the first .primary-toggle (and .secondary-toggle)
// of a page, and under sphinx-book-theme 1.3 that first one is a hidden duplicate: the
// visible menu buttons do nothing, and a phone reader cannot reach the chapter list.
// Forward a click on any other toggle to the wired one.
document.addEventListener("DOMContentLoaded", () => {
  for (const name of ["primary-toggle", "secondary-toggle"]) {
    const [wired, ...others] = document.querySelectorAll("." + name);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopImmediatePropagation();
        wired.click();
      }, true);
    }
  }
});

// A folded solution's title is mostly a link back to its exercise, and
// sphinx-togglebutton only toggles on a click that lands on the title itself, its
// button or its icon: a click on the link jumped away instead of opening the solution.
// Turn a click on the link into a click on the solution's toggle button.
document.addEventListener("click", (event) => {
  const link = event.target.closest(".solution.dropdown > .admonition-title a");
  if (!link) return;
  const button = link.closest(".admonition-title").querySelector(".toggle-button");
  if (!button) return;
  event.preventDefault();
  event.stopPropagation();
  button.click();
}, true);

// WCAG 2.5.3 "Label in Name" (axe's label-content-name-mismatch): a voice-control user
// says what they see, so a control's accessible name must contain its visible text. The
// theme names its search button "Search" while it shows "Search Ctrl+K", and myst-nb names
// every folded cell's summary "Toggle hidden content" while it shows "Show code cell
// content": without the aria-label their names come from what they show. The colour-mode
// button shows only icons, whose titles ("Light", "Dark"; Font Awesome turns each into an
// SVG <title>) are not its name "Color mode": the icons are decoration, without titles.
document.addEventListener("DOMContentLoaded", () => {
  for (const node of document.querySelectorAll(".search-button__button[aria-label], details > summary[aria-label]")) {
    if (node.textContent.trim()) node.removeAttribute("aria-label");
  }
  for (const icon of document.querySelectorAll(".theme-switch-button i, .theme-switch-button svg")) {
    icon.setAttribute("aria-hidden", "true");
    icon.removeAttribute("title");
    icon.removeAttribute("aria-labelledby");
    for (const title of icon.querySelectorAll("title")) title.remove();
  }
});
