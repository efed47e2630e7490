// The organization picker (党组织选择): every <input data-org-picker="URL"> becomes a search by name or code with
// the tree to browse one level at a time. The original input keeps the code the form submits; without this script
// it is a plain text box that takes a code or an exact name (core.forms.ScopedCodeField resolves both).
(function () {
  "use strict";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function init(input) {
    if (input.dataset.orgPickerReady) return;
    input.dataset.orgPickerReady = "1";
    const url = input.dataset.orgPicker;
    const wrap = el("div", "org-picker");
    const row = el("div", "input-group");
    const search = el("input", input.className);
    search.type = "search";
    search.placeholder = input.placeholder || "输入名称或编码搜索";
    search.value = input.dataset.label || input.value;
    search.setAttribute("autocomplete", "off");
    search.setAttribute("role", "combobox");
    search.setAttribute("aria-expanded", "false");
    if (input.id) {
      // The label now names the visible box; the code box keeps a derived id.
      search.id = input.id;
      input.id = input.id + "_code";
    }
    if (input.required) search.required = true;
    const browse = el("button", "btn btn-outline-secondary", "选择");
    browse.type = "button";
    browse.title = "按组织层级选择";
    const list = el("div", "org-picker-list list-group shadow-sm");
    list.hidden = true;
    list.setAttribute("role", "listbox");
    input.type = "hidden";
    input.parentNode.insertBefore(wrap, input);
    row.append(search, browse);
    wrap.append(row, list, input);

    let timer = null;
    let chosen = search.value;
    let active = -1;

    function close() {
      list.hidden = true;
      search.setAttribute("aria-expanded", "false");
      active = -1;
    }

    function choose(item) {
      input.value = item.code;
      chosen = search.value = item.name + "（" + item.code + "）";
      input.dispatchEvent(new Event("change", { bubbles: true }));
      close();
    }

    function render(data, header) {
      list.replaceChildren();
      if (header) list.append(header);
      if (!data.results.length) {
        list.append(el("div", "list-group-item text-muted small", "没有找到匹配的党组织"));
      }
      data.results.forEach(function (item) {
        const line = el("div", "list-group-item list-group-item-action d-flex align-items-start gap-2 org-picker-item");
        line.setAttribute("role", "option");
        const text = el("div", "flex-grow-1");
        text.append(el("div", "fw-semibold", item.name));
        text.append(el("div", "small text-muted", item.code + (item.trail ? " · " + item.trail : "")));
        line.append(text);
        line.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(item);
        });
        if (item.children) {
          const open = el("button", "btn btn-sm btn-link text-nowrap", "下级 ›");
          open.type = "button";
          open.addEventListener("mousedown", function (event) {
            event.preventDefault();
            event.stopPropagation();
            load({ parent: item.code }, item);
          });
          line.append(open);
        }
        list.append(line);
      });
      if (data.more) list.append(el("div", "list-group-item text-muted small", "结果较多，请输入更多字缩小范围"));
      list.hidden = false;
      search.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function load(params, parent) {
      const query = new URLSearchParams(params);
      fetch(url + "?" + query.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.ok ? response.json() : { results: [], more: false };
        })
        .then(function (data) {
          let header = null;
          if (parent) {
            header = el("div", "list-group-item small bg-light d-flex justify-content-between");
            header.append(el("span", "", parent.name + " 的下级"));
            const back = el("button", "btn btn-sm btn-link p-0", "‹ 返回");
            back.type = "button";
            back.addEventListener("mousedown", function (event) {
              event.preventDefault();
              load({});
            });
            header.append(back);
          }
          render(data, header);
        });
    }

    search.addEventListener("input", function () {
      clearTimeout(timer);
      const q = search.value.trim();
      if (!q) input.value = "";
      timer = setTimeout(function () {
        load(q ? { q: q } : {});
      }, 250);
    });
    search.addEventListener("focus", function () {
      // A chosen organization is selected whole, so typing replaces it rather than searching "名称（编码）高二".
      if (search.value.trim()) search.select();
      else load({});
    });
    browse.addEventListener("click", function () {
      search.focus();
      load({});
    });
    search.addEventListener("keydown", function (event) {
      const items = list.querySelectorAll(".org-picker-item");
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (list.hidden || !items.length) return;
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
        items.forEach(function (item, i) {
          item.classList.toggle("active", i === active);
        });
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        items[active].dispatchEvent(new MouseEvent("mousedown"));
      } else if (event.key === "Escape") {
        close();
      }
    });
    search.addEventListener("blur", function () {
      close();
      // Typed but not picked: send the text as it is (a code or an exact name still works, else the form says so).
      const text = search.value.trim();
      if (text !== chosen) input.value = text;
    });
  }

  function initAll(root) {
    (root || document).querySelectorAll("input[data-org-picker]").forEach(init);
  }

  document.addEventListener("DOMContentLoaded", function () {
    initAll(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    initAll(event.target);
  });
})();
