// The chapter menu (☰) on a phone. pydata-sphinx-theme 0.17 renders a second ".primary-toggle"
// in its navbar, and binds the click that opens the menu to the first one in the page, which
// sphinx-book-theme's visible button is not (pydata/pydata-sphinx-theme#2451). Every other
// ".primary-toggle" forwards its click to the first, so the visible button opens the menu.
document.addEventListener("DOMContentLoaded", () => {
  const toggles = [...document.querySelectorAll(".primary-toggle")];
  toggles.slice(1).forEach((button) => {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopImmediatePropagation();
      toggles[0].click();
    }, true);
  });
});
