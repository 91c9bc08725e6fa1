// Figures are drawn for the text column and shrink with it on a phone: make each one a
// link to its image file, so that a reader can open it at full size.
document.addEventListener("DOMContentLoaded", () => {
  for (const img of document.querySelectorAll("main figure img, main .cell_output img")) {
    if (img.closest("a")) continue;
    const link = document.createElement("a");
    link.href = img.getAttribute("src");
    link.className = "wbbook-full-size";
    link.title = "Open the figure at full size";
    img.replaceWith(link);
    link.appendChild(img);
  }
});
