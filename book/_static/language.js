// The language button (attnbook_publish: the same page in the other edition) keeps the section
// the reader is at: both editions give a section the same anchor (tools/korean_edition.py).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a");
  if (!link || !link.querySelector(".fa-language") || !window.location.hash) return;
  const url = new URL(link.href, window.location.href);
  if (!url.hash) {
    url.hash = window.location.hash;
    link.href = url.toString();
  }
}, true);
