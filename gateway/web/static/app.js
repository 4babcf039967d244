// bmcgate works without this script; it only disables the confirm button
// once pressed so a power action is not sent twice.
document.addEventListener("DOMContentLoaded", function () {
  var b = document.getElementById("confirm");
  if (!b) { return; }
  b.form.addEventListener("submit", function () { b.disabled = true; });
});
