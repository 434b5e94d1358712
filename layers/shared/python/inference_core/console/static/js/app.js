// The console's shell: sign-in gate, navigation (hash routes, so one page serves them all) and the
// account bar. Each page is a module with `title` and `render(main, ctx)`.

import * as api from "./api.js";
import { announce, errorText, h, replace } from "./dom.js";
import * as batches from "./pages/batches.js";
import * as keys from "./pages/keys.js";
import * as models from "./pages/models.js";
import * as overview from "./pages/overview.js";
import * as playground from "./pages/playground.js";
import * as signin from "./pages/signin.js";
import * as teams from "./pages/teams.js";
import * as usage from "./pages/usage.js";

const PAGES = [
  ["overview", overview],
  ["keys", keys],
  ["teams", teams, { superuser: true }],
  ["usage", usage],
  ["playground", playground],
  ["batches", batches],
  ["models", models],
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const account = document.getElementById("account");
let me = null;
let rendering = 0;

function routeName() {
  const name = window.location.hash.replace(/^#\/?/, "").split("?")[0];
  return PAGES.some(([n]) => n === name) ? name : "overview";
}

function visiblePages() {
  return PAGES.filter(([, , opts]) => !(opts && opts.superuser) || me.role === "superuser");
}

function renderNav(current) {
  replace(
    nav,
    h(
      "ul",
      {},
      visiblePages().map(([name, page]) =>
        h("li", {}, h("a", { href: `#/${name}`, "aria-current": name === current ? "page" : null }, page.title)),
      ),
    ),
  );
  nav.hidden = false;
  replace(
    account,
    h("span", { className: "who" }, me.email, me.role === "superuser" ? " (superuser)" : ""),
    h("button", { type: "button", className: "secondary", id: "sign-out", onClick: signOut }, "Sign out"),
  );
}

async function signOut() {
  me = null; // before the session listener hears of it: this end is expected
  await api.signOut();
  announce("Signed out.");
  await show();
}

async function show() {
  const token = ++rendering;
  if (!api.signedIn()) {
    nav.hidden = true;
    replace(account);
    document.title = "Sign in · Inference Core";
    replace(main);
    signin.render(main, { onSignedIn: afterSignIn });
    return;
  }
  if (!me) {
    try {
      me = await api.get("v1/auth/me");
    } catch (error) {
      if (!api.signedIn()) return show(); // the session was refused: back to the sign-in form
      replace(main, h("p", { className: "error", role: "alert" }, `The gateway did not answer: ${errorText(error)}`));
      return;
    }
  }
  const name = routeName();
  const page = visiblePages().find(([n]) => n === name) || visiblePages()[0];
  renderNav(page[0]);
  document.title = `${page[1].title} · Inference Core`;
  // Each render gets its own container: a page still loading when the user moves on writes into
  // a detached element, never into the next page.
  const container = h("div", { className: "page" }, h("h1", { tabindex: -1 }, page[1].title));
  replace(main, container);
  const ctx = { me, superuser: me.role === "superuser", isCurrent: () => token === rendering };
  try {
    await page[1].render(container, ctx);
  } catch (error) {
    if (token !== rendering) return;
    if (error instanceof api.ApiError && error.status === 401) {
      me = null;
      return show();
    }
    container.append(h("p", { className: "error", role: "alert" }, `Could not load this page: ${errorText(error)}`));
  }
}

async function afterSignIn() {
  me = null;
  await show();
  main.querySelector("h1")?.focus();
}

window.addEventListener("hashchange", async () => {
  announce("");
  await show();
  main.querySelector("h1")?.focus();
});
api.onSessionChange((isSignedIn) => {
  if (!isSignedIn && me) {
    me = null;
    announce("Your session ended; please sign in again.", "error");
    show();
  }
});

(async () => {
  await api.refreshSession(); // a reload keeps this tab signed in
  await show();
})();
