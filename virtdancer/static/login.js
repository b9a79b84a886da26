// The login form and the logout button. A wrong password and throttling get a message in
// words; the session (user, role, CSRF token) goes to whoever waits for it.

import { ApiError, post } from "./api.js";
import { inWords, sentence } from "./format.js";

function loginMessage(problem) {
  if (!(problem instanceof ApiError)) return `Logging in failed: ${sentence(problem.message)}`;
  switch (problem.status) {
    case 401:
      return "Wrong user name or password.";
    case 429:
      return "Too many failed logins for this user name or from this address. "
        + `Try again in ${inWords(problem.retryAfter)}.`;
    case 400:
      return "Enter your user name and your password.";
    default:
      return `Logging in failed: ${sentence(problem.message)}`;
  }
}

export class LoginForm {
  /** onLogin(session) gets {user, role, csrf_token} after a successful login. */
  constructor(form, onLogin) {
    this.form = form;
    this.message = form.querySelector("[data-login-error]");
    this.submit = form.querySelector("button[type=submit]");
    this.onLogin = onLogin;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.logIn();
    });
  }

  show(message = "") {
    this.form.hidden = false;
    this.say(message);
    this.form.password.value = "";
    (this.form.username.value ? this.form.password : this.form.username).focus();
  }

  hide() {
    this.form.hidden = true;
    this.say("");
  }

  say(text) {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  async logIn() {
    const username = this.form.username.value.trim();
    const password = this.form.password.value;
    if (!username || !password) {
      this.say("Enter your user name and your password.");
      (username ? this.form.password : this.form.username).focus();
      return;
    }
    this.submit.disabled = true;
    this.say("");
    try {
      const { data } = await post("login", { username, password }, { login: true });
      this.form.password.value = "";
      this.onLogin(data);
    } catch (problem) {
      this.say(loginMessage(problem));
      this.form.password.select();
    } finally {
      this.submit.disabled = false;
    }
  }
}
