/* Form pickers, as a progressive enhancement (the forms work without it):
   - a filter box above each select[data-filter] (people, customers): type part of a name,
     Enter picks the first match; a multiple select toggles options on click, no Ctrl needed;
   - [data-ref]: items chosen by search (GET data-search&q=...), kept as hidden inputs. */
(function () {
  "use strict";

  function changed(el) { el.dispatchEvent(new Event("change", { bubbles: true })); }

  function filterSelect(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "picker-filter";
    box.id = select.id + "-filter";
    box.placeholder = select.dataset.filter;
    box.setAttribute("aria-label", select.dataset.filter);
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    select.parentNode.insertBefore(box, select);
    var summary = null;
    function show() {
      var names = Array.prototype.map.call(select.selectedOptions, function (o) {
        return o.textContent.trim();
      });
      summary.textContent = names.length ? select.dataset.chosen + names.join("、") : "";
    }
    if (select.multiple) {
      summary = document.createElement("p");
      summary.className = "picker-chosen";
      summary.id = select.id + "-chosen";
      summary.setAttribute("aria-live", "polite");
      select.parentNode.insertBefore(summary, select.nextSibling);
      select.addEventListener("mousedown", function (e) {
        if (e.target.tagName !== "OPTION") return;
        e.preventDefault();
        e.target.selected = !e.target.selected;
        select.focus();
        changed(select);
      });
      select.addEventListener("change", show);
      show();
    }
    function visible() {
      return Array.prototype.filter.call(select.options, function (o) {
        return !o.hidden && o.value !== "";
      });
    }
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase();
      Array.prototype.forEach.call(select.options, function (o) {
        var text = (o.textContent + " " + o.value).toLowerCase();
        o.hidden = o.value !== "" && q !== "" && text.indexOf(q) < 0;
      });
    });
    box.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      e.preventDefault(); // the filter box never submits the form
      var first = visible()[0];
      if (!first) return;
      first.selected = select.multiple ? !first.selected : true;
      changed(select);
      box.value = "";
      box.dispatchEvent(new Event("input"));
    });
  }

  function refPicker(root) {
    var input = root.querySelector("input[type=search]");
    var results = root.querySelector(".ref-results");
    var chosen = root.querySelector(".ref-chosen");
    var timer = null;
    var asked = 0;
    var picked = false; // focus comes back after a pick: do not list everything again
    function add(id, label) {
      if (!root.hasAttribute("data-multiple")) chosen.textContent = "";
      if (chosen.querySelector('input[value="' + id + '"]')) return;
      var li = document.createElement("li");
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = root.dataset.name;
      hidden.value = id;
      var text = document.createElement("span");
      text.textContent = label;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "ref-remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", root.dataset.remove + " " + label);
      li.append(hidden, text, " ", remove);
      chosen.appendChild(li);
    }
    chosen.addEventListener("click", function (e) {
      if (e.target.classList.contains("ref-remove")) e.target.parentNode.remove();
    });
    function render(items) {
      results.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        var pick = document.createElement("button");
        pick.type = "button";
        pick.className = "ref-option";
        pick.textContent = item.label;
        pick.addEventListener("click", function () {
          add(String(item.id), item.label);
          results.textContent = "";
          input.value = "";
          picked = true;
          input.focus();
        });
        li.appendChild(pick);
        results.appendChild(li);
      });
      if (!items.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = root.dataset.empty;
        results.appendChild(none);
      }
    }
    function search() {
      var mine = ++asked;
      var url = root.dataset.search + "&q=" + encodeURIComponent(input.value.trim());
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) { if (mine === asked) render(body.items); });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 150);
    });
    input.addEventListener("focus", function () {
      if (!picked && !results.children.length) search();
      picked = false;
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") {
        e.preventDefault();
        var first = results.querySelector(".ref-option");
        if (first) first.click();
      } else if (e.key === "Escape") {
        results.textContent = "";
      }
    });
  }

  // [data-geo]: a check-in from the browser's Geolocation API, kept as JSON in the hidden
  // input: where, how precisely (metres) and when by this device's clock.
  function geoPicker(box) {
    var value = box.querySelector('input[type="hidden"]');
    var button = box.querySelector("button");
    var status = box.querySelector(".geo-status");
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { status.textContent = box.dataset.unsupported; return; }
      status.textContent = box.dataset.locating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var c = pos.coords;
        value.value = JSON.stringify({
          latitude: c.latitude, longitude: c.longitude, accuracy: c.accuracy,
          device_time: new Date(pos.timestamp || Date.now()).toISOString()
        });
        status.textContent = box.dataset.located.replace("%(lat)s", c.latitude.toFixed(5))
          .replace("%(lon)s", c.longitude.toFixed(5)).replace("%(acc)s", Math.round(c.accuracy));
      }, function (err) {
        status.textContent = box.dataset.failed.replace("%(reason)s", err.message);
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    });
  }

  document.querySelectorAll("[data-geo]").forEach(geoPicker);
  document.querySelectorAll("select[data-filter]").forEach(filterSelect);
  document.querySelectorAll("[data-ref]").forEach(refPicker);
})();
