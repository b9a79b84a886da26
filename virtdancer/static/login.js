// The login form. A wrong password and throttling get a message in words; while throttled,
// the message counts down and the button waits, so nobody earns a longer wait by trying
// again. A note that is no error (logged out) is said apart from the errors. The session
// (user, role, CSRF token) goes to whoever waits for it.

import { ApiError, post } from "./api.js";
import { inWords, sentence } from "./format.js";

function lockedOut(seconds) {
  return "Too many failed logins for this user name or from this address. "
    + `Try again in ${inWords(seconds)}.`;
}

function loginMessage(problem) {
  if (!(problem instanceof ApiError)) return `Logging in failed: ${sentence(problem.message)}`;
  switch (problem.status) {
    case 401:
      return "Wrong user name or password.";
    case 429:
      return lockedOut(problem.retryAfter);
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
    this.note = form.querySelector("[data-login-note]");
    this.submit = form.querySelector("button[type=submit]");
    this.onLogin = onLogin;
    this.lockedUntil = 0;     // ms since the epoch: the button waits until then
    this.countdown = null;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.logIn();
    });
  }

  /** Show the form with an error `message`, or a `note` that is none ("You have logged out."). */
  show(message = "", note = "") {
    this.form.hidden = false;
    this.say(message);
    this.note.textContent = note;
    this.note.hidden = !note;
    this.form.password.value = "";
    (this.form.username.value ? this.form.password : this.form.username).focus();
  }

  hide() {
    this.form.hidden = true;
    this.say("");
    this.note.hidden = true;
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
    if (Date.now() < this.lockedUntil) return;
    this.submit.disabled = true;
    this.say("");
    this.note.hidden = true;
    try {
      const { data } = await post("login", { username, password }, { login: true });
      this.form.password.value = "";
      this.onLogin(data);
    } catch (problem) {
      this.say(loginMessage(problem));
      this.form.password.select();
      if (problem instanceof ApiError && problem.status === 429 && problem.retryAfter) {
        this.lockOut(problem.retryAfter);
      }
    } finally {
      this.submit.disabled = Date.now() < this.lockedUntil;
    }
  }

  /** Keep the button disabled for `seconds`, counting down in the message. */
  lockOut(seconds) {
    clearInterval(this.countdown);
    this.lockedUntil = Date.now() + seconds * 1000;
    this.submit.disabled = true;
    this.countdown = setInterval(() => {
      const left = (this.lockedUntil - Date.now()) / 1000;
      if (left > 0) {
        this.say(lockedOut(left));
        return;
      }
      clearInterval(this.countdown);
      this.countdown = null;
      this.submit.disabled = false;
      this.say("");
      this.note.textContent = "You may try again now.";
      this.note.hidden = false;
    }, 1000);
  }
}
