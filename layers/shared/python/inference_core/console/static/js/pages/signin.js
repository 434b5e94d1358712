// Email and password against /v1/auth/login.

import * as api from "../api.js";
import { errorText, field, h } from "../dom.js";

export const title = "Sign in";

export function render(main, { onSignedIn }) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
  });
  const error = h("p", { className: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    {
      className: "card narrow",
      "aria-labelledby": "signin-title",
      onSubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        error.hidden = true;
        try {
          await api.signIn(email.value.trim(), password.value);
          await onSignedIn();
        } catch (e) {
          error.textContent = errorText(e);
          error.hidden = false;
          password.focus();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", { id: "signin-title" }, "Sign in"),
    field("Email", email),
    field("Password", password),
    error,
    submit,
  );
  main.append(form);
  email.focus();
}
