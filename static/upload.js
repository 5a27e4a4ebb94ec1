// The upload page: drag and drop, previews, several files one after another,
// a progress bar per file fed by XHR upload progress events, and the server's
// refusal shown next to the file it concerns. Without JavaScript the form
// still posts one file the ordinary way.
(function () {
  "use strict";

  function humanBytes(n) {
    if (n < 1024) return n + " bytes";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  // The server answers refusals with a small HTML fragment; show its text only.
  function messageOf(xhr) {
    if (!xhr.responseText) return "The upload failed (HTTP " + xhr.status + ").";
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var found = doc.querySelector("[role=alert]") || doc.body;
    return (found.textContent || "").trim() || "The upload failed (HTTP " + xhr.status + ").";
  }

  function setup(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-dropzone]");
    var list = form.querySelector("[data-queue]");
    var errors = form.querySelector("[data-errors]");
    var results = document.querySelector("[data-results]");
    var button = form.querySelector("button[type=submit]");
    var queue = [];
    var busy = false;

    // Keep the input holding exactly the queued files, so `required` and a
    // keyboard user's view of the picker agree with what will be sent.
    function syncInput() {
      var dt = new DataTransfer();
      queue.forEach(function (item) { dt.items.add(item.file); });
      input.files = dt.files;
    }

    function render(item) {
      var li = document.createElement("li");
      li.className = "queue-item";
      var img = document.createElement("img");
      img.className = "queue-preview";
      img.alt = "Preview of " + item.file.name;
      item.url = URL.createObjectURL(item.file);
      img.src = item.url;
      // Files the browser cannot draw (HEIC, or not an image at all) get a plain tile.
      img.addEventListener("error", function () {
        var tile = document.createElement("span");
        tile.className = "queue-preview placeholder";
        tile.textContent = "no preview";
        img.replaceWith(tile);
      });
      var info = document.createElement("div");
      info.className = "queue-info";
      var name = document.createElement("span");
      name.className = "queue-name";
      name.textContent = item.file.name + " · " + humanBytes(item.file.size);
      var bar = document.createElement("progress");
      bar.max = 100;
      bar.setAttribute("value", "0");
      bar.setAttribute("aria-label", "Upload progress of " + item.file.name);
      var note = document.createElement("span");
      note.className = "queue-note";
      note.setAttribute("role", "status");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "small secondary";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + item.file.name);
      remove.addEventListener("click", function () {
        if (busy) return;
        drop(item);
      });
      info.append(name, bar, note);
      li.append(img, info, remove);
      item.li = li;
      item.bar = bar;
      item.note = note;
      list.append(li);
    }

    function drop(item) {
      queue = queue.filter(function (q) { return q !== item; });
      URL.revokeObjectURL(item.url);
      item.li.remove();
      syncInput();
    }

    function add(files) {
      Array.prototype.forEach.call(files, function (file) {
        var item = { file: file };
        queue.push(item);
        render(item);
      });
      errors.textContent = "";
      syncInput();
    }

    function send(item) {
      return new Promise(function (resolve) {
        var data = new FormData();
        data.append("_csrf_token", form.querySelector("[name=_csrf_token]").value);
        data.append("caption", form.querySelector("[name=caption]").value);
        data.append("resolution", form.querySelector("[name=resolution]").value);
        data.append("keep_metadata", form.querySelector("[name=keep_metadata]").checked ? "true" : "false");
        data.append("file", item.file, item.file.name);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.getAttribute("action"));
        xhr.setRequestHeader("HX-Request", "true");
        xhr.setRequestHeader("Accept", "text/html");
        xhr.upload.addEventListener("progress", function (evt) {
          if (!evt.lengthComputable) return;
          var percent = Math.round((evt.loaded / evt.total) * 100);
          item.bar.setAttribute("value", String(percent));
          item.note.textContent = percent + "%";
        });
        xhr.addEventListener("load", function () {
          var redirect = xhr.getResponseHeader("HX-Redirect");
          if (redirect) {
            window.location.href = redirect;
            return;
          }
          if (xhr.status >= 200 && xhr.status < 300) {
            item.bar.setAttribute("value", "100");
            results.insertAdjacentHTML("afterbegin", xhr.responseText);
            if (window.htmx) window.htmx.process(results.firstElementChild);
            resolve(true);
            return;
          }
          fail(item, messageOf(xhr));
          resolve(false);
        });
        xhr.addEventListener("error", function () {
          fail(item, "The upload failed: the connection was interrupted.");
          resolve(false);
        });
        item.note.textContent = "0%";
        item.li.classList.remove("failed");
        xhr.send(data);
      });
    }

    function fail(item, message) {
      item.li.classList.add("failed");
      item.note.textContent = message;
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = item.file.name + ": " + message;
      errors.append(p);
    }

    async function uploadAll() {
      busy = true;
      button.disabled = true;
      form.setAttribute("aria-busy", "true");
      errors.textContent = "";
      var failed = 0;
      for (var item of queue.slice()) {
        if (await send(item)) drop(item);
        else failed += 1;
      }
      busy = false;
      button.disabled = false;
      form.removeAttribute("aria-busy");
      // Refused files stay listed with their message; the form keeps its values.
      if (!failed) {
        form.querySelector("[name=caption]").value = "";
        form.querySelector("[name=resolution]").value = "";
      }
    }

    input.addEventListener("change", function () {
      var picked = Array.prototype.slice.call(input.files);
      // The picker replaces the input's files: queue the new ones, keep the old.
      picked = picked.filter(function (f) {
        return !queue.some(function (q) { return q.file === f; });
      });
      add(picked);
    });

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (evt) {
        evt.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (evt) {
        evt.preventDefault();
        zone.classList.remove("dragging");
      });
    });
    zone.addEventListener("drop", function (evt) {
      if (evt.dataTransfer && evt.dataTransfer.files.length) add(evt.dataTransfer.files);
    });

    form.addEventListener("submit", function (evt) {
      evt.preventDefault();
      if (busy) return;
      if (!queue.length) {
        errors.textContent = "Choose a photo first.";
        return;
      }
      uploadAll();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload]").forEach(setup);
  });
})();
