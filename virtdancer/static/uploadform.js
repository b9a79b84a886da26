// "Upload a file" in the Storage view: a file (an ISO, say) goes into the chosen pool as a
// volume of the name given, in two phases on one progress bar: the browser sends the file (its
// upload progress), then VirtDancer's task writes it into the volume (the task's progress). A
// Cancel button stops either; a refusal is told in words (413 too large, 411 no length, 501 the
// host cannot).

import { nameProblem } from "./checks.js";
import { confirmAction } from "./confirm.js";
import { del } from "./api.js";
import { button, element, field, input } from "./dom.js";
import { bytes, sentence } from "./format.js";
import { finished } from "./tasks.js";
import { progressWords, upload, uploadProblem, writingWords } from "./upload.js";

export class UploadForm {
  constructor(message, urlOf, existing, changed) {
    this.message = message;
    this.urlOf = urlOf;         // volume name → its content URL
    this.existing = existing;   // volume name → that volume of the pool, if there is one
    this.changed = changed;
    this.running = null;        // {cancel} of the upload under way
    this.nameTyped = false;
    const form = element("form", "add-form upload-form");
    form.noValidate = true;
    form.dataset.uploadForm = "";
    this.file = input("upload-file", "file", { type: "file" });
    this.name = input("upload-name", "name", { maxlength: 64, placeholder: "debian.iso" });
    this.name.addEventListener("input", () => { this.nameTyped = Boolean(this.name.value); });
    this.file.addEventListener("change", () => this.picked());
    this.submit = button("Upload", null, { className: "primary", type: "submit" });
    this.heading = element("h4", "", "Upload a file");
    const progress = element("div", "upload-progress");
    progress.hidden = true;
    this.bar = element("progress");
    this.bar.id = "upload-bar";
    this.bar.max = 1;
    this.bar.value = 0;
    const barLabel = element("label", "visually-hidden", "Upload progress");
    barLabel.htmlFor = this.bar.id;
    this.words = element("span", "upload-words");
    this.words.setAttribute("aria-live", "polite");
    this.cancelButton = button("Cancel upload", () => this.cancel());
    progress.append(barLabel, this.bar, this.words, this.cancelButton);
    this.progress = progress;
    form.append(this.heading, field("File", this.file), field("Volume name", this.name),
                this.submit, progress);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.root = form;
    // Leaving the page would cut the upload off half-way: the browser asks first.
    window.addEventListener("beforeunload", (event) => {
      if (this.running) event.preventDefault();
    });
  }

  show(visible, poolName) {
    this.root.hidden = !visible;
    this.heading.textContent = `Upload a file into ${poolName}`;
  }

  // The volume is named after the file unless the user typed a name of their own.
  picked() {
    const file = this.file.files[0];
    if (file && !this.nameTyped) this.name.value = file.name;
  }

  async send() {
    const file = this.file.files[0];
    const name = this.name.value.trim();
    const problem = file ? nameProblem(name, "volume") : "Choose a file to upload.";
    if (problem) {
      this.message.say(problem, { error: true });
      (file ? this.name : this.file).focus();
      return;
    }
    // Into a volume already there, the upload replaces what it holds: ask first.
    const there = this.existing(name);
    if (there && !await confirmAction({
      title: `Replace the content of ${name}?`,
      text: `${there.path} (${bytes(there.capacity)}) is overwritten with ${file.name} `
        + `(${bytes(file.size)}). What it holds now is lost.`,
      confirmLabel: "Replace",
    })) return;
    this.submit.disabled = true;
    this.progress.hidden = false;
    this.cancelButton.hidden = false;
    this.showProgress(0, file.size);
    this.message.say(`Uploading ${file.name} as ${name}…`);
    this.running = upload(this.urlOf(name), file, (sent, total) => this.showProgress(sent, total));
    try {
      const task = await this.running.done;
      // The file is on the server; a task writes it into the volume. Cancel now cancels it.
      this.running = { cancel: () => this.cancelTask(task) };
      this.message.say(`${file.name} has been sent; VirtDancer writes it into ${name}…`);
      this.showWriting(task);
      const volume = await finished(task, (now) => this.showWriting(now));
      this.message.say(`${file.name} uploaded as ${name} (${bytes(file.size)}): `
                       + (volume.created ? `a new ${volume.format} volume in ${volume.path}.`
                         : `written over what ${volume.path} held.`));
      this.root.reset();
      this.nameTyped = false;
    } catch (error) {
      if (error.name === "AbortError" || error.body?.state === "cancelled") {
        // The task's "cancelled (why)", said once: an existing volume partly written, say.
        const why = error.body ? error.message.replace(/^cancelled\s*/, "") : "";
        this.message.say(`The upload of ${file.name} was cancelled${why ? ` ${why}` : ""}.`,
                         { error: true });
      } else if (error.status !== 401) {
        this.message.say(`${file.name} was not uploaded: ${uploadProblem(error)}`,
                         { error: true });
      }
    } finally {
      this.running = null;
      this.submit.disabled = false;
      this.cancelButton.hidden = true;
      // Upload (disabled) or Cancel upload (hidden) had the focus: the keyboard stays here.
      if (document.activeElement === document.body && !this.root.hidden) this.submit.focus();
      this.changed();
    }
  }

  showProgress(sent, total) {
    this.bar.value = total ? sent / total : 0;
    this.words.textContent = progressWords(sent, total);
  }

  showWriting(task) {
    if (task.progress === null) this.bar.removeAttribute("value");   // not started: moving
    else this.bar.value = task.progress;
    this.words.textContent = writingWords(task);
  }

  async cancelTask(task) {
    this.cancelButton.disabled = true;
    try {
      await del(`tasks/${encodeURIComponent(task.id)}`);
    } catch (error) {
      // Ended meanwhile (409): the task's end says what became of the upload.
      if (error.status !== 409 && error.status !== 401) {
        this.message.say(`The upload could not be cancelled: ${sentence(error.message)}`,
                         { error: true });
      }
    } finally {
      this.cancelButton.disabled = false;
    }
  }

  cancel() {
    if (this.running) this.running.cancel();
  }
}
