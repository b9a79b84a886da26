// The API reference: VirtDancer's own OpenAPI document (../openapi.json), shown as a list of
// operations with their parameters, bodies and answers. It is read, never written here: the
// document is generated from the code, so this page cannot drift from what the server does.

const METHODS = ["get", "head", "post", "put", "patch", "delete"];
const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** A JSON Schema in a few words: `string`, `integer or null`, `one of: a, b`, … */
export function typeWords(schema) {
  if (!schema || typeof schema !== "object") return "any";
  if (schema.enum) return `one of: ${schema.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  if (schema.anyOf) return schema.anyOf.map(typeWords).join(" | ");
  const types = [].concat(schema.type || "any");
  return types.map((type) => (type === "array" ? `array of ${typeWords(schema.items)}` : type))
    .join(" or ");
}

/** A schema as a nested list of its fields, each with its type and words. */
function schemaTree(schema, depth = 0) {
  if (!schema || depth > 6) return null;
  if (schema.anyOf) {
    const list = element("ol", { class: "api-choices" });
    schema.anyOf.forEach((choice) => list.append(
      element("li", {}, element("span", { text: typeWords(choice) }), schemaTree(choice, depth + 1))));
    return list;
  }
  if (schema.type === "array" || (Array.isArray(schema.type) && schema.type.includes("array"))) {
    return schemaTree(schema.items, depth + 1);
  }
  const properties = schema.properties || {};
  const names = Object.keys(properties);
  if (!names.length && !schema.additionalProperties) return null;
  const required = new Set(schema.required || []);
  const list = element("ul", { class: "api-fields" });
  for (const name of names) {
    const field = properties[name];
    list.append(element("li", {},
      element("code", { text: name }),
      element("span", { class: "api-type", text: ` ${typeWords(field)}` }),
      required.has(name) ? null : element("span", { class: "muted", text: " (optional)" }),
      field.description ? element("span", { class: "muted", text: ` — ${field.description}` })
        : null,
      schemaTree(field, depth + 1)));
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    list.append(element("li", {}, element("code", { text: "<any key>" }),
      element("span", { class: "api-type",
        text: ` ${typeWords(schema.additionalProperties)}` })));
  }
  return list;
}

function parameters(operation) {
  if (!operation.parameters?.length) return null;
  const list = element("ul", { class: "api-fields" });
  for (const parameter of operation.parameters) {
    list.append(element("li", {},
      element("code", { text: parameter.name }),
      element("span", { class: "muted", text: ` in ${parameter.in}` }),
      element("span", { class: "api-type", text: ` ${typeWords(parameter.schema)}` }),
      parameter.description ? element("span", { class: "muted",
        text: ` — ${parameter.description}` }) : null));
  }
  return element("section", {}, element("h4", { text: "Parameters" }), list);
}

function requestBody(operation) {
  const content = operation.requestBody?.content;
  if (!content) return null;
  const [mediaType, media] = Object.entries(content)[0];
  const types = Object.keys(content).join(", ");
  return element("section", {}, element("h4", { text: `Body (${types})` }),
    schemaTree(media.schema) || element("p", { class: "muted", text: mediaType }));
}

function answers(operation) {
  const list = element("dl", { class: "api-answers" });
  for (const [status, answer] of Object.entries(operation.responses || {})) {
    const body = answer.content ? Object.entries(answer.content)[0] : null;
    const details = element("details", {},
      element("summary", {}, element("strong", { text: status }),
        element("span", { text: ` ${answer.description}` })),
      body ? schemaTree(body[1].schema) : null);
    list.append(details);
  }
  return element("section", {}, element("h4", { text: "Answers" }), list);
}

function operationCard(path, method, operation) {
  const permission = operation["x-permission"]
    || (operation.security?.length === 0 ? "no login" : "any user");
  const card = element("details", { class: "panel api-operation", "data-operation": "",
                                    id: operation.operationId },
    element("summary", {},
      element("span", { class: `api-method api-${method}`, text: method.toUpperCase() }),
      element("code", { class: "api-path", text: path }),
      element("span", { class: "api-summary", text: operation.summary || "" }),
      element("span", { class: "api-permission", text: permission })),
    parameters(operation), requestBody(operation), answers(operation));
  card.dataset.search = `${method} ${path} ${operation.summary || ""} ${permission}`.toLowerCase();
  return card;
}

function show(document_) {
  const server = document_.servers?.[0]?.url || "/";
  $("[data-api-summary]").textContent = `OpenAPI ${document_.openapi}, `
    + `${document_.info.title} ${document_.info.version}; paths below ${server}`;
  $("[data-api-intro]").textContent = document_.info.description || "";
  const container = $("[data-api-operations]");
  let count = 0;
  for (const [path, item] of Object.entries(document_.paths)) {
    for (const method of METHODS) {
      if (item[method]) {
        container.append(operationCard(path, method, item[method]));
        count += 1;
      }
    }
  }
  $("[data-api-summary]").textContent += `; ${count} operations`;
}

function filter(words) {
  const wanted = words.trim().toLowerCase();
  for (const card of document.querySelectorAll("[data-operation]")) {
    card.hidden = Boolean(wanted) && !card.dataset.search.includes(wanted);
  }
}

async function load() {
  try {
    const response = await fetch("../openapi.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    show(await response.json());
  } catch (error) {
    const message = $("[data-api-error]");
    message.textContent = `The API's document could not be read: ${error.message}`;
    message.hidden = false;
    $("[data-api-summary]").textContent = "";
  }
  $("[data-api-filter]").addEventListener("input", (event) => filter(event.target.value));
}

load();
