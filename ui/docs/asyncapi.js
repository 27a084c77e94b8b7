// Renders a service's AsyncAPI 3 document (/api/<service>/asyncapi.json) as plain HTML: what
// the service publishes and consumes, on which exchange and routing key, and each message's
// fields. Every string from the document goes in as text, never as HTML.
import { h, replace } from "/ui/assets/dom.js";

const SERVICES = ["portal", "presence", "dispatch", "chat"];

function decodeRef(ref) {
  return ref.replace(/^#\//, "").split("/").map((part) => decodeURIComponent(part.replace(/~1/g, "/").replace(/~0/g, "~")));
}

function resolve(document, node, depth = 0) {
  let current = node;
  while (current && current.$ref && depth < 20) {
    current = decodeRef(current.$ref).reduce((at, key) => (at ? at[key] : undefined), document);
    depth += 1;
  }
  return current || {};
}

function typeOf(document, schema) {
  const resolved = resolve(document, schema);
  if (schema && schema.$ref) return decodeRef(schema.$ref).at(-1);
  if (resolved.enum) return `one of ${resolved.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  if (resolved.anyOf) return resolved.anyOf.map((s) => typeOf(document, s)).join(" or ");
  if (resolved.type === "array") return `array of ${typeOf(document, resolved.items || {})}`;
  return resolved.format ? `${resolved.type} (${resolved.format})` : resolved.type || "any";
}

function fields(document, schema, depth = 0) {
  const resolved = resolve(document, schema);
  const properties = Object.entries(resolved.properties || {});
  if (!properties.length || depth > 3) return null;
  const required = new Set(resolved.required || []);
  return h(
    "dl",
    { class: "schema" },
    properties.map(([name, property]) => {
      const inner = resolve(document, property);
      return [
        h("dt", {}, h("code", {}, name), " ", h("span", { class: "muted small" }, typeOf(document, property)),
          required.has(name) ? h("span", { class: "required", title: "required" }, " *") : null),
        h("dd", {}, inner.description || property.description || "", fields(document, property, depth + 1)),
      ];
    }),
  );
}

function operation(document, name, op) {
  const channel = resolve(document, op.channel);
  const amqp = (channel.bindings || {}).amqp || {};
  const where = amqp.is === "queue"
    ? `queue ${(amqp.queue || {}).name || channel.address}`
    : `exchange ${(amqp.exchange || {}).name || ""}, routing key ${channel.address}`;
  const messages = (op.messages || []).map((ref) => resolve(document, ref));
  return h(
    "section",
    { class: "card operation" },
    h("h3", {}, h("span", { class: `badge ${op.action}` }, op.action === "send" ? "publishes" : "consumes"), h("code", {}, channel.address || name)),
    h("p", { class: "muted small" }, where),
    channel.description ? h("p", {}, channel.description) : null,
    messages.map((message) => [
      h("p", { class: "small" }, "Message: ", h("code", {}, typeOf(document, message.payload || {}))),
      fields(document, message.payload || {}),
    ]),
  );
}

async function main() {
  const root = document.getElementById("document");
  const service = new URLSearchParams(location.search).get("service");
  if (!SERVICES.includes(service)) {
    replace(root, h("p", {}, h("a", { href: "./" }, "All documents")), h("p", {}, "No such service: choose one from the list."));
    return;
  }
  const response = await fetch(`/api/${service}/asyncapi.json`);
  if (!response.ok) {
    replace(root, h("p", {}, `The document could not be loaded (HTTP ${response.status}).`));
    return;
  }
  const spec = await response.json();
  document.title = `${spec.info.title} — AsyncAPI`;
  const operations = Object.entries(spec.operations || {}).sort(([a, x], [b, y]) => (x.action + a).localeCompare(y.action + b));
  replace(
    root,
    h("p", {}, h("a", { href: "./" }, "All documents"), " · ", h("a", { href: `/api/${service}/asyncapi.json` }, "asyncapi.json")),
    h("section", { class: "card stack" },
      h("h1", {}, `${spec.info.title} ${spec.info.version}`),
      h("p", {}, spec.info.description || ""),
      h("p", { class: "muted small" }, `AsyncAPI ${spec.asyncapi} · default content type ${spec.defaultContentType || "application/json"}`)),
    operations.map(([name, op]) => operation(spec, name, op)),
  );
}

main().catch((error) => {
  replace(document.getElementById("document"), h("p", {}, `The document could not be shown: ${error.message}`));
});
