// The Content-Security-Policy forbids inline event handlers, and a few Flask-Admin templates
// still use onclick="..." attributes. Those attributes are inert here; this script binds the
// same behaviour to the same elements. Only the handler shapes below are recognised.
(function () {
  "use strict";

  function quoted(text, call) {
    var match = text.match(new RegExp(call + "\\((?:this,\\s*)?'((?:[^'\\\\]|\\\\.)*)'"));
    return match ? match[1].replace(/\\'/g, "'") : null;
  }

  function bind(element) {
    var handler = element.getAttribute("onclick") || "";
    var argument;
    if (handler.indexOf("faForm.addInlineField") !== -1) {
      argument = quoted(handler, "faForm.addInlineField");
      element.addEventListener("click", function (event) {
        event.preventDefault();
        window.faForm.addInlineField(element, argument);
      });
    } else if (handler.indexOf("safeConfirm") !== -1) {
      argument = quoted(handler, "faHelpers.safeConfirm");
      element.addEventListener("click", function (event) {
        if (!window.confirm(argument)) { event.preventDefault(); }
      });
    } else if (handler.indexOf("modelActions.execute") !== -1) {
      argument = quoted(handler, "modelActions.execute");
      element.addEventListener("click", function (event) {
        event.preventDefault();
        window.modelActions.execute(argument);
      });
    } else if (handler.indexOf("return false") !== -1) {
      element.addEventListener("click", function (event) { event.preventDefault(); });
    }
    element.removeAttribute("onclick");
    if ((element.getAttribute("href") || "").indexOf("javascript:") === 0) {
      element.setAttribute("href", "#");
      element.addEventListener("click", function (event) { event.preventDefault(); });
    }
  }

  // A form that answers with a file leaves the page as it was: the message of a refused earlier
  // try would stay on screen after the download succeeded, so it goes when the form is sent again.
  function clearOnSubmit(form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(document.querySelectorAll(".export-full-error"), function (message) {
        message.remove();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[onclick]"), bind);
    Array.prototype.forEach.call(document.querySelectorAll("form.export-full-form"), clearOnSubmit);
  });
})();
