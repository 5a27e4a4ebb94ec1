// Paints each card's ThumbHash placeholder (data-thumbhash) into its canvas, behind the
// image, so a card shows a blurred sketch until its picture has loaded. A module file,
// not an inline script: the Content-Security-Policy allows only our own scripts.
import { thumbHashToRGBA } from "./vendor/thumbhash-0.1.1.js";

function decode(text) {
  var raw = atob(text);
  var bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function paint(canvas) {
  if (canvas.dataset.painted) return;
  canvas.dataset.painted = "1";
  try {
    var image = thumbHashToRGBA(decode(canvas.dataset.thumbhash));
    canvas.width = image.w;
    canvas.height = image.h;
    var pixels = new ImageData(new Uint8ClampedArray(image.rgba), image.w, image.h);
    canvas.getContext("2d").putImageData(pixels, 0, 0);
  } catch (err) {
    canvas.remove(); // a damaged hash leaves the plain card background
    return;
  }
  // Once the picture is in, the sketch is hidden (it would show through transparent pixels).
  var img = canvas.parentElement.querySelector("img");
  if (!img) return;
  var done = function () { canvas.classList.add("covered"); };
  if (img.complete && img.naturalWidth) done();
  else img.addEventListener("load", done, { once: true });
}

function paintAll(root) {
  root.querySelectorAll("canvas[data-thumbhash]").forEach(paint);
}

paintAll(document);
// Cards that htmx swaps in later (status polling, new uploads) get theirs too.
document.addEventListener("htmx:load", function (evt) { paintAll(evt.target); });
