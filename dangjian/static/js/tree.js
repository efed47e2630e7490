// Organization tree: a node's children load once through htmx; later clicks only show or hide them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-tree-toggle]");
  if (!button) return;
  const list = document.getElementById(button.dataset.treeToggle);
  const open = button.getAttribute("aria-expanded") === "true";
  button.setAttribute("aria-expanded", String(!open));
  button.textContent = open ? "+" : "−";
  list.hidden = open;
});
