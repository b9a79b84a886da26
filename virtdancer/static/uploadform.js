// "Upload a file" in the Storage view: a file (an ISO, say) goes into the chosen pool as a
// volume of the name given, with a progress bar fed by the browser's upload progress, a Cancel
// button, and a refusal told in words (413 too large, 411 no length, 501 the host cannot).

import { nameProblem } from "./checks.js";
import { confirmAction } from "./confirm.js";
import { button, element, field, input } from "./dom.js";
import { bytes } from "./format.js";
import { progressWords, upload, uploadProblem } from "./upload.js";

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
      await this.running.done;
      this.message.say(`${file.name} uploaded as ${name} (${bytes(file.size)}).`);
      this.root.reset();
      this.nameTyped = false;
    } catch (error) {
      if (error.name === "AbortError") {
        this.message.say(`The upload of ${file.name} was cancelled.`,
                         { error: true });
      } else if (error.status !== 401) {
        this.message.say(`${file.name} was not uploaded: ${uploadProblem(error)}`,
                         { error: true });
      }
    } finally {
      this.running = null;
      this.submit.disabled = false;
      this.cancelButton.hidden = true;
      this.changed();
    }
  }

  showProgress(sent, total) {
    this.bar.value = total ? sent / total : 0;
    this.words.textContent = progressWords(sent, total);
  }

  cancel() {
    if (this.running) this.running.cancel();
  }
}
