/* Customer portal: submits the form as JSON, then follows the request's status.
   Text from the server is only ever inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form) { return; }
  var api = "/api/portal";
  var errorBox = document.getElementById("form-error");
  var statusBox = document.getElementById("status");
  var statusText = document.getElementById("status-text");
  var cancelButton = document.getElementById("cancel");
  var storeKey = "assistline:" + form.getAttribute("data-subdomain");
  var timer = null;

  function saved() {
    try { return JSON.parse(sessionStorage.getItem(storeKey) || "null"); } catch (e) { return null; }
  }

  function describe(status) {
    var text = status.message;
    if (status.position) { text += " Your position in the queue: " + status.position + "."; }
    if (status.technician) { text += " Technician: " + status.technician.display_name + "."; }
    return text;
  }

  function follow(request) {
    form.hidden = true;
    statusBox.hidden = false;
    function poll() {
      fetch(api + "/requests/" + encodeURIComponent(request.request_id), {
        headers: { "Authorization": "Bearer " + request.token }
      }).then(function (response) { return response.json().then(function (body) { return [response, body]; }); })
        .then(function (pair) {
          var response = pair[0], body = pair[1];
          if (!response.ok) { statusText.textContent = body.message || "Could not load the status."; return; }
          statusText.textContent = describe(body);
          cancelButton.hidden = !body.cancellable;
          var finished = ["ended", "rejected", "cancelled"].indexOf(body.status) >= 0;
          if (finished) { sessionStorage.removeItem(storeKey); clearInterval(timer); }
        })
        .catch(function () { statusText.textContent = "Connection problem; retrying…"; });
    }
    poll();
    timer = setInterval(poll, 3000);
    cancelButton.onclick = function () {
      fetch(api + "/requests/" + encodeURIComponent(request.request_id) + "/cancel", {
        method: "POST", headers: { "Authorization": "Bearer " + request.token }
      }).then(function (response) { return response.json(); })
        .then(function (body) { statusText.textContent = body.message || ""; cancelButton.hidden = true; });
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errorBox.textContent = "";
    var body = {};
    new FormData(form).forEach(function (value, key) { if (value !== "") { body[key] = value; } });
    fetch(api + "/public/portals/" + encodeURIComponent(form.getAttribute("data-subdomain")) + "/requests", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (response) { return response.json().then(function (data) { return [response, data]; }); })
      .then(function (pair) {
        if (!pair[0].ok) { errorBox.textContent = pair[1].message || "The request could not be sent."; return; }
        sessionStorage.setItem(storeKey, JSON.stringify(pair[1]));
        follow(pair[1]);
      })
      .catch(function () { errorBox.textContent = "Connection problem; please try again."; });
  });

  var previous = saved();
  if (previous) { follow(previous); }
})();
