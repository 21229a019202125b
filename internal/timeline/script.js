(function () {
  var info = document.getElementById("info");
  var svg = document.getElementById("tl");
  info.hidden = false;
  info.textContent = "Hover over a bar, marker or step for details.";
  svg.addEventListener("mouseover", function (e) {
    for (var el = e.target; el && el !== svg; el = el.parentNode) {
      var t = el.querySelector(":scope > title");
      if (t) {
        info.textContent = t.textContent;
        return;
      }
    }
  });
  var started = document.getElementById("started");
  if (started) {
    started.textContent = new Date(started.dateTime).toLocaleString();
    started.title = "in your time zone";
    started.setAttribute("data-local", "1");
  }
})();
