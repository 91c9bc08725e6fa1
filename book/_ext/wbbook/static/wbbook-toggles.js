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
