// The language button (attnbook_publish: the same page in the other edition) opens in this tab,
// and keeps the section the reader is at: both editions give a section the same anchor
// (tools/korean_edition.py).
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll("a.btn-language-button")) link.removeAttribute("target");
});
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.btn-language-button");
  if (!link || !window.location.hash) return;
  const url = new URL(link.href, window.location.href);
  if (!url.hash) {
    url.hash = window.location.hash;
    link.href = url.toString();
  }
}, true);
